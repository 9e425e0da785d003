#!/usr/bin/env python3
"""Make the Gradescope autograder of a lab: `make gradescope LAB=writeback`.

    python3 labs/mkgradescope.py --lab NAME [-o ZIP]

Writes grade/results/gradescope-<lab>.zip (or ZIP), holding:

    setup.sh          installs packages.txt, checks the tools, builds quire/
    run_autograder    grades one submission (through autograder.py)
    autograder.py     finds the hand-in files, builds, runs grade/grade.py
    autograder.json   {"lab": NAME, "tree": "quire", "made_from": commit}
    packages.txt      the Makefile's DEB_PACKAGES, one a line
    quire/            the lab's starter tree, made by mkstarter (no git)

The starter tree is checked by mkstarter for traces of the solution, and
the zip is checked again once written.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import LabError  # noqa: E402
from mkstarter import HERE, head_commit, make_starter  # noqa: E402

TOOLS = HERE / "labs" / "gradescope"
TREE = "quire"
EXECUTABLE = {"setup.sh", "run_autograder"}


def deb_packages(repo: Path) -> list[str]:
    """The Makefile's DEB_PACKAGES, as make sees it."""
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(repo),
         "--eval", "print-deb-packages: ; @echo $(DEB_PACKAGES)", "print-deb-packages"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    names = proc.stdout.decode().split()
    if proc.returncode != 0 or not names:
        raise LabError("could not read DEB_PACKAGES from the Makefile: "
                       f"{proc.stderr.decode(errors='replace').strip() or 'it is empty'}")
    return names


def _add(z: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo.from_file(path, name)
    mode = 0o755 if name in EXECUTABLE or os.access(path, os.X_OK) else 0o644
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, path.read_bytes())


def check_zip(path: Path, tree_files: list[str]) -> None:
    """The zip holds what it must, executable where it must."""
    with zipfile.ZipFile(path) as z:
        infos = {i.filename: i for i in z.infolist()}
    need = ["setup.sh", "run_autograder", "autograder.py", "autograder.json",
            "packages.txt"] + [f"{TREE}/{f}" for f in tree_files]
    missing = [n for n in need if n not in infos]
    extra = sorted(set(infos) - set(need))
    if missing or extra:
        raise LabError(f"{path}: wrong contents: missing {missing[:5]}, "
                       f"unexpected {extra[:5]}")
    for name in EXECUTABLE:
        if not (infos[name].external_attr >> 16) & 0o100:
            raise LabError(f"{path}: {name} is not executable")


def make_zip(lab_name: str, out: Path) -> tuple[int, int]:
    """Write the zip; returns (files in it, its size)."""
    with tempfile.TemporaryDirectory(prefix="mkgradescope-") as tmp:
        tree = Path(tmp) / TREE
        starter = make_starter(HERE, lab_name, tree, git=False)
        config = {"lab": starter.lab.name, "tree": TREE,
                  "made_from": head_commit(HERE)}
        staged = {
            "autograder.json": json.dumps(config, indent=2) + "\n",
            "packages.txt": "# The Debian/Ubuntu packages setup.sh installs "
                            "(the Makefile's DEB_PACKAGES)\n"
                            + "\n".join(deb_packages(HERE)) + "\n",
        }
        for name, text in staged.items():
            (Path(tmp) / name).write_text(text)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".gradescope-", suffix=".zip",
                                       dir=out.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(partial, "w") as z:
                for name in ("setup.sh", "run_autograder", "autograder.py"):
                    _add(z, TOOLS / name, name)
                for name in staged:
                    _add(z, Path(tmp) / name, name)
                for rel in sorted(starter.files):
                    full = tree / rel
                    if full.is_symlink():
                        info = zipfile.ZipInfo(f"{TREE}/{rel}")
                        info.external_attr = (0o120777) << 16
                        z.writestr(info, os.readlink(full))
                    else:
                        _add(z, full, f"{TREE}/{rel}")
            check_zip(Path(partial), starter.files)
            os.replace(partial, out)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return len(starter.files) + 5, out.stat().st_size


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Write the Gradescope autograder "
                                 "zip of a lab (the starter tree, setup.sh, "
                                 "run_autograder).")
    ap.add_argument("--lab", required=True, help="the lab (labs/NAME/lab.json)")
    ap.add_argument("-o", "--output", type=Path, metavar="ZIP",
                    help="where to write (default: grade/results/"
                         "gradescope-<lab>.zip)")
    args = ap.parse_args(argv)
    try:
        if not args.lab:
            raise LabError("no lab given: make gradescope LAB=name")
        out = args.output or HERE / "grade" / "results" / f"gradescope-{args.lab}.zip"
        count, size = make_zip(args.lab, out)
    except LabError as e:
        print(f"mkgradescope: {e}", file=sys.stderr)
        return 1
    print(f"Wrote {out}: {count} files, {size // 1024} KiB.")
    print("On Gradescope: a programming assignment's Configure Autograder, "
          "Zip file upload, with a base image whose QEMU is 7.2 or later "
          "(Ubuntu 24.04); see labs/README.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
