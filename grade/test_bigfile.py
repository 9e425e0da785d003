"""A 64 MiB file is written and read back, and the file system stays sound."""

from __future__ import annotations

import subprocess
from typing import Callable

import pytest

from qemu import Machine


@pytest.mark.points(5)
def test_bigfile(machine: Callable[..., Machine],
                 run_fsck: Callable[..., subprocess.CompletedProcess]) -> None:
    m = machine(cpus=3)
    out = m.run("bigfile 64", timeout=300)
    assert "bigfile: OK 64 MiB" in out, f"bigfile 64 did not succeed:\n{out}"
    status = m.poweroff()
    assert status == 0, f"halt made QEMU exit with status {status}"
    assert m.image is not None
    result = run_fsck(m.image)
    assert result.returncode == 0, \
        f"fsck found problems after bigfile (exit {result.returncode}):\n{result.stdout}"
