"""Build variants of Quire's kernel: the repository with a patch applied.

Tests that must show a checker catches a bug build a kernel with that bug
in it (the patches in grade/crashbugs/, say) and run the checker on it:

    from variants import build_kernel
    kernel = build_kernel(REPO / "grade/crashbugs/fsync-no-flush.patch", tmp_path)
    with Machine(kernel=kernel) as m: ...

The copy holds the working tree's version of every file git tracks or
would track (`git ls-files --cached --others --exclude-standard`), so a
variant is the tree as it is now, uncommitted edits included, plus the
patch.  No build product comes along (an object file of the main tree
may be half written by a build running there): the kernel is built from
scratch, which takes seconds.  Only the kernel is built: fs.img, mkfs and
fsck of the main tree serve every variant.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence, Union

from qemu import REPO, scaled

PathLike = Union[str, Path]


class VariantError(Exception):
    """The variant could not be made (a patch that does not apply, a build
    that fails); the message has the command's output."""


def _run(cmd: Sequence[str], cwd: Path, timeout: float, what: str) -> str:
    try:
        r = subprocess.run(list(cmd), cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=scaled(timeout))
    except subprocess.TimeoutExpired:
        raise VariantError(f"{what}: no result within {scaled(timeout):g} s") from None
    if r.returncode != 0:
        raise VariantError(f"{what} failed (exit {r.returncode}):\n{r.stdout[-3000:]}")
    return r.stdout


def tree_files(repo: Path = REPO) -> list[str]:
    """The files of the working tree that git tracks or would track."""
    out = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
               repo, 60, "git ls-files")
    return sorted({p for p in out.split("\0") if p})


def copy_tree(dest: Path, repo: Path = REPO) -> Path:
    """Copy the working tree (see tree_files) into dest."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in tree_files(repo):
        src = repo / name
        if not src.is_file():
            continue            # deleted in the working tree, or not a file
        dst = dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return dest


def apply_patch(tree: Path, patch: PathLike) -> None:
    """Apply a unified diff (paths a/..., b/...) inside tree."""
    _run(["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch",
          "-i", str(Path(patch).resolve())], tree, 60, f"applying {Path(patch).name}")


def build_kernel(patches: Union[PathLike, Sequence[PathLike]],
                 workdir: Optional[PathLike] = None, repo: Path = REPO,
                 jobs: int = 2) -> Path:
    """Copy the tree into workdir (a new temporary directory if None),
    apply the patches in order, build kernel/kernel there, and return its
    path.  Raises VariantError when a patch does not apply or the build
    fails."""
    if isinstance(patches, (str, os.PathLike)):
        patches = [patches]
    base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="variant-"))
    tree = base / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    copy_tree(tree, repo)
    for p in patches:
        apply_patch(tree, p)
    _run(["make", "--no-print-directory", f"-j{jobs}", "kernel/kernel"], tree, 600,
         "make kernel/kernel")
    kernel = tree / "kernel" / "kernel"
    if not kernel.exists():
        raise VariantError(f"make succeeded but {kernel} is missing")
    return kernel
