"""Crash images: the disk as it would be in one crash state.

Thousands of states are checked, and most differ from the one before in a
few blocks, so one work image is kept per process and moved from state to
state by rewriting only the blocks that differ (from the log, or from the
image before the workload).  Builder also says where each block came from,
for the reports.
"""

from __future__ import annotations

import os
from pathlib import Path

from crashlog import CrashLog, Unit
from crashpattern import BSIZE
from crashstates import State
from qemu import copy_sparse


class Builder:
    """One work image that moves from crash state to crash state by
    rewriting only the blocks that differ."""

    def __init__(self, log: CrashLog, base: Path, work: Path) -> None:
        self.log = log
        self.base = base
        self.work = copy_sparse(base, work)
        self.fd = os.open(self.work, os.O_RDWR)
        self.basefd = os.open(base, os.O_RDONLY)
        self.on_disk: dict[int, Unit] = {}      # blocks not as in base
        self.prefix: dict[int, Unit] = {}
        self.prefix_f = -1
        self.target: dict[int, Unit] = {}
        self.extra: set[int] = set()

    def close(self) -> None:
        os.close(self.fd)
        os.close(self.basefd)

    def goto(self, st: State) -> None:
        if st.flush < self.prefix_f:
            self.prefix, self.prefix_f = {}, -1
        for e in self.log.entries[self.prefix_f + 1:st.flush + 1]:
            for i in range(e.nr_sectors):
                self.prefix[e.sector + i] = (e.index, i)
        self.prefix_f = max(self.prefix_f, st.flush)
        target = dict(self.prefix)
        for u in sorted(st.units):
            target[self.log.block(u)] = u
        for b in set(self.on_disk) | set(target):
            want = target.get(b)
            if self.on_disk.get(b) == want:
                continue
            if want is None:
                data = os.pread(self.basefd, BSIZE, b * BSIZE)
                data += bytes(BSIZE - len(data))
                del self.on_disk[b]
            else:
                data = self.log.data(want)
                self.on_disk[b] = want
            os.pwrite(self.fd, data, b * BSIZE)
        self.target = target
        self.extra = {self.log.block(u) for u in st.units}

    def source(self, b: int) -> str:
        u = self.target.get(b)
        if u is None:
            return "as in the initial image"
        how = "after the FLUSH" if b in self.extra else "before the FLUSH"
        return f"from log entry {u[0]} ({how})"
