"""The disk-error sweep: fail one disk request, and check that Quire
keeps going and keeps its promises (docs/errors.md).

The workload is `crashwork errors`: random creates, appends, overwrites,
truncates, renames, unlinks and mmap stores, each step made durable with
fsync, fdatasync, msync or syncfs, on one CPU with no background writeback,
so that every run makes the same disk requests until the error.

prepare() runs it twice without errors: once on a fresh image, numbering
its write requests (the write sweep), then on a cold cache on the disk
that run left, with a few more steps, to list the metadata blocks those
steps read (the read sweep).  errplan.py says which requests fail, and how.

inject() makes one run with one error.  What must hold (Outcome.problems):
  - the kernel did not panic, and the shell answers after the workload;
  - a call of the workload reported the error (EIO or EROFS) if the disk
    failed a request; once the file system shut down, the calls that would
    change it fail with EROFS, fsync and sync with EIO, and a file written
    since boot reads back from the cache (crashwork's "RO ok");
  - then, after a power cut, Quire boots on the disk without errors;
  - fsck is clean, every promise crashwork printed holds, and no file
    holds bytes never written to it (the crash checker's checks on the
    real disk: crashverdict.Checker.check_image).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import errplan
import fsimage
import writelog
from crashrun import KILLED, CheckerError, Run, Step, drive_steps, make_image
from crashverdict import Checker
from errors import MachineError
from errplan import Injection
from qemu import KERNEL, Drive, LogWrites, Machine, copy_sparse

# The rules of grade/errorbugs/rules.md a kind of problem breaks.
RULES = {
    "panic": "rule E1 or rule E2: a disk error never panics",
    "hang": "rule E1 or rule E2: a disk error never hangs the machine",
    "reboot": "rule E2: what committed before the error boots again",
    "fsck": "rule E2 or rule E5: nothing half-written may become durable",
    "promise": "rule E2 or rule E5: what a call promised must hold",
    "foreign": "rule E5: no file shows bytes from a block whose write failed",
    "read": "rule E6 or rule E7: a read gives the file's bytes or EIO",
    "workload": "what calls say after the error",
    "checker": "the crash checker could not check the disk",
}
TRACE_READS = ["-trace", "enable=virtio_blk_handle_read"]
STEP_TIMEOUT = 60.0
BOOT_TIMEOUT = 30.0
# The shell's first prompt, or the line that says why there will be none.
BOOTED = re.compile(r"^(\$ |fs: refusing to mount: .*|cannot run /init.*|init: exec /sh: .*)$",
                    re.M)


@dataclass
class Reference:
    """The two runs without errors, and what the sweeps may make fail."""

    workdir: Path
    seed: int
    steps: int              # steps of the first run
    cold_steps: int         # steps of the run on a cold cache
    base: Path              # the image before the first run
    cold_base: Path         # the disk the first run left
    run: Run                # the first run
    writes: list[Injection]     # its requests, numbered
    reads: list[Injection]      # the blocks the cold run read
    kernel: Path = KERNEL

    def command(self, cold: bool) -> str:
        if cold:
            return (f"crashwork errors {self.seed} {self.steps + self.cold_steps} "
                    f"{self.steps + 1}")
        return f"crashwork errors {self.seed} {self.steps}"


@dataclass
class Outcome:
    """What one run with an error showed."""

    injection: Injection
    hit: bool = False           # the disk failed a request
    shutdown: bool = False      # the file system shut down
    logged: int = 0             # requests in the run's write log
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, category: str, problem: str) -> None:
        self.problems.setdefault(category, []).append(problem)

    def describe(self) -> str:
        lines = [f"{self.injection.describe()}:"]
        for cat, probs in self.problems.items():
            lines += [f"  [{cat}: {RULES[cat]}] {p}" for p in probs[:3]]
        return "\n".join(lines)


# ---------------------------------------------------------------- reference

def prepare(workdir: Path, seed: int, steps: int, cold_steps: int,
            kernel: Path = KERNEL) -> Reference:
    """Run the workload without errors, warm then cold, and list what the
    sweeps can make fail."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = make_image(workdir / "base.img")
    ref = Reference(workdir, seed, steps, cold_steps, base, workdir / "cold-base.img",
                    Run(seed, steps, [], base, workdir / "ref-writes.log", kernel),
                    [], [], kernel)
    disk = copy_sparse(base, workdir / "ref.img")
    ref.run.steps, _ = _run(ref, disk, Drive(logwrites=LogWrites(log=ref.run.log)),
                            cold=False, workdir=workdir / "ref")
    with fsimage.Image(base) as img:
        ref.writes = errplan.write_requests(writelog.read_log(ref.run.log), img.sb)
    shutil.copyfile(disk, ref.cold_base)
    ref.reads = _cold_reads(ref, workdir)
    return ref


def _cold_reads(ref: Reference, workdir: Path) -> list[Injection]:
    """The blocks read on a cold cache: booting (as "boot-read"), then the
    workload's steps (as "read"), each block once."""
    traces = []
    for name in ("boot", "cold"):
        disk = copy_sparse(ref.cold_base, workdir / f"{name}.img")
        drive = Drive(logwrites=LogWrites(log=workdir / f"{name}-writes.log"))
        with Machine(image=disk, drive=drive, kernel=ref.kernel, extra_args=TRACE_READS,
                     workdir=workdir / name, name=f"error sweep: {name} trace") as m:
            m.boot()
            if name == "cold":
                drive_steps(m, ref.command(True), drive.logwrites.log_path(m.workdir),
                            STEP_TIMEOUT, errors_ok=True)
            else:
                m.run("crashwork")      # its program: reads that are not the workload's
            m.kill()
            traces.append(m.stderr)
    at_boot = errplan.read_blocks(traces[0])
    later = [b for b in errplan.read_blocks(traces[1]) if b not in set(at_boot)]
    with fsimage.Image(ref.cold_base) as img:
        roles = errplan.block_roles(img)
        return [Injection(io, errplan.read_kind(b, img.sb, roles), 0, b, False)
                for io, blocks in (("boot-read", at_boot), ("read", later)) for b in blocks]


# ---------------------------------------------------------------- one run

def _run(ref: Reference, disk: Path, drive: Drive, cold: bool, workdir: Path,
         out: Optional[Outcome] = None) -> tuple[list[Step], str]:
    """Boot on disk, drive the workload to its end, check that the shell
    still answers, and pull the plug.  Returns the steps and the kernel's
    disk notices (one per line); no steps if the machine stopped at boot,
    saying why."""
    with Machine(image=disk, drive=drive, kernel=ref.kernel, workdir=workdir,
                 name="error sweep") as m:
        try:
            m.start()
            if not m.wait_for(BOOTED, BOOT_TIMEOUT, what="the prompt").group(0).startswith("$"):
                return [], m.output
            steps = drive_steps(m, ref.command(cold), drive.logwrites.log_path(workdir),
                                STEP_TIMEOUT, errors_ok=out is not None)
            m.sendline("")
            m.run("echo alive")
        except MachineError as e:
            if out is None:
                raise
            out.add("panic" if "panicked" in e.reason else "hang", e.reason)
            return [], "\n".join(m.notices)
        finally:
            m.kill()
        return steps, "\n".join(m.notices)


def inject(ref: Reference, inj: Injection, workdir: Path) -> Outcome:
    """One run with the error inj, and the checks after it."""
    out = Outcome(inj)
    workdir.mkdir(parents=True, exist_ok=True)
    cold = inj.io != "write"
    disk = copy_sparse(ref.cold_base if cold else ref.base, workdir / "disk.img")
    log = workdir / "writes.log"
    drive = Drive(logwrites=LogWrites(log=log), blkdebug=inj.blkdebug(len(ref.writes)))
    steps, notices = _run(ref, disk, drive, cold, workdir, out)
    out.hit = "virtio-blk: disk 0 failed a" in notices
    if out.problems:
        return out
    if steps:
        _check_workload(out, "".join(s.text for s in steps), notices)
    out.logged = len(writelog.read_log(log).entries)
    _check_reboot(ref, out, disk, workdir / "reboot")
    if "panic" not in out.problems and "reboot" not in out.problems:
        _check_disk(ref, out, disk, steps, log, cold)
    return out


def _check_workload(out: Outcome, text: str, notices: str) -> None:
    """What crashwork printed about the error (see its finish()).  Every
    failed request must reach some call, but for one kind: a read that
    readahead started (file data, and the indirect block that maps it)
    is reported only to a reader who needs that page, who reads it again."""
    m = re.search(r"(?m)^DISK errors=(\d+) shutdown=(\d+)$", text)
    if "TAG " not in text:
        # The disk failed a read of crashwork's program: the shell says so.
        if not re.search(r"(?m)^sh: crashwork: ", text):
            out.add("workload", "crashwork did not start, and the shell did not say why")
        return
    if KILLED.search(text):
        # A fault on a page the disk failed to read: the process was told.
        out.shutdown = "the file system is now read-only" in notices
        return
    if m is None:
        out.add("workload", "crashwork printed no DISK line")
        return
    if (int(m.group(1)) > 0) != out.hit:
        out.add("workload", f"wbstat counts {m.group(1)} disk errors; the console "
                            f"{'reports some' if out.hit else 'none'}")
    out.shutdown = m.group(2) == "1"
    for wrong in re.findall(r"(?m)^WRONG .*$", text):
        out.add("read", f"a read returned bytes the file does not hold: {wrong}")
    inj = out.injection
    must_see = inj.io == "write" or inj.io == "read" and inj.kind not in ("data", "map")
    if out.hit and must_see and "\nEFAIL " not in "\n" + text:
        rule = "rule E1" if inj.io == "read" else "rule D6" if inj.kind == "data" else "rule E2"
        out.add("workload", f"{rule}: the disk failed a request, but no call reported an error")
    if out.shutdown and not re.search(r"(?m)^RO ok", text):
        for bad in re.findall(r"(?m)^RO BAD (.*)$", text) or ["crashwork printed no RO line"]:
            rule = "rule E4" if re.match(r"f?sync", bad) else "rule E3"
            out.add("workload", f"{rule}: after the shutdown: {bad}")
    said = notices.count("the file system is now read-only")
    if said != (1 if out.shutdown else 0):
        out.add("workload", f"rule E2: the console said {said} times that the file "
                            f"system is read-only (shutdown={int(out.shutdown)})")


def _check_reboot(ref: Reference, out: Outcome, disk: Path, workdir: Path) -> None:
    """After the power cut: Quire boots on the disk, and its files list."""
    with Machine(image=disk, kernel=ref.kernel, workdir=workdir,
                 name="error sweep: reboot") as m:
        try:
            m.boot()
            listing = m.run("ls")
            if "ls:" in listing or "crashwork" not in listing:
                out.add("reboot", f"ls after the reboot: {listing.strip()}")
            m.poweroff()
        except MachineError as e:
            out.add("panic" if "panicked" in e.reason else "reboot", e.reason)
            m.kill()


def _check_disk(ref: Reference, out: Outcome, disk: Path, steps: list[Step],
                log: Path, cold: bool) -> None:
    """fsck, promises and foreign bytes, on the disk as the reboot left it."""
    first = ref.run.steps if cold else []
    run = Run(ref.seed, ref.steps, [Step(i, 0 if i < len(first) else s.log_bytes, s.text)
                                    for i, s in enumerate(first + steps)],
              ref.cold_base if cold else ref.base, log, ref.kernel)
    try:
        checker = Checker(run)
        verdict = checker.check_image(disk, checker.final_state())
    except CheckerError as e:
        out.add("checker", str(e))
        return
    for p in verdict.problems:
        if p.startswith("fsck"):
            out.add("fsck", p)
        elif "never written to this file" in p:
            out.add("foreign", p)
        else:
            out.add("promise", p)
