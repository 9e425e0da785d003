"""The system-call fuzzer cannot crash the kernel or wedge the shell.

Part of `make test`, not of `make grade`: it takes the better part of a
minute per run, and it checks the kernel rather than a student's work.
"""

from __future__ import annotations

from typing import Callable

import pytest

from qemu import Machine


@pytest.mark.parametrize("cpus", [1, 3])
def test_fuzz(machine: Callable[..., Machine], cpus: int) -> None:
    m = machine(cpus=cpus)
    out = m.run("fuzz 100000 4", timeout=300)       # a panic raises here
    tail = "\n".join(out.splitlines()[-20:])
    assert "fuzz: done 100000 calls" in out, f"fuzz did not finish its calls:\n{tail}"
    assert "some workers died" not in out, f"fuzz workers died:\n{tail}"
    suspicious = [line for line in out.splitlines() if "SUSPICIOUS" in line]
    assert not suspicious, \
        "system calls succeeded with arguments that cannot be valid:\n" + \
        "\n".join(suspicious[:20])
    assert m.run("echo alive") == "alive\n", "the shell no longer works after fuzz"
