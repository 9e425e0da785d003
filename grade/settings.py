"""What every QEMU run takes from the tree and from the environment.

The harness finds the kernel and fs.img relative to this file, so that it
works from any directory.  Deadlines and the QEMU binary can be changed
from outside without editing a test: QUIRE_TIMEOUT_SCALE gives a slow
machine more time, $QEMU (as in `make QEMU=...`) picks another QEMU.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL = REPO / "kernel" / "kernel"
FS_IMAGE = REPO / "fs.img"


def timeout_scale() -> float:
    """The factor QUIRE_TIMEOUT_SCALE (default 1) applied to every deadline."""
    raw = os.environ.get("QUIRE_TIMEOUT_SCALE", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"QUIRE_TIMEOUT_SCALE={raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"QUIRE_TIMEOUT_SCALE={raw!r} must be a positive number")
    return value


def scaled(seconds: float) -> float:
    """A deadline in seconds, multiplied by QUIRE_TIMEOUT_SCALE."""
    return seconds * timeout_scale()


def qemu_binary() -> str:
    """The QEMU to run: $QEMU if set (as in `make QEMU=...`), else the usual name."""
    return os.environ.get("QEMU") or "qemu-system-riscv64"
