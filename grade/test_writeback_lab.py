"""The writeback lab: writeback_iter() and write_cache_pages().

Each test checks one property of the iterator that labs/writeback.md asks
for, through wbiter (user/wbiter.c), which runs single writebacks with
wbctl(2) and compares what the iterator handed out with what Linux's
writeback_iter() hands out.
"""

from __future__ import annotations

from typing import Callable

import pytest

from qemu import Machine

Boot = Callable[..., Machine]

pytestmark = pytest.mark.lab("writeback")


def wbiter(machine: Boot, check: str) -> None:
    m = machine(cpus=1)
    out = m.run(f"wbiter {check}", timeout=120)
    assert f"wbiter {check}: PASS" in out, f"wbiter {check} did not pass:\n{out}"


@pytest.mark.points(3)
def test_iter_range(machine: Boot) -> None:
    """Dirty folios come out once each, in ascending order; a byte range
    limits them (range_end inclusive)."""
    wbiter(machine, "range")


@pytest.mark.points(3)
def test_iter_nr_to_write(machine: Boot) -> None:
    """WB_SYNC_NONE stops after nr_to_write folios; WB_SYNC_ALL ignores it."""
    wbiter(machine, "nrtowrite")


@pytest.mark.points(3)
def test_iter_writeback_index(machine: Boot) -> None:
    """Cyclic writeback resumes at writeback_index and resets it to 0 at
    the end of the file."""
    wbiter(machine, "wbindex")


@pytest.mark.points(3)
def test_iter_no_wrap(machine: Boot) -> None:
    """A cyclic pass never goes back to index 0 within one call."""
    wbiter(machine, "nowrap")


@pytest.mark.points(4)
def test_iter_towrite_tagging(machine: Boot) -> None:
    """Integrity writeback (and tagged_writepages) writes only the folios
    dirty when it started: TOWRITE tagging."""
    wbiter(machine, "towrite")


@pytest.mark.points(3)
def test_iter_recheck_after_lock(machine: Boot) -> None:
    """A folio someone else wrote between lookup and lock is skipped."""
    wbiter(machine, "recheck")


@pytest.mark.points(3)
def test_iter_errors(machine: Boot) -> None:
    """WB_SYNC_ALL goes on after an error and returns the first one;
    WB_SYNC_NONE stops at the first error."""
    wbiter(machine, "errors")


@pytest.mark.points(2)
def test_write_cache_pages_activate(machine: Boot) -> None:
    """write_cache_pages() unlocks a folio returned with
    AOP_WRITEPAGE_ACTIVATE."""
    wbiter(machine, "activate")
