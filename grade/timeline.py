#!/usr/bin/env python3
"""Draw Quire's writeback trace as a timeline of every page's state.

The kernel records page-cache and writeback events in a ring
(kernel/mm/trace.c); the program user/wbtrace dumps them as text, one
event a line:

    # wbtrace: seq time_us type ino index aux pid mode
    17 1208789 WRITEPAGES 24 0 9223372036854775807 5 SYNC_ALL
    18 1209392 WB_START 24 0 0 5 -
    # end: 50 events, last seq 50

This module reads such a dump (a file of it, or a whole console log: lines
that are not events are skipped) and draws, for each inode in it, a band of
horizontal bars, one row per page index, coloured by the page's state over
time:

    dirty              from DIRTY until WB_START
    under writeback    from WB_START until WB_END
    redirtied during writeback   DIRTY while under writeback, until WB_END

On top of the bars: each ->writepages call (WRITEPAGES ... WRITEPAGES_END)
as a shaded span over its inode's band, coloured by what kind of writeback
it was (its mode bits: SYNC_ALL, kupdate, background, ...), TOWRITE tagging
as a green bracket over the pages tagged, write errors as red crosses and
reclaimed pages as black dots.  A strip above shows flusher wake-ups,
throttled writers and the flusher's inode-list moves.

Command line:

    timeline.py DUMP -o out.png [--inode N ...] [--title TEXT] [--from MS] [--to MS]

DUMP is a file ("-": standard input); --from and --to zoom in on a time
window (milliseconds after boot, as on the picture's axis).  From Python:

    from timeline import parse_dump, draw_timeline, page_spans
    trace = parse_dump(text)
    draw_timeline(trace, "out.png", inodes=[24])

Needs matplotlib only to draw (Debian: apt-get install python3-matplotlib);
parsing and the state model use the standard library alone.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

# ---------------------------------------------------------------- the format

# Event types, numbered as in kernel/uapi/wbtrace.h (enum wbtrace_type).
TYPES = {
    1: "DIRTY", 2: "TOWRITE", 3: "WB_START", 4: "WB_END", 5: "WB_ERROR",
    6: "WRITEPAGES", 7: "WRITEPAGES_END", 8: "INODE_QUEUE",
    9: "INODE_REQUEUE", 10: "FLUSHER_WAKE", 11: "THROTTLE", 12: "RECLAIM",
}
TYPE_NUMBERS = {name: num for num, name in TYPES.items()}

# The mode bits (WBTRACE_* in kernel/uapi/wbtrace.h), by the names wbtrace
# prints; bit i is MODE_NAMES[i].
MODE_NAMES = ("SYNC_ALL", "kupdate", "background", "reclaim", "sync", "cyclic")
SYNC_ALL, KUPDATE, BACKGROUND, RECLAIM, FOR_SYNC, CYCLIC = (1 << i for i in range(6))

# The reasons a flusher is woken (WB_REASON_* in kernel/fs/fs.h).
WAKE_REASONS = {1: "background", 2: "reclaim"}

# Events that concern one page of one inode.
PAGE_EVENTS = ("DIRTY", "WB_START", "WB_END", "WB_ERROR", "RECLAIM")

EVENT_LINE = re.compile(
    r"^\s*(?P<seq>\d+)\s+(?P<time>\d+)\s+(?P<type>[A-Z_]+|\d+)\s+(?P<ino>\d+)\s+"
    r"(?P<index>\d+)\s+(?P<aux>-?\d+)\s+(?P<pid>-?\d+)\s+(?P<mode>\S+)\s*$")
LOST_LINE = re.compile(r"^\s*# lost (\d+) events: seq (\d+)\.\.(\d+)")
END_LINE = re.compile(r"^\s*# end: (\d+) events, last seq (\d+)")


@dataclass(frozen=True)
class Event:
    """One trace event (struct wbtrace_event)."""

    seq: int
    time_us: int
    type: str          # "DIRTY", ..., or "TYPE<n>" for a number not known here
    ino: int
    index: int
    aux: int
    pid: int
    mode: int          # WBTRACE_* bits


@dataclass
class Trace:
    """The events of one or more dumps, oldest first, each seq once."""

    events: list[Event] = field(default_factory=list)
    lost: list[tuple[int, int]] = field(default_factory=list)  # seq ranges gone
    ended: bool = False          # a "# end:" line was seen
    last_seq: Optional[int] = None

    @property
    def end_us(self) -> int:
        """The time of the last event (0 if there is none)."""
        return self.events[-1].time_us if self.events else 0

    def inodes(self) -> list[int]:
        """Inodes with page events, in order."""
        return sorted({e.ino for e in self.events if e.type in PAGE_EVENTS and e.ino})

    def for_inode(self, ino: int) -> list[Event]:
        return [e for e in self.events if e.ino == ino]


def parse_mode(text: str) -> int:
    """Mode bits from wbtrace's "SYNC_ALL|cyclic" (or "-", or a number)."""
    if text in ("-", "0", ""):
        return 0
    bits = 0
    for part in text.split("|"):
        if part in MODE_NAMES:
            bits |= 1 << MODE_NAMES.index(part)
        else:
            try:
                bits |= int(part, 0)
            except ValueError:
                raise ValueError(f"unknown writeback mode {part!r}") from None
    return bits


def mode_text(mode: int) -> str:
    """The mode bits as wbtrace prints them."""
    names = [n for i, n in enumerate(MODE_NAMES) if mode & (1 << i)]
    rest = mode & ~((1 << len(MODE_NAMES)) - 1)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "-"


def parse_dump(text: Union[str, Iterable[str]]) -> Trace:
    """Parse wbtrace output.  Lines that are not events or wbtrace's own
    comments (a shell prompt, kernel messages) are skipped, so the whole
    console output of a run will do.  Events seen twice (two dumps that
    overlap) are kept once."""
    lines = text.splitlines() if isinstance(text, str) else text
    by_seq: dict[int, Event] = {}
    trace = Trace()
    for line in lines:
        m = EVENT_LINE.match(line)
        if m:
            kind = m.group("type")
            if kind.isdigit():
                kind = TYPES.get(int(kind), f"TYPE{kind}")
            try:
                mode = parse_mode(m.group("mode"))
            except ValueError:
                continue          # not one of ours
            ev = Event(seq=int(m.group("seq")), time_us=int(m.group("time")),
                       type=kind, ino=int(m.group("ino")), index=int(m.group("index")),
                       aux=int(m.group("aux")), pid=int(m.group("pid")), mode=mode)
            by_seq[ev.seq] = ev
            continue
        m = LOST_LINE.match(line)
        if m:
            trace.lost.append((int(m.group(2)), int(m.group(3))))
            continue
        m = END_LINE.match(line)
        if m:
            trace.ended = True
            seq = int(m.group(2))
            trace.last_seq = seq if trace.last_seq is None else max(trace.last_seq, seq)
    trace.events = [by_seq[s] for s in sorted(by_seq)]
    return trace


def read_dump(path: Union[str, Path]) -> Trace:
    """parse_dump() of a file ("-": standard input)."""
    if str(path) == "-":
        return parse_dump(sys.stdin.read())
    return parse_dump(Path(path).read_text(errors="replace"))


# ---------------------------------------------------------------- page states

DIRTY, WRITEBACK, REDIRTIED = "dirty", "writeback", "dirty+writeback"
STATE_LABELS = {
    DIRTY: "dirty",
    WRITEBACK: "under writeback",
    REDIRTIED: "redirtied while under writeback",
}


@dataclass(frozen=True)
class Span:
    """A page of an inode in one state from start_us to end_us.  open_end:
    still in that state when the trace ends."""

    ino: int
    index: int
    state: str
    start_us: int
    end_us: int
    open_end: bool = False


def _state(dirty: bool, wb: bool) -> Optional[str]:
    if wb:
        return REDIRTIED if dirty else WRITEBACK
    return DIRTY if dirty else None


def page_spans(trace: Trace, inodes: Optional[Sequence[int]] = None) -> list[Span]:
    """Every page's states over time, from its DIRTY, WB_START, WB_END and
    RECLAIM events.  A page is dirty from DIRTY until WB_START (which
    cleans it: the kernel clears the dirty bit just before), under writeback
    from WB_START until WB_END, and both when it is dirtied again while its
    write is in flight.  A page whose events start with WB_START was dirty
    before the trace began; that earlier time is not shown.  States still
    held at the end of the trace end at its last event (open_end)."""
    want = set(inodes) if inodes is not None else None
    flags: dict[tuple[int, int], tuple[bool, bool, int]] = {}  # dirty, wb, since
    spans: list[Span] = []
    for e in trace.events:
        if e.type not in ("DIRTY", "WB_START", "WB_END", "RECLAIM") or not e.ino:
            continue
        if want is not None and e.ino not in want:
            continue
        key = (e.ino, e.index)
        dirty, wb, since = flags.get(key, (False, False, e.time_us))
        before = _state(dirty, wb)
        if e.type == "DIRTY":
            dirty = True
        elif e.type == "WB_START":
            dirty, wb = False, True
        elif e.type == "WB_END":
            wb = False
        else:                                    # RECLAIM: the page is gone
            dirty = wb = False
        after = _state(dirty, wb)
        if after == before:
            continue
        if before is not None:
            spans.append(Span(e.ino, e.index, before, since, e.time_us))
        flags[key] = (dirty, wb, e.time_us)
    end = trace.end_us
    for (ino, index), (dirty, wb, since) in flags.items():
        state = _state(dirty, wb)
        if state is not None:
            spans.append(Span(ino, index, state, since, end, open_end=True))
    spans.sort(key=lambda s: (s.ino, s.index, s.start_us))
    return spans


def page_histories(trace: Trace, ino: int) -> dict[int, list[str]]:
    """For each page index of ino, its DIRTY / WB_START / WB_END / RECLAIM /
    WB_ERROR events in order."""
    out: dict[int, list[str]] = {}
    for e in trace.events:
        if e.ino == ino and e.type in PAGE_EVENTS:
            out.setdefault(e.index, []).append(e.type)
    return out


# The transitions a page may make: (state, event) -> new state; states as in
# _state(), None for clean.  WB_ERROR is only a note (WB_END follows it).
_LEGAL: dict[tuple[Optional[str], str], Optional[str]] = {
    (None, "DIRTY"): DIRTY,
    (DIRTY, "WB_START"): WRITEBACK,
    (WRITEBACK, "DIRTY"): REDIRTIED,
    (WRITEBACK, "WB_END"): None,
    (REDIRTIED, "WB_END"): DIRTY,
    (WRITEBACK, "WB_ERROR"): WRITEBACK,
    (REDIRTIED, "WB_ERROR"): REDIRTIED,
    (None, "RECLAIM"): None,
}


def story_problems(trace: Trace, ino: int, start_clean: bool = True) -> list[str]:
    """Events of ino's pages that break the life cycle clean -> DIRTY ->
    WB_START -> WB_END -> clean (a page may be dirtied again while under
    writeback, and reclaimed when clean).  start_clean: every page was clean
    before its first event (a new file); otherwise a page's first event is
    trusted.  Returns a list of messages, empty if the story holds."""
    problems = []
    for index, history in sorted(page_histories(trace, ino).items()):
        state: Optional[str] = None
        if not start_clean and history:
            state = {"WB_START": DIRTY, "WB_END": WRITEBACK}.get(history[0])
        for i, kind in enumerate(history):
            key = (state, kind)
            if key not in _LEGAL:
                problems.append(f"inode {ino} page {index}: {kind} when "
                                f"{state or 'clean'} (event {i + 1} of "
                                f"{' '.join(history)})")
                break
            state = _LEGAL[key]
    return problems


@dataclass(frozen=True)
class Tagging:
    """A TOWRITE event: tag_pages_for_writeback over [first, last] of an
    inode, which tags the pages dirty at that moment (pages, in order)."""

    ino: int
    time_us: int
    first: int
    last: int                # the range asked for (may run far past the file)
    pages: tuple[int, ...]   # the pages it tagged: those then dirty


def towrite_taggings(trace: Trace, inodes: Optional[Sequence[int]] = None) -> list[Tagging]:
    """The TOWRITE events, each with the pages it tagged, found by following
    the pages' states up to it (a page dirtied before the trace began is
    not known to be dirty, so it is missing from the list)."""
    want = set(inodes) if inodes is not None else None
    dirty: dict[int, set[int]] = {}
    out: list[Tagging] = []
    for e in trace.events:
        if not e.ino or (want is not None and e.ino not in want):
            continue
        pages = dirty.setdefault(e.ino, set())
        if e.type == "DIRTY":
            pages.add(e.index)
        elif e.type in ("WB_START", "RECLAIM"):
            pages.discard(e.index)
        elif e.type == "TOWRITE":
            last = e.aux if e.aux >= e.index else 2 ** 63 - 1   # -1: to the end
            out.append(Tagging(e.ino, e.time_us, e.index, last,
                               tuple(sorted(i for i in pages if e.index <= i <= last))))
    return out


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted integers as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


@dataclass(frozen=True)
class Call:
    """A ->writepages call on an inode, from WRITEPAGES to WRITEPAGES_END."""

    ino: int
    pid: int
    mode: int
    start_us: int
    end_us: int
    first_index: int
    nr_to_write: int
    error: Optional[int]         # None: no end seen (still running, or lost)


def writepages_calls(trace: Trace, inodes: Optional[Sequence[int]] = None) -> list[Call]:
    """The ->writepages calls, each WRITEPAGES paired with the next
    WRITEPAGES_END of the same inode and process.  A call with no end ends
    at the trace's end (error None); an end whose start was lost starts at
    the trace's first event."""
    want = set(inodes) if inodes is not None else None
    open_calls: dict[tuple[int, int], list[Event]] = {}
    calls: list[Call] = []
    first = trace.events[0].time_us if trace.events else 0
    for e in trace.events:
        if e.type not in ("WRITEPAGES", "WRITEPAGES_END"):
            continue
        if want is not None and e.ino not in want:
            continue
        key = (e.ino, e.pid)
        if e.type == "WRITEPAGES":
            open_calls.setdefault(key, []).append(e)
            continue
        stack = open_calls.get(key)
        if stack:
            s = stack.pop()
            calls.append(Call(e.ino, e.pid, s.mode, s.time_us, e.time_us,
                              s.index, s.aux, e.aux))
        else:
            calls.append(Call(e.ino, e.pid, e.mode, first, e.time_us, 0, 0, e.aux))
    for stack in open_calls.values():
        for s in stack:
            calls.append(Call(s.ino, s.pid, s.mode, s.time_us, trace.end_us,
                              s.index, s.aux, None))
    calls.sort(key=lambda c: (c.start_us, c.ino))
    return calls


def call_kind(mode: int) -> str:
    """What kind of writeback a mode describes, for the colour of its span."""
    if mode & RECLAIM:
        return "reclaim"
    if mode & KUPDATE:
        return "kupdate (old data)"
    if mode & BACKGROUND:
        return "background (over threshold)"
    if mode & FOR_SYNC:
        return "sync(2)"
    if mode & SYNC_ALL:
        return "integrity (fsync)"
    return "other (WB_SYNC_NONE)"


# ---------------------------------------------------------------- drawing

STATE_COLORS = {DIRTY: "#f39c12", WRITEBACK: "#2e86de", REDIRTIED: "#8e44ad"}
CALL_COLORS = {
    "integrity (fsync)": "#e74c3c",
    "sync(2)": "#c0392b",
    "kupdate (old data)": "#27ae60",
    "background (over threshold)": "#7f8c8d",
    "reclaim": "#d35400",
    "other (WB_SYNC_NONE)": "#16a085",
}
WAKE_COLORS = {"background": "#7f8c8d", "reclaim": "#d35400"}
TAG_COLOR = "#2ecc71"


def _nice_step(span: int, ticks: int) -> int:
    """A round step (1, 2, 5 times a power of ten) giving about `ticks`
    ticks over `span`."""
    raw = max(1.0, span / max(1, ticks))
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw:
            return int(mult * power)
    return int(10 * power)


def draw_timeline(trace: Union[Trace, str], out: Union[str, Path],
                  inodes: Optional[Sequence[int]] = None,
                  title: Optional[str] = None, start_ms: Optional[float] = None,
                  end_ms: Optional[float] = None, dpi: int = 130) -> Path:
    """Draw the timeline of trace (a Trace, or dump text) into the PNG file
    out, for the given inodes (default: every inode with page events).
    start_ms, end_ms: show only that window (milliseconds since boot, as
    the dump's time_us / 1000); by default the whole time the inodes have
    events.  Returns the path.  Raises ValueError if there is nothing to
    draw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory

    if isinstance(trace, str):
        trace = parse_dump(trace)
    chosen = list(inodes) if inodes else trace.inodes()
    lo_us = -math.inf if start_ms is None else start_ms * 1000
    hi_us = math.inf if end_ms is None else end_ms * 1000
    spans = [s for s in page_spans(trace, chosen)
             if s.end_us >= lo_us and s.start_us <= hi_us]
    calls = [c for c in writepages_calls(trace, chosen)
             if c.end_us >= lo_us and c.start_us <= hi_us]
    mine = [e for e in trace.events if e.ino in chosen and lo_us <= e.time_us <= hi_us]
    page_evs = [e for e in mine if e.type in PAGE_EVENTS]
    if not page_evs and not spans:
        which = "inode " + ", ".join(map(str, chosen)) if inodes else "any inode"
        when = "" if start_ms is None and end_ms is None else " in that time window"
        raise ValueError(f"the trace has no page events for {which}{when} "
                         f"({len(trace.events)} events in all)")

    # The time window: the chosen inodes' events, and their open states.
    times = [e.time_us for e in mine] + [s.start_us for s in spans] + [s.end_us for s in spans]
    t0 = max(lo_us, min(times)) if start_ms is None else lo_us
    t1 = min(hi_us, max(times)) if end_ms is None else hi_us
    if t1 <= t0:
        t1 = t0 + 1
    t0, t1 = int(t0), int(math.ceil(t1))

    def ms(t: float) -> float:
        return (t - t0) / 1000.0

    width_ms = ms(t1)

    # One band per inode: rows lo..hi of its page indices, stacked top down.
    bands: list[tuple[int, int, int, float]] = []       # ino, lo, hi, base
    extents = {}
    for ino in chosen:
        idx = [e.index for e in page_evs if e.ino == ino]
        idx += [s.index for s in spans if s.ino == ino]
        if idx:
            extents[ino] = (min(idx), max(idx))
    total = sum(hi - lo + 1 for lo, hi in extents.values())
    gap = max(1.0, 0.06 * total)
    base = 0.0
    for ino, (lo, hi) in extents.items():
        bands.append((ino, lo, hi, base))
        base += hi - lo + 1 + gap
    ymax = base - gap
    where = {ino: (lo, hi, b) for ino, lo, hi, b in bands}

    def row(ino: int, index: int) -> float:
        lo, _, b = where[ino]
        return b + (index - lo)

    # Events of the strip on top, within the window.
    window = [e for e in trace.events if t0 <= e.time_us <= t1]
    wakes = [e for e in window if e.type == "FLUSHER_WAKE"]
    throttles = [e for e in window if e.type == "THROTTLE" and e.ino in where]
    moves = [e for e in window
             if e.type in ("INODE_QUEUE", "INODE_REQUEUE") and e.ino in where]
    call_inos = [ino for ino, *_ in bands if any(c.ino == ino for c in calls)]
    strip_rows = [f"writepages\ninode {ino}" for ino in call_inos]
    strip_rows += [name for name, evs in (("flusher woken", wakes),
                                          ("writer throttled", throttles),
                                          ("inode lists", moves)) if evs]
    ys = {name: i for i, name in enumerate(strip_rows)}

    # The figure: the strip (if any) above the page bands, legend below.
    strip_h = 0.42 * len(strip_rows) + (0.25 if strip_rows else 0)
    pages_h = min(7.0, 3.0 + 1.0 * len(bands) + 0.02 * min(total, 100))
    handles: list[object] = []
    tags = [t for t in towrite_taggings(trace, list(where))
            if lo_us <= t.time_us <= hi_us and t.pages]
    errors = [e for e in page_evs if e.type == "WB_ERROR" and e.ino in where]
    reclaimed = [e for e in page_evs if e.type == "RECLAIM" and e.ino in where]
    entries = (len({s.state for s in spans}) + len({call_kind(c.mode) for c in calls})
               + (0 < len(calls) <= 30) + bool(tags) + bool(errors) + bool(reclaimed)
               + len({bit for e in wakes for bit in WAKE_REASONS if e.aux & bit})
               + bool(throttles) + any(e.type == "INODE_QUEUE" for e in moves)
               + any(e.type == "INODE_REQUEUE" for e in moves))
    legend_h = 0.2 * math.ceil(entries / 3) + 0.15
    height = strip_h + pages_h + legend_h + 1.3
    fig = plt.figure(figsize=(12, height))
    top_margin, bottom_margin = 0.75 / height, (legend_h + 0.55) / height
    if strip_rows:
        grid = fig.add_gridspec(2, 1, height_ratios=[strip_h, pages_h], hspace=0.04,
                                top=1 - top_margin, bottom=bottom_margin,
                                left=0.09, right=0.94)
        top = fig.add_subplot(grid[0])
        ax = fig.add_subplot(grid[1], sharex=top)
    else:
        grid = fig.add_gridspec(1, 1, top=1 - top_margin, bottom=bottom_margin,
                                left=0.09, right=0.94)
        top = None
        ax = fig.add_subplot(grid[0])

    # The pages' states: one rectangle per span, one collection per state.
    dense = total > 150
    half = 0.5 if dense else 0.4        # dense rows touch: no stripes
    states_seen = []
    for state in (DIRTY, WRITEBACK, REDIRTIED):
        boxes = []
        for s in spans:
            if s.state != state or s.ino not in where:
                continue
            y = row(s.ino, s.index)
            x0, x1 = ms(s.start_us), ms(s.end_us)
            boxes.append([(x0, y - half), (x1, y - half), (x1, y + half), (x0, y + half)])
        if not boxes:
            continue
        states_seen.append(state)
        ax.add_collection(PolyCollection(
            boxes, facecolors=STATE_COLORS[state],
            edgecolors="none" if dense else STATE_COLORS[state],
            linewidths=0 if dense else 0.6, antialiased=not dense, zorder=4))

    # writepages calls: a bar in the inode's lane of the strip; when there
    # are few, lines through its pages mark where each call began (solid)
    # and returned (dashed).
    kinds_seen: list[str] = []
    labelled = 0
    few = len(calls) <= 30
    char_ms = 0.0058 * width_ms        # about one character of a label
    label_end: dict[int, float] = {}   # per lane: where the last label ends
    for c in calls:
        if c.ino not in where:
            continue
        kind = call_kind(c.mode)
        color = CALL_COLORS[kind]
        if kind not in kinds_seen:
            kinds_seen.append(kind)
        x0, x1 = ms(c.start_us), ms(c.end_us)
        assert top is not None
        y = ys[f"writepages\ninode {c.ino}"]
        top.barh(y, max(x1 - x0, width_ms * 0.003), left=x0, height=0.6, color=color,
                 alpha=0.85, edgecolor=color, zorder=3)
        text = f"{mode_text(c.mode)}  pid {c.pid}"
        if c.error not in (0, None):
            text += f"  error {c.error}"
        need = (len(text) + 1) * char_ms
        # Inside the bar if it is wide enough, else right of it, else left.
        inside = x1 - x0 >= need + char_ms
        at = x0 + 0.5 * char_ms if inside else x1 + 0.6 * char_ms
        if not inside and at + need > width_ms:
            at = x0 - 0.6 * char_ms - need
        if labelled < 16 and at >= max(0.0, label_end.get(y, -math.inf)) \
                and at + need <= width_ms * 1.01:
            top.text(at, y, text, fontsize=7.5, color="white" if inside else color,
                     fontweight="bold", va="center", ha="left", zorder=4, clip_on=True)
            label_end[y] = max(at + need, x1)
            labelled += 1
        if few:
            lo, hi, b = where[c.ino]
            ax.plot([x0, x0], [b - 0.5, b + hi - lo + 0.5], color=color, lw=1.1, zorder=5)
            ax.plot([x1, x1], [b - 0.5, b + hi - lo + 0.5], color=color, lw=1.1,
                    ls="--", zorder=5)

    # TOWRITE tagging: a green bar beside the pages it tagged.
    for t in tags:
        x = ms(t.time_us)
        for first, last in _runs(t.pages):
            ax.plot([x, x], [row(t.ino, first) - 0.5, row(t.ino, last) + 0.5],
                    color=TAG_COLOR, lw=3.5, solid_capstyle="butt", zorder=6)

    # Errors and reclaim: markers on the page's row.
    if errors:
        ax.scatter([ms(e.time_us) for e in errors], [row(e.ino, e.index) for e in errors],
                   marker="X", s=70, color="#c0392b", edgecolors="white",
                   linewidths=0.6, zorder=7)
    if reclaimed:
        ax.scatter([ms(e.time_us) for e in reclaimed],
                   [row(e.ino, e.index) for e in reclaimed],
                   marker="o", s=12, color="black", zorder=7)

    # Flusher wake-ups: dotted lines through the pages too, when few.
    if 0 < len(wakes) <= 40:
        for e in wakes:
            ax.axvline(ms(e.time_us), color="#34495e", lw=0.8, ls=":", zorder=2)

    # Axes: time, and page indices per band.
    ax.set_xlim(0, width_ms * 1.01)
    ax.set_ylim(ymax - 0.5, -0.5)         # page 0 on top
    ticks: list[float] = []
    labels: list[str] = []
    per_band = max(2, int(14 / max(1, len(bands))))
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for i, (ino, lo, hi, b) in enumerate(bands):
        step = _nice_step(hi - lo, per_band)
        first = lo if lo % step == 0 else lo + step - lo % step
        values = sorted({lo, *range(first, hi + 1, step)})
        if values[-1] != hi and hi - values[-1] >= step / 2:
            values.append(hi)
        for v in values:
            ticks.append(b + v - lo)
            labels.append(str(v))
        if i > 0:
            ax.axhline(b - gap / 2 - 0.5, color="#95a5a6", lw=1.0, zorder=2)
        npg = len({e.index for e in page_evs if e.ino == ino})
        ax.text(1.008, b + (hi - lo) / 2, f"inode {ino}\n{npg} page{'s' * (npg != 1)}",
                transform=trans, rotation=90, va="center", ha="left", fontsize=9,
                fontweight="bold")
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylabel("page index in the file")
    ax.set_xlabel(f"time (ms) from {t0 / 1000:.3f} ms after boot")
    ax.grid(axis="x", color="#ecf0f1", zorder=0)

    # The strip on top: writepages calls, flusher wake-ups, throttling,
    # inode list moves.
    if top is not None:
        if wakes:
            for bit, reason in WAKE_REASONS.items():
                pts = [ms(e.time_us) for e in wakes if e.aux & bit]
                if pts:
                    top.scatter(pts, [ys["flusher woken"]] * len(pts), marker="^",
                                s=45, color=WAKE_COLORS[reason], zorder=3)
            other = [ms(e.time_us) for e in wakes if not e.aux & 3]
            if other:
                top.scatter(other, [ys["flusher woken"]] * len(other), marker="^",
                            s=45, color="#34495e", zorder=3)
        if throttles:
            top.scatter([ms(e.time_us) for e in throttles],
                        [ys["writer throttled"]] * len(throttles),
                        marker="v", s=35, color="#c0392b", zorder=3)
        if moves:
            q = [ms(e.time_us) for e in moves if e.type == "INODE_QUEUE"]
            rd = [ms(e.time_us) for e in moves if e.type == "INODE_REQUEUE" and e.index == 0]
            rm = [ms(e.time_us) for e in moves if e.type == "INODE_REQUEUE" and e.index != 0]
            for pts, marker, color in ((q, ">", "#2c3e50"), (rd, "<", "#7f8c8d"),
                                       (rm, "s", "#7f8c8d")):
                if pts:
                    top.scatter(pts, [ys["inode lists"]] * len(pts), marker=marker,
                                s=30, color=color, zorder=3)
        top.set_yticks(range(len(strip_rows)))
        top.set_yticklabels(strip_rows, fontsize=8)
        top.set_ylim(len(strip_rows) - 0.5, -0.5)
        top.grid(axis="x", color="#ecf0f1", zorder=0)
        top.tick_params(axis="x", labelbottom=False)

    # Legend, below the plot: only what the picture shows.
    for state in states_seen:
        handles.append(Patch(facecolor=STATE_COLORS[state], label=STATE_LABELS[state]))
    for kind in kinds_seen:
        handles.append(Patch(facecolor=CALL_COLORS[kind], label=f"writepages: {kind}"))
    if calls and few:
        handles.append(Line2D([], [], color="#555555", lw=1.1,
                              label="writepages called (solid) / returned (dashed)"))
    if tags:
        handles.append(Line2D([], [], color=TAG_COLOR, lw=3.5,
                              label="pages tagged TOWRITE (those dirty then)"))
    if errors:
        handles.append(Line2D([], [], marker="X", color="#c0392b", ls="none",
                              markersize=8, label="write error"))
    if reclaimed:
        handles.append(Line2D([], [], marker="o", color="black", ls="none",
                              markersize=4, label="page reclaimed"))
    for bit, reason in WAKE_REASONS.items():
        if any(e.aux & bit for e in wakes):
            handles.append(Line2D([], [], marker="^", color=WAKE_COLORS[reason], ls="none",
                                  label=f"flusher woken ({reason})"))
    if throttles:
        handles.append(Line2D([], [], marker="v", color="#c0392b", ls="none",
                              label="writer throttled (balance_dirty_pages)"))
    if any(e.type == "INODE_QUEUE" for e in moves):
        handles.append(Line2D([], [], marker=">", color="#2c3e50", ls="none",
                              label="inode queued for writeback (b_io)"))
    if any(e.type == "INODE_REQUEUE" for e in moves):
        handles.append(Line2D([], [], marker="<", color="#7f8c8d", ls="none",
                              label="inode requeued: < b_dirty, \u25a0 b_more_io"))
    fig.legend(handles=handles, loc="lower center", ncol=min(3, max(1, len(handles))),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.01))

    if title is None:
        title = "Writeback timeline: " + ", ".join(f"inode {ino}" for ino, *_ in bands)
    sub = (f"{len(mine)} events of {'this inode' if len(bands) == 1 else 'these inodes'} "
           f"over {width_ms:.1f} ms; each row is one page of the file")
    if trace.lost:
        sub += f"; {sum(b - a + 1 for a, b in trace.lost)} earlier events were lost"
    if not trace.ended:
        sub += "; the dump has no end line (cut short?)"
    fig.suptitle(f"{title}\n{sub}", fontsize=11, y=1 - 0.1 / height)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, format="png")
    plt.close(fig)
    return out


# ---------------------------------------------------------------- command line

def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Draw a wbtrace dump as a timeline of page states (PNG).")
    parser.add_argument("dump", help="wbtrace output, or a console log holding it ('-': stdin)")
    parser.add_argument("-o", "--output", required=True, help="the PNG file to write")
    parser.add_argument("--inode", type=int, action="append", metavar="N",
                        help="draw only inode N (may be repeated)")
    parser.add_argument("--title", help="the picture's title")
    parser.add_argument("--from", dest="start", type=float, metavar="MS",
                        help="start the picture MS milliseconds after boot")
    parser.add_argument("--to", dest="end", type=float, metavar="MS",
                        help="end the picture MS milliseconds after boot")
    args = parser.parse_args(argv)
    try:
        trace = read_dump(args.dump)
    except OSError as e:
        print(f"timeline: {args.dump}: {e.strerror}", file=sys.stderr)
        return 1
    if not trace.events:
        print(f"timeline: {args.dump}: no wbtrace events in it", file=sys.stderr)
        return 1
    try:
        out = draw_timeline(trace, args.output, inodes=args.inode, title=args.title,
                            start_ms=args.start, end_ms=args.end)
    except ValueError as e:
        print(f"timeline: {e}", file=sys.stderr)
        return 1
    shown = args.inode or trace.inodes()
    print(f"{out}: {len(trace.events)} events, inode{'s' * (len(shown) != 1)} "
          f"{', '.join(map(str, shown))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
