"""The text wbtrace prints, read into events.

The kernel records page-cache and writeback events in a ring
(kernel/debug/wbtrace.c); the program user/wbtrace dumps them as text, one
event a line:

    # wbtrace: seq time_us type ino index aux pid mode
    17 1208789 WRITEPAGES 24 0 9223372036854775807 5 SYNC_ALL
    18 1209392 WB_START 24 0 0 5 -
    # end: 50 events, last seq 50

parse_dump() reads such a dump, or a whole console log: lines that are not
events are skipped, so a test can hand it everything a machine printed.
An event of a large folio (DIRTY, WB_START, WB_END, RECLAIM: index is the
folio's first page, aux its pages) becomes one event per page, each with
aux 1, so that everything built on a trace sees pages.
The numbers and names here must match kernel/uapi/wbtrace.h.
What the events mean is tracemodel.py; the picture, timeline.py.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

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
# Events of a folio, whose aux is the folio's pages (parse_dump expands them).
FOLIO_EVENTS = ("DIRTY", "WB_START", "WB_END", "RECLAIM")

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
    by_seq: dict[int, list[Event]] = {}
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
            by_seq[ev.seq] = expand(ev)
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
    trace.events = [e for s in sorted(by_seq) for e in by_seq[s]]
    return trace


def expand(ev: Event) -> list[Event]:
    """A folio's event as one event per page (aux 1 each); others as they
    are.  Older kernels put 0 in aux: one page."""
    if ev.type not in FOLIO_EVENTS or ev.aux <= 1:
        return [ev]
    return [Event(seq=ev.seq, time_us=ev.time_us, type=ev.type, ino=ev.ino,
                  index=ev.index + i, aux=1, pid=ev.pid, mode=ev.mode)
            for i in range(ev.aux)]


def read_dump(path: Union[str, Path]) -> Trace:
    """parse_dump() of a file ("-": standard input)."""
    if str(path) == "-":
        return parse_dump(sys.stdin.read())
    return parse_dump(Path(path).read_text(errors="replace"))
