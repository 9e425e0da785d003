"""The writeback trace (grade/tracedump.py, grade/tracemodel.py) and its
timeline picture (grade/timeline.py).

- On the host, no QEMU: a made-up wbtrace dump (with console noise in it)
  parses into the right page states and writepages calls, and draws a PNG,
  from Python and from the command line.
- In Quire: a new file written and fsynced leaves a trace in which every
  page goes DIRTY, then WB_START, then WB_END, inside an integrity
  writepages call, and `wbtrace SINCE` shows only newer events.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

import pytest

import fsop
import timeline
import tracedump
import tracemodel
from qemu import Machine
from tracemodel import DIRTY, REDIRTIED, WRITEBACK, Span

Boot = Callable[..., Machine]

# Inode 7: three pages dirtied; an fsync writes pages 0 and 1; page 1 is
# dirtied again while under writeback and its write fails; page 2 stays
# dirty; page 0 is reclaimed once clean.  Inode 9: a kupdate pass writes
# page 3, which was dirty before the trace began.
DUMP = """\
$ wbtrace
# wbtrace: seq time_us type ino index aux pid mode
1 1000 DIRTY 7 0 0 4 -
2 1010 DIRTY 7 1 0 4 -
3 1020 DIRTY 7 2 0 4 -
virtio_blk: a kernel message in the middle of the dump
4 2000 FLUSHER_WAKE 0 0 1 4 -
5 2100 THROTTLE 7 0 900 4 -
6 3000 WRITEPAGES 7 0 9223372036854775807 5 SYNC_ALL
7 3010 WB_START 7 0 0 5 -
8 3020 WB_START 7 1 0 5 -
9 3500 WRITEPAGES_END 7 0 0 5 SYNC_ALL
10 3505 TOWRITE 7 0 2 5 -
11 3600 DIRTY 7 1 0 4 -
12 4000 WB_END 7 0 0 0 -
13 4100 WB_ERROR 7 1 5 0 -
14 4100 WB_END 7 1 0 0 -
15 4200 INODE_QUEUE 9 0 0 2 -
16 4300 WRITEPAGES 9 0 256 2 kupdate|cyclic
17 4310 WB_START 9 3 0 2 -
18 4400 WRITEPAGES_END 9 0 0 2 kupdate|cyclic
19 4500 RECLAIM 7 0 0 3 -
20 4600 INODE_REQUEUE 9 1 0 2 -
# end: 20 events, last seq 20
$ """


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file (asserting that it is one)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.points(1)
def test_timeline_from_a_synthetic_dump(tmp_path: Path) -> None:
    trace = tracedump.parse_dump(DUMP)
    _check_parsing(trace)
    _check_model(trace)
    _check_drawing(trace, tmp_path)


def _check_parsing(trace: tracedump.Trace) -> None:
    """tracedump.py: the events of DUMP, and numbers for types and modes,
    lost events, an overlapping second dump."""
    assert [e.seq for e in trace.events] == list(range(1, 21)), \
        "the parser should keep the 20 events and skip the other lines"
    assert trace.ended and trace.last_seq == 20 and not trace.lost
    assert trace.inodes() == [7, 9]
    assert trace.events[5].mode == tracedump.SYNC_ALL
    assert trace.events[15].mode == tracedump.KUPDATE | tracedump.CYCLIC
    more = tracedump.parse_dump(
        "# lost 5 events: seq 21..25 were overwritten\n"
        "26 4700 12 7 2 0 3 0x8\n"
        "20 4600 INODE_REQUEUE 9 1 0 2 -\n")
    assert more.lost == [(21, 25)] and not more.ended
    assert [e.seq for e in more.events] == [20, 26], "events should be sorted by seq"
    assert more.events[1].type == "RECLAIM" and more.events[1].mode == tracedump.RECLAIM
    both = tracedump.parse_dump(DUMP + "\n" + "26 4700 RECLAIM 7 2 0 3 reclaim\n")
    assert len(both.events) == 21


def _check_model(trace: tracedump.Trace) -> None:
    """tracemodel.py: the pages' states, the writepages calls, the TOWRITE
    taggings and the life cycle, for DUMP."""
    spans = tracemodel.page_spans(trace)
    by_page: dict[tuple[int, int], list[tuple[str, int, int, bool]]] = {}
    for s in spans:
        by_page.setdefault((s.ino, s.index), []).append(
            (s.state, s.start_us, s.end_us, s.open_end))
    assert by_page == {
        (7, 0): [(DIRTY, 1000, 3010, False), (WRITEBACK, 3010, 4000, False)],
        (7, 1): [(DIRTY, 1010, 3020, False), (WRITEBACK, 3020, 3600, False),
                 (REDIRTIED, 3600, 4100, False), (DIRTY, 4100, 4600, True)],
        (7, 2): [(DIRTY, 1020, 4600, True)],
        (9, 3): [(WRITEBACK, 4310, 4600, True)],
    }, f"page states: {by_page}"
    assert tracemodel.page_spans(trace, inodes=[9]) == [Span(9, 3, WRITEBACK, 4310, 4600, True)]

    calls = tracemodel.writepages_calls(trace)
    assert [(c.ino, c.pid, c.mode, c.start_us, c.end_us, c.error) for c in calls] == [
        (7, 5, tracedump.SYNC_ALL, 3000, 3500, 0),
        (9, 2, tracedump.KUPDATE | tracedump.CYCLIC, 4300, 4400, 0)]
    assert tracemodel.call_kind(calls[0].mode) == "integrity (fsync)"
    assert tracemodel.call_kind(calls[1].mode) == "kupdate (old data)"

    # A pass tags, as it begins, the pages of its range that are dirty
    # then; the kernel reports how many after the pass.
    tags = tracemodel.towrite_taggings(trace)
    assert [(t.ino, t.time_us, t.pages) for t in tags] == [(7, 3000, (0, 1))], tags
    later = tracedump.parse_dump(DUMP + "\n30 4990 WRITEPAGES 7 1 9 6 SYNC_ALL\n"
                                 "31 5000 TOWRITE 7 1 5 6 -\n")
    assert [t.pages for t in tracemodel.towrite_taggings(later)] == [(0, 1), (1, 2)]

    # The life cycle: inode 7's pages follow it; inode 9's page 3 starts
    # under writeback, which a new file could not do.
    assert tracemodel.story_problems(trace, 7) == []
    assert tracemodel.page_histories(trace, 7)[1] == \
        ["DIRTY", "WB_START", "DIRTY", "WB_ERROR", "WB_END"]
    assert len(tracemodel.story_problems(trace, 9)) == 1
    assert tracemodel.story_problems(trace, 9, start_clean=False) == []


def _check_drawing(trace: tracedump.Trace, tmp_path: Path) -> None:
    """timeline.py: pictures from Python and from the command line, and
    refusals when there is nothing to draw."""
    out = timeline.draw_timeline(trace, tmp_path / "all.png")
    width, height = png_size(out)
    assert width >= 800 and height >= 400, f"a {width}x{height} picture is too small to read"
    one = timeline.draw_timeline(DUMP, tmp_path / "one.png", inodes=[7],
                                 start_ms=2.5, end_ms=4.2, title="inode 7")
    png_size(one)
    with pytest.raises(ValueError):
        timeline.draw_timeline(trace, tmp_path / "none.png", inodes=[42])

    dump = tmp_path / "dump.txt"
    dump.write_text(DUMP)
    assert timeline.main([str(dump), "-o", str(tmp_path / "cli.png"), "--inode", "9"]) == 0
    png_size(tmp_path / "cli.png")
    empty = tmp_path / "empty.txt"
    empty.write_text("$ wbtrace\nno events here\n")
    assert timeline.main([str(empty), "-o", str(tmp_path / "x.png")]) == 1
    assert not (tmp_path / "x.png").exists()


@pytest.mark.points(1)
def test_trace_of_write_and_fsync(machine: Boot, tmp_path: Path) -> None:
    m = machine(cpus=3)
    first = tracedump.parse_dump(m.run("wbtrace", timeout=60))
    assert first.ended, "wbtrace printed no '# end:' line"
    since = first.last_seq
    assert since is not None

    npages = 10
    results, counters, _ = fsop.run(m, "open a traced rwc", f"write a 0 {npages * 4096} 5",
                                    "fsync a", "wbstat a")
    fsop.expect(results, "fsync a", 0)
    ino = counters.get("f_ino")
    assert ino, f"fsop's wbstat printed no f_ino: {counters}"

    out = m.run(f"wbtrace {since}", timeout=60)
    (tmp_path / "wbtrace.txt").write_text(out)
    trace = tracedump.parse_dump(out)
    assert trace.ended, f"wbtrace {since} printed no '# end:' line:\n{out[-2000:]}"
    assert not trace.lost, f"the trace ring lost events: {trace.lost}"
    assert trace.events and all(e.seq > since for e in trace.events), \
        f"wbtrace {since} printed events numbered {since} or less"
    seqs = sorted({e.seq for e in trace.events})   # a large folio's event is one per page
    assert seqs == list(range(since + 1, since + 1 + len(seqs))), \
        "the event numbers should follow one another without gaps"

    histories = tracemodel.page_histories(trace, ino)
    assert sorted(histories) == list(range(npages)), \
        f"pages of inode {ino} in the trace: {sorted(histories)}, want 0..{npages - 1}"
    wrong = {i: h for i, h in histories.items() if h != ["DIRTY", "WB_START", "WB_END"]}
    assert not wrong, f"each page should go DIRTY, WB_START, WB_END; these did not: {wrong}"
    assert tracemodel.story_problems(trace, ino) == []
    for index in range(npages):
        times = [e.time_us for e in trace.events
                 if e.ino == ino and e.index == index and e.type in tracedump.PAGE_EVENTS]
        assert times == sorted(times), f"page {index}'s events go back in time: {times}"

    # The fsync's integrity writepages call started every page's write.
    calls = [c for c in tracemodel.writepages_calls(trace, [ino]) if c.mode & tracedump.SYNC_ALL]
    assert calls, f"no SYNC_ALL writepages call on inode {ino} in the trace"
    starts = [e for e in trace.events if e.ino == ino and e.type == "WB_START"]
    outside = [e.index for e in starts
               if not any(c.start_us <= e.time_us <= c.end_us for c in calls)]
    assert not outside, f"pages whose write started outside the fsync's writepages: {outside}"
    assert all(c.error == 0 for c in calls), f"writepages returned errors: {calls}"

    # If the kernel traces TOWRITE tagging, the fsync tagged every page.
    tags = tracemodel.towrite_taggings(trace, [ino])
    if tags:
        assert tags[0].pages == tuple(range(npages)), \
            f"the fsync tagged pages {tags[0].pages} TOWRITE, want 0..{npages - 1}"

    picture = timeline.draw_timeline(trace, tmp_path / "fsync.png", inodes=[ino])
    png_size(picture)
