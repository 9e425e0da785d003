"""The crash lab's run: `crashwork lab` under the crash checker, and what
its rules' tests need to tell one broken rule from another.

The scenario (user/crashwork.c, crashlab()) has one step per promise of
vfs_fsync_range(), each on a file of its own, then a step where ordered
data matters and one where the log commits on its own.  The checker
rebuilds every crash state of the kind crashstates.py describes, with a
single and an all-but-one state for every block write (file data too), so
that a write the kernel let reach the disk in the wrong order shows in
many states, not in a lucky few.

Telling the rules apart.  A violation in a crash state is charged to the
commit's order by where the state cuts the log:

  - before the commit point: the latest commit record (a log header with
    n > 0) written up to the state's last write is not yet covered by the
    state's FLUSH.  Another file's bytes here mean the commit record went
    out with data not yet flushed (rule 1); an inconsistent file system
    means home blocks went out before the commit record was flushed
    (rule 3).
  - after the commit point: it is covered.  Another file's bytes then
    mean the commit did not wait for the data it points at (rule 12); an
    inconsistent file system means the log was emptied before the home
    blocks were flushed (rule 4); a file that lost what fsync promised
    breaks one of fsync's rules (7 to 10), each step's file its own.

The last run is kept in grade/results/crash-lab/ for `make crashstate`.
"""

from __future__ import annotations

import bisect
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import crashcheck
import fsimage
from crashlog import CrashLog
from crashreport import Report, Violation
from crashrun import Run
from crashstates import parse_state
from qemu import REPO, Throttle

RESULTS = REPO / "grade" / "results" / "crash-lab"
RULES = "labs/crash/rules.md"
SEED = 7                    # the scenario's seed: its file names and data
STATE_SEED = 1              # the random crash states'
NRANDOM = 300
IMAGE_MB = 3                # small, so that the scenario can fill it
SLOW = Throttle(iops_write=50)

FOREIGN = re.compile(r"\(fid (\d+)\): bytes \S+ hold (data of file fid (\d+)|data of "
                     r"background|bytes no write made)")


@dataclass
class LabRun:
    """A recorded run of the scenario and the checker's report on it."""

    run: Run
    report: Report
    log: CrashLog
    sb: fsimage.Superblock
    commits: list[int]          # log entries that write a commit record

    @property
    def workdir(self) -> Path:
        return self.run.log.parent

    def step_flushed(self, k: int) -> bool:
        """Did a FLUSH complete during step k of the scenario?"""
        lo, hi = self.run.steps[k - 1].log_bytes, self.run.steps[k].log_bytes
        return any(lo < self.log.ends[f] <= hi for f in self.log.flushes)

    def commit_durable(self, state: str) -> bool:
        """Is the latest commit record written up to the state's last write
        covered by the state's FLUSH (see the module's docstring)?"""
        st = parse_state(state, self.log)
        i = bisect.bisect_right(self.commits, st.last) - 1
        return i >= 0 and self.commits[i] <= st.flush


def commit_records(log: CrashLog, logstart: int) -> list[int]:
    """The log entries that write a log header with n > 0, in order."""
    found = []
    for e in log.entries:
        if not e.is_flush and e.sector <= logstart < e.sector + e.nr_sectors:
            block = e.data[(logstart - e.sector) * fsimage.BSIZE:][:fsimage.BSIZE]
            magic, n = struct.unpack_from("<2I", block)
            if magic == fsimage.LOG_MAGIC and n > 0:
                found.append(e.index)
    return found


def run_lab(workdir: Path, kernel: Path) -> LabRun:
    """Run the scenario on `kernel` in workdir and check its crash states
    (on the host only: the replay tests boot the states they need)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    image = crashcheck.make_image(workdir / "initial.img", IMAGE_MB)
    run = crashcheck.run_workload(workdir, SEED, 0, kernel=kernel, image=image,
                                  scenario="lab", throttle=SLOW)
    report = crashcheck.check_run(run, workdir, nrandom=NRANDOM, state_seed=STATE_SEED,
                                  boots=0, replay_boots=0, jobs=2, every_write=True)
    report.save(workdir / "report.json")
    (workdir / "summary.txt").write_text(report.summary(50) + "\n")
    log = CrashLog(run.log)
    with fsimage.Image(run.base) as img:
        sb = img.sb
    return LabRun(run, report, log, sb, commit_records(log, sb.logstart))


# ---------------------------------------------------------------- problems

# Is this problem, in this crash state of this run, one that breaks a
# given rule?  (lab, state, problem) -> bool.
Hit = Callable[["LabRun", str, str], bool]

BLOCK = re.compile(r"\[disk block (\d+),")
STEP = re.compile(r"in step (\d+)")


def foreign(p: str) -> bool:
    """A file shows bytes another file (or no write) left there."""
    m = FOREIGN.search(p)
    return m is not None and m.group(1) != m.group(3)


def inconsistent(p: str) -> bool:
    """fsck, or the root directory, says the file system is damaged."""
    return p.startswith(("fsck", "/", "the image cannot be read"))


def about(*paths: str) -> Callable[[str], bool]:
    """A problem with a file that has (or had) one of these paths."""
    return lambda p: any(p.startswith(x + " ") or f" as {x} " in p for x in paths)


def data_late(lab: LabRun, state: str, p: str) -> bool:
    """For another file's bytes in a block: did the write that gave the
    block its new data complete after the commit record that made the
    block the file's (the commit did not wait for it), rather than before
    it (it did, but no FLUSH came between them)?"""
    m = BLOCK.search(p)
    if m is None:
        return True
    b, st = int(m.group(1)), parse_state(state, lab.log)
    i = bisect.bisect_right(lab.commits, st.last) - 1
    commit = lab.commits[i] if i >= 0 else -1
    for e in lab.log.entries[st.flush + 1:]:
        if not e.is_flush and e.sector <= b < e.sector + e.nr_sectors:
            return e.index > commit
    return True


def foreign_before_commit(lab: LabRun, state: str, p: str) -> bool:
    return foreign(p) and not data_late(lab, state, p)


def foreign_after_commit(lab: LabRun, state: str, p: str) -> bool:
    return foreign(p) and data_late(lab, state, p)


def inconsistent_at(durable: bool) -> Hit:
    return lambda lab, state, p: inconsistent(p) and lab.commit_durable(state) == durable


def promise_of(*paths: str) -> Hit:
    """A file lost what its fsync promised (after the commit point: before
    it, a commit-order rule is to blame)."""
    return lambda lab, state, p: about(*paths)(p) and lab.commit_durable(state)


def matching(lab: LabRun, hit: Hit) -> list[Violation]:
    """The violations with problems that hit, with only those problems."""
    out = []
    for v in lab.report.violations:
        probs = [p for p in v.problems if hit(lab, v.state, p)]
        if probs:
            out.append(Violation(v.state, probs))
    return out


def unflushed_steps(lab: LabRun, bad: list[Violation]) -> list[int]:
    """The steps whose promises these violations break and that sent no
    FLUSH at all: their integrity call skipped it."""
    steps = {int(m.group(1)) for v in bad for p in v.problems for m in STEP.finditer(p)}
    return sorted(k for k in steps if 0 < k < len(lab.run.steps) and not lab.step_flushed(k))


def crashstate_command(state: str) -> str:
    return f"make crashstate LAB=crash STATE='{state}'"


def failure(rule: int, says: str, what: str, bad: list[Violation], checked: int,
            picture: Optional[Path] = None) -> str:
    """The message of a failed rule test: the rule, how many states break
    it, the first such state with its problems, how to look at it."""
    first = bad[0]
    lines = [f"rule {rule} ({RULES}: {says}): in {len(bad)} of the {checked} crash "
             f"states, {what}.",
             f"For example, the state '{first.state}':"]
    lines += [f"  {p}" for p in first.problems[:4]]
    lines.append(f"To boot Quire on that disk and look around: {crashstate_command(first.state)}")
    if picture is not None:
        lines.append(f"The picture of its writes and FLUSHes: {picture.relative_to(REPO)}")
    return "\n".join(lines)
