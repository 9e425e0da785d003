"""A disk that fails is an input, not a reason to panic (docs/errors.md).

A failed read gives EIO to the call that needed it; a failed write or
FLUSH of metadata shuts the file system down: read-only from then on
(EROFS for changes, EIO for fsync and sync), with what was committed
intact for the next boot.  A committed log that cannot be read is
refused at mount, by the kernel and by fsck.  QEMU's blkdebug makes the
chosen requests fail (drives.Blkdebug).

The sweep (test_error_sweep) does this for every write request of a
workload in turn, and for the reads of a cold-cache run: errsweep.py.
The rules, E1 to E8, are in grade/errorbugs/rules.md, each with a patch
that breaks it (test_mutations.py).

A failed write's outcome rests on the order of the commit's writes, on
its FLUSHes and on ordered data: the code of the crash lab.  The tests
that depend on it (a failed data write, FLUSH or header write, and the
graded sample of the sweep) are graded with that lab, whose starter
fails them.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import pytest

import errplan
import errsweep
import fsimage
import fsop
from errors import MachineError
from qemu import Blkdebug, Drive, InjectError, Machine

SECTORS = fsimage.BSIZE // 512
READ_ONLY = "the file system is now read-only"
SEED = 0x5EED


def fail_reads(block: int, once: bool = False) -> Drive:
    return Drive(blkdebug=Blkdebug(rules=(InjectError(
        event="read_aio", iotype="read", sector=block * SECTORS, once=once),)))


def make_files(machine: Callable[..., Machine], image: Path, nfiles: int) -> None:
    """Directory d with files f0.. (nfiles of them), and /other, on image."""
    m = machine(image=image)
    m.run("echo keep > other; mkdir d")
    for start in range(0, nfiles, 6):     # the console takes lines of 127 bytes
        m.run("; ".join(f"echo {i} > d/f{i}" for i in range(start, min(nfiles, start + 6))))
    assert m.poweroff() == 0


def notices(m: Machine) -> str:
    """What the kernel said on the console about the disk (see notices.py)."""
    return "\n".join(m.notices)


def check_alive(m: Machine) -> None:
    """The kernel keeps going, and the files the error does not touch work."""
    assert m.run("cat other") == "keep\n", \
        "rule E1: a file away from the error can no longer be read"
    assert "crashwork" in m.run("ls"), "rule E1: the root directory can no longer be listed"


# ---------------------------------------------------------------- reads

@pytest.mark.points(1)
def test_ls_of_unreadable_directory(machine, fresh_image) -> None:  # type: ignore[no-untyped-def]
    """The disk fails every read of d's block: `ls d` says EIO, nothing
    else is hurt (this used to panic in bread)."""
    image = fresh_image()
    make_files(machine, image, 3)
    with fsimage.Image(image) as img:
        dblock = img.block_list(img.inode(img.lookup("d")))[0]
    m = machine(image=image, drive=fail_reads(dblock))
    out = m.run("ls d")
    assert "ls: d: input/output error" in out, \
        f"rule E1: a failed read must give EIO, but ls d printed {out!r}"
    assert f"failed a read of block {dblock}" in notices(m), "the console did not name the block"
    check_alive(m)


@pytest.mark.points(1)
def test_ls_with_unreadable_inode_block(machine, fresh_image) -> None:  # type: ignore[no-untyped-def]
    """The disk fails every read of one block of the inode table: the
    files whose inodes are there give EIO, the others list and read."""
    image = fresh_image()
    make_files(machine, image, 80)
    with fsimage.Image(image) as img:
        inums = {e.name: e.inum for e in img.dir_entries(img.lookup("d"))}
        bad = img.sb.iblock(inums["f79"])
        hurt = sorted(n for n, i in inums.items() if img.sb.iblock(i) == bad)
        fine = sorted(n for n, i in inums.items() if img.sb.iblock(i) != bad and n[0] == "f")
    assert bad != img.sb.iblock(fsimage.ROOTINO) and fine
    m = machine(image=image, drive=fail_reads(bad))
    out = m.run("ls d")
    for name in hurt:
        assert f"ls: d/{name}: input/output error" in out, \
            f"rule E1: ls d did not report EIO for d/{name}: {out!r}"
    assert m.run(f"cat d/{fine[0]}") == f"{fine[0][1:]}\n", "rule E1: a good inode is lost"
    assert "input/output error" in m.run(f"cat d/{hurt[0]}"), \
        "rule E1: an unreadable inode must give EIO"
    check_alive(m)


@pytest.mark.points(1)
def test_read_error_is_eio_and_retried(machine, fresh_image) -> None:  # type: ignore[no-untyped-def]
    """read(2) of a page whose block the disk fails gives EIO, and so does
    the next read, which goes to the disk again (the folio was left not
    uptodate, not cached as zeros); a load through a mapping of it kills
    the process with a message."""
    image = fresh_image()
    m = machine(image=image)
    fsop.run(m, "open a data rwc", f"write a 0 8192 {SEED}", "fsync a")
    assert m.poweroff() == 0
    with fsimage.Image(image) as img:
        blocks = img.block_list(img.inode(img.lookup("data")))
    drive = Drive(blkdebug=Blkdebug(rules=tuple(
        InjectError(event="read_aio", iotype="read", sector=b * SECTORS) for b in blocks)))
    m = machine(image=image, drive=drive)
    check = f"check a 0 4096 {SEED}"
    results, snaps, _ = fsop.wbstat_runs(m, "open a data r", check, "wbstat", check, "wbstat")
    for nth in (0, 1):
        fsop.expect(results, check, error="EIO", nth=nth,
                    why="rule E6: a read of a page the disk fails must return EIO")
    assert snaps[1]["disk_errors"] > snaps[0]["disk_errors"], \
        "rule E6: the second read did not go to the disk: a failed folio must stay not uptodate"
    out = m.run(f"fsop 'open a data r' 'mcheck a 4096 4096 {SEED}'")
    assert re.search(r"pid \d+ fsop: .*the disk failed to read the page.*; killed", out), \
        f"rule E6: a fault on a page the disk failed to read must kill with a message: {out!r}"
    assert "crashwork" in m.run("ls"), "the root directory can no longer be listed"


@pytest.mark.points(1)
def test_unreadable_indirect_block_is_eio(machine, fresh_image) -> None:  # type: ignore[no-untyped-def]
    """The disk fails the read of a file's indirect block: the pages it
    maps read as EIO, never as a hole of zeros."""
    image = fresh_image()
    m = machine(image=image)
    size = (fsimage.NDIRECT + 4) * fsimage.BSIZE
    fsop.run(m, "open a big rwc", f"write a 0 {size} {SEED}", "fsync a")
    assert m.poweroff() == 0
    with fsimage.Image(image) as img:
        (ind,) = img.map_blocks(img.inode(img.lookup("big")))
    m = machine(image=image, drive=fail_reads(ind))
    check = f"check a {fsimage.NDIRECT * fsimage.BSIZE} 4096 {SEED}"
    results, _, _ = fsop.run(m, "open a big r", check)
    fsop.expect(results, check, error="EIO",
                why="rule E7: a page behind an unreadable indirect block must give EIO")


@pytest.mark.lab("crash")
@pytest.mark.points(1)
def test_failed_new_data_write_stops_the_commit(machine, fresh_image, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """A file gets blocks another file freed; the disk fails their writes.
    The transaction that would make them the new file's must not commit,
    or the new file would show the old one's bytes after a reboot."""
    image = fresh_image()
    m = machine(image=image)
    fsop.run(m, "open a old rwc", f"write a 0 32768 {SEED}", "fsync a", "close a",
             "unlink old", "sync")
    assert m.poweroff() == 0
    with fsimage.Image(image) as img:
        freed = sorted(b for b in range(img.sb.datastart, img.sb.size)
                       if img.read_block(b)[:8] == fsop.pattern(0, 8, SEED))
    drive = Drive(blkdebug=Blkdebug(rules=(InjectError(
        event="write_aio", iotype="write", sector=freed[0] * SECTORS, once=True),)))
    m = machine(image=image, drive=drive)
    results, _, _ = fsop.run(m, "open a new rwc", f"write a 0 32768 {SEED + 1}", "fsync a")
    fsop.expect(results, "fsync a", error="EIO")
    m.kill()
    m = machine(image=image)
    assert m.poweroff() == 0
    with fsimage.Image(image) as img:
        inum = img.lookup("new")
        data = img.read_file(inum) if inum else b""
    bad = fsop.foreign_words(data, 0, [SEED + 1])
    assert not bad, (f"rule E5: after the reboot, new holds bytes it never had at offsets "
                     f"{bad[:4]}: a commit made blocks whose writes failed part of it")
    assert run_fsck(image).returncode == 0


# ---------------------------------------------------------------- shutdown

def shut_down_by(machine: Callable[..., Machine], image: Path, drive: Drive) -> Machine:
    """Boot on image (which has /other, synced), write /new and sync on a
    disk that fails it; check the shutdown; return the machine."""
    m = machine(image=image, drive=drive)
    results, counters, out = fsop.run(m, "open a new rwc", f"write a 0 4096 {SEED}",
                                      "close a", "sync", "wbstat")
    fsop.expect(results, "sync", error="EIO",
                why="sync must fail: its commit failed (rule E2), the fs is read-only (rule E4)")
    assert counters.get("fs_shutdown") == 1, "rule E2: wbstat does not show a shutdown"
    assert notices(m).count(READ_ONLY) == 1, \
        "rule E2: the console must say once that the file system is read-only"
    results, _, _ = fsop.run(m, "open c more rwc", "open a other r", "fsync a",
                             f"check a 0 4096 {SEED}", "open b new r", f"check b 0 4096 {SEED}")
    fsop.expect(results, "open c more rwc", error="EROFS",
                why="rule E3: a new file after the shutdown")
    fsop.expect(results, "fsync a", error="EIO", why="rule E4: fsync after the shutdown")
    for f in "ab":
        fsop.expect(results, f"check {f} 0 4096 {SEED}", value=0,
                    why="rule E3: what the cache holds must still read back")
    assert "read-only" in m.run("wbstat"), "rule E2: the wbstat program does not say read-only"
    return m


def synced_image(machine: Callable[..., Machine], fresh_image: Callable[[], Path]) -> Path:
    image = fresh_image()
    m = machine(image=image)
    fsop.run(m, "open a other rwc", f"write a 0 4096 {SEED}", "fsync a")
    assert m.poweroff() == 0
    return image


def check_after_reboot(machine: Callable[..., Machine], image: Path, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """A fresh boot on the disk left by a shutdown: clean, with what was
    committed before the error."""
    m = machine(image=image)
    results, _, _ = fsop.run(m, "open a other r", f"check a 0 4096 {SEED}")
    fsop.expect(results, f"check a 0 4096 {SEED}", value=0,
                why="rule E2: data committed before the shutdown must survive it")
    assert READ_ONLY not in notices(m)
    assert m.poweroff() == 0
    r = run_fsck(image)
    assert r.returncode == 0, f"rule E2: fsck after the shutdown:\n{r.stdout}"


@pytest.mark.lab("crash")
@pytest.mark.points(1)
def test_failed_flush_in_commit_shuts_down(machine, fresh_image, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """Every FLUSH fails: the log commit's FLUSH shuts the file system down
    (this used to panic in the log)."""
    image = synced_image(machine, fresh_image)
    drive = Drive(blkdebug=Blkdebug(rules=(InjectError(event="flush_to_disk", iotype="flush"),)))
    m = shut_down_by(machine, image, drive)
    assert "fs: disk error flushing" in notices(m), "rule E2: the console must say why"
    m.kill()
    check_after_reboot(machine, image, run_fsck)


@pytest.mark.lab("crash")
@pytest.mark.points(1)
def test_failed_log_header_write_shuts_down(machine, fresh_image, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """The write of the commit record fails: shut down, and nothing of the
    transaction is on the disk after a reboot."""
    image = synced_image(machine, fresh_image)
    with fsimage.Image(image) as img:
        header = img.sb.logstart
    drive = Drive(blkdebug=Blkdebug(rules=(InjectError(
        event="write_aio", iotype="write", sector=header * SECTORS),)))
    m = shut_down_by(machine, image, drive)
    assert f"(block {header})" in notices(m), "rule E2: the console must name the failed block"
    m.kill()
    check_after_reboot(machine, image, run_fsck)


# ---------------------------------------------------------------- mount

@pytest.mark.points(1)
def test_unreadable_committed_log_is_refused(machine, fresh_image, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """A committed transaction whose log block cannot be read: the kernel
    refuses to mount, and fsck -B says the same of that bad block."""
    image = fresh_image()
    with fsimage.Image(image, writable=True) as img:
        inum = img.lookup("crashwork")
        block, off = img.inode_location(inum)
        raw = bytearray(img.read_block(block))
        img.write_log([(block, bytes(raw))])
        logblock = img.sb.logstart + 1
    assert run_fsck(image).returncode == 0, "the crafted log should replay cleanly"
    r = run_fsck(image, "-B", str(logblock))
    assert r.returncode == 1 and "cannot be replayed" in r.stdout, \
        f"rule E8: fsck -B {logblock} must report the log:\n{r.stdout}"
    m = machine(image=image, drive=fail_reads(logblock), boot=False)
    try:
        status = m.wait_exit(30, what="the kernel to refuse the mount and power off")
    except MachineError as e:
        pytest.fail(f"rule E8: the mount must be refused: {e.reason}", pytrace=False)
    assert "fs: refusing to mount: the disk failed a read of the log" in m.output and \
        status == 1, f"rule E8: the mount must be refused (QEMU exit status {status})"


# ---------------------------------------------------------------- the sweep

@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> errsweep.Reference:
    return errsweep.prepare(tmp_path_factory.mktemp("sweep"), seed=7, steps=12, cold_steps=4)


def run_sweep(ref: errsweep.Reference, injections: list[errplan.Injection],
              workdir: Path) -> list[errsweep.Outcome]:
    def one(i: int) -> errsweep.Outcome:
        return errsweep.inject(ref, injections[i], workdir / f"run{i}")
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(len(injections))))


def both_modes(items: Iterable[errplan.Injection]) -> list[errplan.Injection]:
    items = list(items)
    return items + [dataclasses.replace(i, forever=True) for i in items]


def report(outcomes: list[errsweep.Outcome]) -> str:
    """The counts the issue asks for, then each failure."""
    cats = Counter(c for o in outcomes for c in o.problems)
    by_io = Counter(o.injection.io for o in outcomes if o.hit)
    forever = [o for o in outcomes if o.injection.io == "write" and o.injection.forever]
    exact = sum(o.logged == o.injection.index - 1 for o in forever)
    lines = [f"requests failed: {sum(by_io.values())} ({dict(by_io)}; "
             f"{sum(not o.hit for o in outcomes)} injections not reached), "
             f"shutdowns: {sum(o.shutdown for o in outcomes)}",
             f"numbering: {exact} of {len(forever)} runs failing request k for good "
             "logged exactly k-1 requests",
             "panics: {panic}, hangs: {hang}, fsck failures: {fsck}, broken promises: "
             "{promise}, foreign bytes: {foreign}, wrong reads: {read}, "
             "workload: {workload}, reboot: {reboot}".format_map(Counter(cats))]
    return "\n".join(lines + [o.describe() for o in outcomes if o.problems][:10])


def test_error_sweep(reference, tmp_path, record_property) -> None:  # type: ignore[no-untyped-def]
    """Every write request of the workload, once and for good; the reads of
    the cold run, spread over their kinds."""
    writes = both_modes(reference.writes)
    reads = both_modes(errplan.spread(reference.reads, lambda i: i.io + i.kind, 80))
    outcomes = run_sweep(reference, writes + reads, tmp_path)
    text = report(outcomes)
    record_property("summary", f"error sweep: {len(writes)} write and {len(reads)} read "
                               f"injections\n{text}")
    assert sum(o.hit for o in outcomes if o.injection.io == "write") >= 300
    assert sum(o.hit for o in outcomes if o.injection.io != "write") >= 100
    assert not any(o.problems for o in outcomes), text


@pytest.mark.lab("crash")
@pytest.mark.points(4)
def test_error_sweep_sample(reference, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sample of the sweep: a request of each kind, once and for good."""
    sample = both_modes(errplan.spread(reference.writes, lambda i: i.kind, 6) +
                        errplan.spread(reference.reads, lambda i: i.io + i.kind, 4))
    outcomes = run_sweep(reference, sample, tmp_path)
    assert not any(o.problems for o in outcomes), report(outcomes)
