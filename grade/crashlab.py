"""The crash lab's run: `crashwork lab` under the crash checker, and what
its rules' tests need to tell one broken rule from another.

The scenario (user/crashwork.c, crashlab()) has one step per promise of
vfs_fsync_range(), each on a file of its own, then a step where ordered
data matters and one where the log commits on its own.  The checker
rebuilds every crash state of the kind crashstates.py describes, with a
single and an all-but-one state for every block write (file data too), so
that a write the kernel let reach the disk in the wrong order shows in
many states, not in a lucky few.

Telling the rules apart.  Several rules can leave the same damage, so a
violation is charged to a rule by where the crash state cuts the log,
relative to the latest commit record (a log header with n > 0) written
up to the state's last write:

  - another file's old bytes in a file: if the write that was to give
    the block its new data completed before that commit record, the
    commit record went out with data no FLUSH had covered (rule 1); if it
    completed after it, the commit did not wait for the data (rule 12);
  - an inconsistent file system: if the state has lost that commit
    record, home blocks went out before it was flushed (rule 3); if it
    holds it, or a later header, the log was emptied or reused before the
    home blocks were flushed (rule 4);
  - a file that lost what fsync promised, once the commit record is
    flushed: each of fsync's rules (7 to 10) has a step and a file of its
    own.  A step that sent no FLUSH at all is pointed out: a call that
    skips the FLUSH breaks rule 8, but one that does not wait for writes
    in flight may find no completed write to flush, and then rule 7 is
    the one broken.

The last run is kept in grade/results/crash-lab/ for `make crashstate`.
"""

from __future__ import annotations

import bisect
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import crashcheck
import fsimage
from crashlog import CrashLog
from crashreport import Report, Violation
from crashrun import PROGRAMS, CheckerError, Run
from crashstates import State, parse_state
from qemu import REPO, Throttle, scaled

RESULTS = REPO / "grade" / "results" / "crash-lab"
RULES = "labs/crash/rules.md"
SEED = 7                    # the scenario's seed: its file names and data
STATE_SEED = 1              # the random crash states'
NRANDOM = 200
IMAGE_MB = 3                # small, so that the scenario can fill it
SLOW = Throttle(iops_write=50)
LOOK = ("cat", "wbstat")          # more programs on the lab's image

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
    _logged: dict[int, set[int]] = field(default_factory=dict, init=False)

    def step_flushed(self, k: int) -> bool:
        """Did a FLUSH complete during step k of the scenario?"""
        lo, hi = self.run.steps[k - 1].log_bytes, self.run.steps[k].log_bytes
        return any(lo < self.log.ends[f] <= hi for f in self.log.flushes)

    def latest_commit(self, st: State) -> int:
        """The latest commit record written up to the state's last write
        (its log entry), or -1."""
        i = bisect.bisect_right(self.commits, st.last) - 1
        return self.commits[i] if i >= 0 else -1

    def words_logged(self, c: int) -> set[int]:
        """The 32-bit words of the blocks that commit record c logs (block
        pointers among them), bitmap blocks left out.  The log blocks are
        read as they were when the next header was written: a commit that
        writes its header first writes them after it."""
        if c not in self._logged:
            e, sb = self.log.entries[c], self.sb
            head = e.data[(sb.logstart - e.sector) * fsimage.BSIZE:][:fsimage.BSIZE]
            lh = fsimage.LogHeader.unpack(head)
            end = next((x.index for x in self.log.entries[c + 1:] if not x.is_flush and
                        x.sector <= sb.logstart < x.sector + x.nr_sectors), len(self.log.entries))
            words: set[int] = set()
            for i, home in enumerate(lh.blocks[:min(lh.n, sb.nlog - 1)]):
                data = latest(self.log, end, sb.logstart + 1 + i)
                if data is not None and not sb.bmapstart <= home < sb.datastart:
                    words.update(w for (w,) in struct.iter_unpack("<I", data))
            self._logged[c] = words
        return self._logged[c]

    def commit_mapping(self, b: int, after: int) -> int:
        """The first commit record after log entry `after` that gives
        block b to a file (it logs an inode or indirect block holding the
        number b), or -1."""
        return next((c for c in self.commits if c > after and b in self.words_logged(c)), -1)

    def commit_durable(self, state: str) -> bool:
        """Is that commit record covered by the state's FLUSH?"""
        st = parse_state(state, self.log)
        return 0 <= self.latest_commit(st) <= st.flush


def latest(log: CrashLog, before: int, block: int) -> Optional[bytes]:
    """What the last write to block before log entry `before` wrote."""
    for e in reversed(log.entries[:before]):
        if not e.is_flush and e.sector <= block < e.sector + e.nr_sectors:
            return log.data((e.index, block - e.sector))
    return None


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


def make_image(dest: Path) -> Path:
    """A small file system with crashrun's programs, and cat and wbstat for
    a student who boots a crash state (make crashstate) to look around."""
    progs = [REPO / "user" / f"_{p}" for p in PROGRAMS + LOOK]
    missing = [str(p) for p in progs if not p.exists()]
    if missing:
        raise CheckerError(f"missing {', '.join(missing)}: run make first")
    r = subprocess.run([str(REPO / "mkfs" / "mkfs"), "-s", str(IMAGE_MB), str(dest),
                        *map(str, progs)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=scaled(60))
    if r.returncode != 0:
        raise CheckerError(f"mkfs failed: {r.stdout.strip()}")
    return dest


def run_lab(workdir: Path, kernel: Path) -> LabRun:
    """Run the scenario on `kernel` in workdir and check its crash states
    (on the host only: the replay tests boot the states they need)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    image = make_image(workdir / "initial.img")
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
    commit = lab.commit_mapping(b, st.flush)
    for e in lab.log.entries[st.flush + 1:]:
        if not e.is_flush and e.sector <= b < e.sector + e.nr_sectors:
            return commit < 0 or e.index > commit
    return True


def foreign_before_commit(lab: LabRun, state: str, p: str) -> bool:
    return foreign(p) and not data_late(lab, state, p)


def foreign_after_commit(lab: LabRun, state: str, p: str) -> bool:
    return foreign(p) and data_late(lab, state, p)


def header_kept(lab: LabRun, state: str) -> bool:
    """Does the state's log header come from the latest commit record
    written before its last write, or from a later header (the log was
    emptied), rather than from before it (the commit record was lost)?"""
    st = parse_state(state, lab.log)
    commit = lab.latest_commit(st)
    kept = set(st.units)
    head = -1
    for e in lab.log.entries[:st.last + 1]:
        if e.is_flush or not e.sector <= lab.sb.logstart < e.sector + e.nr_sectors:
            continue
        if e.index <= st.flush or (e.index, lab.sb.logstart - e.sector) in kept:
            head = e.index
    return head >= commit


def inconsistent_with(header: bool) -> Hit:
    """An inconsistent file system, with the commit record on the disk
    (the log was emptied, or its blocks reused, before the home blocks
    were flushed: rule 4) or lost (home blocks were written before the
    commit record was flushed: rule 3).  With the commit record and its
    log intact the host's replay would have made the state whole."""
    return lambda lab, state, p: inconsistent(p) and header_kept(lab, state) == header


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


def example(bad: list[Violation]) -> Violation:
    """The violation to show: the one whose state is shortest to type
    (a single or all-but-one state rather than a long random one)."""
    return min(bad, key=lambda v: (len(v.state), v.state))


def failure(rule: int, says: str, what: str, bad: list[Violation], checked: int,
            picture: Optional[Path] = None) -> str:
    """The message of a failed rule test: the rule, how many states break
    it, the first such state with its problems, how to look at it."""
    first = example(bad)
    lines = [f"rule {rule} ({RULES}: {says}): in {len(bad)} of the {checked} crash "
             f"states, {what}.",
             f"For example, the state '{first.state}':"]
    lines += [f"  {p}" for p in first.problems[:4]]
    lines.append("To boot Quire on that disk and look around: "
                 + crashstate_command(first.state))
    if picture is not None:
        lines.append(f"The picture of its writes and FLUSHes: {picture.relative_to(REPO)}")
    return "\n".join(lines)
