"""crashwork's data pattern: which write left a word, read from the word.

crashwork (user/crashwork.c) fills files with fsop's pattern: the 8-byte
word at file offset o written with seed s holds (o ^ s) * GOLDEN mod 2**64.
GOLDEN is odd, so the product can be undone: from any word and its offset
the checker recovers the seed, and a seed names its file and its write
(tag << 40 | fid << 20 | version; background files have BG_FLAG in the
fid).  That is how a crash image's bytes are told apart: zeros, this
file's own write, another file's data, or garbage.
"""

from __future__ import annotations

import struct
from typing import Iterable

import fsimage

BSIZE = fsimage.BSIZE
GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
GINV = pow(GOLDEN, -1, 1 << 64)     # (o ^ seed) = word * GINV
ZERO = -1                           # the "seed" of a zero word
ZERO_BLOCK = bytes(BSIZE)
BG_FLAG = 0x80000                   # fid bit of the background files


def recover_seed(word: int, off: int) -> int:
    """The seed whose pattern word at offset off is word (ZERO for 0)."""
    if word == 0:
        return ZERO
    return ((word * GINV) & MASK64) ^ off


def pattern_word(off: int, seed: int) -> int:
    return 0 if seed == ZERO else ((off ^ seed) * GOLDEN) & MASK64


_WORDS = struct.Struct(f"<{BSIZE // 8}Q")


def block_runs(data: bytes, base: int) -> tuple[tuple[int, int, int], ...]:
    """A block's words as runs (start, end, seed) of file offsets, for a
    block at file offset base."""
    if data == ZERO_BLOCK:
        return ((base, base + BSIZE, ZERO),)
    words = _WORDS.unpack(data)
    s0 = recover_seed(words[0], base)
    if s0 != ZERO and recover_seed(words[-1], base + BSIZE - 8) == s0 and \
            data == _WORDS.pack(*[((base + 8 * i) ^ s0) * GOLDEN & MASK64
                                  for i in range(BSIZE // 8)]):
        return ((base, base + BSIZE, s0),)
    runs: list[tuple[int, int, int]] = []
    start, cur = base, s0
    for i in range(1, BSIZE // 8):
        off = base + 8 * i
        s = recover_seed(words[i], off)
        if s != cur:
            runs.append((start, off, cur))
            start, cur = off, s
    runs.append((start, base + BSIZE, cur))
    return tuple(runs)


def torn_ok(off: int, seed: int, allowed: Iterable[int]) -> bool:
    """Whether the word at off (whose recovered seed is `seed`) is made of
    bytes of allowed words: a write that raced with writeback may leave a
    word half old, half new, and each byte was still written there."""
    word = pattern_word(off, seed)
    values = [pattern_word(off, s) for s in allowed]
    for k in range(8):
        byte = (word >> (8 * k)) & 0xFF
        if all(((v >> (8 * k)) & 0xFF) != byte for v in values):
            return False
    return True
