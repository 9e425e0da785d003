"""The writeback lab: writeback_iter() and write_cache_pages().

One test for each rule of labs/writeback/rules.md.  Each boots Quire and
runs `wbiter CHECK` (user/wbiter.c), which stages the rule's situation
through wbctl(2), runs one writeback and compares what the iterator did
with what Linux's does.  A failure names the rule broken, as "rule N
(...)", and says what the iterator did instead.
"""

from __future__ import annotations

from typing import Callable

import pytest

from qemu import Machine

Boot = Callable[..., Machine]

pytestmark = pytest.mark.lab("writeback")

# (rule number, wbiter check): the rules of labs/writeback/rules.md, in order.
CHECKS = [
    (1, "range-start"), (2, "range-end"), (3, "recheck-dirty"),
    (4, "recheck-mapping"), (5, "references"), (6, "sync-all-waits"),
    (7, "none-skips"), (8, "tag-all"), (9, "towrite-only"),
    (10, "tagged-writepages"), (11, "tag-range"), (12, "nr-to-write-stop"),
    (13, "nr-to-write-charge"), (14, "sync-all-ignores-nr"), (15, "cyclic-start"),
    (16, "cyclic-to-end"), (17, "no-wrap"), (18, "wbindex-stop"),
    (19, "wbindex-end"), (20, "sync-all-continues"), (21, "first-error"),
    (22, "none-stops"), (23, "activate"), (24, "wcp-error"),
    (25, "large-folios"),
]


@pytest.mark.points(2)
@pytest.mark.parametrize("rule,check", CHECKS, ids=[f"r{n:02d}-{c}" for n, c in CHECKS])
def test_rule(machine: Boot, rule: int, check: str) -> None:
    m = machine(cpus=1)
    out = m.run(f"wbiter {check}", timeout=120)
    verdict = [line for line in out.splitlines() if line.startswith(f"wbiter {check}:")]
    assert verdict == [f"wbiter {check}: PASS"], (
        f"the check of rule {rule} (labs/writeback/rules.md) did not pass:\n{out.strip()}")
