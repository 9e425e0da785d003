"""Replay at mount, on the kernel under test: the crash lab's rules 5 and 6.

The crash checker judges crash states with the host's own replay (fsck
and fsimage.py replay a committed log as the on-disk format says).  The
kernel's replay is judged here, by booting it on crash states of the
lab's run under QEMU's write log and reading what it wrote:

  - a stale log: a header with n > 0 whose checksum does not match,
    because the next commit had begun to overwrite its log blocks.  The
    kernel must leave every home block alone (rule 5);
  - a committed log: the kernel must copy it home, and a power cut at any
    point of that copy must leave a disk on which the transaction is
    still whole once replayed again (rule 6).  The second half is a crash
    check of its own, on the write log of that boot.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import fsimage
from crashlab import LabRun
from crashlog import CrashLog, Unit
from crashstates import State, generate_states
from crashverdict import Checker
from qemu import Drive, LogWrites, Machine, MachineError, copy_sparse

BSIZE = fsimage.BSIZE


@dataclass
class Disk:
    """A crash state's image, and its log header and slots as read from it."""

    state: State
    image: Path
    header: fsimage.LogHeader
    slots: list[bytes]          # the n log blocks
    homes: list[bytes]          # what the n home blocks hold


def build(lab: LabRun, checker: Checker, st: State, dest: Path) -> Disk:
    """The image of state st, copied to dest."""
    assert checker.builder is not None
    checker.builder.goto(st)
    copy_sparse(checker.builder.work, dest)
    with fsimage.Image(dest) as img:
        lh = img.log_header()
        n = min(lh.n, fsimage.LOGMAX, lab.sb.nlog - 1)
        slots = [img.read_block(lab.sb.logstart + 1 + i) for i in range(n)]
        homes = [img.read_block(b) if b < lab.sb.size else b"" for b in lh.blocks[:n]]
    return Disk(st, dest, lh, slots, homes)


def committed(d: Disk) -> bool:
    lh = d.header
    return lh.magic == fsimage.LOG_MAGIC and lh.n > 0 and len(d.slots) == lh.n and \
        fsimage.log_checksum(lh.seq, lh.blocks, d.slots) == lh.checksum


def stale(d: Disk) -> bool:
    """A header that names blocks, does not check out, and whose log
    blocks would change some home block if copied there."""
    lh = d.header
    return lh.magic == fsimage.LOG_MAGIC and lh.n > 0 and not committed(d) and \
        any(s != h for s, h in zip(d.slots, d.homes))


def candidates(lab: LabRun) -> list[State]:
    """States whose log is stale or committed: for each commit record, the
    FLUSH after it; for each empty header, its window without it."""
    log = lab.log
    out = []
    for c in lab.commits:
        f = log.next_flush(c)
        if f < len(log.entries):
            out.append(State(f, (), "prefix"))
    for f in log.points:
        win = log.window(f)
        heads = [u for u in win if log.block(u) == lab.sb.logstart]
        for u in heads:
            out.append(State(f, tuple(x for x in win if x != u), "allbut"))
    return out


def pick(lab: LabRun, work: Path, want: str) -> Optional[Disk]:
    """The first candidate state whose log is `want` ("stale" or
    "committed", with at least two blocks), built in work."""
    work.mkdir(parents=True, exist_ok=True)
    checker = Checker(lab.run)
    checker.open_builder(work / "pick.img")
    test = stale if want == "stale" else (lambda d: committed(d) and d.header.n >= 2)
    try:
        for st in candidates(lab):
            d = build(lab, checker, st, work / f"{want}.img")
            if test(d):
                return d
        return None
    finally:
        assert checker.builder is not None
        checker.builder.close()
        checker.builder.work.unlink()


def boot_logged(lab: LabRun, image: Path, work: Path) -> CrashLog:
    """Boot the run's kernel on a copy of image under the write log, to
    the first prompt, then pull the plug.  The log of what it wrote."""
    log = work / "boot-writes.log"
    disk = copy_sparse(image, work / "booted.img")
    drive = Drive(logwrites=LogWrites(log=log))
    with Machine(cpus=1, image=disk, drive=drive, kernel=lab.run.kernel,
                 workdir=work / "machine", name="replay") as m:
        m.boot(timeout=60)
        m.kill()
    if log.stat().st_size < BSIZE:
        log.write_bytes(bytes(BSIZE))       # nothing written: an empty log
    return CrashLog(log)


def copied_stale(d: Disk, boot: CrashLog) -> list[str]:
    """Home blocks the kernel overwrote with a stale log block."""
    bad = []
    for i, (home, slot) in enumerate(zip(d.header.blocks, d.slots)):
        if slot == d.homes[i]:
            continue
        for e in boot.entries:
            for k in range(e.nr_sectors):
                if e.sector + k == home and boot.data((e.index, k)) == slot:
                    bad.append(f"block {home} got the contents of log block {i + 1}")
    return bad


def check_stale(lab: LabRun, work: Path) -> Optional[str]:
    """Rule 5's first half: None, or what the kernel did wrong."""
    d = pick(lab, work, "stale")
    if d is None:
        return "the run left no crash state with a stale log header to boot"
    try:
        boot = boot_logged(lab, d.image, work)
    except MachineError as e:
        return f"Quire did not boot on the state '{d.state.describe(lab.log)}': {e.reason}"
    bad = copied_stale(d, boot)
    if not bad:
        return None
    return (f"the crash state '{d.state.describe(lab.log)}' has a log header (seq "
            f"{d.header.seq}, n {d.header.n}) whose checksum does not match its log "
            f"blocks: the transaction never committed.  Yet at mount the kernel copied "
            f"them home: " + "; ".join(bad[:4]))


def replay_units(d: Disk, boot: CrashLog, sb: fsimage.Superblock) -> int:
    """How many of the boot log's entries belong to the replay: those up to
    the first write to a block neither in the log nor a home block."""
    mine = set(range(sb.logstart, sb.logstart + sb.nlog)) | set(d.header.blocks)
    for e in boot.entries:
        if not e.is_flush and any(e.sector + k not in mine for k in range(e.nr_sectors)):
            return e.index
    return len(boot.entries)


def torn_replays(d: Disk, boot: CrashLog, end: int, work: Path) -> list[tuple[State, str]]:
    """Crash states of the replay (entries before end) after which the
    transaction, replayed again by the host, is not whole."""
    want = dict(zip(d.header.blocks, d.slots))
    sub = boot.head(end)
    states = generate_states(sub, lambda b: True, 40, random.Random(1))
    states.append(State(sub.points[-1], tuple(u for f in sub.points[-1:]
                                              for u in sub.window(f)), "all"))
    bad = []
    img_path = work / "torn.img"
    for st in states:
        shutil.copyfile(d.image, img_path)
        with fsimage.Image(img_path, writable=True) as img:
            for e in sub.entries[:st.flush + 1]:
                apply(img, sub, [(e.index, k) for k in range(e.nr_sectors)])
            apply(img, sub, list(st.units))
            img.replay_log()
            wrong = [b for b, data in want.items() if img.read_block(b) != data]
        if wrong:
            bad.append((st, f"home blocks {', '.join(map(str, wrong[:6]))} are not as "
                            "the committed transaction has them"))
    img_path.unlink(missing_ok=True)
    return bad


def apply(img: fsimage.Image, log: CrashLog, units: list[Unit]) -> None:
    for u in units:
        if not log.entries[u[0]].is_flush:
            img.write_block(log.block(u), log.data(u))


def check_committed(lab: LabRun, work: Path) -> tuple[Optional[str], Optional[str]]:
    """Rule 5's second half and rule 6: (what the kernel's replay missed,
    what a crash during it broke), each None when all is well."""
    d = pick(lab, work, "committed")
    if d is None:
        why = ("no crash state of the run holds a transaction to replay: a commit "
               "record that checks out (rule 2), flushed before its home blocks are "
               "written (rule 3)")
        return why, why
    where = f"the crash state '{d.state.describe(lab.log)}'"
    try:
        boot = boot_logged(lab, d.image, work)
    except MachineError as e:
        return f"Quire did not boot on {where}: {e.reason}", None
    end = replay_units(d, boot, lab.sb)
    bad = torn_replays(d, boot, end, work)
    final = [why for st, why in bad if st.kind == "all"]
    if final:
        return (f"{where} holds a committed transaction (seq {d.header.seq}, "
                f"{d.header.n} blocks); after the kernel mounted it, {final[0]}", None)
    if bad:
        st, why = bad[0]
        return None, (f"the kernel's replay of {where} (seq {d.header.seq}, {d.header.n} "
                      f"blocks) can be cut by a power cut so that the transaction is lost: "
                      f"in {len(bad)} crash states of its writes, e.g. "
                      f"'{st.describe(boot)}', {why} (boot log: {boot_path(work)})")
    return None, None


def boot_path(work: Path) -> Path:
    return work / "boot-writes.log"
