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
power cut is the dashed line after the last write the state could hold.
The problems the checker found are printed underneath.

Command line (course staff, or a student who wants another state drawn):

    crashpicture.py RUN_DIR STATE -o out.png [--title TEXT]

RUN_DIR holds a recorded run (run.json, writes.log, base.img), such as
grade/results/crash-lab/run.  Needs matplotlib (Debian:
python3-matplotlib); it is imported only when a picture is drawn.
"""

from __future__ import annotations

import argparse
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


def span(log: CrashLog, st: State) -> tuple[int, int]:
    """The entries to draw: from the FLUSH before the state's to the end of
    its window, at most MAX_ENTRIES, keeping the state's own window."""
    end = min(log.next_flush(st.flush) + 1, len(log.entries))
    prev = [f for f in log.flushes if f < st.flush]
    start = prev[-1] if prev else 0
    return max(start, end - MAX_ENTRIES, 0), end


def draw(log: CrashLog, sb: fsimage.Superblock, st: State, out: Path, title: str,
         problems: Sequence[str]) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    homes = home_blocks(log, sb)
    start, end = span(log, st)
    kept = set(st.units)
    fig, ax = plt.subplots(figsize=(13, 6.2))
    fig.subplots_adjust(left=0.13, right=0.98, top=0.86, bottom=0.36)
    for e in log.entries[start:end]:
        if e.is_flush:
            covered = e.index <= st.flush
            ax.axvline(e.index, color="black" if covered else "#aaaaaa",
                       lw=1.6 if e.index == st.flush else 0.8,
                       ls="-" if covered else ":")
            continue
        for k in range(e.nr_sectors):
            row = KINDS.index(kind_of(log, sb, homes, e.index, k))
            x = e.index + (k / max(e.nr_sectors, 1)) * 0.8
            _mark(ax, x, row, COLORS[KINDS[row]],
                  e.index <= st.flush or (e.index, k) in kept)
    _annotate(ax, log, st, start, end)
    ax.set_yticks(range(len(KINDS)))
    ax.set_yticklabels(KINDS)
    ax.set_ylim(-0.7, len(KINDS) - 0.3)
    ax.set_xlim(start - 1, end + 1)
    ax.set_xlabel("log entry (the order in which the disk completed the writes); "
                  "vertical lines: FLUSH (solid: completed before the power cut)")
    fig.suptitle(textwrap.fill(title, 130), fontsize=10.5)
    text = "\n".join(textwrap.shorten(p, 190) for p in problems[:4])
    fig.text(0.01, 0.02, f"crash state '{st.describe(log)}'\n{text}", fontsize=8,
             family="monospace", va="bottom", wrap=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _mark(ax: Any, x: float, row: int, color: str, kept: bool) -> None:
    if kept:
        ax.plot(x, row, "s", color=color, ms=7)
    else:
        ax.plot(x, row, "s", mfc="white", mec=color, ms=7)
        ax.plot(x, row, "x", color=color, ms=6)


def _annotate(ax: Any, log: CrashLog, st: State, start: int, end: int) -> None:
    """The state's FLUSH and the power cut."""
    if start <= st.flush < end:
        ax.annotate("last FLUSH that completed", (st.flush, len(KINDS) - 0.45),
                    fontsize=8, ha="right")
    cut = log.next_flush(st.flush) - 0.5
    ax.axvline(cut, color="red", ls="--", lw=1.4)
    ax.annotate("power cut", (cut, -0.6), color="red", fontsize=8, ha="right")
    ax.plot([], [], "s", color="#555555", label="reached the disk")
    ax.plot([], [], "s", mfc="white", mec="#555555", label="lost in the disk's cache")
    ax.legend(loc="upper left", fontsize=8, ncol=2)


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
    return draw(lab.log, lab.sb, st, out, title, violation.problems)


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
