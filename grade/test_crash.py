"""Crash tests that do not guess: grade/crashcheck.py on Quire.

The workload user/crashwork runs under QEMU's blklogwrites driver; the
checker rebuilds the disks a power cut could have left at every FLUSH and
at many points between them, and checks each one: fsck clean after the
log replay, no file with bytes that were never written to it, data kept
after fsync, fdatasync, msync(MS_SYNC) and sync.  A few states are booted
in Quire, which must read back what the host found.

Each durability rule has a targeted scenario of its own and a patch that
breaks it: the crash lab's (labs/crash/rules.md, test_crash_lab.py) and
the others (grade/crashbugs/rules.md, test_durability.py);
test_mutations.py shows that the checker catches every one.  Both tests
here are graded with the crash lab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import crashcheck
from crashreport import Report
from qemu import KERNEL, REPO

SEED = 11           # the workload's operations; any seed passes on a correct kernel
STEPS = 60


def _need(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run make first", pytrace=False)


def _run(workdir: Path, kernel: Path, steps: int, nrandom: int, boots: int,
         replay_boots: int) -> Report:
    for p in (KERNEL, REPO / "mkfs" / "mkfs", REPO / "mkfs" / "fsck",
              REPO / "user" / "_crashwork"):
        _need(p)
    workdir.mkdir(parents=True, exist_ok=True)
    image = crashcheck.make_image(workdir / "initial.img")
    run = crashcheck.run_workload(workdir, SEED, steps, kernel=kernel, image=image)
    report = crashcheck.check_run(run, workdir, nrandom=nrandom, boots=boots,
                                  replay_boots=replay_boots, jobs=2)
    (workdir / "summary.txt").write_text(report.summary(50) + "\n")
    report.save(workdir / "report.json")
    return report


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The checker's report on this tree's kernel (shared by two tests)."""
    return _run(tmp_path_factory.mktemp("crash"), KERNEL, STEPS, nrandom=800,
                boots=2, replay_boots=1)


# Graded with the crash lab, whose starter's commit and fsync break these
# promises.  Not with the writeback lab: every graded test of a lab must
# fail on the lab's starter (grade/test_labs.py checks it), and this one
# passes there.  The writeback starter's naive writeback_iter() skips
# folios under writeback in WB_SYNC_ALL, but no crash state can show it:
# virtio-blk hands QEMU the folio itself, and QEMU reads it only when the
# write reaches the image file, so the write in flight carries the data
# written after it began.  (test_writeback_integrity.py catches that bug
# by looking at the folio.)
@pytest.mark.lab("crash")
@pytest.mark.points(8)
def test_crash_states_keep_promises(solution: Report) -> None:
    """At least 1,000 crash states, and not one breaks a promise; two of
    them boot, and Quire reads every file as the host found it."""
    r = solution
    assert r.checked >= 1000, \
        f"only {r.checked} crash states could be made from the log:\n{r.summary()}"
    assert r.selftest is None, f"the checker is broken: {r.selftest}"
    torn = any(p.startswith(("fsck", "/")) for v in r.violations for p in v.problems)
    assert not r.violations, (
        f"{len(r.violations)} crash states break Quire's promises "
        f"({'labs/crash/rules.md: rules 1 to 4 and 12, the log commit' if torn else 'labs/crash/rules.md: rules 7 to 12, and grade/crashbugs/rules.md: D4 and D5'}"
        f"):\n{r.summary(3)}")
    assert not r.boot_problems, \
        f"Quire did not read a crash image as it is:\n{r.summary(3)}"


@pytest.mark.lab("crash")
@pytest.mark.points(2)
def test_crash_image_with_committed_log_boots(solution: Report) -> None:
    """A crash state whose log holds a committed transaction: the kernel
    replays it at mount, then reads every file as the host found it."""
    r = solution
    assert r.replay_boots >= 1, \
        f"no checked crash state held a committed log transaction:\n{r.summary()}"
    assert not r.replay_problems, \
        f"Quire failed on a crash image it had to replay:\n{r.summary(3)}"
