"""Host unit test of the page cache's radix tree (kernel/mm/xarray.c).

The kernel file is compiled for the host together with grade/xarray_test.c,
which drives it with random operations and compares every answer with a
simple model, checking the tree's invariants as it goes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def build(tmp: Path) -> Path:
    exe = tmp / "xarray_test"
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc, "no host C compiler (gcc) found"
    flags = ["-O1", "-g", "-Wall", "-Werror", f"-I{REPO / 'kernel'}"]
    sources = [str(REPO / "grade" / "xarray_test.c"), str(REPO / "kernel" / "mm" / "xarray.c")]
    # With the sanitizers when this compiler has them: a stray pointer in
    # the tree code then fails loudly instead of passing by luck.
    sanitized = subprocess.run([cc, *flags, "-fsanitize=address,undefined",
                                "-o", str(exe), *sources], capture_output=True, text=True)
    if sanitized.returncode != 0:
        subprocess.run([cc, *flags, "-o", str(exe), *sources], check=True)
    return exe


@pytest.mark.parametrize("seed", [pytest.param(1, marks=pytest.mark.points(3)),
                                  20250101, 777])
def test_xarray_against_model(tmp_path: Path, seed: int) -> None:
    exe = build(tmp_path)
    run = subprocess.run([str(exe), "150000", str(seed)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and "operations OK" in run.stdout, run.stdout + run.stderr
