"""Crash tests that do not guess: grade/crashcheck.py on Quire.

The workload user/crashwork runs under QEMU's blklogwrites driver; the
checker rebuilds the disks a power cut could have left at every FLUSH and
at many points between them, and checks each one: fsck clean after the
log replay, no file with bytes that were never written to it, data kept
after fsync, fdatasync, msync(MS_SYNC) and sync.  A few states are booted
in Quire, which must read back what the host found.

The last two tests run the same checker on kernels with a known ordering
bug (grade/crashbugs/*.patch, built by grade/variants.py): a checker that
finds nothing there would prove nothing here.  They test the checker, not
the kernel, so they are staff's tests: in `make test`, not graded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import crashcheck
import variants
from crashreport import Report
from qemu import KERNEL, REPO

SEED = 11           # the workload's operations; any seed passes on a correct kernel
STEPS = 60
BUGS = REPO / "grade" / "crashbugs"


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


# Not marked lab("writeback"): every graded test of a lab must fail on the
# lab's starter (grade/test_labs.py checks it), and this one passes there.
# The starter's naive writeback_iter() skips folios under writeback in
# WB_SYNC_ALL, but no crash state can show it: virtio-blk hands QEMU the
# folio itself, and QEMU reads it only when the write reaches the image
# file, so the write in flight carries the data written after it began.
# (test_writeback_integrity.py catches that bug by looking at the folio.)
@pytest.mark.points(8)
def test_crash_states_keep_promises(solution: Report) -> None:
    """At least 1,000 crash states, and not one breaks a promise; two of
    them boot, and Quire reads every file as the host found it."""
    r = solution
    assert r.checked >= 1000, \
        f"only {r.checked} crash states could be made from the log:\n{r.summary()}"
    assert r.selftest is None, f"the checker is broken: {r.selftest}"
    assert not r.violations, \
        f"{len(r.violations)} crash states break Quire's promises:\n{r.summary(3)}"
    assert not r.boot_problems, \
        f"Quire did not read a crash image as it is:\n{r.summary(3)}"


@pytest.mark.points(2)
def test_crash_image_with_committed_log_boots(solution: Report) -> None:
    """A crash state whose log holds a committed transaction: the kernel
    replays it at mount, then reads every file as the host found it."""
    r = solution
    assert r.replay_boots >= 1, \
        f"no checked crash state held a committed log transaction:\n{r.summary()}"
    assert not r.replay_problems, \
        f"Quire failed on a crash image it had to replay:\n{r.summary(3)}"


def _variant_report(tmp_path: Path, patch: str) -> Report:
    kernel = variants.build_kernel(BUGS / patch, tmp_path / "variant")
    # No boots: the point is what the checker finds on the host.
    return _run(tmp_path / "run", kernel, 20, nrandom=300, boots=0, replay_boots=0)


def test_checker_catches_fsync_without_flush(tmp_path: Path) -> None:
    """fsync without its final FLUSH: data the commit did not flush is lost.

    Deterministic: crashwork's quiet steps overwrite blocks that are on the
    disk already and fsync (then fdatasync) them, with nothing else running.
    Such a call commits no metadata, so without its own FLUSH no FLUSH at
    all follows the data; the prefix state at the FLUSH of the sync() just
    before (always generated) still has the old data, though DURABLE said
    otherwise."""
    r = _variant_report(tmp_path, "fsync-no-flush.patch")
    lost = [v for v in r.violations if v.state.startswith("prefix ")
            and any("made durable" in p for p in v.problems)]
    assert lost, ("the checker found no fsync'ed data lost in a prefix state of a kernel "
                  f"whose fsync sends no FLUSH:\n{r.summary(3)}")


def test_checker_catches_unordered_log_commit(tmp_path: Path) -> None:
    """A commit without the FLUSH between the header and the home blocks:
    a home block may reach the disk while the header does not.

    Deterministic: every commit's header and home writes then share one
    window between FLUSHes, and for each inode-table or bitmap write in a
    window the checker makes the state with that write alone.  Any commit
    that creates a file or allocates a block gives one that fsck rejects:
    the commit of crashwork's mkdir of cw and bg (made durable by sync
    before step 1) writes an inode block holding the new directories, and
    alone it leaves them named by no entry.  (Dropping the FLUSH between the
    log blocks and the header instead is no bug: a header whose logged
    blocks did not all arrive has a wrong checksum and is ignored; the
    checker finds nothing there, rightly.)"""
    r = _variant_report(tmp_path, "log-no-flush-before-home.patch")
    torn = [v for v in r.violations if v.state.startswith("single ")
            and any(p.startswith("fsck exit") for p in v.problems)]
    assert torn, ("the checker found no inconsistent state of a kernel whose commit "
                  f"writes home blocks before the header is durable:\n{r.summary(3)}")
