#!/usr/bin/env python3
"""The crash checker: Quire's durability promises, checked on every disk a
power cut could leave.

    python3 grade/crashcheck.py [--seed N] [--states N] [--boots N] ...
    python3 grade/crashcheck.py --from DIR [--state DESC --save-image PATH]

It runs the workload user/crashwork under QEMU's blklogwrites driver, which
records every write and FLUSH the guest sends, then rebuilds from that log
the disk images a power cut could leave, and checks each one:

1. fsck is clean (it replays a committed log transaction first, as the
   kernel does at mount);
2. every file shows only bytes written to it: each 8-byte word is zero or
   the pattern word of one of that file's own writes (the workload's
   pattern makes the seed of any word computable, so a word from another
   file, from stale metadata or from nowhere is caught and named);
3. after fsync, fdatasync, msync(MS_SYNC) or sync returned 0 (a DURABLE
   line of the workload), the file is there with that content, or with a
   later version of each word: at or after the call, never before it;
   names it listed ABSENT after sync stay gone; files the workload never
   touched are unchanged.

A sample of the states is booted in QEMU, where `ls` and fsop must read
back exactly what the host found in the image, and fsck must be clean
after the kernel's own replay.

The power-cut model.  The disk has a volatile write cache: a write is sure
to be on the platter only once a FLUSH issued after its completion has
completed.  A crash state is the initial image, plus every logged write up
to some FLUSH F (or none: F = -1), plus any subset of the writes logged
after F and before the next FLUSH.  Writes are units of one 4096-byte
block: a multi-block request may be torn.  The states checked are
  - prefix: every FLUSH, with nothing after it;
  - single / allbut: for every block write to the log header, the inode
    table or the bitmap, the state with only that write after its FLUSH,
    and the state with every write of that window but it;
  - random: a random FLUSH, a random cut point in the window after it, and
    a random subset of the writes up to the cut (seeded: --state-seed).
Each state has a description ("random F=120 +121-125,127.1") from which
--state rebuilds it exactly.

Why the log can be trusted (QEMU 7.2, block/blklogwrites.c): a request
first goes to the image file, then gets its log slot and is written to the
log, and only then completes to the guest.  So (a) every request the guest
has seen complete is in the log file; (b) the log is in order of
completion at the image file, and a FLUSH is logged after it completed, so
every write logged before a FLUSH completed before that FLUSH finished.
The model therefore treats writes logged before a FLUSH as covered by it.
What it cannot see is a write still in flight when the guest issued the
FLUSH that completed just before the FLUSH did: a kernel that FLUSHes
without waiting for its writes is caught only when the write lands after
the FLUSH in the log.

Tying promises to the log.  The host drives the workload one step at a
time and, each time a step's "READY k" arrives, notes the log file's size
S_k.  A DURABLE line of step k was printed after its call's FLUSH
completed, so that FLUSH ends at or before S_k: the promise holds in every
state whose FLUSH is at or after the last FLUSH ending by S_k.  A crash
state whose last included write ends by S_k can only show operations of
steps up to k (later steps had not begun when the host read S_k), so each
file is compared with its versions from the promise up to the end of the
first step whose S_k covers the state.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fsimage  # noqa: E402
import fsop  # noqa: E402
import writelog  # noqa: E402
from qemu import (FS_IMAGE, KERNEL, REPO, Drive, LogWrites, Machine,  # noqa: E402
                  MachineError, copy_sparse, scaled)

BSIZE = fsimage.BSIZE
GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
GINV = pow(GOLDEN, -1, 1 << 64)     # (o ^ seed) = word * GINV
ZERO = -1                           # the "seed" of a zero word
ZERO_BLOCK = bytes(BSIZE)
INF = 1 << 62
BG_FLAG = 0x80000                   # fid bit of the background files
FSCK = REPO / "mkfs" / "fsck"

READY = re.compile(r"(?m)^READY (\d+)( last)?\n")
KV = re.compile(r"(\w+)=(\S+)")

Unit = tuple[int, int]              # (log entry, block within the entry)


class CheckerError(Exception):
    """The check itself could not be done (not a violation)."""


# ---------------------------------------------------------------- patterns

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


# ---------------------------------------------------------------- the workload

@dataclass
class Step:
    index: int
    log_bytes: int      # the log file's size when READY index was read
    text: str           # what the step printed before READY


@dataclass
class Run:
    seed: int
    nsteps: int
    steps: list[Step]
    base: Path          # the image before the workload
    log: Path           # the blklogwrites log
    kernel: Path
    seconds: float = 0.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "seed": self.seed, "nsteps": self.nsteps, "base": str(self.base),
            "log": str(self.log), "kernel": str(self.kernel), "seconds": self.seconds,
            "steps": [{"index": s.index, "log_bytes": s.log_bytes, "text": s.text}
                      for s in self.steps]}, indent=1))

    @classmethod
    def load(cls, path: Path) -> "Run":
        raw = json.loads(path.read_text())
        d = path.parent
        base = Path(raw["base"])
        log = Path(raw["log"])
        # The directory may have moved: prefer files beside run.json.
        if (d / base.name).exists():
            base = d / base.name
        if (d / log.name).exists():
            log = d / log.name
        return cls(raw["seed"], raw["nsteps"],
                   [Step(s["index"], s["log_bytes"], s["text"]) for s in raw["steps"]],
                   base, log, Path(raw["kernel"]), raw.get("seconds", 0.0))


def run_workload(workdir: Path, seed: int, nsteps: int, kernel: Path = KERNEL,
                 image: Path = FS_IMAGE, cpus: int = 2, mem: str = "128M",
                 timeout: float = 60.0) -> Run:
    """Boot Quire on a copy of image under blklogwrites, run crashwork step
    by step, noting the log's size after each step; then pull the plug.
    Leaves base.img, writes.log, run.json and the machine's directory in
    workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    base = copy_sparse(image, workdir / "base.img")
    disk = copy_sparse(base, workdir / "disk.img")
    log = workdir / "writes.log"
    steps: list[Step] = []
    drive = Drive(logwrites=LogWrites(log=log))
    with Machine(cpus=cpus, mem=mem, image=disk, drive=drive, kernel=kernel,
                 workdir=workdir / "workload", name="crash workload") as m:
        m.boot()
        m.mark()
        start = len(m.output)
        m.sendline(f"crashwork {seed} {nsteps}")
        while True:
            match = m.wait_for(READY, timeout,
                               what=f"READY {len(steps)} from crashwork")
            size = os.stat(log).st_size
            text = m.output[start:match.start()]
            index = int(match.group(1))
            if index != len(steps):
                raise CheckerError(f"crashwork printed READY {index}, expected "
                                   f"READY {len(steps)}")
            err = re.search(r"(?m)^ERROR .*$", text)
            if err:
                raise CheckerError(f"crashwork failed in step {index}: {err.group(0)}")
            steps.append(Step(index, size, text))
            start = match.end()
            if match.group(2):
                break
            m.sendline("")
        m.kill()
    run = Run(seed, nsteps, steps, base, log, Path(kernel), time.monotonic() - t0)
    run.save(workdir / "run.json")
    disk.unlink()
    return run


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


# ---------------------------------------------------------------- the log

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


def generate_states(log: CrashLog, is_meta, nrandom: int, rng: random.Random
                    ) -> list[State]:
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


# ---------------------------------------------------------------- building images

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


# ---------------------------------------------------------------- checking

@dataclass
class Verdict:
    state: State
    problems: list[str]
    replayed: int = 0           # log blocks the mount would replay
    files: dict[str, tuple[int, int, list[tuple[int, int, int]]]] = field(default_factory=dict)


class Checker:
    def __init__(self, run: Run, fsck: Path = FSCK) -> None:
        self.run = run
        self.fsck = fsck
        self.log = CrashLog(run.log)
        self.work = Workload(run)
        if len(run.steps) != len(self.work.step_end):
            raise CheckerError("steps and their outputs disagree")
        with fsimage.Image(run.base) as img:
            self.sb = img.sb
            self.base_root = {e.name: (e.inum, img.inode(e.inum).pack())
                              for e in img.dir_entries(fsimage.ROOTINO)}
            base_blocks: set[int] = set()
            for name, (inum, _) in self.base_root.items():
                if name not in (".", ".."):
                    base_blocks |= img.used_blocks(img.inode(inum))
        self.base_writes = [u for e in self.log.entries for u in
                            [(e.index, i) for i in range(e.nr_sectors)]
                            if self.log.block(u) in base_blocks]
        # The FLUSH from which each step's promises hold.
        self.step_flush = [self.log.last_flush_by(s.log_bytes) for s in run.steps]
        self.promise_flush = {d: self.step_flush[d.step] for d in self.work.durables}
        self.runs_cache: dict[tuple[int, bytes], tuple[tuple[int, int, int], ...]] = {}
        self.builder: Optional[Builder] = None

    def is_meta(self, b: int) -> bool:
        return b == self.sb.logstart or self.sb.inodestart <= b < self.sb.datastart

    def t_end(self, st: State) -> int:
        """Operations a state may show: those of the steps up to the first
        one whose READY came after its last write was logged."""
        last = st.last
        if last < 0:
            return self.work.step_end[0]
        end = self.log.ends[last]
        for k, s in enumerate(self.run.steps):
            if end <= s.log_bytes:
                return self.work.step_end[k]
        return len(self.work.ops)

    def open_builder(self, work: Path) -> Builder:
        self.builder = Builder(self.log, self.run.base, work)
        return self.builder

    # ------------------------------------------------------------ one state

    def check(self, st: State, keep_files: bool = False) -> Verdict:
        assert self.builder is not None
        self.builder.goto(st)
        v = Verdict(st, [])
        try:
            r = subprocess.run([str(self.fsck), str(self.builder.work)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=scaled(60))
        except subprocess.TimeoutExpired:
            raise CheckerError(f"fsck did not finish within {scaled(60):g} s on "
                               f"{st.describe(self.log)}") from None
        if r.returncode != 0:
            lines = r.stdout.strip().splitlines()
            more = f" (and {len(lines) - 4} more)" if len(lines) > 4 else ""
            v.problems.append(f"fsck exit {r.returncode}: " + "; ".join(lines[:4]) + more)
        try:
            with fsimage.Image(self.builder.work) as img:
                v.replayed = img.replay_log()
                self._check_image(img, st, v, keep_files)
        except Exception as e:      # a damaged image may break any reader
            v.problems.append(f"the image cannot be read: {type(e).__name__}: {e}")
        return v

    def _check_image(self, img: fsimage.Image, st: State, v: Verdict,
                     keep_files: bool) -> None:
        w = self.work
        t_end = self.t_end(st)
        root = {e.name: e.inum for e in img.dir_entries(fsimage.ROOTINO)}
        for name, (inum, raw) in self.base_root.items():
            if root.get(name) != inum:
                v.problems.append(f"/{name}: was inode {inum} before the workload, "
                                  f"now {root.get(name)}")
            elif name not in (".", "..") and img.inode(inum).pack() != raw:
                v.problems.append(f"/{name}: its inode changed, though the workload "
                                  "never touched it")
        for name, inum in root.items():
            # init makes /console (a device) at boot if the image has none.
            if name not in self.base_root and name not in ("cw", "bg") and \
                    img.inode(inum).type != fsimage.T_DEVICE:
                v.problems.append(f"/{name}: a name the workload never created")
        dirs_due = w.dirs_step is not None and self.step_flush[w.dirs_step] <= st.flush
        dirs: dict[str, dict[str, int]] = {}
        for d in ("cw", "bg"):
            if d not in root:
                if dirs_due:
                    v.problems.append(f"/{d} is missing, though sync() returned after "
                                      f"mkdir (step {w.dirs_step})")
                continue
            if img.inode(root[d]).type != fsimage.T_DIR:
                v.problems.append(f"/{d} is not a directory")
                continue
            dirs[d] = {e.name: e.inum for e in img.dir_entries(root[d])
                       if e.name not in (".", "..")}

        # The promises in effect: the latest DURABLE of each file whose
        # FLUSH is at or before this state's.
        promised: dict[int, Durable] = {}
        for d in w.durables:
            if self.promise_flush[d] <= st.flush:
                promised[d.fid] = d
        cw = dirs.get("cw", {})
        results: dict[str, dict[int, list[str]]] = {}
        shown: set[str] = set()         # paths whose problems are reported
        for name, inum in sorted(cw.items()):
            path = "cw/" + name
            cands = w.candidates(path, t_end)
            if not cands:
                v.problems.append(f"{path}: a name the workload had not created "
                                  f"(by op {t_end})")
                continue
            got = self._file(img, inum, path, v, keep_files)
            if got is None:
                continue
            size, runs, blocks = got
            res: dict[int, list[str]] = {}
            for fid in cands:
                d = promised.get(fid)
                if d is not None:
                    res[fid] = self._versions(path, fid, w.expectation(d, max(t_end, d.t)),
                                              size, runs, blocks)
                else:
                    res[fid] = self._own(path, fid, w.own_seeds(fid, t_end), size, runs,
                                         blocks)
            results[path] = res
            if all(res[fid] for fid in cands):
                best = next((fid for fid in cands if fid in promised), cands[0])
                v.problems += res[best][:3]
                shown.add(path)
        for fid, d in promised.items():
            if any(d.t <= t < t_end for t in w.lost.get(fid, [])):
                continue        # deleted or renamed over since: may be gone
            names = {d.path} | {p for t, p in w.fid_binds.get(fid, []) if d.t <= t < t_end}
            if any(results.get(p, {}).get(fid) == [] for p in names) or names & shown:
                continue
            present = [p for p in names if p in results]
            why = "; ".join(results[p][fid][0] for p in present if results[p].get(fid)) \
                or "no such file"
            v.problems.append(
                f"fid {fid}: made durable as {d.path} in step {d.step} (size {d.size}), "
                f"but the crash image has no file that matches at "
                f"{' or '.join(sorted(names))}: {why}")
        for a in w.absents:
            if self.step_flush[a.step] > st.flush:
                continue
            if any(a.t <= t < t_end for t, _ in w.binds.get(a.path, [])):
                continue
            if a.path.startswith("cw/") and a.path[3:] in cw:
                v.problems.append(f"{a.path}: still there, though it was removed and "
                                  f"sync() returned (step {a.step})")
        for name, inum in sorted(dirs.get("bg", {}).items()):
            m = re.fullmatch(r"g(\d+)", name)
            path = "bg/" + name
            if not m:
                v.problems.append(f"{path}: a name the background process never uses")
                continue
            got = self._file(img, inum, path, v, keep_files)
            if got is None:
                continue
            base = (w.tag << 40) | ((BG_FLAG | int(m.group(1))) << 20)
            v.problems += self._own(path, BG_FLAG | int(m.group(1)),
                                    {base | j for j in range(4)}, *got)[:3]
        if self.base_writes:
            hit = [u for u in self.base_writes if u[0] <= st.last]
            if hit:
                v.problems.append(
                    f"log entries {format_units(hit[:8], self.log)} wrote blocks of files "
                    "that were on the disk before the workload and never changed")

    def _file(self, img: fsimage.Image, inum: int, path: str, v: Verdict,
              keep: bool) -> Optional[tuple[int, list[tuple[int, int, int]], list[int]]]:
        """(size, runs of seeds below the size, disk blocks) of a file."""
        d = img.inode(inum)
        if d.type != fsimage.T_FILE:
            v.problems.append(f"{path}: inode {inum} has type {d.type}, not a file")
            return None
        size = d.size
        blocks = img.block_list(d)
        runs: list[tuple[int, int, int]] = []
        limit = size - size % 8
        for fbn, b in enumerate(blocks):
            start = fbn * BSIZE
            if start >= limit:
                break
            if b == 0:
                block = ((start, start + BSIZE, ZERO),)
            else:
                data = img.read_block(b)
                key = (fbn, hashlib.blake2b(data, digest_size=16).digest())
                block = self.runs_cache.get(key)
                if block is None:
                    block = self.runs_cache[key] = block_runs(data, start)
            for a, e, s in block:
                e = min(e, limit)
                if a >= e:
                    break
                if runs and runs[-1][2] == s and runs[-1][1] == a:
                    runs[-1] = (runs[-1][0], e, s)
                else:
                    runs.append((a, e, s))
        if keep:
            v.files[path] = (inum, size, runs)
        return size, runs, blocks

    def _where(self, off: int, blocks: list[int]) -> str:
        fbn = off // BSIZE
        if fbn >= len(blocks) or blocks[fbn] == 0:
            return "a hole"
        b = blocks[fbn]
        assert self.builder is not None
        return f"disk block {b}, {self.builder.source(b)}"

    def _bad(self, path: str, fid: int, a: int, b: int, seed: int, blocks: list[int],
             why: str) -> str:
        return (f"{path} (fid {fid}): bytes {a}..{b} hold "
                f"{self.work.describe_seed(seed)} [{self._where(a, blocks)}]; {why}")

    def _own(self, path: str, fid: int, seeds: set[int], size: int,
             runs: list[tuple[int, int, int]], blocks: list[int]) -> list[str]:
        """Problems if the file holds a word that is neither zero nor the
        pattern of one of its own writes."""
        out = []
        if size % 8:
            out.append(f"{path} (fid {fid}): size {size}, which no operation set")
        for a, b, s in runs:
            if s == ZERO or s in seeds:
                continue
            if b - a == 8 and torn_ok(a, s, seeds | {ZERO}):
                continue
            out.append(self._bad(path, fid, a, b, s, blocks,
                                 "never written to this file"))
        return out

    def _versions(self, path: str, fid: int, x: Expectation, size: int,
                  runs: list[tuple[int, int, int]], blocks: list[int]) -> list[str]:
        """Problems if the file is not as promised: its size, and each word
        as at the promise or as some later operation left it."""
        d = x.durable
        out = []
        due = (f"made durable in step {d.step} as {d.path}"
               + (f", {len(x.later)} operations on it since" if x.later else ""))
        if not x.size_lo <= size <= x.size_hi or size % 8:
            want = (f"{x.size_lo}" if x.size_lo == x.size_hi
                    else f"{x.size_lo}..{x.size_hi}")
            out.append(f"{path} (fid {fid}): size {size}, expected {want} ({due})")
        for a, b, s in runs:
            for pa, pb, allowed in x.pieces(a, b):
                if s in allowed:
                    continue
                if pb - pa == 8 and torn_ok(pa, s, allowed):
                    continue
                names = ", ".join(self.work.describe_seed(q) for q in sorted(allowed)[:3])
                out.append(self._bad(path, fid, pa, pb, s, blocks,
                                     f"expected {names} ({due})"))
        return out


# ---------------------------------------------------------------- parallel runs

_CHECKER: Optional[Checker] = None


def _worker_init(workdir: str) -> None:
    assert _CHECKER is not None
    _CHECKER.open_builder(Path(workdir) / f"work-{os.getpid()}.img")


def _worker_chunk(states: list[State]) -> list[Verdict]:
    assert _CHECKER is not None
    return [_CHECKER.check(st) for st in states]


def check_states(checker: Checker, states: list[State], workdir: Path, jobs: int
                 ) -> list[Verdict]:
    """Check every state, with `jobs` processes (each its own work image)."""
    global _CHECKER
    if jobs <= 1 or len(states) < 64:
        checker.open_builder(workdir / "work.img")
        return [checker.check(st) for st in states]
    _CHECKER = checker
    size = max(16, len(states) // (jobs * 4))
    chunks = [states[i:i + size] for i in range(0, len(states), size)]
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(jobs, initializer=_worker_init, initargs=(str(workdir),)) as pool:
            out: list[Verdict] = []
            for part in pool.imap(_worker_chunk, chunks):
                out += part
            return out
    finally:
        _CHECKER = None
        for p in workdir.glob("work-*.img"):
            p.unlink()


# ---------------------------------------------------------------- booting states

def boot_state(checker: Checker, st: State, workdir: Path, kernel: Path) -> list[str]:
    """Boot Quire on a crash state: the kernel must mount it (replaying the
    log), list the directories and read every file exactly as the host
    found it; after a clean halt fsck must be clean.  Returns problems."""
    workdir.mkdir(parents=True, exist_ok=True)
    if checker.builder is None:
        checker.open_builder(workdir.parent / "work.img")
    v = checker.check(st, keep_files=True)
    assert checker.builder is not None
    image = copy_sparse(checker.builder.work, workdir / "crash.img")
    problems: list[str] = []
    try:
        with Machine(cpus=1, image=image, kernel=kernel, workdir=workdir / "machine",
                     name=f"crash state {st.describe(checker.log)[:40]}") as m:
            m.boot()
            for d in ("cw", "bg"):
                want = {p.split("/", 1)[1]: (inum, size) for p, (inum, size, _)
                        in v.files.items() if p.startswith(d + "/")}
                if not want and d not in m.run("ls"):
                    continue
                got = {}
                for line in m.run(f"ls {d}").splitlines():
                    f = line.split()
                    if len(f) == 4 and f[0] not in (".", ".."):
                        got[f[0]] = (int(f[2]), int(f[3]))
                if got != want:
                    problems.append(f"ls {d} in Quire shows {sorted(got.items())}, "
                                    f"the host found {sorted(want.items())}")
            for path, (inum, size, runs) in sorted(v.files.items()):
                ops = []
                for a, b, s in runs:
                    if s == ZERO:
                        ops.append(f"zero a {a} {b - a}")
                    elif s < 1 << 63:         # fsop's strtol takes no more
                        ops.append(f"check a {a} {b - a} {s:#x}")
                # The console takes lines of up to 255 characters.
                parts: list[list[str]] = [[f"open a {path} r", "size a"]]
                for op in ops:
                    if sum(len(x) + 3 for x in parts[-1]) + len(op) > 200:
                        parts.append([f"open a {path} r"])
                    parts[-1].append(op)
                for part in parts:
                    results, _, out = fsop.run(m, *part, timeout=30)
                    for r in results:
                        if r.op.startswith("open") and r.error:
                            problems.append(f"Quire cannot open {path}: {r}")
                        elif r.op == "size a" and r.value != size:
                            problems.append(f"Quire says {path} has size {r.value}, "
                                            f"the host found {size}")
                        elif r.op.startswith(("check", "zero")) and r.value != 0:
                            problems.append(f"Quire reads {path} differently from the "
                                            f"host: '{r.op}' gave {r}")
                    if len(results) != len(part):
                        problems.append(f"fsop on {path} printed {len(results)} results "
                                        f"for {len(part)} operations:\n{out}")
            status = m.poweroff()
            if status != 0:
                problems.append(f"QEMU exited with status {status} after halt")
    except MachineError as e:
        problems.append(f"Quire failed on the crash image: {e.reason}\n{e.tail}")
        return problems
    r = subprocess.run([str(checker.fsck), str(image)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=scaled(60))
    if r.returncode != 0:
        problems.append(f"fsck after Quire mounted the crash image: exit "
                        f"{r.returncode}: {r.stdout.strip()[:500]}")
    image.unlink()
    return problems


# ---------------------------------------------------------------- self-test

def selftest(checker: Checker, states: list[State]) -> Optional[str]:
    """Make sure the checker notices another file's bytes: copy a data block
    of one file over a block of a file with a promise in the last prefix
    state, and check that state again.  Returns None if the check found
    the damage, else what went wrong.  Leaves the work image as it was."""
    prefixes = [st for st in states if st.kind == "prefix" and st.flush >= 0]
    if not prefixes or checker.builder is None:
        return "no prefix state to damage"
    st = prefixes[-1]
    v = checker.check(st, keep_files=True)
    if v.problems:
        return None          # already reported as a violation
    b = checker.builder
    promised = {d.path for d in checker.work.durables
                if checker.promise_flush[d] <= st.flush}
    with fsimage.Image(b.work) as img:
        img.replay_log()
        blocks: dict[str, list[int]] = {}
        for path, (inum, size, _) in v.files.items():
            blocks[path] = [x for x in img.block_list(img.inode(inum)) if x][:size // BSIZE]
    victims = [p for p in sorted(blocks) if p in promised and blocks[p]]
    for victim in victims:
        donors = [(p, x) for p in sorted(blocks) if p != victim for x in blocks[p]]
        if not donors:
            continue
        target, (donor, src) = blocks[victim][0], donors[0]
        saved = os.pread(b.fd, BSIZE, target * BSIZE)
        os.pwrite(b.fd, os.pread(b.fd, BSIZE, src * BSIZE), target * BSIZE)
        try:
            damaged = checker.check(st)     # goto() leaves the damage alone
        finally:
            os.pwrite(b.fd, saved, target * BSIZE)
        if not any(victim in p for p in damaged.problems):
            return (f"the checker did not notice {donor}'s block {src} copied over "
                    f"{victim}'s block {target} in state {st.describe(checker.log)}")
        return None
    return "no file with a promise and a data block in the last prefix state"


# ---------------------------------------------------------------- the report

@dataclass
class Violation:
    state: str
    problems: list[str]


@dataclass
class Report:
    seed: int
    state_seed: int
    entries: int
    flushes: int
    counts: dict[str, int]
    violations: list[Violation]
    boots: int                          # random states booted (no log to replay)
    replay_boots: int                   # states booted whose log the kernel replays
    boot_problems: list[Violation]      # of the random ones
    replay_problems: list[Violation]    # of those with a log to replay
    selftest: Optional[str]
    seconds: dict[str, float]
    workdir: Optional[Path] = None

    @property
    def checked(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return not (self.violations or self.boot_problems or self.replay_problems
                    or self.selftest)

    def summary(self, limit: int = 5) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        lines = [
            f"crashcheck: seed {self.seed}, state seed {self.state_seed}: "
            f"{self.entries} log entries, {self.flushes} FLUSHes",
            f"  {self.checked} crash states checked ({kinds}); "
            f"{len(self.violations)} with violations",
            f"  booted in Quire: {self.boots} random states "
            f"({len(self.boot_problems)} with problems), {self.replay_boots} with a "
            f"log to replay ({len(self.replay_problems)} with problems)",
            "  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()),
        ]
        if self.selftest:
            lines.append(f"  checker self-test FAILED: {self.selftest}")
        first = (self.violations + self.boot_problems + self.replay_problems)[:1]
        if first and self.workdir is not None:
            lines.append(f"  to look at one again: python3 grade/crashcheck.py --from "
                         f"{self.workdir} --state '{first[0].state}' --save-image crash.img")
        for title, items in (("violation", self.violations),
                             ("boot problem", self.boot_problems),
                             ("replay boot problem", self.replay_problems)):
            for viol in items[:limit]:
                lines.append(f"{title} in state: {viol.state}")
                lines += [f"    {p}" for p in viol.problems[:6]]
                if len(viol.problems) > 6:
                    lines.append(f"    ... and {len(viol.problems) - 6} more")
            if len(items) > limit:
                lines.append(f"... {len(items) - limit} more states with a {title}")
        return "\n".join(lines)

    def save(self, path: Path) -> None:
        def views(items: list[Violation]) -> list[dict]:
            return [{"state": x.state, "problems": x.problems} for x in items]
        path.write_text(json.dumps({
            "seed": self.seed, "state_seed": self.state_seed, "entries": self.entries,
            "flushes": self.flushes, "counts": self.counts, "checked": self.checked,
            "boots": self.boots, "replay_boots": self.replay_boots,
            "selftest": self.selftest, "seconds": self.seconds,
            "violations": views(self.violations),
            "boot_problems": views(self.boot_problems),
            "replay_problems": views(self.replay_problems)}, indent=1))


def check_run(run: Run, workdir: Path, nrandom: int = 1000, state_seed: int = 1,
              boots: int = 2, replay_boots: int = 1, jobs: int = 2,
              kernel: Optional[Path] = None, only: Sequence[str] = ()) -> Report:
    """Check the crash states of a recorded run (see run_workload), then
    boot `boots` random states that hold no committed log and
    `replay_boots` that do (the kernel replays it at mount)."""
    t0 = time.monotonic()
    checker = Checker(run)
    if only:
        states = [parse_state(s, checker.log) for s in only]
    else:
        states = generate_states(checker.log, checker.is_meta, nrandom,
                                 random.Random(state_seed))
    verdicts = check_states(checker, states, workdir, jobs)
    if checker.builder is None:
        checker.open_builder(workdir / "work.img")
    problem = None if only else selftest(checker, states)
    t1 = time.monotonic()
    counts: dict[str, int] = {}
    for st in states:
        counts[st.kind] = counts.get(st.kind, 0) + 1
    violations = [Violation(v.state.describe(checker.log), v.problems)
                  for v in verdicts if v.problems]
    rng = random.Random(state_seed * 7919 + 1)
    clean = [(st, v) for st, v in zip(states, verdicts) if not v.problems and st.units]
    plain = [st for st, v in clean if not v.replayed]
    replaying = [st for st, v in clean if v.replayed]
    booted: list[list[Violation]] = [[], []]
    samples = (rng.sample(plain, min(boots, len(plain))),
               rng.sample(replaying, min(replay_boots, len(replaying))))
    for which, sample in enumerate(samples):
        for i, st in enumerate(sample):
            name = f"boot{i + 1}" if which == 0 else f"replay{i + 1}"
            probs = boot_state(checker, st, workdir / name, kernel or run.kernel)
            if probs:
                booted[which].append(Violation(st.describe(checker.log), probs))
    t2 = time.monotonic()
    checker.builder.close()
    checker.builder.work.unlink()
    return Report(run.seed, state_seed, len(checker.log.entries), len(checker.log.flushes),
                  counts, violations, len(samples[0]), len(samples[1]),
                  booted[0], booted[1], problem,
                  {"workload": run.seconds, "states": t1 - t0, "boots": t2 - t1},
                  workdir)


# ---------------------------------------------------------------- images

# The programs a crash image needs: to boot, to run the workload, to look.
PROGRAMS = ("init", "sh", "crashwork", "ls", "fsop", "halt")


def make_image(dest: Path, size_mb: int = 6, mkfs: Path = REPO / "mkfs" / "mkfs") -> Path:
    """A small file system holding only PROGRAMS.  Small on purpose: the
    workload writes more than it holds, so the allocator comes round to
    blocks that other files freed, which is where another file's bytes
    would show."""
    progs = [REPO / "user" / f"_{p}" for p in PROGRAMS]
    missing = [str(p) for p in progs + [mkfs] if not p.exists()]
    if missing:
        raise CheckerError(f"missing {', '.join(missing)}: run make first")
    r = subprocess.run([str(mkfs), "-s", str(size_mb), str(dest), *map(str, progs)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=scaled(60))
    if r.returncode != 0:
        raise CheckerError(f"mkfs failed: {r.stdout.strip()}")
    return dest


# ---------------------------------------------------------------- command line

def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Run user/crashwork under QEMU's write log, rebuild the disks a "
        "power cut could leave, and check Quire's promises on each (fsck clean, no "
        "foreign bytes, synced data kept).  Exit status: 0 all good, 1 violations "
        "found, 2 the check could not be done.",
        epilog="Examples: crashcheck.py --seed 3 --states 3000 --workdir /tmp/cc; "
        "crashcheck.py --from /tmp/cc --state 'random F=120 +121-125,127.1' "
        "--save-image /tmp/crash.img")
    ap.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    ap.add_argument("--steps", type=int, default=40, help="workload steps (default 40)")
    ap.add_argument("--states", type=int, default=1000,
                    help="random crash states, besides the prefix, single and allbut "
                    "ones (default 1000)")
    ap.add_argument("--state-seed", type=int, default=1,
                    help="seed of the random states and of the boot sample (default 1)")
    ap.add_argument("--boots", type=int, default=2,
                    help="random states to boot in QEMU (default 2)")
    ap.add_argument("--replay-boots", type=int, default=1,
                    help="states with a committed log to boot (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes checking states (default: one per CPU)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the workload machine")
    ap.add_argument("--kernel", type=Path,
                    help="kernel to run (default kernel/kernel; with --from, the "
                    "run's kernel)")
    ap.add_argument("--image", type=Path,
                    help="initial disk image (default: a new small one, see --image-mb)")
    ap.add_argument("--image-mb", type=int, default=6,
                    help="size of the default image in MiB (default 6)")
    ap.add_argument("--workdir", type=Path,
                    help="keep the run here (base.img, writes.log, run.json, "
                    "report.json); default: a temporary directory, removed")
    ap.add_argument("--from", dest="from_dir", type=Path,
                    help="check the run recorded in this directory instead of running")
    ap.add_argument("--state", action="append", default=[],
                    help="check only this state (a description from a report); "
                    "may be repeated")
    ap.add_argument("--save-image", type=Path,
                    help="with one --state: also write that crash image here")
    ap.add_argument("--show", type=int, default=5, help="violations to print (default 5)")
    args = ap.parse_args(argv)
    if args.save_image and len(args.state) != 1:
        ap.error("--save-image needs exactly one --state")

    tmp = None
    workdir = args.workdir or args.from_dir
    if workdir is None:
        tmp = tempfile.mkdtemp(prefix="crashcheck-")
        workdir = Path(tmp)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.from_dir:
            run = Run.load(args.from_dir / "run.json")
        else:
            image = args.image or make_image(workdir / "initial.img", args.image_mb)
            print(f"crashcheck: running crashwork {args.seed} {args.steps} "
                  f"in {workdir}", flush=True)
            run = run_workload(workdir, args.seed, args.steps,
                               kernel=args.kernel or KERNEL, image=image, cpus=args.cpus)
        boots = (0, 0) if args.state else (args.boots, args.replay_boots)
        report = check_run(run, workdir, nrandom=args.states, state_seed=args.state_seed,
                           boots=boots[0], replay_boots=boots[1], jobs=args.jobs,
                           kernel=args.kernel, only=args.state)
        if args.save_image:
            checker = Checker(run)
            builder = checker.open_builder(args.save_image.with_name(
                args.save_image.name + ".tmp"))
            builder.goto(parse_state(args.state[0], checker.log))
            builder.close()
            os.replace(builder.work, args.save_image)
            print(f"crashcheck: wrote {args.save_image}")
        # A check of chosen states does not replace the run's full report.
        saved = workdir / ("report-states.json" if args.state else "report.json")
        report.save(saved)
        print(report.summary(args.show))
        if tmp is None:
            print(f"crashcheck: details in {saved}")
        return 0 if report.ok else 1
    except (CheckerError, MachineError, ValueError) as e:
        print(f"crashcheck: {e}", file=sys.stderr)
        return 2
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
