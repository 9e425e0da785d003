"""Read and patch Quire file-system images.

The format is the one kernel/uapi/fs.h defines: 4096-byte blocks, the
superblock in block 0, then the log (a header block and the logged
blocks), the inode table, the free bitmap and the data blocks.  All
integers are little-endian.

This module is deliberately small and uses only the standard library.  It
parses an image (superblock, inodes, block maps, directories, bitmap, log)
and patches it a field at a time, which is what tests need to build
corrupt images for fsck, and what a checker of crash images needs to look
inside one.  It trusts the image only as far as it must: block numbers are
range-checked, but a badly corrupt image is fsck's job, not this module's.

Typical use::

    with Image("fs.img", writable=True) as img:
        ino = img.lookup("cat")
        data = img.read_file(ino)
        img.set_inode_field(ino, "nlink", 2)
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, fields
from typing import Iterator, Optional, Sequence

# ---------------------------------------------------------------- constants

BSIZE = 4096
FS_MAGIC = 0x52495551
FS_VERSION = 1
ROOTINO = 1

NDIRECT = 26
NINDIRECT = BSIZE // 4
NDINDIRECT = NINDIRECT * NINDIRECT
MAXFILE = NDIRECT + NINDIRECT + NDINDIRECT  # in blocks
IND_SLOT = NDIRECT
DIND_SLOT = NDIRECT + 1
NADDRS = NDIRECT + 2

DINODE_SIZE = 128
IPB = BSIZE // DINODE_SIZE
BPB = BSIZE * 8

LOG_MAGIC = 0x474F4C51
LOGMAX = (BSIZE - 16) // 4

DIRSIZ = 60
DIRENT_SIZE = 64
DIRENTS_PER_BLOCK = BSIZE // DIRENT_SIZE

T_DIR = 1
T_FILE = 2
T_DEVICE = 3

FNV_BASIS = 2166136261
FNV_PRIME = 16777619

_SUPERBLOCK = struct.Struct("<10I")
_DINODE = struct.Struct(f"<hhhhQ{NADDRS}I")
_DIRENT = struct.Struct(f"<I{DIRSIZ}s")
_LOGHEAD = struct.Struct("<4I")

# Offset and struct format of each scalar field of struct dinode.
DINODE_FIELDS: dict[str, tuple[int, str]] = {
    "type": (0, "<h"),
    "major": (2, "<h"),
    "minor": (4, "<h"),
    "nlink": (6, "<h"),
    "size": (8, "<Q"),
}
_ADDRS_OFFSET = 16

assert _SUPERBLOCK.size == 40
assert _DINODE.size == DINODE_SIZE
assert _DIRENT.size == DIRENT_SIZE
assert _LOGHEAD.size + 4 * LOGMAX == BSIZE


def divup(a: int, b: int) -> int:
    """a / b rounded up."""
    return -(-a // b)


def fnv1a(data: bytes, h: int = FNV_BASIS) -> int:
    """Continue the 32-bit FNV-1a hash h over data."""
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def log_checksum(seq: int, homes: Sequence[int], contents: Sequence[bytes]) -> int:
    """The checksum a log header must carry, as fs.h defines it: FNV-1a over
    n, seq, block[0..n-1] and then each logged block's contents."""
    if len(homes) != len(contents):
        raise ValueError("one content block is needed per home block number")
    h = fnv1a(struct.pack("<II", len(homes), seq))
    h = fnv1a(struct.pack(f"<{len(homes)}I", *homes), h)
    for data in contents:
        if len(data) != BSIZE:
            raise ValueError(f"a logged block must be {BSIZE} bytes, not {len(data)}")
        h = fnv1a(data, h)
    return h


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Superblock:
    """struct superblock."""

    magic: int
    version: int
    size: int  # total blocks in the image
    nblocks: int  # data blocks
    ninodes: int
    nlog: int  # log blocks, header included
    logstart: int
    inodestart: int
    bmapstart: int
    datastart: int

    @classmethod
    def unpack(cls, block: bytes) -> "Superblock":
        return cls(*_SUPERBLOCK.unpack_from(block))

    def pack(self) -> bytes:
        return _SUPERBLOCK.pack(*(getattr(self, f.name) for f in fields(self)))

    def iblock(self, inum: int) -> int:
        """The block holding inode inum."""
        return self.inodestart + inum // IPB

    def bblock(self, b: int) -> int:
        """The bitmap block holding the bit for block b."""
        return self.bmapstart + b // BPB


@dataclass
class Dinode:
    """struct dinode, with the inode number it was read from."""

    inum: int
    type: int
    major: int
    minor: int
    nlink: int
    size: int
    addrs: list[int]

    @classmethod
    def unpack(cls, inum: int, raw: bytes) -> "Dinode":
        v = _DINODE.unpack(raw)
        return cls(inum, v[0], v[1], v[2], v[3], v[4], list(v[5:]))

    def pack(self) -> bytes:
        return _DINODE.pack(self.type, self.major, self.minor, self.nlink,
                            self.size, *self.addrs)

    @property
    def nblocks(self) -> int:
        """File blocks that the size covers."""
        return divup(self.size, BSIZE)


@dataclass(frozen=True)
class Dirent:
    """One directory slot.  inum 0 is a free slot.  The name is decoded as
    Latin-1, so every byte maps to one character and back."""

    slot: int  # index of the slot within the directory
    inum: int
    name: str

    @classmethod
    def unpack(cls, slot: int, raw: bytes) -> "Dirent":
        inum, name = _DIRENT.unpack(raw)
        return cls(slot, inum, name.split(b"\0", 1)[0].decode("latin-1"))


@dataclass(frozen=True)
class LogHeader:
    """struct logheader; blocks holds the first n home block numbers (all
    LOGMAX of them when n is larger than that)."""

    magic: int
    n: int
    seq: int
    checksum: int
    blocks: list[int]

    @classmethod
    def unpack(cls, block: bytes) -> "LogHeader":
        magic, n, seq, checksum = _LOGHEAD.unpack_from(block)
        homes = struct.unpack_from(f"<{min(n, LOGMAX)}I", block, _LOGHEAD.size)
        return cls(magic, n, seq, checksum, list(homes))


# ---------------------------------------------------------------- the image


class Image:
    """An open image file.  Opened read-only unless writable is true."""

    def __init__(self, path: str | os.PathLike, writable: bool = False):
        self.path = os.fspath(path)
        self.writable = writable
        self.fd = os.open(self.path, os.O_RDWR if writable else os.O_RDONLY)
        # Blocks a replayed log transaction supplies (see replay_log).
        self.replayed: dict[int, bytes] = {}
        try:
            self.sb = Superblock.unpack(self._pread(0, BSIZE))
        except Exception:
            os.close(self.fd)
            raise

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "Image":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- raw I/O

    def _pread(self, off: int, n: int) -> bytes:
        data = os.pread(self.fd, n, off)
        return data + bytes(n - len(data))  # past the end reads as zeros

    def _pwrite(self, off: int, data: bytes) -> None:
        if not self.writable:
            raise PermissionError(f"{self.path} was opened read-only")
        if os.pwrite(self.fd, data, off) != len(data):
            raise OSError(f"{self.path}: short write at offset {off}")

    def _check_block(self, b: int) -> None:
        if not 0 <= b < self.sb.size:
            raise ValueError(f"block {b} is outside the image (0..{self.sb.size - 1})")

    def read_block(self, b: int) -> bytes:
        """The BSIZE bytes of block b (as replayed, after replay_log)."""
        self._check_block(b)
        if b in self.replayed:
            return self.replayed[b]
        return self._pread(b * BSIZE, BSIZE)

    def write_block(self, b: int, data: bytes) -> None:
        """Replace block b; data must be exactly BSIZE bytes."""
        self._check_block(b)
        if len(data) != BSIZE:
            raise ValueError(f"a block is {BSIZE} bytes, not {len(data)}")
        self._pwrite(b * BSIZE, data)

    def write_bytes(self, b: int, off: int, data: bytes) -> None:
        """Overwrite part of block b, starting off bytes into it."""
        self._check_block(b)
        if off < 0 or off + len(data) > BSIZE:
            raise ValueError("the bytes must lie within one block")
        self._pwrite(b * BSIZE + off, data)

    def write_superblock(self, sb: Superblock) -> None:
        """Replace the superblock (and this object's copy of it)."""
        self.write_bytes(0, 0, sb.pack())
        self.sb = sb

    # -------------------------------------------------------------- inodes

    def inode_location(self, inum: int) -> tuple[int, int]:
        """(block, byte offset in it) of inode inum."""
        if not 0 <= inum < self.sb.ninodes:
            raise ValueError(f"inode {inum} is out of range (0..{self.sb.ninodes - 1})")
        return self.sb.iblock(inum), (inum % IPB) * DINODE_SIZE

    def inode(self, inum: int) -> Dinode:
        """Inode inum, allocated or not."""
        b, off = self.inode_location(inum)
        return Dinode.unpack(inum, self.read_block(b)[off:off + DINODE_SIZE])

    def inodes(self) -> Iterator[Dinode]:
        """Every allocated inode (type != 0), in order."""
        for first in range(0, self.sb.ninodes, IPB):
            block = self.read_block(self.sb.iblock(first))
            for inum in range(first, min(first + IPB, self.sb.ninodes)):
                off = (inum % IPB) * DINODE_SIZE
                d = Dinode.unpack(inum, block[off:off + DINODE_SIZE])
                if d.type != 0:
                    yield d

    def write_inode(self, d: Dinode) -> None:
        """Write d back as inode d.inum."""
        b, off = self.inode_location(d.inum)
        self.write_bytes(b, off, d.pack())

    def set_inode_field(self, inum: int, field: str, value: int) -> None:
        """Set one scalar field ("type", "major", "minor", "nlink", "size")."""
        if field not in DINODE_FIELDS:
            raise ValueError(f"no dinode field {field!r}; use set_addr for addrs")
        foff, fmt = DINODE_FIELDS[field]
        b, off = self.inode_location(inum)
        self.write_bytes(b, off + foff, struct.pack(fmt, value))

    def set_addr(self, inum: int, slot: int, block: int) -> None:
        """Set addrs[slot] of inode inum."""
        if not 0 <= slot < NADDRS:
            raise ValueError(f"addrs has slots 0..{NADDRS - 1}, not {slot}")
        b, off = self.inode_location(inum)
        self.write_bytes(b, off + _ADDRS_OFFSET + 4 * slot, struct.pack("<I", block))

    def free_inode(self) -> int:
        """The lowest free inode number (never 0)."""
        for inum in range(1, self.sb.ninodes):
            if self.inode(inum).type == 0:
                return inum
        raise ValueError("no free inode")

    # -------------------------------------------------------------- block maps

    def indirect_entries(self, ind: int) -> list[int]:
        """The NINDIRECT addresses in indirect block ind (all 0 for ind 0)."""
        if ind == 0:
            return [0] * NINDIRECT
        return list(struct.unpack(f"<{NINDIRECT}I", self.read_block(ind)))

    def set_indirect_entry(self, ind: int, index: int, block: int) -> None:
        """Set entry index of indirect block ind."""
        if not 0 <= index < NINDIRECT:
            raise ValueError(f"an indirect block has entries 0..{NINDIRECT - 1}")
        self.write_bytes(ind, 4 * index, struct.pack("<I", block))

    def bmap(self, d: Dinode, fbn: int) -> int:
        """The block holding file block fbn of d, or 0 for a hole."""
        if fbn < 0 or fbn >= MAXFILE:
            raise ValueError(f"file block {fbn} is out of range")
        if fbn < NDIRECT:
            return d.addrs[fbn]
        fbn -= NDIRECT
        if fbn < NINDIRECT:
            return self.indirect_entries(d.addrs[IND_SLOT])[fbn]
        fbn -= NINDIRECT
        ind = self.indirect_entries(d.addrs[DIND_SLOT])[fbn // NINDIRECT]
        return self.indirect_entries(ind)[fbn % NINDIRECT]

    def block_list(self, d: Dinode) -> list[int]:
        """The block of each file block below d's size (0 for a hole)."""
        n = min(d.nblocks, MAXFILE)
        out = list(d.addrs[:NDIRECT])
        if n > NDIRECT:
            out += self.indirect_entries(d.addrs[IND_SLOT])
        if n > NDIRECT + NINDIRECT:
            dind = self.indirect_entries(d.addrs[DIND_SLOT])
            for k in range(divup(n - NDIRECT - NINDIRECT, NINDIRECT)):
                out += self.indirect_entries(dind[k])
        return out[:n]

    def map_blocks(self, d: Dinode) -> list[int]:
        """The non-zero indirect and double-indirect blocks of d: the blocks
        that hold addresses rather than data."""
        out = []
        if d.addrs[IND_SLOT]:
            out.append(d.addrs[IND_SLOT])
        if d.addrs[DIND_SLOT]:
            out.append(d.addrs[DIND_SLOT])
            out += [b for b in self.indirect_entries(d.addrs[DIND_SLOT]) if b]
        return out

    def used_blocks(self, d: Dinode) -> set[int]:
        """Every block d uses: data blocks below its size and map blocks."""
        return {b for b in self.block_list(d) if b} | set(self.map_blocks(d))

    def read_file(self, inum: int) -> bytes:
        """The contents of inode inum, holes read as zeros."""
        d = self.inode(inum)
        parts = [self.read_block(b) if b else bytes(BSIZE) for b in self.block_list(d)]
        return b"".join(parts)[:d.size]

    # -------------------------------------------------------------- directories

    def dir_slots(self, inum: int) -> list[Dirent]:
        """Every slot of directory inum, free ones included."""
        d = self.inode(inum)
        if d.type != T_DIR:
            raise ValueError(f"inode {inum} is not a directory (type {d.type})")
        data = self.read_file(inum)
        return [Dirent.unpack(i, data[i * DIRENT_SIZE:(i + 1) * DIRENT_SIZE])
                for i in range(len(data) // DIRENT_SIZE)]

    def dir_entries(self, inum: int) -> list[Dirent]:
        """The entries in use in directory inum."""
        return [e for e in self.dir_slots(inum) if e.inum != 0]

    def lookup(self, name: str, dir: int = ROOTINO) -> Optional[int]:
        """The inode number that name has in directory dir, or None."""
        for e in self.dir_entries(dir):
            if e.name == name:
                return e.inum
        return None

    def dirent_location(self, dir: int, slot: int) -> tuple[int, int]:
        """(block, byte offset in it) of slot in directory dir."""
        d = self.inode(dir)
        if not 0 <= slot < d.size // DIRENT_SIZE:
            raise ValueError(f"directory {dir} has no slot {slot}")
        b = self.bmap(d, slot // DIRENTS_PER_BLOCK)
        if b == 0:
            raise ValueError(f"slot {slot} of directory {dir} lies in a hole")
        return b, (slot % DIRENTS_PER_BLOCK) * DIRENT_SIZE

    def write_dirent(self, dir: int, slot: int, inum: int, name: str | bytes) -> None:
        """Write slot of directory dir as (inum, name), the name padded
        with NULs.  A valid name is at most DIRSIZ-1 bytes; a DIRSIZ-byte
        one is accepted, unterminated, for making corrupt images."""
        raw = name.encode("latin-1") if isinstance(name, str) else name
        if len(raw) > DIRSIZ:
            raise ValueError(f"a name is at most {DIRSIZ} bytes")
        b, off = self.dirent_location(dir, slot)
        self.write_bytes(b, off, _DIRENT.pack(inum, raw))

    def free_slot(self, dir: int) -> int:
        """The first free slot of directory dir."""
        for e in self.dir_slots(dir):
            if e.inum == 0:
                return e.slot
        raise ValueError(f"directory {dir} has no free slot")

    # -------------------------------------------------------------- bitmap

    def is_used(self, b: int) -> bool:
        """Whether the bitmap marks block b as in use."""
        self._check_block(b)
        byte = self.read_block(self.sb.bblock(b))[(b % BPB) // 8]
        return bool(byte >> (b % 8) & 1)

    def set_used(self, b: int, used: bool) -> None:
        """Set (used) or clear the bitmap bit of block b."""
        self._check_block(b)
        bb, off = self.sb.bblock(b), (b % BPB) // 8
        byte = self.read_block(bb)[off]
        byte = byte | (1 << b % 8) if used else byte & ~(1 << b % 8)
        self.write_bytes(bb, off, bytes([byte]))

    def free_block(self) -> int:
        """The lowest data block the bitmap marks free."""
        for b in range(self.sb.datastart, self.sb.size):
            if not self.is_used(b):
                return b
        raise ValueError("no free block")

    # -------------------------------------------------------------- log

    def log_header(self) -> LogHeader:
        return LogHeader.unpack(self.read_block(self.sb.logstart))

    def write_log(self, entries: Sequence[tuple[int, bytes]], seq: int = 1,
                  checksum: Optional[int] = None, force: bool = False) -> int:
        """Write a log transaction: entries is a list of (home block,
        BSIZE bytes of new contents).  The log blocks are written first and
        the header last, as the kernel commits.  checksum defaults to the
        correct one; pass another to make a torn (uncommitted) log.  More
        entries than the log holds raise ValueError unless force is true,
        in which case the extra ones overwrite the blocks after the log.
        Returns the checksum written."""
        sb = self.sb
        if len(entries) > LOGMAX:
            raise ValueError(f"a log header describes at most {LOGMAX} blocks")
        if len(entries) > sb.nlog - 1 and not force:
            raise ValueError(f"the log holds only {sb.nlog - 1} blocks")
        homes = [home for home, _ in entries]
        contents = [bytes(data) for _, data in entries]
        for i, data in enumerate(contents):
            self.write_block(sb.logstart + 1 + i, data)
        if checksum is None:
            checksum = log_checksum(seq, homes, contents)
        header = _LOGHEAD.pack(LOG_MAGIC, len(entries), seq, checksum)
        header += struct.pack(f"<{len(homes)}I", *homes)
        self.write_block(sb.logstart, header + bytes(BSIZE - len(header)))
        return checksum

    def committed_log(self) -> Optional[list[tuple[int, bytes]]]:
        """The committed transaction the log holds, as (home block, logged
        contents) pairs in log order, or None.  Committed means what the
        kernel's replay and fsck require: LOG_MAGIC, 0 < n <= the log's
        size, a correct checksum, and every home block in the inode, bitmap
        or data area.  Anything else (an empty, torn or stale log) is never
        replayed."""
        sb = self.sb
        lh = self.log_header()
        if lh.magic != LOG_MAGIC or lh.n == 0 or lh.n > min(LOGMAX, sb.nlog - 1):
            return None
        if sb.logstart + lh.n >= sb.size:
            return None
        contents = [self._pread((sb.logstart + 1 + i) * BSIZE, BSIZE) for i in range(lh.n)]
        if log_checksum(lh.seq, lh.blocks, contents) != lh.checksum:
            return None
        if any(not sb.inodestart <= b < sb.size for b in lh.blocks):
            return None
        return list(zip(lh.blocks, contents))

    def replay_log(self) -> int:
        """Apply the committed log transaction in memory, as the kernel does
        at mount (and fsck before checking): from then on, reads of a
        logged block see its logged contents (the last copy wins); the file
        is not changed, and writes to it go under the replayed copies (this
        is for looking at an image, not for patching one).  Returns the
        number of log blocks applied (0 when the log holds no committed
        transaction)."""
        txn = self.committed_log()
        if txn is None:
            return 0
        for home, data in txn:
            self.replayed[home] = data
        return len(txn)

    def clear_log(self) -> None:
        """Empty the log: LOG_MAGIC with n = 0, as mkfs leaves it."""
        header = _LOGHEAD.pack(LOG_MAGIC, 0, 0, log_checksum(0, [], []))
        self.write_block(self.sb.logstart, header + bytes(BSIZE - len(header)))
