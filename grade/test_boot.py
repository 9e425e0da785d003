"""Quire boots to a shell, runs the basic tools, and halts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pytest

from qemu import Machine


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 3])
def test_boot_and_halt(machine: Callable[..., Machine], cpus: int) -> None:
    """Boots to the shell prompt; `halt` stops QEMU with exit status 0."""
    m = machine(cpus=cpus)
    assert m.run("echo hello") == "hello\n"
    status = m.poweroff()
    assert status == 0, f"halt made QEMU exit with status {status}, not 0"


@pytest.mark.points(3)
def test_shell_tools(machine: Callable[..., Machine], repo: Path) -> None:
    """ls lists the files, a pipe feeds wc, cat prints README."""
    m = machine(cpus=3)

    out = m.run("ls")
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    for name in ("README", "cat", "ls", "sh", "wc"):
        assert name in names, f"ls does not list {name}; it printed:\n{out}"

    out = m.run("echo hi | wc")
    assert re.search(r"(?m)^\s*1 1 3\b", out), \
        f"`echo hi | wc` should print 1 1 3; it printed:\n{out}"

    readme = (repo / "README.md").read_text()
    first = readme.splitlines()[0]
    out = m.run("cat README")
    assert first in out.splitlines(), \
        f"`cat README` should show README.md's first line {first!r}; it printed:\n{out}"


@pytest.mark.points(1)
def test_missing_command(machine: Callable[..., Machine]) -> None:
    """A command that does not exist gives an error; the shell goes on."""
    m = machine(cpus=1)
    out = m.run("nosuchprogram")
    assert "nosuchprogram" in out, \
        f"running a missing program should print an error naming it; got:\n{out!r}"
    assert m.run("echo still here") == "still here\n"
