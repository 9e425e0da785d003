"""Boot Quire on a crash image: the kernel must agree with the checker.

The host-side checks read the image with Python (fsimage.py); this is the
other half.  Quire mounts the crash image (replaying its log if a
transaction was committed), lists /cw and /bg with `ls`, and reads every
file with fsop, which must find exactly the sizes and words the host
found.  After a clean halt, fsck must still be clean: the kernel's own
replay and whatever it wrote at mount must leave a consistent disk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import fsop
from crashpattern import ZERO
from crashstates import State
from crashverdict import Checker, FileSeen, Runs
from qemu import Machine, MachineError, copy_sparse, scaled

# fsop lines are typed at the console, which takes lines of up to 255
# characters: a file's checks are split into commands of about this size.
FSOP_LINE = 200


def boot_state(checker: Checker, st: State, workdir: Path, kernel: Path) -> list[str]:
    """Boot Quire on a crash state: the kernel must mount it (replaying the
    log), list the directories and read every file exactly as the host
    found it; after a clean halt fsck must be clean.  Returns problems."""
    workdir.mkdir(parents=True, exist_ok=True)
    if checker.builder is None:
        checker.open_builder(workdir.parent / "work.img")
    v = checker.check(st, keep_files=True)
    assert checker.builder is not None
    image = copy_sparse(checker.builder.work, workdir / "crash.img")
    problems: list[str] = []
    try:
        with Machine(cpus=1, image=image, kernel=kernel, workdir=workdir / "machine",
                     name=f"crash state {st.describe(checker.log)[:40]}") as m:
            m.boot()
            problems += _compare_dirs(m, v.files)
            for path, (inum, size, runs) in sorted(v.files.items()):
                problems += _compare_file(m, path, size, runs)
            status = m.poweroff()
            if status != 0:
                problems.append(f"QEMU exited with status {status} after halt")
    except MachineError as e:
        problems.append(f"Quire failed on the crash image: {e.reason}\n{e.tail}")
        return problems
    r = subprocess.run([str(checker.fsck), str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=scaled(60))
    if r.returncode != 0:
        problems.append(f"fsck after Quire mounted the crash image: exit "
                        f"{r.returncode}: {r.stdout.strip()[:500]}")
    image.unlink()
    return problems


def _compare_dirs(m: Machine, files: dict[str, FileSeen]) -> list[str]:
    """`ls cw` and `ls bg` in Quire must show the names, inodes and sizes
    the host found."""
    problems = []
    for d in ("cw", "bg"):
        want = {p.split("/", 1)[1]: (inum, size) for p, (inum, size, _)
                in files.items() if p.startswith(d + "/")}
        if not want and d not in m.run("ls"):
            continue
        got = {}
        for line in m.run(f"ls {d}").splitlines():
            f = line.split()
            if len(f) == 4 and f[0] not in (".", ".."):
                got[f[0]] = (int(f[2]), int(f[3]))
        if got != want:
            problems.append(f"ls {d} in Quire shows {sorted(got.items())}, "
                            f"the host found {sorted(want.items())}")
    return problems


def _fsop_commands(path: str, runs: Runs) -> list[list[str]]:
    """fsop operations that check a file's size and every run of its
    words, as commands short enough for the console."""
    ops = []
    for a, b, s in runs:
        if s == ZERO:
            ops.append(f"zero a {a} {b - a}")
        elif s < 1 << 63:         # fsop's strtol takes no more
            ops.append(f"check a {a} {b - a} {s:#x}")
    parts: list[list[str]] = [[f"open a {path} r", "size a"]]
    for op in ops:
        if sum(len(x) + 3 for x in parts[-1]) + len(op) > FSOP_LINE:
            parts.append([f"open a {path} r"])
        parts[-1].append(op)
    return parts


def _compare_file(m: Machine, path: str, size: int,
                  runs: Runs) -> list[str]:
    """Quire must open the file, and read the size and words the host
    found."""
    problems = []
    for part in _fsop_commands(path, runs):
        results, _, out = fsop.run(m, *part, timeout=30)
        for r in results:
            if r.op.startswith("open") and r.error:
                problems.append(f"Quire cannot open {path}: {r}")
            elif r.op == "size a" and r.value != size:
                problems.append(f"Quire says {path} has size {r.value}, "
                                f"the host found {size}")
            elif r.op.startswith(("check", "zero")) and r.value != 0:
                problems.append(f"Quire reads {path} differently from the "
                                f"host: '{r.op}' gave {r}")
        if len(results) != len(part):
            problems.append(f"fsop on {path} printed {len(results)} results "
                            f"for {len(part)} operations:\n{out}")
    return problems
