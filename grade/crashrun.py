"""Stage 1 of the crash checker: run crashwork under the write log.

The workload runs on a copy of a disk image (make_image makes a small new
one) under QEMU's blklogwrites driver (LogWrites), which records every
write and FLUSH that reaches the disk.  The host drives crashwork one step at a time: each time a step's
"READY k" arrives, it notes the log file's size, which ties everything the
step printed (its operations, the promises of its fsyncs) to a point in
the log.  The run is saved as run.json beside base.img (the disk before
the workload) and writes.log, so that it can be checked again later
(crashcheck.py --from DIR).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from typing import Optional

from qemu import (FS_IMAGE, KERNEL, REPO, Drive, LogWrites, Machine, Throttle, copy_sparse,
                  scaled)

READY = re.compile(r"^READY (\d+)( last)?\n", re.M)
# The kernel killed crashwork (a fault it could not serve: with
# `crashwork errors`, a page the disk failed to read).
# crashwork met an error it did not expect, and exits.
FAILED = re.compile(r"^ERROR .*\n", re.M)
KILLED = re.compile(r"^pid \d+ crashwork: .*; killed\n", re.M)
# The shell's prompt: crashwork has exited (or could not be started).
ENDED = re.compile(r"^\$ ", re.M)

# The programs a crash image needs: to boot, to run the workload, to look.
PROGRAMS = ("init", "sh", "crashwork", "ls", "fsop", "halt")


class CheckerError(Exception):
    """The check itself could not be done (not a violation).  Every stage
    of the crash checker raises it."""


@dataclass
class Step:
    """One step of crashwork: what it printed, and where the log was."""

    index: int
    log_bytes: int      # the log file's size when READY index was read
    text: str           # what the step printed before READY


@dataclass
class Run:
    """A recorded run of the workload: everything the later stages read,
    saved as run.json."""

    seed: int
    nsteps: int
    steps: list[Step]
    base: Path          # the image before the workload
    log: Path           # the blklogwrites log
    kernel: Path
    seconds: float = 0.0
    scenario: str = ""  # "" for the random workload, or crashwork's scenario

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "seed": self.seed, "nsteps": self.nsteps, "base": str(self.base),
            "log": str(self.log), "kernel": str(self.kernel), "seconds": self.seconds,
            "scenario": self.scenario,
            "steps": [{"index": s.index, "log_bytes": s.log_bytes, "text": s.text}
                      for s in self.steps]}, indent=1))

    @classmethod
    def load(cls, path: Path) -> "Run":
        raw = json.loads(path.read_text())
        d = path.parent
        base = Path(raw["base"])
        log = Path(raw["log"])
        # The directory may have moved: prefer files beside run.json.
        if (d / base.name).exists():
            base = d / base.name
        if (d / log.name).exists():
            log = d / log.name
        return cls(raw["seed"], raw["nsteps"],
                   [Step(s["index"], s["log_bytes"], s["text"]) for s in raw["steps"]],
                   base, log, Path(raw["kernel"]), raw.get("seconds", 0.0),
                   raw.get("scenario", ""))


def run_workload(workdir: Path, seed: int, nsteps: int, kernel: Path = KERNEL,
                 image: Path = FS_IMAGE, cpus: int = 2, mem: str = "128M",
                 timeout: float = 60.0, scenario: str = "",
                 throttle: Optional[Throttle] = None) -> Run:
    """Boot Quire on a copy of image under blklogwrites, run crashwork step
    by step, noting the log's size after each step; then pull the plug.
    With scenario, crashwork runs that scenario instead of nsteps random
    steps; throttle slows the disk down (above the log, so that the log
    sees writes when they reach the disk).  Leaves base.img, writes.log,
    run.json and the machine's directory in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    base = copy_sparse(image, workdir / "base.img")
    disk = copy_sparse(base, workdir / "disk.img")
    log = workdir / "writes.log"
    drive = Drive(logwrites=LogWrites(log=log), throttle=throttle)
    with Machine(cpus=cpus, mem=mem, image=disk, drive=drive, kernel=kernel,
                 workdir=workdir / "workload", name="crash workload") as m:
        m.boot()
        command = f"crashwork {scenario} {seed}" if scenario else f"crashwork {seed} {nsteps}"
        steps = drive_steps(m, command, log, timeout)
        m.kill()
    run = Run(seed, nsteps, steps, base, log, Path(kernel), time.monotonic() - t0, scenario)
    run.save(workdir / "run.json")
    disk.unlink()
    return run


def drive_steps(m: Machine, command: str, log: Path, timeout: float,
                errors_ok: bool = False) -> list[Step]:
    """Start crashwork (command) in the shell of m and drive it step by
    step to its last READY, noting the log's size at each; the steps are
    numbered from 0 as they come.  An ERROR line (a call crashwork did not
    expect to fail) raises CheckerError.  With errors_ok (`crashwork
    errors`), EFAIL lines are part of the steps, READY may count from
    anywhere, and crashwork may be killed or not start at all, which ends
    the steps."""
    m.mark()
    start = len(m.output)
    m.sendline(command)
    steps: list[Step] = []
    ready = re.compile(f"{READY.pattern}|{FAILED.pattern}" +
                       (f"|{KILLED.pattern}|{ENDED.pattern}" if errors_ok else ""), re.M)
    while True:
        match = m.wait_for(ready, timeout, what=f"READY after step {len(steps)} from crashwork")
        size = os.stat(log).st_size
        text = m.output[start:match.start()]
        if match.group(0).startswith("ERROR"):
            raise CheckerError(f"crashwork failed in step {len(steps)}: {match.group(0)}")
        if match.group(1) is None:          # killed or gone: its last step ends here
            steps.append(Step(len(steps), size, text + match.group(0)))
            return steps
        if not errors_ok and int(match.group(1)) != len(steps):
            raise CheckerError(f"crashwork printed READY {match.group(1)}, expected "
                               f"READY {len(steps)}")
        steps.append(Step(len(steps), size, text))
        start = match.end()
        if match.group(2):
            return steps
        m.sendline("")


def make_image(dest: Path, size_mb: int = 6, mkfs: Path = REPO / "mkfs" / "mkfs") -> Path:
    """A small file system holding only PROGRAMS.  Small on purpose: the
    workload writes more than it holds, so the allocator comes round to
    blocks that other files freed, which is where another file's bytes
    would show."""
    progs = [REPO / "user" / f"_{p}" for p in PROGRAMS]
    missing = [str(p) for p in progs + [mkfs] if not p.exists()]
    if missing:
        raise CheckerError(f"missing {', '.join(missing)}: run make first")
    r = subprocess.run([str(mkfs), "-s", str(size_mb), str(dest), *map(str, progs)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=scaled(60))
    if r.returncode != 0:
        raise CheckerError(f"mkfs failed: {r.stdout.strip()}")
    return dest
