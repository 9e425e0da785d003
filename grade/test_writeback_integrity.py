"""fsync integrity: what a data-integrity call returned for is on the disk.

Each case runs `fsyncint CASE write`, which ends with the case's integrity
call (fsync, fdatasync, sync_file_range, msync) and prints SYNCED; then
QEMU is killed with SIGKILL, with no clean shutdown, and a fresh boot on
the same disk runs `fsyncint CASE verify`.  fsck must find the image clean.

The redirty case needs a folio still under writeback when it is written
again, so its disk is slowed down with QEMU's throttling; it is the lab's
test of "WB_SYNC_ALL waits for folios under writeback instead of skipping
them".
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable, Optional

import pytest

from qemu import Drive, Machine, Throttle

Boot = Callable[..., Machine]
Fsck = Callable[..., subprocess.CompletedProcess]


def write_kill_verify(machine: Boot, run_fsck: Fsck, case: str, cpus: int = 3,
                      drive: Optional[Drive] = None) -> None:
    m = machine(cpus=cpus, drive=drive) if drive else machine(cpus=cpus)
    out = m.run(f"fsyncint {case} write", timeout=300)
    assert f"fsyncint {case}: SYNCED" in out, f"the write phase failed:\n{out}"
    m.kill()   # the power goes: nothing more reaches the disk
    m2 = machine(cpus=1, image=m.image)
    out = m2.run(f"fsyncint {case} verify", timeout=300)
    assert f"fsyncint {case}: PASS" in out, f"after the crash:\n{out}"
    assert m2.poweroff() == 0
    result = run_fsck(m2.image)
    assert result.returncode == 0, f"fsck found problems:\n{result.stdout}"


@pytest.mark.points(2)
@pytest.mark.parametrize("case", ["basic", "partial", "manyfiles", "large", "fdatasync",
                                  "sfr", "msync", "truncrace"])
def test_fsync_integrity(machine: Boot, run_fsck: Fsck, case: str) -> None:
    write_kill_verify(machine, run_fsck, case)


@pytest.mark.points(4)
@pytest.mark.lab("writeback")
def test_fsync_redirty_during_writeback(machine: Boot, run_fsck: Fsck) -> None:
    """A folio redirtied while its write is in flight: fsync must wait for
    that write and then write the folio again."""
    slow = Drive(throttle=Throttle(iops_write=4, iops_size=4096))
    write_kill_verify(machine, run_fsck, "redirty", cpus=1, drive=slow)
