"""Which disk requests the error sweep makes fail, and how (errsweep.py).

Writes.  The sweep numbers the requests that reach the disk in a run of
the workload, writes and FLUSHes together (k = 1, 2, ...), from the write
log of a reference run with no error, and names each by what it carries
(WRITE_KINDS).  QEMU's blkdebug counts the same way: a chain of set-state
rules moves its state from k to k+1 at each write request (its event
write_aio) and at each FLUSH that follows a write (flush_to_disk; a FLUSH
with nothing written since the last one reaches neither the events nor
the log).  An inject-error rule for state k then fails request k: only it
(once), or it and every write and FLUSH after it (forever: the disk has
stopped taking writes).

Reads.  A metadata block is read once on a cold cache, so the sweep
fails a block's first read (once) or all its reads (forever), with
blkdebug's sector filter.  The blocks, in the order they are read, come
from QEMU's trace of a reference run (virtio_blk_handle_read), and their
kinds from the image the run starts on (READ_KINDS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, TypeVar

import fsimage
import writelog
from drives import Blkdebug, InjectError

SECTORS = fsimage.BSIZE // 512

WRITE_KINDS = {
    "data": "file data, written back",
    "log": "a block of a transaction, in the log",
    "commit": "the log header that commits a transaction",
    "home": "a committed block, written home",
    "empty": "the log header emptied after the home writes",
    "flush": "a FLUSH",
}
READ_KINDS = {
    "super": "the superblock",
    "log": "the log header or a log block",
    "inode": "a block of the inode table",
    "bitmap": "a bitmap block",
    "dir": "a directory block",
    "map": "an indirect block",
    "data": "file data",
}


@dataclass(frozen=True)
class Injection:
    """One disk error: request `index` (writes) or the read of `block`."""

    io: str             # "write" (writes and FLUSHes), "read" (by the
                        # workload) or "boot-read" (while booting)
    kind: str           # a key of WRITE_KINDS or READ_KINDS
    index: int          # writes: k, from 1; reads: 0
    block: int          # the block written or read (0 for a FLUSH)
    forever: bool

    def describe(self) -> str:
        what = WRITE_KINDS.get(self.kind, "") if self.io == "write" else READ_KINDS[self.kind]
        where = f"request {self.index}" if self.io == "write" else "the first read"
        if self.io != "write" and self.forever:
            where = "every read"
        block = f" (block {self.block})" if self.block else ""
        mode = "and every write after it" if self.forever and self.io == "write" else ""
        return f"{self.io} error: {where}, {what}{block} {mode}".rstrip()

    def blkdebug(self, nwrites: int) -> Blkdebug:
        """The blkdebug configuration; nwrites: how far to count."""
        if self.io != "write":
            return Blkdebug(rules=(InjectError(event="read_aio", iotype="read",
                                               sector=self.block * SECTORS,
                                               once=not self.forever),),
                            config_file=True)
        return Blkdebug(rules=self._write_rules(), extra_config=count_writes(nwrites))

    def _write_rules(self) -> tuple[InjectError, ...]:
        rules = []
        for event, own in (("write_aio", "write"), ("flush_to_disk", "flush")):
            types = ("write", "flush") if self.forever else (own,)
            rules += [InjectError(event=event, state=self.index, iotype=t,
                                  once=not self.forever) for t in types]
        return tuple(rules)


def count_writes(n: int) -> str:
    """blkdebug set-state rules: state k+1 after the k-th write or FLUSH."""
    return "\n".join(f'[set-state]\nevent = "{ev}"\nstate = "{k}"\nnew_state = "{k + 1}"\n'
                     for k in range(1, n + 2) for ev in ("write_aio", "flush_to_disk"))


# ---------------------------------------------------------------- writes

def write_requests(log: writelog.WriteLog, sb: fsimage.Superblock) -> list[Injection]:
    """The requests of a reference run, numbered from 1 and named (as
    once-injections)."""
    out = []
    home = False
    for e in log.entries:
        kind, home = _write_kind(e, sb, home)
        out.append(Injection("write", kind, e.index + 1, 0 if e.is_flush else e.sector, False))
    return out


def _write_kind(e: writelog.Entry, sb: fsimage.Superblock, home: bool) -> tuple[str, bool]:
    """The kind of log entry e, and whether home writes follow it: the
    blocks written between a commit record and the empty header that
    follows are home writes, whatever their block."""
    if e.is_flush:
        return "flush", home
    if e.sector == sb.logstart:
        n = fsimage.LogHeader.unpack(e.data[:fsimage.BSIZE]).n
        return ("commit", True) if n > 0 else ("empty", False)
    if sb.logstart < e.sector < sb.logstart + sb.nlog:
        return "log", home
    if home or e.sector < sb.datastart:
        return "home", home
    return "data", home


# ---------------------------------------------------------------- reads

TRACE_READ = re.compile(r"virtio_blk_handle_read .*? sector (\d+) nsectors (\d+)")


def read_blocks(trace: str) -> list[int]:
    """The blocks read, in order, each once, from QEMU's trace."""
    seen: dict[int, None] = {}
    for m in TRACE_READ.finditer(trace):
        first, n = int(m.group(1)), int(m.group(2))
        for b in range(first // SECTORS, (first + n - 1) // SECTORS + 1):
            seen.setdefault(b, None)
    return list(seen)


def block_roles(img: fsimage.Image) -> dict[int, str]:
    """What each used block of the data area holds: "dir", "map" (an
    indirect block) or "data"."""
    roles: dict[int, str] = {}
    for d in img.inodes():
        if d.type == fsimage.T_DIR:
            roles.update((b, "dir") for b in img.used_blocks(d))
        elif d.type == fsimage.T_FILE:
            roles.update((b, "data") for b in img.block_list(d) if b)
            roles.update((b, "map") for b in img.map_blocks(d))
    return roles


def read_kind(b: int, sb: fsimage.Superblock, roles: dict[int, str]) -> str:
    if b < sb.logstart:
        return "super"
    if b < sb.logstart + sb.nlog:
        return "log"
    if b < sb.bmapstart:
        return "inode"
    if b < sb.datastart:
        return "bitmap"
    return roles.get(b, "data")


# ---------------------------------------------------------------- choosing

T = TypeVar("T")


def spread(items: Sequence[T], kind: Callable[[T], str], n: int) -> list[T]:
    """At most n of items, as evenly spread over the kinds as they allow,
    and within a kind over its items (in their order)."""
    by_kind: dict[str, list[T]] = {}
    for it in items:
        by_kind.setdefault(kind(it), []).append(it)
    queues = [list(_even_order(v)) for v in by_kind.values()]
    out: list[T] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def _even_order(items: Sequence[T]) -> Iterable[T]:
    """items in an order of which every prefix is spread evenly: the first,
    the middle, the quarters, ..."""
    n = len(items)
    done: set[int] = set()
    step = 1 << max(n - 1, 0).bit_length()
    while step >= 1:
        for i in range(0, n, step):
            if i not in done:
                done.add(i)
                yield items[i]
        step //= 2
