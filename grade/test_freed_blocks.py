"""A block freed in the running transaction is not written home by it.

Writeback gives a file an indirect block inside a log transaction; a
truncate in the same transaction frees it again, and the allocator may
hand it straight back out as a data block, since no committed bitmap
ever saw it in use.  The file data goes to the disk directly, but the
transaction still holds the indirect block's logged copy: if the commit
wrote that copy home, it would land on the new data (kernel/fs/log.c,
log_forget; rule D9 of grade/crashbugs/rules.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

import fsop
from qemu import Machine

PAGE = 4096
FIRST, SECOND = 11, 12          # pattern seeds
NDIRECT_BYTES = 26 * PAGE       # the pages the inode maps directly (NDIRECT)


@pytest.mark.points(2)
def test_freed_indirect_block_is_not_written_home(
        machine: Callable[..., Machine], fresh_image: Callable[[], Path], run_fsck) -> None:  # type: ignore[no-untyped-def]
    image = fresh_image()
    m = machine(image=image)
    results, _, _ = fsop.run(
        m, "sysctl commit 3000", "sysctl writeback 0",   # one transaction throughout
        "open a f rwc", f"write a 0 {32 * PAGE} {FIRST}",
        f"sfr a 0 {32 * PAGE} wa",                        # blocks, and an indirect block
        f"trunc a {NDIRECT_BYTES}",                       # frees the indirect block
        f"write a {NDIRECT_BYTES} {5 * PAGE} {SECOND}",   # its data goes after page 25's
        # block, where the freed indirect block was (goal allocation)
        "fsync a")
    for op in ("sfr", "trunc", "fsync"):
        fsop.expect(results, next(r.op for r in results if r.op.startswith(op)))
    assert m.poweroff() == 0
    m = machine(image=image)
    results, _, _ = fsop.run(m, "open a f r", f"check a 0 {NDIRECT_BYTES} {FIRST}",
                             f"check a {NDIRECT_BYTES} {5 * PAGE} {SECOND}")
    for r in results[1:]:
        assert r.error is None and r.value == 0, (
            f"rule D9 (grade/crashbugs/rules.md: a block freed in the running transaction "
            f"leaves it): after the reboot, '{r.op}' gave {r}: the commit wrote a freed "
            "block's logged copy home over file data written after the block was freed")
    assert m.poweroff() == 0
    r = run_fsck(image)
    assert r.returncode == 0, f"fsck after the reboot:\n{r.stdout}"
