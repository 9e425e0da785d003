"""The write log as the crash checker reads it: entries, FLUSHes, windows.

Why the log can be trusted (QEMU 7.2, block/blklogwrites.c): a request
first goes to the image file, then gets its log slot and is written to the
log, and only then completes to the guest.  So (a) every request the guest
has seen complete is in the log file; (b) the log is in order of
completion at the image file, and a FLUSH is logged after it completed, so
every write logged before a FLUSH completed before that FLUSH finished.
The checker therefore treats writes logged before a FLUSH as covered by
it.  What it cannot see is a write still in flight when the guest issued
the FLUSH that completed just before the FLUSH did: a kernel that FLUSHes
without waiting for its writes is caught only when the write lands after
the FLUSH in the log.

A Unit is one 4096-byte block of one log entry: a multi-block request may
be torn by a power cut, so crash states are made of units.
"""

from __future__ import annotations

import bisect
import copy
from pathlib import Path

import writelog
from crashpattern import BSIZE, ZERO_BLOCK
from crashrun import CheckerError

Unit = tuple[int, int]              # (log entry, block within the entry)


class CrashLog:
    """The write log, with each entry's end in the log file and the FLUSH
    points crash states start from."""

    def __init__(self, path: Path) -> None:
        wl = writelog.read_log(path)
        if wl.sector_size != BSIZE:
            raise CheckerError(f"{path}: log sector size {wl.sector_size}, "
                               f"expected {BSIZE}")
        self.entries = wl.entries
        self.ends: list[int] = []
        pos = wl.sector_size
        for e in self.entries:
            pos += wl.sector_size + len(e.data)
            self.ends.append(pos)
        self.flushes = [e.index for e in self.entries if e.is_flush]
        self.points = [-1] + self.flushes
        self._windows: dict[int, list[Unit]] = {}

    def head(self, end: int) -> "CrashLog":
        """The same log without its entries from `end` on: what a machine
        had written up to some point."""
        cut = copy.copy(self)
        cut.entries = self.entries[:end]
        cut.ends = self.ends[:end]
        cut.flushes = [f for f in self.flushes if f < end]
        cut.points = [-1] + cut.flushes
        cut._windows = {}
        return cut

    def next_flush(self, f: int) -> int:
        i = bisect.bisect_right(self.flushes, f)
        return self.flushes[i] if i < len(self.flushes) else len(self.entries)

    def window(self, f: int) -> list[Unit]:
        """The block writes after FLUSH point f and before the next FLUSH."""
        if f not in self._windows:
            units: list[Unit] = []
            for e in self.entries[f + 1:self.next_flush(f)]:
                units += [(e.index, i) for i in range(e.nr_sectors)]
            self._windows[f] = units
        return self._windows[f]

    def block(self, u: Unit) -> int:
        return self.entries[u[0]].sector + u[1]

    def data(self, u: Unit) -> bytes:
        e = self.entries[u[0]]
        if e.is_discard:
            return ZERO_BLOCK
        return e.data[u[1] * BSIZE:(u[1] + 1) * BSIZE]

    def last_flush_by(self, nbytes: int) -> int:
        """The last FLUSH whose entry ends by byte nbytes of the log (-1)."""
        best = -1
        for f in self.flushes:
            if self.ends[f] > nbytes:
                break
            best = f
        return best
