"""Background writeback, throttling, reclaim and mmap, end to end.

- Idle dirty data reaches the disk within dirty_expire + dirty_writeback +
  the commit interval, with no sync: QEMU is killed after that time and the
  data must be there after a reboot.
- The same for a small file dirtied while a huge one is being written.
- A writer past dirty_ratio is throttled: the dirty count stays at or below
  the limit (user/throttle.c), on a disk slowed down so that the writer
  outruns it on any host.
- A file twice the size of RAM is written, fsynced and read back intact.
- mmap: a store made after writeback of its folio started is not lost
  (the disk is slowed down so that the write is still in flight); stores to
  a private mapping never reach the file.
- SMP stress at CPUS=4: 8 processes dirtying, fsyncing, truncating and
  mmapping for 60 s: no deadlock (the run's deadline), fsck clean, every
  file's last fsynced version intact after a kill and a reboot.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

import fsop
from qemu import REPO, Drive, Machine, Throttle

Boot = Callable[..., Machine]
Fsck = Callable[..., subprocess.CompletedProcess]

# Short intervals, in centiseconds (ticks): expire 1 s, writeback every
# 0.5 s, commit every 0.5 s.  Everything is on the disk 2 s after it was
# written; the tests wait 3 s of the guest's time.
FAST = ("sysctl expire 100", "sysctl writeback 50", "sysctl commit 50")
WAIT = "sleep 300"


def fsck_clean(run_fsck: Fsck, image: Path) -> None:
    result = run_fsck(image)
    assert result.returncode == 0, f"fsck found problems:\n{result.stdout}"


def big_image(mkfs: Path, tmp_path: Path, mib: int) -> Path:
    """A fresh image of mib MiB holding the programs."""
    image = tmp_path / f"big{mib}.img"
    programs = sorted(str(p) for p in (REPO / "user").glob("_*"))
    subprocess.run([str(mkfs), "-s", str(mib), str(image),
                    f"README={REPO / 'README.md'}", *programs],
                   check=True, capture_output=True)
    return image


@pytest.mark.points(3)
def test_idle_dirty_data_reaches_disk(machine: Boot, run_fsck: Fsck) -> None:
    m = machine(cpus=1)
    results, _, _ = fsop.run(m, *FAST, "open a idle rwc", "write a 0 123456 21", WAIT)
    fsop.expect(results, "write a 0 123456 21", 123456)
    m.kill()   # no sync, no shutdown: only the flusher could have saved it
    m2 = machine(cpus=1, image=m.image)
    results, _, out = fsop.run(m2, "open a idle r", "size a", "check a 0 123456 21")
    fsop.expect(results, "size a", 123456)
    fsop.expect(results, "check a 0 123456 21", 0)
    assert m2.poweroff() == 0
    fsck_clean(run_fsck, m2.image)


@pytest.mark.points(3)
def test_small_file_not_starved(machine: Boot, mkfs: Path, run_fsck: Fsck,
                                tmp_path: Path) -> None:
    """A huge file written in the background must not keep a small file's
    data from the disk: each inode gets its slice in turn."""
    image = big_image(mkfs, tmp_path, 512)
    m = machine(cpus=3, image=image)
    fsop.run(m, *FAST)
    m.run("fsop 'open h huge rwc' 'write h 0 200000000 30' > huge.out &")
    results, _, _ = fsop.run(m, "sleep 50", "open s small rwc", "write s 0 9000 31",
                             "wbstat", WAIT)
    fsop.expect(results, "write s 0 9000 31", 9000)
    m.kill()
    m2 = machine(cpus=1, image=image)
    results, _, _ = fsop.run(m2, "open s small r", "size s", "check s 0 9000 31")
    fsop.expect(results, "size s", 9000)
    fsop.expect(results, "check s 0 9000 31", 0)
    assert m2.poweroff() == 0
    fsck_clean(run_fsck, image)


@pytest.mark.points(3)
def test_writer_throttled(machine: Boot) -> None:
    """The disk is held to 2 MiB/s so that any writer outruns it, however
    fast the host: the writer must reach dirty_ratio and sleep there."""
    m = machine(cpus=3, drive=Drive(throttle=Throttle(bps_write=2 << 20)))
    out = m.run("throttle 12", timeout=300)
    assert "throttle: PASS" in out, out


def test_twice_ram_round_trip(machine: Boot, mkfs: Path, run_fsck: Fsck,
                              tmp_path: Path) -> None:
    image = big_image(mkfs, tmp_path, 600)
    m = machine(cpus=3, mem="128M", image=image)
    out = m.run("bigfile 256", timeout=600)
    assert "bigfile: OK 256 MiB" in out, out
    assert m.poweroff() == 0
    fsck_clean(run_fsck, image)


def kill_and_verify(machine: Boot, run_fsck: Fsck, case: str, drive: Drive) -> None:
    m = machine(cpus=1, drive=drive)
    out = m.run(f"fsyncint {case} write", timeout=120)
    assert f"fsyncint {case}: SYNCED" in out, out
    m.kill()
    m2 = machine(cpus=1, image=m.image)
    out = m2.run(f"fsyncint {case} verify", timeout=120)
    assert f"fsyncint {case}: PASS" in out, out
    assert m2.poweroff() == 0
    fsck_clean(run_fsck, m2.image)


@pytest.mark.points(3)
def test_mmap_store_during_writeback_not_lost(machine: Boot, run_fsck: Fsck) -> None:
    kill_and_verify(machine, run_fsck, "mmapredirty",
                    Drive(throttle=Throttle(iops_write=4, iops_size=4096)))


@pytest.mark.points(2)
def test_mmap_private_never_reaches_file(machine: Boot, run_fsck: Fsck) -> None:
    kill_and_verify(machine, run_fsck, "mmapprivate", Drive())


def test_smp_stress(machine: Boot, run_fsck: Fsck) -> None:
    m = machine(cpus=4)
    out = m.run("stress 60 8", timeout=240)   # the watchdog: 60 s of work
    assert "stress: 8 workers, 0 failed: DONE" in out, out
    m.kill()
    m2 = machine(cpus=1, image=m.image)
    out = m2.run("stress verify 8", timeout=120)
    assert "stress verify: PASS" in out, out
    assert m2.poweroff() == 0
    fsck_clean(run_fsck, m2.image)
