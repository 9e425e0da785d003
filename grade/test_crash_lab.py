"""The crash lab: the log commit, replay, fsync and ordered data.

One test for each rule of labs/crash/rules.md, `test_rule[rNN-name]`.
Most judge the crash states of one run of `crashwork lab` (grade/
crashlab.py): the scenario runs on the kernel under test, QEMU records
every write and FLUSH, and the checker rebuilds every disk a power cut
could leave: at every FLUSH, with each write alone after it and with all
but each one, and a seeded random sample.  The replay rules boot the
kernel on chosen crash states (grade/crashreplay.py); the commit record's
checksum is read from the write log; the rule about needless I/O counts
the disk's requests.

A failure names the rule ("rule N (...)"), what broke (which file, which
fsync, which bytes), the crash state, and the command that boots Quire on
that state: make crashstate LAB=crash STATE='...'.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Callable, Optional

import pytest

import crashpicture
import crashreplay
import fsimage
import fsop
from crashlab import (RESULTS, RULES, Hit, LabRun, example, failure, foreign_after_commit,
                      foreign_before_commit, inconsistent_with, latest, matching, promise_of,
                      run_lab, unflushed_steps)
from qemu import KERNEL, REPO, Machine

Boot = Callable[..., Machine]

pytestmark = pytest.mark.lab("crash")


@dataclass(frozen=True)
class StateRule:
    """A rule judged on the run's crash states: what it says, what a
    state that breaks it shows, and the problems that break it."""

    says: str
    what: str
    hit: Hit


STATE_RULES = {
    1: StateRule("a FLUSH between the log blocks and the commit record",
                 "a file shows another file's old bytes: the commit record that gave it "
                 "those blocks reached the disk while their new data, written before it, "
                 "was not flushed yet", foreign_before_commit),
    3: StateRule("a FLUSH between the commit record and the home blocks",
                 "the file system is inconsistent: home blocks reached the disk before "
                 "the commit record was flushed, and the log cannot finish them",
                 inconsistent_with(header=False)),
    4: StateRule("a FLUSH between the home blocks and the empty header",
                 "the file system is inconsistent: the empty header reached the disk "
                 "while some home blocks were still only in the disk's cache",
                 inconsistent_with(header=True)),
    7: StateRule("fsync waits for writes in flight that others started",
                 "cw/waits has lost what its fsync promised", promise_of("cw/waits")),
    8: StateRule("an integrity call FLUSHes whenever a write completed since the last",
                 "cw/flushes or cw/others has lost what its fsync promised",
                 promise_of("cw/flushes", "cw/others")),
    9: StateRule("fdatasync commits a new size and new blocks",
                 "cw/datasync has lost what its fdatasync promised",
                 promise_of("cw/datasync")),
    10: StateRule("fsync commits the metadata even when no data was dirty",
                  "cw/resize has lost the size its fsync promised", promise_of("cw/resize")),
    12: StateRule("ordered data: a commit waits for the data writes it makes reachable",
                  "a file shows another file's old bytes: the commit record that gave it "
                  "those blocks was written before their new data had even completed",
                  foreign_after_commit),
}


@pytest.fixture(scope="module")
def lab() -> LabRun:
    for p in (KERNEL, REPO / "mkfs" / "mkfs", REPO / "mkfs" / "fsck",
              REPO / "user" / "_crashwork"):
        if not p.exists():
            pytest.fail(f"{p.relative_to(REPO)} is missing: run make first", pytrace=False)
    return run_lab(RESULTS / "run", KERNEL)


@pytest.fixture(scope="module")
def replays(lab: LabRun) -> dict[str, Optional[str]]:
    """The kernel booted on a stale log and on a committed one."""
    work = RESULTS / "replay"
    shutil.rmtree(work, ignore_errors=True)
    found, torn = crashreplay.check_committed(lab, work / "committed")
    return {"stale": crashreplay.check_stale(lab, work / "stale"),
            "committed": found, "torn": torn}


def sane(lab: LabRun) -> None:
    r = lab.report
    assert r.selftest is None, f"the crash checker is broken: {r.selftest}"
    assert r.checked >= 500, f"only {r.checked} crash states were made:\n{r.summary()}"


def check_states(n: int, lab: LabRun) -> Optional[str]:
    rule = STATE_RULES[n]
    sane(lab)
    bad = matching(lab, rule.hit)
    if not bad:
        return None
    silent = unflushed_steps(lab, bad) if n in (7, 9, 10) else []
    if silent:
        # No FLUSH at all in the step: a call that skips it (rule 8), or one
        # that did not wait, and so found no completed write to flush (rule
        # 7).  The log cannot tell which; r08 can.
        rule = StateRule(rule.says, rule.what + f"; step {silent[0]} sent no FLUSH at all "
                         "(if r08 fails too, fix rule 8 first)", rule.hit)
    picture = crashpicture.draw_violation(lab, example(bad), n, rule.says,
                                          RESULTS / f"rule{n:02d}.png")
    return failure(n, rule.says, rule.what, bad, lab.report.checked, picture)


def commit_record_problems(lab: LabRun) -> list[str]:
    """Commit records in the log whose checksum is not uapi/fs.h's over
    the header and the log blocks written before them."""
    log, sb = lab.log, lab.sb
    bad = []
    with fsimage.Image(lab.run.base) as base:
        for c in lab.commits:
            e = log.entries[c]
            head = e.data[(sb.logstart - e.sector) * fsimage.BSIZE:][:fsimage.BSIZE]
            lh = fsimage.LogHeader.unpack(head)
            where = [sb.logstart + 1 + i for i in range(min(lh.n, sb.nlog - 1))]
            slots = [latest(log, c, b) or base.read_block(b) for b in where]
            want = fsimage.log_checksum(lh.seq, lh.blocks[:len(slots)], slots)
            if want != lh.checksum:
                bad.append(f"log entry {c}: the commit record of transaction {lh.seq} "
                           f"({lh.n} blocks) carries checksum {lh.checksum:#010x}; over its "
                           f"header and the {len(slots)} log blocks written before it, "
                           f"uapi/fs.h's checksum is {want:#010x}")
    return bad


def check_checksum(lab: LabRun) -> Optional[str]:
    bad = commit_record_problems(lab)
    if not lab.commits:
        return (f"rule 2 ({RULES}: the commit record is a header with n > 0 and the "
                "checksum of uapi/fs.h): the run wrote no commit record at all")
    if not bad:
        return None
    return (f"rule 2 ({RULES}: the commit record's checksum covers the header and the "
            f"contents of every logged block, as uapi/fs.h defines it): {len(bad)} of the "
            f"{len(lab.commits)} commit records do not check out, so replay (and fsck) "
            "would take them for transactions that never committed:\n  "
            + "\n  ".join(bad[:3]))


def check_replay(replays: dict[str, Optional[str]]) -> Optional[str]:
    why = replays["stale"] or replays["committed"]
    if why is None:
        return None
    return (f"rule 5 ({RULES}: replay copies home a transaction whose header checks "
            f"out, and only such a one; see rule 2 for what the checksum covers): {why}")


def check_idempotent(replays: dict[str, Optional[str]]) -> Optional[str]:
    why = replays["torn"]
    if why is None:
        return None
    return (f"rule 6 ({RULES}: replay can be cut by a power cut and done again: the log "
            f"stays committed until every home block is flushed): {why}")


def check_no_io(machine: Boot) -> Optional[str]:
    """Rule 11, and rule 8's simplest case on the way."""
    m = machine(cpus=1)
    results, snaps, _ = fsop.wbstat_runs(
        m, "open a f rwc", "write a 0 200000 3", "wbstat", "fsync a", "wbstat",
        "fsync a", "wbstat", "fdatasync a", "wbstat")
    fsop.expect(results, "fsync a", 0, nth=1)
    counts = [(s["disk_writes"], s["disk_flushes"]) for s in snaps]
    if counts[1][1] == counts[0][1]:
        return (f"rule 8 ({RULES}: an integrity call FLUSHes whenever a write completed "
                "since the last FLUSH): fsync of 200000 new bytes sent no FLUSH")
    for call, (before, after) in (("a second fsync", counts[1:3]),
                                  ("an fdatasync after it", counts[2:4])):
        if after != before:
            return (f"rule 11 ({RULES}: an fsync with nothing dirty, nothing in flight "
                    f"and nothing to commit does no I/O): {call} of the clean file sent "
                    f"{after[0] - before[0]} writes and {after[1] - before[1]} FLUSHes")
    return None


# (number, name): the rules of labs/crash/rules.md, in order.
RULE_IDS = [(1, "flush-before-commit-record"), (2, "checksum"), (3, "flush-before-home"),
            (4, "flush-before-empty-header"), (5, "replay-checks"), (6, "replay-idempotent"),
            (7, "fsync-waits"), (8, "fsync-flushes"), (9, "fdatasync-commits"),
            (10, "size-change-commits"), (11, "no-needless-io"), (12, "ordered-data")]


@pytest.mark.points(3)
@pytest.mark.parametrize("rule", [n for n, _ in RULE_IDS],
                         ids=[f"r{n:02d}-{name}" for n, name in RULE_IDS])
def test_rule(request: pytest.FixtureRequest, rule: int) -> None:
    lab = request.getfixturevalue("lab")
    if rule in STATE_RULES:
        why = check_states(rule, lab)
    elif rule == 2:
        why = check_checksum(lab)
    elif rule in (5, 6):
        replays = request.getfixturevalue("replays")
        why = check_replay(replays) if rule == 5 else check_idempotent(replays)
    else:
        why = check_no_io(request.getfixturevalue("machine"))
    assert why is None, why

