"""What crashwork did and what it promised, read from what it printed.

Every operation crashwork made is printed (OP lines), so the host can
rebuild every version of every file; every fsync, fdatasync, msync or sync
that returned 0 is printed as a promise (DURABLE: the whole file at that
moment; ABSENT: a name sync() saw removed).  Workload replays the OP lines
to know, for any point in the run, what each file held and which names it
had; Expectation says what a file may hold in a crash image once a promise
is in effect: each word as at the promise or as a later operation left it,
never older.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from crashpattern import BG_FLAG, ZERO
from crashrun import CheckerError, Run

KV = re.compile(r"(\w+)=(\S+)")
INF = 1 << 62                       # past the end of any file


@dataclass(frozen=True)
class Op:
    t: int              # index among all operations
    step: int
    kind: str           # write, mwrite, trunc, name, rename, unlink
    fid: int = 0
    off: int = 0
    length: int = 0
    seed: int = 0
    size: int = 0
    path: str = ""
    src: str = ""


@dataclass(frozen=True)
class Durable:
    step: int
    t: int              # operations before it
    path: str
    fid: int
    size: int
    ext: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Absent:
    step: int
    t: int
    path: str


Extents = list[tuple[int, int, int]]


def ext_cut(ext: Extents, a: int, b: int) -> Extents:
    out: Extents = []
    for off, n, s in ext:
        end = off + n
        if end <= a or off >= b:
            out.append((off, n, s))
            continue
        if off < a:
            out.append((off, a - off, s))
        if end > b:
            out.append((b, end - b, s))
    return sorted(out)


class Workload:
    """What crashwork did, from its output: every operation in order, and
    what each data-integrity call promised."""

    def __init__(self, run: Run) -> None:
        self.ops: list[Op] = []
        self.durables: list[Durable] = []
        self.absents: list[Absent] = []
        self.dirs_step: Optional[int] = None
        self.step_end: list[int] = []       # operations done by the end of step k
        self.tag = 0
        for st in run.steps:
            for line in st.text.splitlines():
                self._line(st.index, line.strip())
            self.step_end.append(len(self.ops))
        if self.tag == 0:
            raise CheckerError("crashwork printed no TAG line")
        self.fid_ops: dict[int, list[Op]] = {}
        self.binds: dict[str, list[tuple[int, int]]] = {}     # path: (t, fid)
        self.fid_binds: dict[int, list[tuple[int, str]]] = {}
        self.lost: dict[int, list[int]] = {}                  # fid: t it lost its name
        self.seed_op: dict[int, Op] = {}
        cur: dict[str, int] = {}
        for op in self.ops:
            if op.kind in ("write", "mwrite", "trunc"):
                self.fid_ops.setdefault(op.fid, []).append(op)
                if op.kind != "trunc":
                    self.seed_op[op.seed] = op
            elif op.kind == "name":
                self._bind(cur, op.path, op.fid, op.t)
            elif op.kind == "rename":
                if cur.get(op.src) == op.fid:
                    del cur[op.src]
                self._bind(cur, op.path, op.fid, op.t)
            elif op.kind == "unlink":
                fid = cur.pop(op.path, None)
                if fid is not None:
                    self.lost.setdefault(fid, []).append(op.t)
        self._content: dict[tuple[int, int], tuple[int, tuple]] = {}
        self._expect: dict[tuple[int, int, int], Expectation] = {}
        for d in self.durables:
            size, ext = self.content(d.fid, d.t)
            if size != d.size or ext != d.ext:
                raise CheckerError(
                    f"step {d.step}: crashwork's DURABLE {d.path} (size {d.size}) "
                    f"disagrees with its operations (size {size}): checker or "
                    "workload bug")

    def _bind(self, cur: dict[str, int], path: str, fid: int, t: int) -> None:
        old = cur.get(path)
        if old is not None and old != fid:
            self.lost.setdefault(old, []).append(t)
        cur[path] = fid
        self.binds.setdefault(path, []).append((t, fid))
        self.fid_binds.setdefault(fid, []).append((t, path))

    def _line(self, step: int, line: str) -> None:
        try:
            self._parse(step, line)
        except (KeyError, ValueError, IndexError) as e:
            raise CheckerError(f"step {step}: cannot parse crashwork's line {line!r} "
                               f"({type(e).__name__}: {e})") from None

    def _parse(self, step: int, line: str) -> None:
        if line.startswith("OP "):
            kind, _, rest = line[3:].partition(" ")
            kv = dict(KV.findall(rest))
            num = lambda k: int(kv[k], 0) if k in kv else 0  # noqa: E731
            if kind in ("write", "mwrite", "trunc", "name", "rename", "unlink"):
                self.ops.append(Op(
                    len(self.ops), step, kind, fid=num("fid"), off=num("off"),
                    length=num("len"), seed=num("seed"), size=num("size"),
                    path=kv.get("to", kv.get("path", "")), src=kv.get("from", "")))
            else:
                raise CheckerError(f"unknown operation line from crashwork: {line!r}")
        elif line.startswith("DURABLE "):
            parts = line.split()
            kv = dict(KV.findall(line))
            ext: list[tuple[int, int, int]] = []
            if kv["ext"] != "-":
                for item in kv["ext"].split(","):
                    span, _, seed = item.partition("@")
                    off, _, n = span.partition("+")
                    ext.append((int(off), int(n), int(seed, 0)))
            self.durables.append(Durable(step, len(self.ops), parts[1], int(kv["fid"]),
                                         int(kv["size"]), tuple(ext)))
        elif line.startswith("ABSENT "):
            self.absents.append(Absent(step, len(self.ops), line.split()[1]))
        elif line.startswith("DIRS "):
            self.dirs_step = step
        elif line.startswith("TAG "):
            self.tag = int(line.split()[1], 0)

    def content(self, fid: int, t: int) -> tuple[int, tuple]:
        """(size, extents) of file fid after its operations before t."""
        key = (fid, t)
        if key not in self._content:
            size, ext = 0, []
            for op in self.fid_ops.get(fid, []):
                if op.t >= t:
                    break
                if op.kind == "trunc":
                    ext = ext_cut(ext, op.size, INF)
                    size = op.size
                else:
                    ext = sorted(ext_cut(ext, op.off, op.off + op.length)
                                 + [(op.off, op.length, op.seed)])
                    size = max(size, op.off + op.length)
            self._content[key] = (size, tuple(ext))
        return self._content[key]

    def own_seeds(self, fid: int, t_end: int) -> set[int]:
        return {op.seed for op in self.fid_ops.get(fid, [])
                if op.t < t_end and op.kind != "trunc"}

    def candidates(self, path: str, t_end: int) -> list[int]:
        """Files that had the name path at some time before t_end."""
        out: list[int] = []
        for t, fid in self.binds.get(path, []):
            if t < t_end and fid not in out:
                out.append(fid)
        return out

    def expectation(self, d: Durable, t_end: int) -> "Expectation":
        key = (d.fid, d.t, t_end)
        if key not in self._expect:
            later = [op for op in self.fid_ops.get(d.fid, []) if d.t <= op.t < t_end]
            self._expect[key] = Expectation(d, later)
        return self._expect[key]

    def describe_seed(self, seed: int) -> str:
        if seed == ZERO:
            return "zeros"
        if seed >> 40 != self.tag:
            return f"bytes no write made (seed {seed:#x}: stale metadata or garbage)"
        fid = (seed >> 20) & 0xFFFFF
        if fid & BG_FLAG:
            return f"data of background file bg/g{fid & ~BG_FLAG} (seed {seed:#x})"
        op = self.seed_op.get(seed)
        where = f", written at op {op.t} in step {op.step}" if op else ", never written"
        return f"data of file fid {fid} (seed {seed:#x}{where})"


class Expectation:
    """What a file may hold after a promise: each word as at the promise,
    or as after any later operation (up to the state's end of time)."""

    def __init__(self, d: Durable, later: list[Op]) -> None:
        self.durable = d
        self.later = later
        sizes = [d.size]
        points = {0}
        for off, n, _ in d.ext:
            points.update((off, off + n))
        size = d.size
        for op in later:
            if op.kind == "trunc":
                size = op.size
                points.add(op.size)
            else:
                size = max(size, op.off + op.length)
                points.update((op.off, op.off + op.length))
            sizes.append(size)
        self.size_lo, self.size_hi = min(sizes), max(sizes)
        self.bounds = sorted(p for p in points if p < INF) + [INF]
        self.sets: list[frozenset[int]] = []
        for a in self.bounds[:-1]:
            allowed = {ZERO}
            for off, n, s in d.ext:
                if off <= a < off + n:
                    allowed = {s}
                    break
            for op in later:
                if op.kind == "trunc":
                    if op.size <= a:
                        allowed.add(ZERO)
                elif op.off <= a < op.off + op.length:
                    allowed.add(op.seed)
            self.sets.append(frozenset(allowed))

    def pieces(self, a: int, b: int) -> Iterable[tuple[int, int, frozenset[int]]]:
        i = bisect.bisect_right(self.bounds, a) - 1
        while i < len(self.sets) and self.bounds[i] < b:
            yield max(a, self.bounds[i]), min(b, self.bounds[i + 1]), self.sets[i]
            i += 1
