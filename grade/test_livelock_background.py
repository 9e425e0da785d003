"""The writeback lab, under load: no dirtier livelock, and the flusher's
writeback in slices.  Failures name the rule of labs/writeback/rules.md
that was broken.

Livelock: `livelock MODE CALL` (user/livelock.c) runs fsync or sync while a
dirtier keeps appending, overwriting or storing through mmap; the call must
return (the test's deadline) having written no more folios than it tagged
TOWRITE, i.e. than were dirty when it began.

Background writeback: with only periodic (kupdate) writeback on, a large
dirty file is written by the flusher; the trace (user/wbtrace.c, read with
grade/tracedump.py) must show slices of at most MAX_WRITEBACK_PAGES folios
per ->writepages call, indices ascending within each call, each cyclic call
resuming where the last one stopped, and writeback_index back at 0 at the
end of the file.
"""

from __future__ import annotations

from typing import Callable

import pytest

import fsop
from qemu import Machine
from tracedump import parse_dump

Boot = Callable[..., Machine]

pytestmark = pytest.mark.lab("writeback")

MAX_WRITEBACK_PAGES = 256   # kernel/fs/fs-writeback.c


@pytest.mark.points(2)
@pytest.mark.parametrize("mode", ["append", "overwrite", "mmap"])
@pytest.mark.parametrize("call", ["fsync", "sync"])
def test_no_livelock(machine: Boot, mode: str, call: str) -> None:
    m = machine(cpus=3)
    out = m.run(f"livelock {mode} {call}", timeout=120)
    assert f"livelock {mode} {call}: PASS" in out, out


def flusher_calls(dump: str, ino: int) -> list[tuple[int, int, list[int]]]:
    """The kupdate ->writepages calls of inode ino, in order: the
    writeback_index each started from and ended with, and the folio
    indices whose writeback each started."""
    trace = parse_dump(dump)
    calls: list[tuple[int, int, list[int]]] = []
    current = None
    for e in trace.events:
        if e.ino != ino:
            continue
        if e.type == "WRITEPAGES" and "kupdate" in fsop_mode(e.mode):
            current = (e.index, e.pid, [])
        elif e.type == "WB_START" and current is not None and e.pid == current[1]:
            current[2].append(e.index)
        elif e.type == "WRITEPAGES_END" and current is not None and e.pid == current[1]:
            calls.append((current[0], e.index, current[2]))
            current = None
    return calls


def fsop_mode(mode: int) -> str:
    from tracedump import mode_text
    return mode_text(mode)


@pytest.mark.points(4)
def test_background_writeback_slices(machine: Boot) -> None:
    npages = 1100   # four slices and a bit
    m = machine(cpus=1)
    results, counters, _ = fsop.run(
        m, "sysctl writeback 0", "sysctl bgratio 100", "sysctl ratio 100",
        "open a big rwc", f"write a 0 {npages * 4096} 3", "wbstat a")
    fsop.expect(results, f"write a 0 {npages * 4096} 3", npages * 4096)
    ino = counters["f_ino"]
    out = m.run("wbtrace", timeout=60)
    since = int(out.strip().splitlines()[-1].split()[-1]) if "last seq" in out else 0
    # Now let the flusher write it, in its periodic passes.
    results, counters, _ = fsop.run(m, "sysctl expire 0", "sysctl writeback 5", "sleep 300",
                                    "sysctl writeback 0", "open a big r", "wbstat a")
    assert counters["f_dirty"] == 0, \
        f"rules 15 to 19 (cyclic passes): the flusher left {counters['f_dirty']} folios dirty"
    dump = m.run(f"wbtrace {since}", timeout=60)
    calls = flusher_calls(dump, ino)
    assert calls, f"rules 15 to 19 (cyclic passes): no kupdate writeback of inode {ino} " \
        f"in the trace:\n{dump[-2000:]}"
    written: list[int] = []
    expect_start = 0
    for start, end, pages in calls:
        assert len(pages) <= MAX_WRITEBACK_PAGES, \
            f"rule 12: one call wrote {len(pages)} folios; nr_to_write was {MAX_WRITEBACK_PAGES}"
        assert pages == sorted(pages) and len(set(pages)) == len(pages), \
            f"rule 17: indices not ascending within one call: {pages[:20]}..."
        if pages:
            assert start == expect_start, \
                f"rule 18: a cyclic call started at writeback_index {start}, want " \
                f"{expect_start} (just after the last folio the previous call wrote)"
            assert pages[0] >= start, \
                f"rule 15: a call started at writeback_index {start} but wrote {pages[0]}"
            expect_start = pages[-1] + 1
        written += pages
    assert sorted(written) == list(range(npages)), \
        f"rules 15 to 19 (cyclic passes): the flusher wrote {len(written)} folios, " \
        f"not each of the {npages} once"

    # Dirty the first ten pages again: the next cyclic pass starts where
    # the last one stopped (at or near the end of the file), must not wrap
    # around to them, and leaves writeback_index at 0, so that the pass
    # after it starts at 0 and writes them.
    out = m.run("wbtrace", timeout=60)
    since = int(out.strip().splitlines()[-1].split()[-1]) if "last seq" in out else since
    results, counters, _ = fsop.run(m, "open a big rw", "write a 0 40960 4",
                                    "sysctl writeback 5", "sleep 200", "sysctl writeback 0",
                                    "wbstat a")
    assert counters["f_dirty"] == 0, \
        f"rule 19: the flusher left {counters['f_dirty']} folios dirty"
    later = flusher_calls(m.run(f"wbtrace {since}", timeout=60), ino)
    assert later, "rule 19: no kupdate writeback of the ten pages in the trace"
    again: list[int] = []
    for start, end, pages in later:
        assert all(p >= start for p in pages), \
            f"rule 17: a cyclic call started at {start} and wrapped around to {min(pages)}"
        if start > 0 and not pages:
            assert end == 0, \
                f"rule 19: a cyclic call from {start} found nothing up to the end, but " \
                f"left writeback_index at {end}, not 0"
        again += pages
    # The ten pages lie in the file's first folio, which may be large (the
    # file was written 64 KiB at a time): that folio is written, once.
    assert sorted(again) == list(range(len(again))) and 10 <= len(again) <= 16, \
        f"rules 17 and 19: the ten pages (in the folio at 0) were written as {again}"
