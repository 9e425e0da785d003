"""The durability rules of grade/crashbugs/rules.md, each checked where a
kernel that breaks it is caught every time.

Rules D4 and D5 run the crash checker on `crashwork promises` (one step
per rule, each on a file of its own, on a disk held to 50 writes a
second): the checker rebuilds every disk a power cut could leave, and no
state may lose what a step promised.  (The scenario's steps for the
former rules D1 to D3 still run; those rules are the crash lab's now,
tested on its own scenario by test_crash_lab.py.)  Rule D4's test is
graded with the crash lab: msync(MS_SYNC) is the lab's fdatasync.  Rule
D7 is not about power cuts: a call must not return while writes it
covers are in flight, which wbstat shows directly.
"""

from __future__ import annotations

from typing import Callable

import pytest

import crashcheck
import fsop
from crashreport import Report
from qemu import Drive, Machine, Throttle

Boot = Callable[..., Machine]

SEED = 5
SLOW = Throttle(iops_write=50)

# (rule, its file in the scenario, what it says), each a pytest.param with
# its id (and D4 with the crash lab's marker).
PROMISES = [
    pytest.param("D4", "cw/d4", "msync(MS_SYNC) makes its stores durable, as fdatasync would",
                 id="D4-msync-is-fdatasync", marks=pytest.mark.lab("crash")),
    pytest.param("D5", "cw/d5",
                 "sync writes and waits for everything, writes in flight included",
                 id="D5-sync-waits"),
]


@pytest.fixture(scope="module")
def promises(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The crash checker's report on `crashwork promises` (all states
    checked on the host; none booted)."""
    work = tmp_path_factory.mktemp("promises")
    image = crashcheck.make_image(work / "initial.img")
    run = crashcheck.run_workload(work, SEED, 0, image=image, scenario="promises",
                                  throttle=SLOW)
    report = crashcheck.check_run(run, work, nrandom=400, boots=0, replay_boots=0, jobs=2)
    (work / "summary.txt").write_text(report.summary(50) + "\n")
    return report


def _broken(r: Report, rule: str, says: str, what: str, hit: Callable[[str], bool]) -> None:
    """Fail, naming rule, if a crash state has a problem for which hit is
    true; what says what such a state shows."""
    assert r.selftest is None, f"the checker is broken: {r.selftest}"
    assert r.checked >= 300, f"only {r.checked} crash states were made:\n{r.summary()}"
    bad = [v for v in r.violations if any(hit(p) for p in v.problems)]
    assert not bad, (
        f"rule {rule} (grade/crashbugs/rules.md: {says}): in {len(bad)} of the {r.checked} "
        f"crash states, {what}.  For example, {bad[0].state}:\n  "
        + "\n  ".join(bad[0].problems[:4]))


@pytest.mark.points(3)
@pytest.mark.parametrize("rule,path,says", PROMISES)
def test_promise(promises: Report, rule: str, path: str, says: str) -> None:
    _broken(promises, rule, says, f"{path} has lost what its step promised",
            lambda p: p.startswith(path + " ") or f" as {path} " in p)


@pytest.mark.points(2)
def test_sync_file_range_waits(machine: Boot) -> None:
    """Rule D7: sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER) on a slow disk,
    with a write of the range already started by another call, returns
    with nothing of the range dirty or in flight."""
    m = machine(cpus=1, drive=Drive(throttle=Throttle(iops_write=10)))
    results, counters, out = fsop.run(
        m, "open a sfr rwc", "write a 0 32768 1", "fsync a", "write a 8192 16384 2",
        "sfr a 8192 4096 w", "sfr a 0 0 bwa", "wbstat a")
    fsop.expect(results, "sfr a 0 0 bwa", 0)
    says = ("rule D7 (grade/crashbugs/rules.md): sync_file_range with WAIT_BEFORE, WRITE "
            "and WAIT_AFTER returns with no write of its range in flight")
    assert counters.get("f_writeback") == 0, \
        f"{says}; it returned with {counters.get('f_writeback')} folios under writeback"
    assert counters.get("f_dirty") == 0, \
        f"{says}; it returned with {counters.get('f_dirty')} folios still dirty"
