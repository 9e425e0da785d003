"""What a writeback trace says happened, page by page and call by call.

From the events of a dump (tracedump.py) this rebuilds each page's states
over time:

    dirty              from DIRTY until WB_START
    under writeback    from WB_START until WB_END
    redirtied during writeback   DIRTY while under writeback, until WB_END

and checks that every page follows the life cycle clean -> DIRTY ->
WB_START -> WB_END -> clean (story_problems: the tests use it to judge a
kernel's trace).  It also pairs each ->writepages call's start and end,
finds which pages each TOWRITE tagging caught, and names the kind of
writeback a mode describes.  Standard library only: tests use it without
matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from tracedump import (BACKGROUND, FOR_SYNC, KUPDATE, PAGE_EVENTS, RECLAIM, SYNC_ALL,
                       Event, Trace)

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
    """The TOWRITE tagging of one writeback pass: the pages of an inode that
    the pass tagged, from its first index on, when it began."""

    ino: int
    time_us: int             # when the pass began (its WRITEPAGES event)
    first: int               # the pass's first index
    count: int               # how many folios the kernel says it tagged
    pages: tuple[int, ...]   # which: the first count pages then dirty


def towrite_taggings(trace: Trace, inodes: Optional[Sequence[int]] = None) -> list[Tagging]:
    """The TOWRITE taggings, each with the pages it tagged.

    The kernel counts the folios a pass tagged (the TOWRITE mark is set
    inside the pass, by the code students write) and reports the count in
    one TOWRITE event after the pass.  The tagging itself happened as the
    pass began, so the pages are found by following the pages' states up to
    the pass's WRITEPAGES event (same inode and process): the first count
    pages, from the pass's first index, that were dirty then.  A page
    dirtied before the trace began is not known to be dirty, so it is
    missing from the list."""
    want = set(inodes) if inodes is not None else None
    dirty: dict[int, set[int]] = {}
    began: dict[tuple[int, int], tuple[int, list[int]]] = {}
    out: list[Tagging] = []
    for e in trace.events:
        if not e.ino or (want is not None and e.ino not in want):
            continue
        pages = dirty.setdefault(e.ino, set())
        if e.type == "DIRTY":
            pages.add(e.index)
        elif e.type in ("WB_START", "RECLAIM"):
            pages.discard(e.index)
        elif e.type == "WRITEPAGES":
            began[(e.ino, e.pid)] = (e.time_us, sorted(pages))
        elif e.type == "TOWRITE":
            when, then = began.pop((e.ino, e.pid), (e.time_us, sorted(pages)))
            tagged = tuple(i for i in then if i >= e.index)[:e.aux]
            out.append(Tagging(e.ino, when, e.index, e.aux, tagged))
    return out


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
