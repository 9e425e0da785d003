#!/usr/bin/env python3
"""Package a lab's hand-in files for upload: `make handin [LAB=crash]`.

    python3 labs/handin.py [--lab NAME] [-o FILE]

Without --lab, the lab is the one the starter was made for (its first
commit is "<lab> lab starter"), or writeback.

Refuses while the repository has uncommitted changes: tracked files that
are modified, staged or deleted, or a hand-in file that is not in the last
commit.  Otherwise writes handin-<lab>.tar.gz at the top of the repository
holding the committed version (`git archive HEAD`) of each file that
labs/<lab>/lab.json lists under "handin", plus handin.json: the lab, the
commit id, the commit's date and when the archive was made.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import Lab, LabError, load_lab  # noqa: E402

METADATA = "handin.json"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise LabError("git is not installed; make handin needs it") from None
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise LabError(f"git {' '.join(args)} failed: {err}")
    return proc


def top_level(start: Path) -> Path:
    proc = git(start, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise LabError(f"{start} is not inside a git repository: run make handin "
                       "in your clone of the lab's starter")
    return Path(proc.stdout.decode().strip())


def uncommitted(repo: Path, lab: Lab) -> list[str]:
    """What keeps the repository from being handed in, one line each."""
    problems = []
    status = git(repo, "status", "--porcelain=v1", "-z",
                 "--untracked-files=no").stdout.decode(errors="replace")
    entries = status.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        x, y, path = entry[0], entry[1], entry[3:]
        if x in "RC":                   # a rename: the old name follows
            i += 1
        if "U" in (x, y) or (x, y) in (("A", "A"), ("D", "D")):
            what = "unmerged (finish the merge)"
        elif y == "D" or x == "D":
            what = "deleted, not committed"
        elif x != " " and y != " ":
            what = "staged, then modified again"
        elif x != " ":
            what = "staged, not committed"
        else:
            what = "modified, not committed"
        problems.append(f"{path}: {what}")
    for path in lab.handin:
        if git(repo, "cat-file", "-e", f"HEAD:{path}", check=False).returncode != 0:
            if (repo / path).exists():
                problems.append(f"{path}: not in your last commit "
                                f"(git add {path}, then commit)")
            else:
                problems.append(f"{path}: missing: the lab's hand-in file does "
                                "not exist")
    return problems


def make_archive(repo: Path, lab: Lab, head: str, out: Path) -> dict[str, str]:
    """Write out (a .tar.gz): git archive of the hand-in files + handin.json."""
    tar_bytes = git(repo, "archive", "--format=tar", "HEAD", "--",
                    *lab.handin).stdout
    commit_date = git(repo, "show", "-s", "--format=%cI", head).stdout.decode().strip()
    meta = {
        "lab": lab.name,
        "commit": head,
        "commit_date": commit_date,
        "made": datetime.datetime.now(datetime.timezone.utc)
                .astimezone().isoformat(timespec="seconds"),
        "files": list(lab.handin),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".handin-", dir=out.parent)
    os.close(fd)
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as src, \
                tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as dst:
            for member in src.getmembers():
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            data = (json.dumps(meta, indent=2) + "\n").encode()
            info = tarfile.TarInfo(METADATA)
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o644
            dst.addfile(info, io.BytesIO(data))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return meta


def starter_lab(repo: Path) -> str:
    """The lab of the starter this repository was cloned from, read from
    its first commit ("crash lab starter"); writeback if there is none."""
    proc = git(repo, "log", "--reverse", "--format=%s", check=False)
    first = proc.stdout.decode().splitlines()[:1] if proc.returncode == 0 else []
    words = first[0].split() if first else []
    if len(words) == 3 and words[1:] == ["lab", "starter"] and \
            (repo / "labs" / words[0] / "lab.json").exists():
        return words[0]
    return "writeback"


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Package the committed hand-in files of a lab for upload.")
    ap.add_argument("--lab", help="the lab (default: the starter's, or writeback)")
    ap.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="where to write (default: handin-<lab>.tar.gz at "
                         "the top of the repository)")
    args = ap.parse_args(argv)
    try:
        repo = top_level(Path.cwd())
        lab = load_lab(repo, args.lab or starter_lab(repo))
        head_proc = git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}",
                        check=False)
        if head_proc.returncode != 0:
            raise LabError("the repository has no commit yet: commit your work, "
                           "then run make handin")
        head = head_proc.stdout.decode().strip()
        problems = uncommitted(repo, lab)
        if problems:
            raise LabError(
                "not handing in: the repository has uncommitted changes, and the "
                "hand-in holds only what is committed:\n  " +
                "\n  ".join(problems) +
                "\nCommit your work (git commit -am 'message'), or set changes "
                "aside (git stash), then run make handin again.")
        out = args.output or repo / f"handin-{lab.name}.tar.gz"
        meta = make_archive(repo, lab, head, out)
    except LabError as e:
        print(f"handin: {e}", file=sys.stderr)
        return 1
    try:
        shown = out.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = out
    print(f"Wrote {shown}: {', '.join(lab.handin)} as of commit "
          f"{head[:12]} ({meta['commit_date']}).")
    print(f"Upload {shown.name} to the {lab.name} assignment on Gradescope.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
