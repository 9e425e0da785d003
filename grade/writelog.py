"""Read the write log that QEMU's blklogwrites driver records (see
qemu.LogWrites).

The format is Linux's dm-log-writes, all integers little-endian, in units of
the log's sector size S (4096 for Quire):

    sector 0      superblock: magic u64, version u64, nr_entries u64,
                  sectorsize u32
    then, for each entry in order:
        one sector: sector u64, nr_sectors u64, flags u64, data_len u64
        nr_sectors sectors of data (none for a flush or a discard)

`sector` and `nr_sectors` are in units of S.  flags: 1 FLUSH, 2 FUA,
4 DISCARD, 8 MARK.  QEMU rewrites the superblock at every flush (and every
log-super-update-interval entries), so after a power cut (SIGKILL) it may
count fewer entries than the file holds; read_log() walks the file instead
and stops at the first sector that is not a whole, valid entry.  When QEMU
exits normally it flushes the disk once more: the log then ends in a flush.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Union

MAGIC = 0x6A736677736872
VERSION = 1
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8
_SUPER = struct.Struct("<QQQI")
_ENTRY = struct.Struct("<QQQQ")


@dataclass(frozen=True)
class Entry:
    index: int          # position in the log, from 0
    sector: int         # first sector written (unit: the log's sector size)
    nr_sectors: int
    flags: int
    data: bytes         # nr_sectors * sector size bytes (b"" for flushes)

    @property
    def is_flush(self) -> bool:
        return bool(self.flags & FLUSH)

    @property
    def is_discard(self) -> bool:
        return bool(self.flags & DISCARD)


@dataclass(frozen=True)
class WriteLog:
    sector_size: int
    nr_entries: int     # as the superblock says (may be behind: see above)
    entries: list[Entry]


def read_log(path: Union[str, Path], sector_size: int = 4096) -> WriteLog:
    """Read a blklogwrites log.  sector_size is used only when the log has
    no superblock yet: QEMU writes it at the first flush that succeeds, so a
    log whose flushes all failed, or that was cut before any flush, has
    entries but no superblock.  An empty file is an empty log: QEMU
    writes nothing to it before the first write reaches the disk."""
    raw = Path(path).read_bytes()
    if not raw:
        return WriteLog(sector_size, 0, [])
    if len(raw) < _SUPER.size:
        raise ValueError(f"{path}: too short for a blklogwrites log")
    magic, version, nr_entries, size = _SUPER.unpack_from(raw, 0)
    if magic == 0 and version == 0 and nr_entries == 0 and size == 0:
        size = sector_size
    elif magic != MAGIC or version != VERSION:
        raise ValueError(f"{path}: not a blklogwrites log")
    if size < 512 or size & (size - 1):
        raise ValueError(f"{path}: bad sector size {size}")
    entries = []
    pos = size
    while pos + size <= len(raw):
        sector, nr, flags, _ = _ENTRY.unpack_from(raw, pos)
        if flags & ~(FLUSH | FUA | DISCARD | MARK):
            break
        if flags == 0 and nr == 0:          # a zero sector: the end
            break
        nbytes = 0 if flags & DISCARD else nr * size
        if pos + size + nbytes > len(raw):  # torn: data never got there
            break
        entries.append(Entry(len(entries), sector, nr, flags,
                             raw[pos + size:pos + size + nbytes]))
        pos += size + nbytes
    return WriteLog(size, nr_entries, entries)
