"""The system-call fuzzer cannot crash the kernel or wedge the shell."""

from __future__ import annotations

from typing import Callable

import pytest

from qemu import Machine


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", [1, 3])
def test_fuzz(machine: Callable[..., Machine], cpus: int) -> None:
    m = machine(cpus=cpus)
    m.run("fuzz 100000 4", timeout=300)      # a panic raises here
    assert m.run("echo alive") == "alive\n", "the shell no longer works after fuzz"
