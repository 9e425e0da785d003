#!/usr/bin/env python3
"""The picture of a crash state: the writes and FLUSHes around the power
cut, which writes the state kept and which it lost, and the promise that
broke.

One row per kind of write (log blocks, commit records, empty headers, the
transaction's home blocks, other metadata, file data), in log order from
left to right (the order the disk completed them), with each FLUSH as a
vertical line.  The state keeps every write up to its FLUSH and the
writes after it that it names (solid); the writes after that FLUSH that
it drops are hollow and crossed out: the disk's cache lost them.  The
power cut is the dashed line after the last write the state could hold;
writes after it are faint (they never happened), and are shown only as
far as the next write of a block the problems are about.  Those blocks
are ringed in red, and where a promise that broke was made is marked.
The problems the checker found are printed underneath.

Command line (course staff, or a student who wants another state drawn):

    crashpicture.py RUN_DIR STATE -o out.png [--title TEXT]

RUN_DIR holds a recorded run (run.json, writes.log, base.img), such as
grade/results/crash-lab/run.  Needs matplotlib (Debian:
python3-matplotlib); it is imported only when a picture is drawn.
"""

from __future__ import annotations

import argparse
import bisect
import re
import struct
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fsimage  # noqa: E402
from crashlog import CrashLog  # noqa: E402
from crashstates import State, parse_state  # noqa: E402

KINDS = ("file data", "other metadata", "home blocks", "empty header",
         "commit record", "log blocks")
COLORS = {"log blocks": "#2e86de", "commit record": "#c0392b", "empty header": "#8e44ad",
          "home blocks": "#27ae60", "other metadata": "#7f8c8d", "file data": "#f39c12"}
MAX_ENTRIES = 160       # the most log entries one picture shows


def kind_of(log: CrashLog, sb: fsimage.Superblock, homes: set[int], index: int,
            k: int) -> str:
    """The row of block k of log entry index."""
    e = log.entries[index]
    b = e.sector + k
    if b == sb.logstart:
        n = struct.unpack_from("<I", log.data((index, k)), 4)[0]
        return "commit record" if n > 0 else "empty header"
    if sb.logstart < b < sb.logstart + sb.nlog:
        return "log blocks"
    if b in homes:
        return "home blocks"
    if b < sb.datastart:
        return "other metadata"
    return "file data"


def home_blocks(log: CrashLog, sb: fsimage.Superblock) -> set[int]:
    """Every block some commit record of the log names."""
    homes: set[int] = set()
    for e in log.entries:
        if not e.is_flush and e.sector <= sb.logstart < e.sector + e.nr_sectors:
            lh = fsimage.LogHeader.unpack(log.data((e.index, sb.logstart - e.sector)))
            if lh.magic == fsimage.LOG_MAGIC and lh.n > 0:
                homes.update(lh.blocks[:lh.n])
    return homes


def span(log: CrashLog, st: State, hot: set[int]) -> tuple[int, int]:
    """The entries to draw: from the FLUSH before the state's to the end of
    its window, and on to the next writes of the hot blocks if they come
    after the power cut; at most MAX_ENTRIES, keeping the state's window."""
    end = min(log.next_flush(st.flush) + 1, len(log.entries))
    for e in log.entries[st.flush + 1:]:
        if not e.is_flush and any(e.sector + k in hot for k in range(e.nr_sectors)):
            end = max(end, min(e.index + 2, len(log.entries)))
            break
    prev = [f for f in log.flushes if f < st.flush]
    start = prev[-1] if prev else 0
    start = max(start, end - MAX_ENTRIES, 0)
    return start, min(end, start + MAX_ENTRIES)


def draw(log: CrashLog, sb: fsimage.Superblock, st: State, out: Path, title: str,
         problems: Sequence[str], promises: Sequence[tuple[int, str]] = ()) -> Path:
    """Draw the state; promises are (log entry, label): where a promise
    was made (the last entry logged before the call returned)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    homes = home_blocks(log, sb)
    hot = {int(b) for p in problems for b in re.findall(r"\[disk block (\d+),", p)}
    start, end = span(log, st, hot)
    fig, ax = plt.subplots(figsize=(13, 5.4))
    fig.subplots_adjust(left=0.12, right=0.98, top=0.88, bottom=0.3)
    marks = 0
    for e in log.entries[start:end]:
        if e.is_flush:
            covered = e.index <= st.flush
            ax.axvline(e.index, color="black" if covered else "#aaaaaa",
                       lw=1.8 if e.index == st.flush else 0.8, ls="-" if covered else ":")
            continue
        marks += e.nr_sectors
        for k in range(e.nr_sectors):
            _write(ax, log, sb, homes, st, e.index, k, e.sector + k in hot)
    if marks <= 40:
        _label_blocks(ax, log, sb, homes, start, end)
    _annotate(ax, log, st, start, end, promises)
    ax.set_yticks(range(len(KINDS)))
    ax.set_yticklabels(KINDS)
    ax.set_ylim(-0.7, len(KINDS) - 0.2)
    ax.set_xlim(start - 1, end + 1)
    ax.set_xlabel("log entry: the order in which the disk completed the writes.  "
                  "Vertical lines: FLUSHes (solid: completed before the power cut)")
    fig.suptitle(textwrap.fill(title, 120), fontsize=10.5)
    text = "\n".join(textwrap.shorten(p, 170) for p in problems[:4])
    fig.text(0.01, 0.02, f"crash state '{st.describe(log)}'\n{text}", fontsize=8,
             family="monospace", va="bottom")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _write(ax: Any, log: CrashLog, sb: fsimage.Superblock, homes: set[int], st: State,
           index: int, k: int, hot: bool) -> None:
    """One block write: kept (solid) or lost (hollow, crossed out); ringed
    if it writes a block the problems are about."""
    e = log.entries[index]
    row = KINDS.index(kind_of(log, sb, homes, index, k))
    x = index + (k / max(e.nr_sectors, 1)) * 0.8
    if index > log.next_flush(st.flush):
        ax.plot(x, row, "s", color=COLORS[KINDS[row]], alpha=0.25, ms=7)
    else:
        _mark(ax, x, row, COLORS[KINDS[row]], index <= st.flush or (index, k) in st.units)
    if hot:
        ax.plot(x, row, "o", mfc="none", mec="red", ms=14, mew=1.5)


def _label_blocks(ax: Any, log: CrashLog, sb: fsimage.Superblock, homes: set[int],
                  start: int, end: int) -> None:
    """Each write's block number, when there are few enough to read."""
    for e in log.entries[start:end]:
        if e.is_flush:
            continue
        row = KINDS.index(kind_of(log, sb, homes, e.index, 0))
        text = str(e.sector) if e.nr_sectors == 1 else f"{e.sector}+{e.nr_sectors}"
        ax.annotate(text, (e.index, row + 0.22), fontsize=6.5, ha="center", color="#333333")


def _mark(ax: Any, x: float, row: int, color: str, kept: bool) -> None:
    if kept:
        ax.plot(x, row, "s", color=color, ms=7)
    else:
        ax.plot(x, row, "s", mfc="white", mec=color, ms=7)
        ax.plot(x, row, "x", color=color, ms=6)


def _annotate(ax: Any, log: CrashLog, st: State, start: int, end: int,
              promises: Sequence[tuple[int, str]]) -> None:
    """The state's FLUSH, the power cut, the promises, the legend."""
    top = len(KINDS) - 0.35
    if start <= st.flush < end:
        ax.annotate("last FLUSH that completed ", (st.flush, top), fontsize=8, ha="right")
    cut = log.next_flush(st.flush) - 0.5
    ax.axvline(cut, color="red", ls="--", lw=1.4)
    ax.annotate(" power cut", (cut, top), color="red", fontsize=8, ha="left")
    for index, label in promises:
        if start <= index < end:
            ax.axvline(index + 0.5, color="#16a085", lw=1.2)
            ax.annotate(f" {label}", (index + 0.5, -0.55), color="#16a085", fontsize=8)
    ax.plot([], [], "s", color="#555555", label="reached the disk")
    ax.plot([], [], "s", mfc="white", mec="#555555", label="lost in the disk's cache")
    ax.plot([], [], "o", mfc="none", mec="red", label="a block the problem below is about")
    ax.plot([], [], "s", color="#555555", alpha=0.25, label="after the power cut: never sent")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, ncol=4,
              frameon=False)


PROMISED = (re.compile(r"made durable as (?P<path>\S+) in step (?P<step>\d+)"),
            re.compile(r"made durable in step (?P<step>\d+) as (?P<path>[^\s,)]+)"))


def promise_marks(lab: Any, problems: Sequence[str]) -> list[tuple[int, str]]:
    """Where the promises these problems name were made: the last log
    entry written before the step that made them ended."""
    marks = set()
    for p in problems:
        for pat in PROMISED:
            m = pat.search(p)
            if m is None:
                continue
            step = int(m.group("step"))
            entry = bisect.bisect_right(lab.log.ends, lab.run.steps[step].log_bytes) - 1
            marks.add((entry, f"{m.group('path')} made durable (step {step})"))
            break
    return sorted(marks)[:2]


def draw_violation(lab: Any, violation: Any, rule: int, says: str,
                   out: Path) -> Optional[Path]:
    """The picture of a failed rule test's first crash state, or None if
    matplotlib is missing (the test's message then goes without it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    st = parse_state(violation.state, lab.log)
    title = f"rule {rule} (labs/crash/rules.md): {says}"
    return draw(lab.log, lab.sb, st, out, title, violation.problems,
                promise_marks(lab, violation.problems))


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Draw the writes and FLUSHes around a "
                                 "crash state of a recorded run.")
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("state", help="a state's description, as a report prints it")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--title", default="")
    args = ap.parse_args(argv)
    log = CrashLog(args.run_dir / "writes.log")
    with fsimage.Image(args.run_dir / "base.img") as img:
        sb = img.sb
    st = parse_state(args.state, log)
    draw(log, sb, st, args.output, args.title or f"crash state {args.state}", [])
    print(f"crashpicture: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
