"""usertests, the kernel's broad self-test, passes at 1 and 3 CPUs."""

from __future__ import annotations

from typing import Callable

import pytest

from qemu import Machine


@pytest.mark.points(10)
@pytest.mark.parametrize("cpus", [1, 3])
def test_usertests(machine: Callable[..., Machine], cpus: int) -> None:
    m = machine(cpus=cpus)
    out = m.run("usertests -q", timeout=300)
    failed = [line for line in out.splitlines() if ": FAIL" in line]
    assert "ALL TESTS PASSED" in out, \
        "usertests -q did not print ALL TESTS PASSED; failed:\n" + \
        ("\n".join(failed) if failed else "(no test printed FAIL: see the console)")
