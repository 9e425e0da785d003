"""The verdict on one crash state: does it keep Quire's promises?

Checker builds a state's image (crashimage.Builder) and checks it:

1. fsck is clean (it replays a committed log transaction first, as the
   kernel does at mount);
2. every file shows only bytes written to it: each 8-byte word is zero or
   the pattern word of one of that file's own writes (crashpattern.py
   names the file any other word came from);
3. after fsync, fdatasync, msync(MS_SYNC) or sync returned 0 (a DURABLE
   line of the workload), the file is there with that content, or with a
   later version of each word: at or after the call, never before it;
   names listed ABSENT after sync stay gone; files the workload never
   touched are unchanged.

Tying promises to the log.  A DURABLE line of step k was printed after its
call's FLUSH completed, so that FLUSH ends at or before S_k, the log's
size when READY k was read (crashrun.py): the promise holds in every state
whose FLUSH is at or after the last FLUSH ending by S_k.  A crash state
whose last included write ends by S_k can only show operations of steps
up to k (later steps had not begun when the host read S_k), so each file
is compared with its versions from the promise up to the end of the
first step whose S_k covers the state (t_end).

selftest() damages an image on purpose, to show the checker notices.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import fsimage
from crashimage import Builder
from crashlog import CrashLog
from crashpattern import BG_FLAG, BSIZE, ZERO, block_runs, torn_ok
from crashrun import CheckerError, Run
from crashstates import State, format_units
from crashworkload import Durable, Expectation, Workload
from qemu import REPO, scaled

FSCK = REPO / "mkfs" / "fsck"

# A file's words below its size as runs (start, end, seed) of file offsets.
Runs = list[tuple[int, int, int]]
# What Verdict.files keeps of a file, by path: (inode, size, runs).
FileSeen = tuple[int, int, Runs]
# The problems found with each file of /cw (by path), for each file that
# could be the one under that name (by fid); an empty list: it matches.
Results = dict[str, dict[int, list[str]]]


@dataclass
class Verdict:
    """What the checker found in one crash state (no problems: it keeps
    every promise)."""

    state: State
    problems: list[str]
    replayed: int = 0           # log blocks the mount would replay
    files: dict[str, FileSeen] = field(default_factory=dict)


class Checker:
    """Checks the crash states of one recorded run.  What does not change
    from state to state (the workload, the log, the image before the
    workload) is read once here; open_builder() gives it the work image
    it moves from state to state (one per process)."""

    def __init__(self, run: Run, fsck: Path = FSCK) -> None:
        self.run = run
        self.fsck = fsck
        self.log = CrashLog(run.log)
        self.work = Workload(run)
        if len(run.steps) != len(self.work.step_end):
            raise CheckerError("steps and their outputs disagree")
        with fsimage.Image(run.base) as img:
            self.sb = img.sb
            # cw and bg are the workload's, even if an earlier run made them.
            self.base_root = {e.name: (e.inum, img.inode(e.inum).pack())
                              for e in img.dir_entries(fsimage.ROOTINO)
                              if e.name not in ("cw", "bg")}
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
        if st.kind == "final":          # the disk after the whole run
            return len(self.work.ops)
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

    def final_state(self) -> State:
        """The state with every logged write: the disk as the run left it."""
        f = self.log.flushes[-1] if self.log.flushes else -1
        units = tuple((e.index, i) for e in self.log.entries[f + 1:]
                      for i in range(e.nr_sectors))
        return State(f, units, "final")

    def check(self, st: State, keep_files: bool = False) -> Verdict:
        assert self.builder is not None
        self.builder.goto(st)
        return self.check_image(self.builder.work, st, keep_files)

    def check_image(self, path: Path, st: State, keep_files: bool = False) -> Verdict:
        """Checks 1 to 3 on the image at path, as the disk of state st."""
        v = Verdict(st, [])
        try:
            r = subprocess.run([str(self.fsck), str(path)],
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
            with fsimage.Image(path) as img:
                v.replayed = img.replay_log()
                self._check_image(img, st, v, keep_files)
        except Exception as e:      # a damaged image may break any reader
            v.problems.append(f"the image cannot be read: {type(e).__name__}: {e}")
        return v

    def _check_image(self, img: fsimage.Image, st: State, v: Verdict,
                     keep_files: bool) -> None:
        """Checks 2 and 3 on an image whose log has been replayed; adds
        what is wrong to v.problems, in the order a reader follows: the
        root, the workload's files, its promises, the background files."""
        t_end = self.t_end(st)
        root = {e.name: e.inum for e in img.dir_entries(fsimage.ROOTINO)}
        self._check_root(img, root, v)
        dirs = self._workload_dirs(img, root, st, v)
        cw = dirs.get("cw", {})
        promised = self._promised(st)
        results, shown = self._check_cw(img, cw, promised, t_end, v, keep_files)
        self._check_promises(promised, results, shown, t_end, v)
        self._check_absents(cw, st, t_end, v)
        self._check_bg(img, dirs.get("bg", {}), v, keep_files)
        if self.base_writes:
            hit = [u for u in self.base_writes if u[0] <= st.last]
            if hit:
                v.problems.append(
                    f"log entries {format_units(hit[:8], self.log)} wrote blocks of files "
                    "that were on the disk before the workload and never changed")

    def _check_root(self, img: fsimage.Image, root: dict[str, int], v: Verdict) -> None:
        """The root directory: what was there before the workload is
        unchanged, and nothing new but /cw and /bg."""
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

    def _workload_dirs(self, img: fsimage.Image, root: dict[str, int], st: State,
                       v: Verdict) -> dict[str, dict[str, int]]:
        """The entries of /cw and /bg (name: inode), for those that exist;
        once the sync() after their mkdir is in effect, both must."""
        w = self.work
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
        return dirs

    def _promised(self, st: State) -> dict[int, Durable]:
        """The promises in effect: the latest DURABLE of each file whose
        FLUSH is at or before this state's."""
        promised: dict[int, Durable] = {}
        for d in self.work.durables:
            if self.promise_flush[d] <= st.flush:
                promised[d.fid] = d
        return promised

    def _check_cw(self, img: fsimage.Image, cw: dict[str, int],
                  promised: dict[int, Durable], t_end: int, v: Verdict,
                  keep_files: bool) -> tuple[Results, set[str]]:
        """Each file in /cw against every file that had its name by t_end:
        as promised if a promise is in effect, else only its own bytes.  A
        file is wrong only if it matches none of them.  Returns the
        problems found for each (path, fid), and the paths reported."""
        w = self.work
        results: Results = {}
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
        return results, shown

    def _check_promises(self, promised: dict[int, Durable], results: Results,
                        shown: set[str], t_end: int, v: Verdict) -> None:
        """Every file with a promise in effect is found, under a name it
        had since, unless it was deleted or renamed over since."""
        w = self.work
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

    def _check_absents(self, cw: dict[str, int], st: State, t_end: int,
                       v: Verdict) -> None:
        """A name that sync() saw removed stays gone, unless it was given
        again since."""
        w = self.work
        for a in w.absents:
            if self.step_flush[a.step] > st.flush:
                continue
            if any(a.t <= t < t_end for t, _ in w.binds.get(a.path, [])):
                continue
            if a.path.startswith("cw/") and a.path[3:] in cw:
                v.problems.append(f"{a.path}: still there, though it was removed and "
                                  f"sync() returned (step {a.step})")

    def _check_bg(self, img: fsimage.Image, bg: dict[str, int], v: Verdict,
                  keep_files: bool) -> None:
        """The background files (never synced, so nothing is promised):
        each holds only its own bytes (seeds j < 4 of file gK)."""
        for name, inum in sorted(bg.items()):
            m = re.fullmatch(r"g(\d+)", name)
            path = "bg/" + name
            if not m:
                v.problems.append(f"{path}: a name the background process never uses")
                continue
            got = self._file(img, inum, path, v, keep_files)
            if got is None:
                continue
            base = (self.work.tag << 40) | ((BG_FLAG | int(m.group(1))) << 20)
            v.problems += self._own(path, BG_FLAG | int(m.group(1)),
                                    {base | j for j in range(4)}, *got)[:3]

    def _file(self, img: fsimage.Image, inum: int, path: str, v: Verdict,
              keep: bool) -> Optional[tuple[int, Runs, list[int]]]:
        """(size, runs of seeds below the size, disk blocks) of a file."""
        d = img.inode(inum)
        if d.type != fsimage.T_FILE:
            v.problems.append(f"{path}: inode {inum} has type {d.type}, not a file")
            return None
        size = d.size
        blocks = img.block_list(d)
        runs: Runs = []
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
        if self.builder is None:        # check_image() of a disk, not a state
            return f"disk block {b}"
        return f"disk block {b}, {self.builder.source(b)}"

    def _bad(self, path: str, fid: int, a: int, b: int, seed: int, blocks: list[int],
             why: str) -> str:
        return (f"{path} (fid {fid}): bytes {a}..{b} hold "
                f"{self.work.describe_seed(seed)} [{self._where(a, blocks)}]; {why}")

    def _own(self, path: str, fid: int, seeds: set[int], size: int,
             runs: Runs, blocks: list[int]) -> list[str]:
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
                  runs: Runs, blocks: list[int]) -> list[str]:
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

