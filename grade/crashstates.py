"""Crash states: which disks a power cut could leave, and how to name one.

The power-cut model.  The disk has a volatile write cache: a write is sure
to be on the platter only once a FLUSH issued after its completion has
completed.  A crash state is the initial image, plus every logged write up
to some FLUSH F (or none: F = -1), plus any subset of the writes logged
after F and before the next FLUSH, block by block.  The states checked are
  - prefix: every FLUSH, with nothing after it;
  - single / allbut: for every block write to the log header, the inode
    table or the bitmap, the state with only that write after its FLUSH,
    and the state with every write of that window but it;
  - random: a random FLUSH, a random cut point in the window after it, and
    a random subset of the writes up to the cut (seeded: --state-seed);
  - for the crash lab (entry_states), also the single and all-but-one
    states of every write request of every window, file data too.
Each state has a description ("random F=120 +121-125,127.1") from which
parse_state() rebuilds it exactly, so a report's state can be looked at
again (crashcheck.py --from DIR --state ...).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from crashlog import CrashLog, Unit


@dataclass(frozen=True)
class State:
    flush: int                  # the last FLUSH that completed (-1: none)
    units: tuple[Unit, ...]     # block writes after it that reached the disk
    kind: str = "random"

    @property
    def last(self) -> int:
        return max([self.flush] + [u[0] for u in self.units])

    def describe(self, log: Optional[CrashLog] = None) -> str:
        return f"{self.kind} F={self.flush} +{format_units(self.units, log)}"


def format_units(units: Sequence[Unit], log: Optional[CrashLog] = None) -> str:
    """Units as "E" (a whole entry), "A-B" (whole entries A..B), "E.i"
    (block i of entry E) and "E.i-j" (its blocks i..j)."""
    by_entry: dict[int, list[int]] = {}
    for e, i in units:
        by_entry.setdefault(e, []).append(i)
    tokens: list[str] = []
    run: Optional[list[int]] = None
    for e in sorted(by_entry):
        whole = log is None and by_entry[e] == [0] or \
            log is not None and len(by_entry[e]) == log.entries[e].nr_sectors
        if whole:
            if run and run[1] == e - 1:
                run[1] = e
                continue
            if run:
                tokens.append(f"{run[0]}-{run[1]}" if run[1] > run[0] else str(run[0]))
            run = [e, e]
            continue
        if run:
            tokens.append(f"{run[0]}-{run[1]}" if run[1] > run[0] else str(run[0]))
            run = None
        blocks = sorted(by_entry[e])
        k = 0
        while k < len(blocks):
            j = k
            while j + 1 < len(blocks) and blocks[j + 1] == blocks[j] + 1:
                j += 1
            tokens.append(f"{e}.{blocks[k]}-{blocks[j]}" if j > k else f"{e}.{blocks[k]}")
            k = j + 1
    if run:
        tokens.append(f"{run[0]}-{run[1]}" if run[1] > run[0] else str(run[0]))
    return ",".join(tokens) if tokens else "-"


def parse_state(text: str, log: CrashLog) -> State:
    """The inverse of State.describe (the kind word is optional)."""
    m = re.fullmatch(r"\s*(?:(\w+)\s+)?F=(-?\d+)\s+\+(\S*)\s*", text)
    if not m:
        raise ValueError(f"not a state description: {text!r} "
                         "(expected e.g. 'random F=120 +121-125,127.1')")
    units: list[Unit] = []
    if m.group(3) not in ("", "-"):
        for tok in m.group(3).split(","):
            if "." in tok:
                e, _, span = tok.partition(".")
                a, _, b = span.partition("-")
                units += [(int(e), i) for i in range(int(a), int(b or a) + 1)]
                continue
            a, _, b = tok.partition("-")
            for e in range(int(a), int(b or a) + 1):
                units += [(e, i) for i in range(log.entries[e].nr_sectors)]
    return State(int(m.group(2)), tuple(sorted(units)), m.group(1) or "given")


def generate_states(log: CrashLog, is_meta: Callable[[int], bool], nrandom: int,
                    rng: random.Random) -> list[State]:
    """Every prefix; single and all-but-one states of each metadata write;
    nrandom random states.  Sorted by FLUSH point, duplicates removed."""
    states: dict[tuple[int, tuple[Unit, ...]], State] = {}

    def add(st: State) -> None:
        states.setdefault((st.flush, st.units), st)

    for f in log.points:
        add(State(f, (), "prefix"))
    for f in log.points:
        win = log.window(f)
        for k, u in enumerate(win):
            if is_meta(log.block(u)):
                add(State(f, (u,), "single"))
                add(State(f, tuple(win[:k] + win[k + 1:]), "allbut"))
    # The cut point is a random block write of the whole log (so a FLUSH
    # is chosen in proportion to the writes after it), then a random
    # subset of the writes between the FLUSH and the cut.  Windows of one
    # write have no random state that is not a prefix or a single, so
    # draws repeat: stop after enough tries.
    cuts = [(f, k) for f in log.points for k in range(len(log.window(f)))]
    made = tries = 0
    while cuts and made < nrandom and tries < 20 * nrandom:
        tries += 1
        f, cut = rng.choice(cuts)
        win = log.window(f)
        p = rng.choice((0.2, 0.5, 0.8))
        units = tuple([u for u in win[:cut] if rng.random() < p] + [win[cut]])
        if (f, units) not in states:
            add(State(f, units, "random"))
            made += 1
    return sorted(states.values(), key=lambda s: (s.flush, s.kind, s.units))


def entry_states(log: CrashLog, big: int = 16) -> list[State]:
    """For every write of every window: the state with that write alone
    after its FLUSH, and the state with every write of the window but it.
    A write is one block of a request, or a whole request of more than
    `big` blocks (the blocks of a large request torn apart are left to
    the random states)."""
    out = []
    for f in log.points:
        win = log.window(f)
        for e in sorted({u[0] for u in win}):
            mine = [u for u in win if u[0] == e]
            parts = [mine] if len(mine) > big else [[u] for u in mine]
            for part in parts:
                out.append(State(f, tuple(part), "single"))
                out.append(State(f, tuple(u for u in win if u not in part), "allbut"))
    return out
