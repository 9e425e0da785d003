"""Helpers for tests that drive the page cache with user/fsop.

fsop runs file operations inside Quire and prints one result line per
operation ("OP: NUMBER" or "OP: error ENAME").  The data it writes follows
a pattern that this module can recompute on the host: every 8-byte word at
file offset o (a multiple of 8) holds (o ^ seed) * 0x9E3779B97F4A7C15 modulo
2**64, little-endian.
"""

from __future__ import annotations

import re
import shlex
import struct
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from qemu import Machine

GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


def pattern_word(offset: int, seed: int) -> int:
    """The pattern's 64-bit word at an 8-aligned file offset."""
    return ((offset ^ seed) * GOLDEN) & MASK64


def pattern(offset: int, length: int, seed: int) -> bytes:
    """The pattern's bytes for file offsets [offset, offset + length)."""
    start = offset & ~7
    words = (offset + length - start + 7) // 8
    raw = b"".join(struct.pack("<Q", pattern_word(start + 8 * i, seed))
                   for i in range(words))
    return raw[offset - start:offset - start + length]


def foreign_words(data: bytes, base: int, own_seeds: Iterable[int]) -> list[int]:
    """File offsets of the 8-byte words in data (which starts at file offset
    base, a multiple of 8) that are neither zero nor the pattern of one of
    own_seeds at that offset: bytes the file never had written to it."""
    seeds = list(own_seeds)
    bad = []
    for i in range(0, len(data) - len(data) % 8, 8):
        (word,) = struct.unpack_from("<Q", data, i)
        off = base + i
        if word != 0 and all(word != pattern_word(off, s) for s in seeds):
            bad.append(off)
    return bad


@dataclass
class Result:
    op: str
    value: Optional[int]       # the number printed, if any
    error: Optional[str]       # the errno name, if the operation failed

    def __str__(self) -> str:
        return f"{self.op}: " + (f"error {self.error}" if self.error else str(self.value))


LINE = re.compile(r"^(?P<op>[a-z].*?): (?:error (?P<err>\w+)|(?P<num>-?\d+))$")


def run(m: Machine, *ops: str, timeout: float = 120.0) -> tuple[list[Result], dict[str, int], str]:
    """Run fsop with the given operations.  Returns the results in order,
    the name=value counters any 'wbstat' printed (the last value of each),
    and the raw output."""
    out = m.run("fsop " + " ".join(shlex.quote(o) for o in ops), timeout=timeout)
    results: list[Result] = []
    counters: dict[str, int] = {}
    for line in out.splitlines():
        line = line.strip()
        match = LINE.match(line)
        if match:
            num = match.group("num")
            results.append(Result(match.group("op"), int(num) if num is not None else None,
                                  match.group("err")))
        elif "=" in line and line.split("=", 1)[1].isdigit():
            key, value = line.split("=", 1)
            counters[key] = int(value)
    return results, counters, out


def wbstat_runs(m: Machine, *ops: str, timeout: float = 120.0) -> tuple[list[Result], list[dict[str, int]], str]:
    """Like run(), but returns the counters of each 'wbstat' separately, in
    order."""
    out = m.run("fsop " + " ".join(shlex.quote(o) for o in ops), timeout=timeout)
    results: list[Result] = []
    snaps: list[dict[str, int]] = []
    current: Optional[dict[str, int]] = None
    for line in out.splitlines():
        line = line.strip()
        match = LINE.match(line)
        if match:
            current = None
            num = match.group("num")
            results.append(Result(match.group("op"), int(num) if num is not None else None,
                                  match.group("err")))
        elif "=" in line and line.split("=", 1)[1].isdigit():
            key, value = line.split("=", 1)
            if current is None or key in current:
                current = {}
                snaps.append(current)
            current[key] = int(value)
    return results, snaps, out


def expect(results: Sequence[Result], op: str, value: Optional[int] = None,
           error: Optional[str] = None, nth: int = 0, why: str = "") -> Result:
    """The nth result of operation op, checked against value or error.
    why, if given, starts the message of a failure (the rule broken)."""
    found = [r for r in results if r.op == op]
    lead = f"{why}: " if why else ""
    assert len(found) > nth, \
        f"{lead}fsop printed no result for '{op}' (got: {[str(r) for r in results]})"
    r = found[nth]
    if error is not None:
        assert r.error == error, f"{lead}'{op}' gave {r}, want error {error}"
    else:
        assert r.error is None, f"{lead}'{op}' failed: {r}"
        if value is not None:
            assert r.value == value, f"{lead}'{op}' gave {r.value}, want {value}"
    return r
