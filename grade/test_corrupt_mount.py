"""The kernel refuses to mount a damaged file system, clearly and calmly:
it prints "fs: refusing to mount: <reason>" and powers off with a non-zero
status, without a panic or a trap."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Callable

import pytest

from qemu import Machine

BSIZE = 4096
FS_MAGIC = 0x52495551
SUPERBLOCK = struct.Struct("<10I")      # struct superblock in kernel/uapi/fs.h
DINODE_SIZE = 128                       # struct dinode
ROOTINO = 1
T_FILE = 2


def corrupt_magic(image: Path) -> None:
    with open(image, "r+b") as f:
        (magic,) = struct.unpack("<I", f.read(4))
        assert magic == FS_MAGIC, "fs.img does not start with a Quire superblock"
        f.seek(0)
        f.write(struct.pack("<I", 0xDEADBEEF))


def root_not_a_directory(image: Path) -> None:
    with open(image, "r+b") as f:
        sb = SUPERBLOCK.unpack(f.read(SUPERBLOCK.size))
        inodestart = sb[7]
        ipb = BSIZE // DINODE_SIZE
        off = (inodestart + ROOTINO // ipb) * BSIZE + (ROOTINO % ipb) * DINODE_SIZE
        f.seek(off)
        f.write(struct.pack("<h", T_FILE))


@pytest.mark.points(2)
@pytest.mark.parametrize("damage", [corrupt_magic, root_not_a_directory],
                         ids=["bad-magic", "root-not-dir"])
def test_refuses_to_mount(machine: Callable[..., Machine],
                          fresh_image: Callable[..., Path],
                          damage: Callable[[Path], None]) -> None:
    image = fresh_image()
    damage(image)
    m = machine(cpus=1, image=image, boot=False)
    m.wait_for(re.compile(r"fs: refusing to mount: \S.*"), timeout=60)
    status = m.wait_exit(timeout=30, what="QEMU to exit after refusing to mount")
    out = m.output
    assert status != 0, "the kernel should power off with a non-zero status"
    assert not re.search(r"scause|sepc|stval", out), \
        "the kernel trapped instead of stopping calmly"
    assert not re.search(r"(?m)^\$ ", out), "a shell started on a damaged file system"
