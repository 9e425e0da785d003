"""Large folios: the page cache keeps a big file in folios of up to 16
pages where the write or read pattern allows (docs/pagecache.md, "Large
folios"), and everything that touches folios copes with them.

- Writes of 64 KiB, aligned, make folios of 16 pages; small files, small
  and unaligned writes get single pages (or the folios their alignment
  allows); the counters count pages; fsync writes the folios.
- A sequential read of a big file after a reboot reads it into large
  folios (readahead), with the right bytes.
- mmap maps the pages of a large folio; a store dirties the folio, and
  writeback write-protects every page of it again.
- Truncating into a large folio zeroes its cut-off part and splits it,
  also while a process maps it; the disk agrees after fsync, and fsck is
  clean.
- Under memory pressure reclaim frees large folios whole, and splits one
  a process maps a page of to free the rest.
- With free memory only in single pages, writes fall back to single
  pages, and large folios come back when memory does.

The checks run user/folios.c (each prints "folios NAME: PASS" or why not)
and fsop; the files follow fsop's pattern, so the host can check them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

import fsop
from fsimage import Image
from qemu import Machine

Boot = Callable[..., Machine]
Fsck = Callable[..., subprocess.CompletedProcess]


def checks(m: Machine, *names: str, timeout: float = 120.0) -> None:
    out = m.run("folios " + " ".join(names), timeout=timeout)
    for name in names:
        assert f"folios {name}: PASS" in out, out


def fsck_clean(run_fsck: Fsck, image: Path) -> None:
    result = run_fsck(image)
    assert result.returncode == 0, f"fsck found problems:\n{result.stdout}"


@pytest.mark.points(2)
def test_large_folio_writes(machine: Boot) -> None:
    checks(machine(cpus=1), "write", "small")


@pytest.mark.points(2)
def test_readahead_makes_large_folios(machine: Boot) -> None:
    """A 1 MiB file written and synced, read back after a reboot."""
    m = machine(cpus=1)
    results, _, _ = fsop.run(m, "open a big rwc", "write a 0 1048576 5", "fsync a")
    fsop.expect(results, "fsync a", 0)
    assert m.poweroff() == 0
    m2 = machine(cpus=1, image=m.image)
    results, counters, _ = fsop.run(m2, "open a big r", "check a 0 1048576 5", "wbstat a")
    fsop.expect(results, "check a 0 1048576 5", 0)
    assert counters["f_nrpages"] == 256 and counters["f_large"] == 16, \
        f"a 1 MiB file read from the start: {counters['f_nrpages']} pages cached in " \
        f"{counters['f_nrfolios']} folios, {counters['f_large']} of them large; want 16 " \
        "large folios of 16 pages"


@pytest.mark.points(2)
def test_mmap_of_large_folios(machine: Boot) -> None:
    checks(machine(cpus=2), "mmap", "tmapped")


@pytest.mark.points(2)
def test_truncate_into_large_folio(machine: Boot, run_fsck: Fsck) -> None:
    """folios truncate leaves folios.4 at 128 KiB: 10000 bytes of the
    pattern of seed 7, then zeros, on the disk too."""
    m = machine(cpus=1)
    checks(m, "truncate")
    assert m.poweroff() == 0
    fsck_clean(run_fsck, m.image)
    with Image(m.image) as img:
        data = img.read_file(img.lookup("folios.4"))
    assert len(data) == 131072, f"folios.4 is {len(data)} bytes on the disk, not 131072"
    assert data[:10000] == fsop.pattern(0, 10000, 7), "folios.4 lost bytes before the cut"
    assert data[10000:] == bytes(len(data) - 10000), \
        "folios.4 holds old bytes past the cut on the disk: the zeros never reached it"


@pytest.mark.points(2)
def test_reclaim_of_large_folios(machine: Boot) -> None:
    checks(machine(cpus=1), "reclaim", timeout=300)


@pytest.mark.points(2)
def test_fallback_to_single_pages(machine: Boot) -> None:
    checks(machine(cpus=1), "fallback", timeout=300)
