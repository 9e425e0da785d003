"""Host tests of mkfs/mkfs and mkfs/fsck.

mkfs must build images that fsck finds clean and whose files read back
byte for byte; both tools must reject bad arguments clearly; and fsck must
report each kind of corruption with a line of its own and exit 1.  Every
corruption test first checks the untouched image, so that a test passes
only because of the corruption it makes.

The tools are compiled here with the Makefile's flags, so these tests do
not depend on the rest of the build.  Run with:

    /usr/bin/python3 -m pytest grade/test_fsck.py
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import struct
import subprocess
from pathlib import Path
from typing import Callable, Optional, Sequence

import pytest

from fsimage import (BSIZE, DIRSIZ, DIND_SLOT, FS_MAGIC, IND_SLOT, IPB,
                     LOG_MAGIC, NADDRS, NDIRECT, NINDIRECT, ROOTINO, T_DIR,
                     T_FILE, Dinode, Image, divup)

REPO = Path(__file__).resolve().parent.parent
HOSTCFLAGS = ["-Wall", "-Werror", "-O2", "-g", f"-I{REPO / 'kernel'}"]
TIMEOUT = 120
# A sanitizer's exit status must not pass for fsck's own 1 or 2.
SANITIZER_ENV = dict(os.environ, ASAN_OPTIONS="exitcode=99",
                     UBSAN_OPTIONS="halt_on_error=1:exitcode=99")


# ---------------------------------------------------------------- helpers


class Tools:
    """Paths of the compiled tools."""

    def __init__(self, mkfs: Path, fsck: Path, fsck_asan: Optional[Path]):
        self.mkfs = mkfs
        self.fsck = fsck
        self.fsck_asan = fsck_asan


def compile_tool(name: str, out: Path, extra: list[str] = []) -> subprocess.CompletedProcess:
    srcs = [REPO / "mkfs" / f"{name}.c"]
    if (REPO / "mkfs" / "fsutil.c").exists():
        srcs.append(REPO / "mkfs" / "fsutil.c")
    cmd = ["gcc", *HOSTCFLAGS, *extra, "-o", str(out), *map(str, srcs)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    """mkfs and fsck built with the Makefile's flags, plus, where the
    compiler has sanitizers, an fsck built with them for the fuzz test."""
    d = tmp_path_factory.mktemp("tools")
    for name in ("mkfs", "fsck"):
        r = compile_tool(name, d / name)
        if r.returncode != 0:
            pytest.fail(f"mkfs/{name}.c does not build warning-free:\n{r.stderr}")
    asan: Optional[Path] = d / "fsck-asan"
    r = compile_tool("fsck", asan, ["-fsanitize=address,undefined",
                                    "-fno-sanitize-recover=all"])
    if r.returncode != 0:
        asan = None
    return Tools(d / "mkfs", d / "fsck", asan)


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=TIMEOUT, **kw)


def mkfs(tools: Tools, img: Path, *files: str | Path,
         opts: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run mkfs [opts] img files..., and insist that it succeeds."""
    r = run([tools.mkfs, *opts, img, *files])
    assert r.returncode == 0, f"mkfs failed: {r.stderr}"
    return r


def fsck(tools: Tools, img: Path, verbose: bool = False,
         binary: Optional[Path] = None) -> tuple[int, list[str], str]:
    """Run fsck; return (exit status, stdout lines, stderr)."""
    r = run([binary or tools.fsck, *(["-v"] if verbose else []), img])
    return r.returncode, r.stdout.splitlines(), r.stderr


def assert_clean(tools: Tools, img: Path) -> None:
    rc, out, err = fsck(tools, img)
    assert (rc, out) == (0, []), f"fsck should find {img.name} clean:\n{out}\n{err}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expect_problem(tools: Tools, img: Path, corrupt: Callable[[Image], None],
                   pattern: str, status: int = 1) -> list[str]:
    """Check that img is clean and pattern absent, apply corrupt, and check
    that fsck exits with status and prints a line matching pattern."""
    rc, out, err = fsck(tools, img)
    assert (rc, out) == (0, []), f"image not clean before the corruption:\n{out}\n{err}"
    with Image(img, writable=True) as fs:
        corrupt(fs)
    before = digest(img)
    rc, out, err = fsck(tools, img)
    assert digest(img) == before, "fsck changed the image"
    assert rc == status, f"fsck exited {rc}, not {status}; it said:\n{out}\n{err}"
    assert any(re.search(pattern, line) for line in out), \
        f"no line matching {pattern!r} in fsck's output:\n" + "\n".join(out)
    return out


def write_file(path: Path, size: int, seed: int) -> bytes:
    """A file of size pseudo-random bytes (reproducible from seed)."""
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


def make_subdir(fs: Image, parent: int, name: str) -> int:
    """Make an empty directory in parent the way the kernel would, with
    fsimage's primitives.  Returns its inode number."""
    inum = fs.free_inode()
    b = fs.free_block()
    fs.set_used(b, True)
    fs.write_block(b, bytes(BSIZE))
    fs.write_inode(Dinode(inum, T_DIR, 0, 0, 1, BSIZE, [b] + [0] * (NADDRS - 1)))
    fs.write_dirent(inum, 0, inum, ".")
    fs.write_dirent(inum, 1, parent, "..")
    fs.write_dirent(parent, fs.free_slot(parent), inum, name)
    return inum


# A small image with three files: "cat" (3 blocks), "notes" (named with
# name=path) and "big", which needs the indirect block.
BIG_BLOCKS = NDIRECT + 3


@pytest.fixture
def image(tools: Tools, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    write_file(src / "_cat", 3 * BSIZE - 100, 1)
    write_file(src / "notes.md", 100, 2)
    write_file(src / "big", BIG_BLOCKS * BSIZE - 7, 3)
    img = tmp_path / "fs.img"
    mkfs(tools, img, src / "_cat", f"notes={src / 'notes.md'}", src / "big", opts=["-s", "2"])
    return img


def file_inode(img: Path, name: str) -> Dinode:
    with Image(img) as fs:
        inum = fs.lookup(name)
        assert inum is not None, f"{name} is not in the root directory"
        return fs.inode(inum)


# ---------------------------------------------------------------- mkfs


@pytest.mark.points(2)
def test_default_image_is_clean_and_sparse(tools: Tools, tmp_path: Path) -> None:
    src = write_file(tmp_path / "_hello", 5000, 4)
    img = tmp_path / "fs.img"
    r = mkfs(tools, img, tmp_path / "_hello")
    assert len(r.stdout.splitlines()) == 1, "mkfs should print one summary line"
    assert r.stderr == ""
    assert img.stat().st_size == 128 * 1024 * 1024
    assert img.stat().st_blocks * 512 < 2 * 1024 * 1024, "the image is not sparse"
    with Image(img) as fs:
        sb = fs.sb
        assert (sb.magic, sb.size, sb.ninodes, sb.nlog) == (FS_MAGIC, 32768, 2048, 128)
        assert sb.logstart == 1
        assert sb.inodestart == sb.logstart + sb.nlog
        assert sb.bmapstart == sb.inodestart + divup(sb.ninodes, IPB)
        assert sb.datastart == sb.bmapstart + 1
        assert sb.nblocks == sb.size - sb.datastart
        lh = fs.log_header()
        assert (lh.magic, lh.n) == (LOG_MAGIC, 0)
        assert fs.read_file(fs.lookup("hello")) == src
    rc, out, err = fsck(tools, img, verbose=True)
    assert (rc, out) == (0, []), err


@pytest.mark.points(1)
def test_layout_options(tools: Tools, tmp_path: Path) -> None:
    img = tmp_path / "fs.img"
    mkfs(tools, img, opts=["-s", "8", "-i", "100", "-l", "10"])
    with Image(img) as fs:
        sb = fs.sb
        assert (sb.size, sb.ninodes, sb.nlog) == (8 * 256, 100, 10)
        assert (sb.logstart, sb.inodestart, sb.bmapstart, sb.datastart) == \
            (1, 11, 11 + divup(100, IPB), 11 + divup(100, IPB) + 1)
    assert_clean(tools, img)


@pytest.mark.points(1)
def test_large_sparse_image(tools: Tools, tmp_path: Path) -> None:
    img = tmp_path / "big.img"
    mkfs(tools, img, opts=["-s", "1024"])
    assert img.stat().st_size == 1 << 30
    assert img.stat().st_blocks * 512 < 1024 * 1024, "a 1 GiB image should cost nothing"
    assert_clean(tools, img)


@pytest.mark.points(2)
def test_root_directory_and_names(tools: Tools, image: Path) -> None:
    with Image(image) as fs:
        root = fs.inode(ROOTINO)
        assert (root.type, root.nlink) == (T_DIR, 1)
        assert root.size % BSIZE == 0
        slots = fs.dir_slots(ROOTINO)
        assert [(e.name, e.inum) for e in slots[:2]] == [(".", ROOTINO), ("..", ROOTINO)]
        names = {e.name: e.inum for e in fs.dir_entries(ROOTINO)}
        assert set(names) == {".", "..", "cat", "notes", "big"}
        assert fs.inode(0).type == 0, "inode 0 must stay unused"
        used = set()
        for name in ("cat", "notes", "big"):
            d = fs.inode(names[name])
            assert (d.type, d.nlink) == (T_FILE, 1)
            used |= fs.used_blocks(d)
        used |= fs.used_blocks(root)
        # The bitmap marks the metadata and exactly the blocks in use.
        for b in range(fs.sb.size):
            assert fs.is_used(b) == (b < fs.sb.datastart or b in used), f"block {b}"


# File sizes around each boundary of the block map.
ROUNDTRIP_SIZES = [
    0, 1, BSIZE - 1, BSIZE, BSIZE + 1,
    NDIRECT * BSIZE, NDIRECT * BSIZE + 1,
    (NDIRECT + NINDIRECT) * BSIZE, (NDIRECT + NINDIRECT) * BSIZE + 1,
    (NDIRECT + NINDIRECT + 2 * NINDIRECT) * BSIZE + 123,
]


@pytest.mark.points(3)
def test_files_round_trip(tools: Tools, tmp_path: Path) -> None:
    files = {}
    args: list = []
    for i, size in enumerate(ROUNDTRIP_SIZES):
        p = tmp_path / f"f{i}"
        files[p.name] = write_file(p, size, 100 + i)
        args.append(p)
    img = tmp_path / "fs.img"
    mkfs(tools, img, *args, opts=["-s", "32"])
    with Image(img) as fs:
        for name, data in files.items():
            d = fs.inode(fs.lookup(name))
            assert d.size == len(data)
            assert fs.read_file(d.inum) == data, f"{name} ({len(data)} bytes) differs"
            nb = divup(len(data), BSIZE)
            assert all(fs.block_list(d)), "mkfs should leave no holes"
            assert (d.addrs[IND_SLOT] != 0) == (nb > NDIRECT)
            assert (d.addrs[DIND_SLOT] != 0) == (nb > NDIRECT + NINDIRECT)
    assert_clean(tools, img)


@pytest.mark.points(2)
def test_45mib_file_round_trips(tools: Tools, tmp_path: Path) -> None:
    data = write_file(tmp_path / "huge", 45 * 1024 * 1024 + 5, 7)
    img = tmp_path / "fs.img"
    mkfs(tools, img, tmp_path / "huge", opts=["-s", "64"])
    with Image(img) as fs:
        d = fs.inode(fs.lookup("huge"))
        assert d.addrs[DIND_SLOT] != 0
        assert hashlib.sha256(fs.read_file(d.inum)).digest() == hashlib.sha256(data).digest()
    assert_clean(tools, img)


@pytest.mark.points(2)
@pytest.mark.parametrize("argv,message", [
    ([], "no image"),
    (["-q", "IMG"], "usage"),
    (["-s"], "usage"),
    (["-s", "0", "IMG"], "-s"),
    (["-s", "abc", "IMG"], "not a number"),
    (["-s", "-5", "IMG"], "not a number"),
    (["-s", "99999999999", "IMG"], "not a number"),
    (["-s", "20000000", "IMG"], "too large"),
    (["-i", "1", "IMG"], "-i"),
    (["-l", "1", "IMG"], "-l"),
    (["-l", "5000", "IMG"], "too many"),
    (["-s", "1", "-i", "100000", "IMG"], "too small"),
    (["-s", "1", "-l", "300", "IMG"], "too small"),
    (["-i", "3", "IMG", "A", "B"], "inodes"),
    (["IMG", "MISSING"], "No such file"),
    (["IMG", "DIR"], "not a regular file"),
    (["IMG", "A", "sub/A"], "would both be named"),
    (["IMG", "A", "A=B"], "would both be named"),
    (["IMG", "LONG"], "at most 59"),
    (["IMG", "=A"], "empty"),
    (["IMG", "x="], "no path"),
    (["IMG", "_"], "no file name"),
    (["-s", "1", "IMG", "BIG"], "larger -s"),
])
def test_mkfs_rejects_bad_arguments(tools: Tools, tmp_path: Path, argv: list,
                                    message: str) -> None:
    (tmp_path / "A").write_bytes(b"a")
    (tmp_path / "B").write_bytes(b"b")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "A").write_bytes(b"a2")
    (tmp_path / "DIR").mkdir()
    (tmp_path / "_").write_bytes(b"x")
    long = tmp_path / ("n" * DIRSIZ)
    long.write_bytes(b"long")
    write_file(tmp_path / "BIG", 2 * 1024 * 1024, 5)
    subst = {"IMG": "fs.img", "LONG": long.name}
    argv = [subst.get(a, a) for a in argv]
    r = run([tools.mkfs, *argv], cwd=tmp_path)
    assert r.returncode != 0, f"mkfs {argv} should fail"
    assert r.returncode > 0, f"mkfs {argv} crashed (signal {-r.returncode})"
    assert message in r.stderr, f"mkfs {argv}: expected {message!r} in:\n{r.stderr}"
    assert r.stdout == ""
    assert not (tmp_path / "fs.img").exists(), "a failed mkfs left an image behind"


@pytest.mark.points(1)
def test_mkfs_refuses_to_overwrite_an_input(tools: Tools, tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes(b"precious")
    r = run([tools.mkfs, "data", "data"], cwd=tmp_path)
    assert r.returncode != 0 and "also the input" in r.stderr
    assert (tmp_path / "data").read_bytes() == b"precious"


@pytest.mark.points(1)
@pytest.mark.parametrize("argv,message", [
    ([], "no image"),
    (["-x", "IMG"], "usage"),
    (["IMG", "IMG"], "one image"),
    (["MISSING"], "No such file"),
    (["DIR"], "not a regular file"),
    (["TINY"], "smaller than one block"),
])
def test_fsck_rejects_bad_arguments(tools: Tools, image: Path, tmp_path: Path,
                                    argv: list, message: str) -> None:
    (tmp_path / "DIR").mkdir()
    (tmp_path / "TINY").write_bytes(b"tiny")
    subst = {"IMG": str(image), "MISSING": str(tmp_path / "missing"),
             "DIR": str(tmp_path / "DIR"), "TINY": str(tmp_path / "TINY")}
    r = run([tools.fsck, *[subst.get(a, a) for a in argv]])
    assert r.returncode == 2, f"fsck {argv} exited {r.returncode}, not 2"
    assert message in r.stdout + r.stderr


# ---------------------------------------------------------------- corruptions


@pytest.mark.points(2)
def test_used_block_marked_free(tools: Tools, image: Path) -> None:
    b = file_inode(image, "cat").addrs[1]
    inum = file_inode(image, "cat").inum
    expect_problem(tools, image, lambda fs: fs.set_used(b, False),
                   rf"^block {b}: used by inode {inum} but marked free")


@pytest.mark.points(2)
def test_block_used_twice(tools: Tools, image: Path) -> None:
    cat, notes = file_inode(image, "cat"), file_inode(image, "notes")
    shared = cat.addrs[0]
    out = expect_problem(tools, image, lambda fs: fs.set_addr(notes.inum, 0, shared),
                         rf"^block {shared}: used by inode {cat.inum} and inode {notes.inum}$")
    # notes' own block is now used by nobody but still marked used.
    assert any(re.search(rf"^block {notes.addrs[0]}: .*leaked", line) for line in out)


@pytest.mark.points(2)
def test_wrong_link_count(tools: Tools, image: Path) -> None:
    inum = file_inode(image, "notes").inum
    expect_problem(tools, image, lambda fs: fs.set_inode_field(inum, "nlink", 2),
                   rf"^inode {inum}: nlink is 2, but 1 directory entry names it")


@pytest.mark.points(2)
def test_entry_names_free_inode(tools: Tools, image: Path) -> None:
    def corrupt(fs: Image) -> None:
        free = fs.free_inode()
        fs.write_dirent(ROOTINO, fs.free_slot(ROOTINO), free, "ghost")
    expect_problem(tools, image, corrupt, r'^directory inode 1: entry "ghost" names free inode')


@pytest.mark.points(1)
def test_entry_names_inode_out_of_range(tools: Tools, image: Path) -> None:
    expect_problem(tools, image,
                   lambda fs: fs.write_dirent(ROOTINO, fs.free_slot(ROOTINO), 99999, "far"),
                   r'entry "far" names inode 99999, out of range')


@pytest.mark.points(2)
def test_bad_superblock_magic(tools: Tools, image: Path) -> None:
    expect_problem(tools, image, lambda fs: fs.write_bytes(0, 0, b"XXXX"),
                   r"superblock: bad magic", status=2)


@pytest.mark.points(1)
@pytest.mark.parametrize("field,value,pattern", [
    ("version", 7, "version 7"),
    ("size", 100000, "image holds only"),
    ("inodestart", 5, "runs into the inodes"),
    ("datastart", 150, "bitmap .* is too small"),
    ("ninodes", 1000000, "runs into the bitmap"),
    ("nlog", 1, "nlog is 1"),
])
def test_broken_superblock_layout(tools: Tools, image: Path, field: str, value: int,
                                  pattern: str) -> None:
    def corrupt(fs: Image) -> None:
        from dataclasses import replace
        fs.write_superblock(replace(fs.sb, **{field: value}))
    expect_problem(tools, image, corrupt, pattern, status=2)


@pytest.mark.points(1)
def test_superblock_size_and_nblocks(tools: Tools, image: Path) -> None:
    def corrupt(fs: Image) -> None:
        from dataclasses import replace
        fs.write_superblock(replace(fs.sb, nblocks=fs.sb.nblocks + 1))
    expect_problem(tools, image, corrupt, r"^superblock: nblocks is")


@pytest.mark.points(1)
def test_image_longer_than_superblock_says(tools: Tools, image: Path) -> None:
    def corrupt(fs: Image) -> None:
        os.truncate(fs.path, (fs.sb.size + 1) * BSIZE)
    expect_problem(tools, image, corrupt, r"^superblock: size is \d+ blocks, but the image is")


@pytest.mark.points(2)
@pytest.mark.parametrize("where", ["direct-past-end", "direct-in-inodes",
                                   "indirect-entry", "indirect-slot"])
def test_block_address_out_of_range(tools: Tools, image: Path, where: str) -> None:
    big = file_inode(image, "big")

    def corrupt(fs: Image) -> None:
        if where == "direct-past-end":
            fs.set_addr(big.inum, 0, fs.sb.size + 5)
        elif where == "direct-in-inodes":
            fs.set_addr(big.inum, 0, fs.sb.inodestart)
        elif where == "indirect-entry":
            fs.set_indirect_entry(big.addrs[IND_SLOT], 1, 0xFFFFFFF0)
        else:
            fs.set_addr(big.inum, IND_SLOT, 1)
    expect_problem(tools, image, corrupt,
                   rf"^inode {big.inum}: .* outside the data area")


@pytest.mark.points(2)
def test_leaked_block(tools: Tools, image: Path) -> None:
    holder: dict = {}

    def corrupt(fs: Image) -> None:
        holder["b"] = b = fs.free_block()
        fs.set_used(b, True)
    out = expect_problem(tools, image, corrupt, r"marked used in the bitmap but used by no inode")
    assert out == [f"block {holder['b']}: marked used in the bitmap but used by no inode (leaked)"]


@pytest.mark.points(1)
def test_metadata_block_marked_free(tools: Tools, image: Path) -> None:
    expect_problem(tools, image, lambda fs: fs.set_used(fs.sb.inodestart, False),
                   r"inode block marked free in the bitmap")


@pytest.mark.points(1)
@pytest.mark.parametrize("slot,name", [(0, "."), (1, "..")])
def test_missing_dot_entries(tools: Tools, image: Path, slot: int, name: str) -> None:
    expect_problem(tools, image, lambda fs: fs.write_dirent(ROOTINO, slot, 0, ""),
                   rf'^directory inode 1: no "{re.escape(name)}" entry')


@pytest.mark.points(1)
def test_root_dotdot_must_name_root(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat").inum
    expect_problem(tools, image, lambda fs: fs.write_dirent(ROOTINO, 1, cat, ".."),
                   r'^directory inode 1 \(the root\): ".." names inode')


@pytest.mark.points(2)
def test_subdirectory_rules(tools: Tools, image: Path) -> None:
    """A directory made as the kernel must make one is clean: nlink 1, the
    parent's nlink unchanged.  Then its ".." and nlink are corrupted."""
    with Image(image, writable=True) as fs:
        sub = make_subdir(fs, ROOTINO, "sub")
        inner = make_subdir(fs, sub, "inner")
    assert_clean(tools, image)
    expect_problem(tools, image, lambda fs: fs.write_dirent(inner, 1, ROOTINO, ".."),
                   rf'^directory inode {inner}: ".." names inode 1, but the directory naming it is inode {sub}')
    with Image(image, writable=True) as fs:
        fs.write_dirent(inner, 1, sub, "..")
    # xv6 counts ".." in the parent's nlink; Quire does not.
    expect_problem(tools, image, lambda fs: fs.set_inode_field(sub, "nlink", 2),
                   rf"^inode {sub}: nlink is 2, but 1 directory entry names it")


@pytest.mark.points(1)
def test_directory_named_twice(tools: Tools, image: Path) -> None:
    with Image(image, writable=True) as fs:
        sub = make_subdir(fs, ROOTINO, "sub")
        other = make_subdir(fs, ROOTINO, "other")

    def corrupt(fs: Image) -> None:
        fs.write_dirent(other, 2, sub, "again")
        fs.set_inode_field(sub, "nlink", 2)     # keep the link count right
    expect_problem(tools, image, corrupt,
                   rf"^directory inode {sub} is named both in directory inode 1 "
                   rf"and in directory inode {other}")


@pytest.mark.points(1)
def test_directory_cycle_unreachable(tools: Tools, image: Path) -> None:
    with Image(image, writable=True) as fs:
        a = make_subdir(fs, ROOTINO, "a")
        b = make_subdir(fs, a, "b")

    def corrupt(fs: Image) -> None:
        # Detach a from the root and hang it under b: a and b name each other.
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "a")
        fs.write_dirent(ROOTINO, slot, 0, "")
        fs.write_dirent(b, 2, a, "a")
        fs.write_dirent(a, 1, b, "..")
    expect_problem(tools, image, corrupt, rf"^directory inode {a} is not reachable from the root")


@pytest.mark.points(1)
def test_duplicate_and_empty_names(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat").inum
    out = expect_problem(tools, image,
                         lambda fs: fs.write_dirent(ROOTINO, fs.free_slot(ROOTINO), cat, "notes"),
                         r'^directory inode 1: the name "notes" appears more than once')
    assert f"inode {cat}: nlink is 1, but 2 directory entries name it" in out


@pytest.mark.points(1)
def test_empty_name(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat").inum

    def corrupt(fs: Image) -> None:
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "cat")
        fs.write_dirent(ROOTINO, slot, cat, "")
    expect_problem(tools, image, corrupt, rf"^directory inode 1: an entry naming inode {cat} has an empty name")


@pytest.mark.points(1)
def test_name_without_nul(tools: Tools, image: Path) -> None:
    """fs.h: a name is NUL-terminated, so at most DIRSIZ-1 bytes long."""
    cat = file_inode(image, "cat").inum

    def corrupt(fs: Image) -> None:
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "cat")
        fs.write_dirent(ROOTINO, slot, cat, "c" * DIRSIZ)
    expect_problem(tools, image, corrupt, rf'^directory inode 1: entry "c{{{DIRSIZ}}}" has no NUL')


@pytest.mark.points(1)
def test_name_with_slash(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat").inum

    def corrupt(fs: Image) -> None:
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "cat")
        fs.write_dirent(ROOTINO, slot, cat, "c/t")
    expect_problem(tools, image, corrupt, r"""^directory inode 1: entry "c/t" has a '/'""")


@pytest.mark.points(1)
def test_bad_inode_type(tools: Tools, image: Path) -> None:
    inum = file_inode(image, "notes").inum
    expect_problem(tools, image, lambda fs: fs.set_inode_field(inum, "type", 9),
                   rf"^inode {inum}: bad type 9")


@pytest.mark.points(1)
def test_inode_zero_in_use(tools: Tools, image: Path) -> None:
    expect_problem(tools, image, lambda fs: fs.set_inode_field(0, "type", T_FILE),
                   r"^inode 0: allocated")


@pytest.mark.points(1)
def test_block_beyond_file_size(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat")
    out = expect_problem(tools, image, lambda fs: fs.set_inode_field(cat.inum, "size", BSIZE),
                         rf"^inode {cat.inum}: file block 1 \(block {cat.addrs[1]}\) lies beyond the size 4096")
    assert any(f"file block 2 (block {cat.addrs[2]})" in line for line in out)


@pytest.mark.points(1)
def test_indirect_block_beyond_file_size(tools: Tools, image: Path) -> None:
    big = file_inode(image, "big")
    expect_problem(tools, image,
                   lambda fs: fs.set_inode_field(big.inum, "size", NDIRECT * BSIZE),
                   rf"^inode {big.inum}: indirect block {big.addrs[IND_SLOT]} lies beyond the size")


@pytest.mark.points(1)
def test_directory_size_and_holes(tools: Tools, image: Path) -> None:
    expect_problem(tools, image, lambda fs: fs.set_inode_field(ROOTINO, "size", BSIZE + 64),
                   r"^directory inode 1: size 4160 is not a multiple of 4096")
    with Image(image, writable=True) as fs:
        fs.set_inode_field(ROOTINO, "size", BSIZE)
    expect_problem(tools, image, lambda fs: fs.set_inode_field(ROOTINO, "size", 3 * BSIZE),
                   r"^directory inode 1: 2 of its 3 blocks are holes \(the first is file block 1\)")


@pytest.mark.points(1)
def test_file_too_large(tools: Tools, image: Path) -> None:
    inum = file_inode(image, "notes").inum
    expect_problem(tools, image, lambda fs: fs.set_inode_field(inum, "size", 1 << 62),
                   rf"^inode {inum}: size \d+ is larger than the largest file")


# ---------------------------------------------------------------- orphans


@pytest.mark.points(2)
def test_orphan_is_not_a_problem(tools: Tools, image: Path) -> None:
    cat = file_inode(image, "cat").inum
    with Image(image, writable=True) as fs:
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "cat")
        fs.write_dirent(ROOTINO, slot, 0, "")
    # Unnamed but with a link: a lost file.
    rc, out, _ = fsck(tools, image)
    assert rc == 1 and out == [f"inode {cat}: nlink is 1, but no directory entry names it"]
    # Unnamed with nlink 0: unlinked while open, which the kernel cleans up.
    with Image(image, writable=True) as fs:
        fs.set_inode_field(cat, "nlink", 0)
    rc, out, err = fsck(tools, image, verbose=True)
    assert (rc, out) == (0, [])
    assert re.search(rf"inode {cat}: orphan", err)
    rc, out, err = fsck(tools, image)
    assert (rc, out, err) == (0, [], "")


@pytest.mark.points(1)
def test_orphan_directory_must_be_empty(tools: Tools, image: Path) -> None:
    with Image(image, writable=True) as fs:
        sub = make_subdir(fs, ROOTINO, "sub")
        slot = next(e.slot for e in fs.dir_entries(ROOTINO) if e.name == "sub")
        fs.write_dirent(ROOTINO, slot, 0, "")
        fs.set_inode_field(sub, "nlink", 0)
        # Its parent is gone too, so ".." names a free inode: still fine.
        fs.write_dirent(sub, 1, fs.free_inode(), "..")
    assert_clean(tools, image)
    cat = file_inode(image, "cat").inum

    def corrupt(fs: Image) -> None:
        fs.write_dirent(sub, 2, cat, "stray")
        fs.set_inode_field(cat, "nlink", 2)
    expect_problem(tools, image, corrupt, rf"^inode {sub}: orphan directory is not empty")


# ---------------------------------------------------------------- the log


def inode_block_of(img: Path, name: str) -> tuple[int, int, bytes]:
    """(inum, its inode block, that block's contents) for a file."""
    with Image(img) as fs:
        inum = fs.lookup(name)
        b, _ = fs.inode_location(inum)
        return inum, b, fs.read_block(b)


@pytest.mark.points(3)
def test_committed_log_is_replayed(tools: Tools, image: Path) -> None:
    inum, b, good = inode_block_of(image, "notes")
    with Image(image, writable=True) as fs:
        fs.set_inode_field(inum, "nlink", 3)
    rc, out, _ = fsck(tools, image)
    assert rc == 1 and f"inode {inum}: nlink is 3, but 1 directory entry names it" in out
    # A committed transaction whose copy of the inode block fixes it.
    with Image(image, writable=True) as fs:
        fs.write_log([(b, good)], seq=5)
    before = digest(image)
    rc, out, err = fsck(tools, image, verbose=True)
    assert (rc, out) == (0, []), f"the committed log was not applied:\n{out}"
    assert "committed transaction" in err
    assert digest(image) == before, "fsck must not replay the log onto the image"


@pytest.mark.points(2)
def test_uncommitted_log_is_ignored(tools: Tools, image: Path) -> None:
    inum, b, good = inode_block_of(image, "notes")
    with Image(image, writable=True) as fs:
        fs.set_inode_field(inum, "nlink", 3)
        right = fs.write_log([(b, good)], seq=5)
        fs.write_log([(b, good)], seq=5, checksum=right ^ 1)
    rc, out, err = fsck(tools, image, verbose=True)
    assert rc == 1 and out == [f"inode {inum}: nlink is 3, but 1 directory entry names it"]
    assert "unfinished" in err


@pytest.mark.points(2)
def test_log_contents_are_what_is_checked(tools: Tools, image: Path) -> None:
    """The home blocks are clean, but the committed log carries a corrupt
    copy of an inode block and a bitmap block: fsck must see those."""
    inum, b, good = inode_block_of(image, "notes")
    bad = bytearray(good)
    off = (inum % IPB) * 128 + 6
    bad[off:off + 2] = struct.pack("<h", 4)
    with Image(image) as fs:
        leak = fs.free_block()
        bb = fs.sb.bmapstart + leak // (BSIZE * 8)
        bitmap = bytearray(fs.read_block(bb))
    bitmap[(leak % (BSIZE * 8)) // 8] |= 1 << (leak % 8)
    expect_problem(tools, image, lambda fs: fs.write_log([(b, bytes(bad)), (bb, bytes(bitmap))]),
                   rf"^inode {inum}: nlink is 4")
    rc, out, _ = fsck(tools, image)
    assert f"block {leak}: marked used in the bitmap but used by no inode (leaked)" in out


@pytest.mark.points(1)
def test_last_logged_copy_wins(tools: Tools, image: Path) -> None:
    inum, b, good = inode_block_of(image, "notes")
    bad = bytearray(good)
    off = (inum % IPB) * 128 + 6
    bad[off:off + 2] = struct.pack("<h", 4)
    with Image(image, writable=True) as fs:
        fs.write_log([(b, bytes(bad)), (b, good)])
    assert_clean(tools, image)
    with Image(image, writable=True) as fs:
        fs.write_log([(b, good), (b, bytes(bad))])
    rc, out, _ = fsck(tools, image)
    assert rc == 1 and out == [f"inode {inum}: nlink is 4, but 1 directory entry names it"]


@pytest.mark.points(2)
def test_bad_committed_logs(tools: Tools, tmp_path: Path) -> None:
    img = tmp_path / "fs.img"
    mkfs(tools, img, opts=["-s", "2", "-l", "4"])
    with Image(img) as fs:
        sb = fs.sb
        home = sb.inodestart
        block = fs.read_block(home)
    # A transaction that names a block outside the image.
    expect_problem(tools, img, lambda fs: fs.write_log([(sb.size + 3, block)]),
                   rf"^log header: entry 0 names block {sb.size + 3}, outside")
    with Image(img, writable=True) as fs:
        fs.clear_log()
    # One that would overwrite the superblock.
    expect_problem(tools, img, lambda fs: fs.write_log([(0, block)]),
                   r"^log header: entry 0 names block 0, outside")
    with Image(img, writable=True) as fs:
        fs.clear_log()
    # Four blocks in a log with room for three: the fourth "log block" is
    # the first inode block, rewritten with its own contents.
    expect_problem(tools, img, lambda fs: fs.write_log([(home, block)] * 4, force=True),
                   r"^log header: committed transaction of 4 blocks does not fit in the log's 3 blocks")
    with Image(img, writable=True) as fs:
        fs.clear_log()
    # A header that is not a log header at all.
    expect_problem(tools, img, lambda fs: fs.write_bytes(sb.logstart, 0, b"\0\0\0\0"),
                   r"^log header \(block 1\): bad magic")


# ---------------------------------------------------------------- robustness


# Not graded (like the system-call fuzzer): it checks a staff tool, not a
# student's work, and it takes several seconds.
def test_fsck_never_crashes_on_garbage(tools: Tools, image: Path, tmp_path: Path) -> None:
    """Random damage to the metadata must give exit 0, 1 or 2, never a crash
    (fsck is built with sanitizers here when the compiler has them)."""
    binary = tools.fsck_asan or tools.fsck
    with Image(image) as fs:
        sb = fs.sb
        big = fs.inode(fs.lookup("big"))
        root = fs.inode(ROOTINO)
        targets = [0, sb.logstart, sb.inodestart, sb.bmapstart, root.addrs[0],
                   big.addrs[IND_SLOT]]
    pristine = image.read_bytes()
    interesting = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, sb.size, sb.size - 1,
                   sb.datastart, sb.datastart - 1, sb.ninodes, ROOTINO, 2, 64]
    rng = random.Random(2024)
    work = tmp_path / "fuzz.img"
    seen = set()
    for _ in range(150):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 6)):
            b = rng.choice(targets)
            # Mostly the first part of a block, where the live fields are.
            off = rng.randrange(0, 256 if rng.random() < 0.7 else BSIZE - 4) & ~3
            if rng.random() < 0.5:
                val = struct.pack("<I", rng.choice(interesting))
            else:
                val = rng.randbytes(4)
            data[b * BSIZE + off:b * BSIZE + off + 4] = val
        work.write_bytes(data)
        r = run([binary, work], env=SANITIZER_ENV)
        assert r.returncode in (0, 1, 2), \
            f"fsck crashed (status {r.returncode}):\n{r.stderr[-3000:]}"
        assert "runtime error" not in r.stderr, r.stderr[-3000:]
        seen.add(r.returncode)
    assert seen >= {1, 2}, "the damage should both be found and break the superblock"
