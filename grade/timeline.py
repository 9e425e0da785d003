#!/usr/bin/env python3
"""Draw Quire's writeback trace as a timeline of every page's state.

For each inode in a wbtrace dump (tracedump.py), a band of horizontal
bars, one row per page index, coloured by the page's state over time
(tracemodel.py): dirty, under writeback, or redirtied during writeback.

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

    from tracedump import parse_dump
    from timeline import draw_timeline
    trace = parse_dump(text)
    draw_timeline(trace, "out.png", inodes=[24])

Needs matplotlib only to draw (Debian: apt-get install python3-matplotlib):
it is imported when a picture is drawn, so that the parsing, the state
model and --help work without it.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from tracedump import PAGE_EVENTS, WAKE_REASONS, Trace, mode_text, parse_dump, read_dump
from tracemodel import (DIRTY, REDIRTIED, STATE_LABELS, WRITEBACK, call_kind,
                        page_spans, towrite_taggings, writepages_calls)

# Matplotlib's figure and axes; Any, since matplotlib is imported late.
Axes = Any

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
# Up to this many writepages calls, lines through the pages mark where each
# began and returned; more would hide the pages.
FEW_CALLS = 30


def _nice_step(span: int, ticks: int) -> int:
    """A round step (1, 2, 5 times a power of ten) giving about `ticks`
    ticks over `span`."""
    raw = max(1.0, span / max(1, ticks))
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw:
            return int(mult * power)
    return int(10 * power)


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted integers as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


class _View:
    """What one picture shows and where: the chosen inodes' spans, calls
    and events within the time window; the bands of page rows, stacked top
    down; the rows of the strip on top.  No drawing here."""

    def __init__(self, trace: Trace, inodes: Optional[Sequence[int]],
                 start_ms: Optional[float], end_ms: Optional[float]) -> None:
        self.trace = trace
        chosen = list(inodes) if inodes else trace.inodes()
        lo_us = -math.inf if start_ms is None else start_ms * 1000
        hi_us = math.inf if end_ms is None else end_ms * 1000
        self.spans = [s for s in page_spans(trace, chosen)
                      if s.end_us >= lo_us and s.start_us <= hi_us]
        self.calls = [c for c in writepages_calls(trace, chosen)
                      if c.end_us >= lo_us and c.start_us <= hi_us]
        self.mine = [e for e in trace.events
                     if e.ino in chosen and lo_us <= e.time_us <= hi_us]
        self.page_evs = [e for e in self.mine if e.type in PAGE_EVENTS]
        if not self.page_evs and not self.spans:
            which = "inode " + ", ".join(map(str, chosen)) if inodes else "any inode"
            when = "" if start_ms is None and end_ms is None else " in that time window"
            raise ValueError(f"the trace has no page events for {which}{when} "
                             f"({len(trace.events)} events in all)")
        self._window(start_ms, end_ms, lo_us, hi_us)
        self._bands(chosen)
        self._marks(lo_us, hi_us)

    def _window(self, start_ms: Optional[float], end_ms: Optional[float],
                lo_us: float, hi_us: float) -> None:
        """The time window: the chosen inodes' events, and their open states."""
        times = ([e.time_us for e in self.mine] + [s.start_us for s in self.spans]
                 + [s.end_us for s in self.spans])
        t0 = max(lo_us, min(times)) if start_ms is None else lo_us
        t1 = min(hi_us, max(times)) if end_ms is None else hi_us
        if t1 <= t0:
            t1 = t0 + 1
        self.t0, self.t1 = int(t0), int(math.ceil(t1))
        self.width_ms = self.ms(self.t1)

    def _bands(self, chosen: list[int]) -> None:
        """One band per inode: rows lo..hi of its page indices."""
        extents = {}
        for ino in chosen:
            idx = [e.index for e in self.page_evs if e.ino == ino]
            idx += [s.index for s in self.spans if s.ino == ino]
            if idx:
                extents[ino] = (min(idx), max(idx))
        self.total = sum(hi - lo + 1 for lo, hi in extents.values())
        self.gap = max(1.0, 0.06 * self.total)
        self.bands: list[tuple[int, int, int, float]] = []       # ino, lo, hi, base
        base = 0.0
        for ino, (lo, hi) in extents.items():
            self.bands.append((ino, lo, hi, base))
            base += hi - lo + 1 + self.gap
        self.ymax = base - self.gap
        self.where = {ino: (lo, hi, b) for ino, lo, hi, b in self.bands}

    def _marks(self, lo_us: float, hi_us: float) -> None:
        """The events drawn as marks, and the rows of the strip on top."""
        window = [e for e in self.trace.events if self.t0 <= e.time_us <= self.t1]
        where = self.where
        self.wakes = [e for e in window if e.type == "FLUSHER_WAKE"]
        self.throttles = [e for e in window if e.type == "THROTTLE" and e.ino in where]
        self.moves = [e for e in window
                      if e.type in ("INODE_QUEUE", "INODE_REQUEUE") and e.ino in where]
        self.tags = [t for t in towrite_taggings(self.trace, list(where))
                     if lo_us <= t.time_us <= hi_us and t.pages]
        self.errors = [e for e in self.page_evs if e.type == "WB_ERROR" and e.ino in where]
        self.reclaimed = [e for e in self.page_evs if e.type == "RECLAIM" and e.ino in where]
        call_inos = [ino for ino, *_ in self.bands if any(c.ino == ino for c in self.calls)]
        self.strip_rows = [f"writepages\ninode {ino}" for ino in call_inos]
        self.strip_rows += [name for name, evs in (("flusher woken", self.wakes),
                                                   ("writer throttled", self.throttles),
                                                   ("inode lists", self.moves)) if evs]
        self.ys = {name: i for i, name in enumerate(self.strip_rows)}

    def ms(self, t: float) -> float:
        """A time in microseconds since boot, as milliseconds on the x axis."""
        return (t - self.t0) / 1000.0

    def row(self, ino: int, index: int) -> float:
        """The y of page `index` of inode `ino`."""
        lo, _, b = self.where[ino]
        return b + (index - lo)

    def legend_entries(self) -> int:
        """About how many entries the legend will have (for its height)."""
        moves = self.moves
        return (len({s.state for s in self.spans})
                + len({call_kind(c.mode) for c in self.calls})
                + (0 < len(self.calls) <= FEW_CALLS) + bool(self.tags) + bool(self.errors)
                + bool(self.reclaimed)
                + len({bit for e in self.wakes for bit in WAKE_REASONS if e.aux & bit})
                + bool(self.throttles) + any(e.type == "INODE_QUEUE" for e in moves)
                + any(e.type == "INODE_REQUEUE" for e in moves))


def _figure(plt: Any, view: _View) -> tuple[Any, Optional[Axes], Axes, float]:
    """The figure: the strip (if any) above the page bands, room for the
    legend below.  Returns the figure, the strip's axes (None: no strip),
    the pages' axes and the height in inches."""
    strip_h = 0.42 * len(view.strip_rows) + (0.25 if view.strip_rows else 0)
    pages_h = min(7.0, 3.0 + 1.0 * len(view.bands) + 0.02 * min(view.total, 100))
    legend_h = 0.2 * math.ceil(view.legend_entries() / 3) + 0.15
    height = strip_h + pages_h + legend_h + 1.3
    fig = plt.figure(figsize=(12, height))
    top_margin, bottom_margin = 0.75 / height, (legend_h + 0.55) / height
    if view.strip_rows:
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
    return fig, top, ax, height


def _draw_states(ax: Axes, view: _View) -> list[str]:
    """The pages' states: one rectangle per span, one collection per state.
    Returns the states drawn."""
    from matplotlib.collections import PolyCollection

    dense = view.total > 150
    half = 0.5 if dense else 0.4        # dense rows touch: no stripes
    states_seen = []
    for state in (DIRTY, WRITEBACK, REDIRTIED):
        boxes = []
        for s in view.spans:
            if s.state != state or s.ino not in view.where:
                continue
            y = view.row(s.ino, s.index)
            x0, x1 = view.ms(s.start_us), view.ms(s.end_us)
            boxes.append([(x0, y - half), (x1, y - half), (x1, y + half), (x0, y + half)])
        if not boxes:
            continue
        states_seen.append(state)
        ax.add_collection(PolyCollection(
            boxes, facecolors=STATE_COLORS[state],
            edgecolors="none" if dense else STATE_COLORS[state],
            linewidths=0 if dense else 0.6, antialiased=not dense, zorder=4))
    return states_seen


def _draw_calls(top: Optional[Axes], ax: Axes, view: _View) -> list[str]:
    """writepages calls: a bar in the inode's lane of the strip, labelled
    while there is room; when there are few, lines through its pages mark
    where each call began (solid) and returned (dashed).  Returns the
    kinds of call drawn."""
    kinds_seen: list[str] = []
    labelled = 0
    few = len(view.calls) <= FEW_CALLS
    width_ms = view.width_ms
    char_ms = 0.0058 * width_ms        # about one character of a label
    label_end: dict[int, float] = {}   # per lane: where the last label ends
    for c in view.calls:
        if c.ino not in view.where:
            continue
        kind = call_kind(c.mode)
        color = CALL_COLORS[kind]
        if kind not in kinds_seen:
            kinds_seen.append(kind)
        x0, x1 = view.ms(c.start_us), view.ms(c.end_us)
        assert top is not None
        y = view.ys[f"writepages\ninode {c.ino}"]
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
            lo, hi, b = view.where[c.ino]
            ax.plot([x0, x0], [b - 0.5, b + hi - lo + 0.5], color=color, lw=1.1, zorder=5)
            ax.plot([x1, x1], [b - 0.5, b + hi - lo + 0.5], color=color, lw=1.1,
                    ls="--", zorder=5)
    return kinds_seen


def _draw_page_marks(ax: Axes, view: _View) -> None:
    """Marks on the pages: TOWRITE tagging as a green bar beside the pages
    it tagged, errors and reclaim as markers on the page's row, flusher
    wake-ups as dotted lines (when few)."""
    ms, row = view.ms, view.row
    for t in view.tags:
        x = ms(t.time_us)
        for first, last in _runs(t.pages):
            ax.plot([x, x], [row(t.ino, first) - 0.5, row(t.ino, last) + 0.5],
                    color=TAG_COLOR, lw=3.5, solid_capstyle="butt", zorder=6)
    errors, reclaimed = view.errors, view.reclaimed
    if errors:
        ax.scatter([ms(e.time_us) for e in errors], [row(e.ino, e.index) for e in errors],
                   marker="X", s=70, color="#c0392b", edgecolors="white",
                   linewidths=0.6, zorder=7)
    if reclaimed:
        ax.scatter([ms(e.time_us) for e in reclaimed],
                   [row(e.ino, e.index) for e in reclaimed],
                   marker="o", s=12, color="black", zorder=7)
    if 0 < len(view.wakes) <= 40:
        for e in view.wakes:
            ax.axvline(ms(e.time_us), color="#34495e", lw=0.8, ls=":", zorder=2)


def _draw_page_axes(ax: Axes, view: _View) -> None:
    """Axes: time, and page indices per band, each band named on the right."""
    from matplotlib.transforms import blended_transform_factory

    ax.set_xlim(0, view.width_ms * 1.01)
    ax.set_ylim(view.ymax - 0.5, -0.5)         # page 0 on top
    ticks: list[float] = []
    labels: list[str] = []
    per_band = max(2, int(14 / max(1, len(view.bands))))
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for i, (ino, lo, hi, b) in enumerate(view.bands):
        step = _nice_step(hi - lo, per_band)
        first = lo if lo % step == 0 else lo + step - lo % step
        values = sorted({lo, *range(first, hi + 1, step)})
        if values[-1] != hi and hi - values[-1] >= step / 2:
            values.append(hi)
        for v in values:
            ticks.append(b + v - lo)
            labels.append(str(v))
        if i > 0:
            ax.axhline(b - view.gap / 2 - 0.5, color="#95a5a6", lw=1.0, zorder=2)
        npg = len({e.index for e in view.page_evs if e.ino == ino})
        ax.text(1.008, b + (hi - lo) / 2, f"inode {ino}\n{npg} page{'s' * (npg != 1)}",
                transform=trans, rotation=90, va="center", ha="left", fontsize=9,
                fontweight="bold")
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylabel("page index in the file")
    ax.set_xlabel(f"time (ms) from {view.t0 / 1000:.3f} ms after boot")
    ax.grid(axis="x", color="#ecf0f1", zorder=0)


def _draw_strip(top: Axes, view: _View) -> None:
    """The strip on top, besides the writepages calls: flusher wake-ups,
    throttled writers, inode list moves."""
    ms, ys, wakes, moves = view.ms, view.ys, view.wakes, view.moves
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
    if view.throttles:
        top.scatter([ms(e.time_us) for e in view.throttles],
                    [ys["writer throttled"]] * len(view.throttles),
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
    top.set_yticks(range(len(view.strip_rows)))
    top.set_yticklabels(view.strip_rows, fontsize=8)
    top.set_ylim(len(view.strip_rows) - 0.5, -0.5)
    top.grid(axis="x", color="#ecf0f1", zorder=0)
    top.tick_params(axis="x", labelbottom=False)


def _legend(view: _View, states_seen: list[str], kinds_seen: list[str]) -> list[Any]:
    """The legend's entries: only what the picture shows."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def marker(shape: str, color: str, label: str, **kw: Any) -> Any:
        return Line2D([], [], marker=shape, color=color, ls="none", label=label, **kw)

    moves = view.moves
    handles: list[Any] = []
    for state in states_seen:
        handles.append(Patch(facecolor=STATE_COLORS[state], label=STATE_LABELS[state]))
    for kind in kinds_seen:
        handles.append(Patch(facecolor=CALL_COLORS[kind], label=f"writepages: {kind}"))
    if view.calls and len(view.calls) <= FEW_CALLS:
        handles.append(Line2D([], [], color="#555555", lw=1.1,
                              label="writepages called (solid) / returned (dashed)"))
    if view.tags:
        handles.append(Line2D([], [], color=TAG_COLOR, lw=3.5,
                              label="pages tagged TOWRITE (those dirty then)"))
    if view.errors:
        handles.append(marker("X", "#c0392b", "write error", markersize=8))
    if view.reclaimed:
        handles.append(marker("o", "black", "page reclaimed", markersize=4))
    for bit, reason in WAKE_REASONS.items():
        if any(e.aux & bit for e in view.wakes):
            handles.append(marker("^", WAKE_COLORS[reason], f"flusher woken ({reason})"))
    if view.throttles:
        handles.append(marker("v", "#c0392b", "writer throttled (balance_dirty_pages)"))
    if any(e.type == "INODE_QUEUE" for e in moves):
        handles.append(marker(">", "#2c3e50", "inode queued for writeback (b_io)"))
    if any(e.type == "INODE_REQUEUE" for e in moves):
        handles.append(marker("<", "#7f8c8d",
                              "inode requeued: < b_dirty, \u25a0 b_more_io"))
    return handles


def _heading(view: _View, title: Optional[str]) -> str:
    """The title, and a line saying what the picture covers and what the
    dump lacks."""
    if title is None:
        title = "Writeback timeline: " + ", ".join(f"inode {ino}" for ino, *_ in view.bands)
    trace = view.trace
    sub = (f"{len(view.mine)} events of "
           f"{'this inode' if len(view.bands) == 1 else 'these inodes'} "
           f"over {view.width_ms:.1f} ms; each row is one page of the file")
    if trace.lost:
        sub += f"; {sum(b - a + 1 for a, b in trace.lost)} earlier events were lost"
    if not trace.ended:
        sub += "; the dump has no end line (cut short?)"
    return f"{title}\n{sub}"


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

    if isinstance(trace, str):
        trace = parse_dump(trace)
    view = _View(trace, inodes, start_ms, end_ms)
    fig, top, ax, height = _figure(plt, view)
    states_seen = _draw_states(ax, view)
    kinds_seen = _draw_calls(top, ax, view)
    _draw_page_marks(ax, view)
    _draw_page_axes(ax, view)
    if top is not None:
        _draw_strip(top, view)
    handles = _legend(view, states_seen, kinds_seen)
    fig.legend(handles=handles, loc="lower center", ncol=min(3, max(1, len(handles))),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.01))
    fig.suptitle(_heading(view, title), fontsize=11, y=1 - 0.1 / height)
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
