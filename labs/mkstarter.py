#!/usr/bin/env python3
"""Make a lab's student tree: `make starter LAB=writeback DEST=dir`.

    python3 labs/mkstarter.py --lab NAME [--source REPO] [--no-git] DEST

Copies the files git tracks in REPO (default: this repository), with their
working-tree contents, to DEST, which must not exist or be empty.  Every
lab fence (labs/README.md) is replaced by its stub: the solution and the
marker lines go.  Left out: the course staff's tools and tests (STAFF_ONLY
below), every labs/*/bugs/ folder, and what labs/<lab>/lab.json lists under
"exclude".  DEST is then checked for traces of the solution (a line found
only in a solution branch, a fence marker, LAB_STARTER outside the
Makefile, a left-out file); if there is one, DEST is removed and the exit
status is 1.  Last, DEST becomes a git repository with one commit,
"<lab> lab starter" (not with --no-git).

A malformed fence is reported as file:line: message, and nothing is
written.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional, Union

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import Lab, LabError, known_labs, load_lab  # noqa: E402

HERE = Path(__file__).resolve().parent.parent

# Course staff's files: in no starter.  "dir/" is a whole folder; patterns
# are fnmatch patterns on the path.
STAFF_ONLY = (
    "labs/README.md",
    "labs/mkstarter.py",
    "labs/mkgradescope.py",
    "labs/gradescope/",
    "labs/*/bugs/",
    "grade/test_labs.py",
    "grade/test_mutations.py",
)

# A line that tries to be a fence marker: a comment leader, then LAB(.
CANDIDATE = re.compile(r"^\s*(//|/\*|<!--|#)\s*LAB\(")
C_MARKER = re.compile(r"^\s*//\s*LAB\((?P<lab>[^)]*)\)\s*(?P<rest>.*?)\s*$")
MD_MARKER = re.compile(r"^\s*<!--\s*LAB\((?P<lab>[^)]*)\)\s*(?P<rest>.*?)\s*-->\s*$")
BEGIN = re.compile(r"^BEGIN\s+(?P<label>[A-Za-z0-9_.:-]+)$")
IFNDEF = re.compile(r"^\s*#\s*ifndef\s+LAB_STARTER\s*(//.*|/\*.*\*/\s*)?$")
DIRECTIVE = re.compile(r"^\s*#\s*(ifdef|ifndef|if|elif|else|endif)\b")
C_SUFFIXES = (".c", ".h", ".S")
# Lines shorter than this (without blanks), or with no word in them, are
# too common to count as traces of a solution.
SIGNIFICANT = 10


class FenceError(LabError):
    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Fence:
    lab: str
    label: str
    style: str                  # "c" or "md"
    path: str
    line: int                   # of the BEGIN marker, from 1
    solution: list[str] = field(default_factory=list)
    stub: list[str] = field(default_factory=list)


Piece = Union[str, Fence]       # a line outside fences, or a whole fence


def _marker(path: str, number: int, line: str, labs: list[str]
            ) -> Optional[tuple[str, str, str, str]]:
    """(style, lab, keyword, label) if the line is a fence marker, None if it
    is not one; FenceError if it tries to be one and is malformed."""
    if not CANDIDATE.match(line):
        return None
    m = C_MARKER.match(line)
    style = "c"
    if m is None:
        m = MD_MARKER.match(line)
        style = "md"
    if m is None:
        raise FenceError(path, number,
                         "malformed fence marker: write `// LAB(name) BEGIN label` "
                         "in C or `<!-- LAB(name) BEGIN label -->` in Markdown, "
                         f"not {line.strip()!r}")
    lab, rest = m.group("lab"), m.group("rest")
    if lab not in labs:
        raise FenceError(path, number, f"unknown lab {lab!r} in fence marker "
                         f"(labs: {', '.join(labs) or 'none'})")
    b = BEGIN.match(rest)
    if b:
        return style, lab, "BEGIN", b.group("label")
    if rest == "END":
        return style, lab, "END", ""
    if rest == "ELSE":
        if style == "c":
            raise FenceError(path, number, "a C fence has no ELSE marker: the stub "
                             "goes between #else and #endif")
        return style, lab, "ELSE", ""
    if rest.startswith("BEGIN"):
        raise FenceError(path, number, "BEGIN needs a label of letters, digits, "
                         f"_ . : or -, as in `BEGIN writeback_iter`; got {rest!r}")
    raise FenceError(path, number, f"malformed fence marker: {rest!r} is not "
                     "BEGIN <label>, ELSE or END")


def parse(path: str, text: str, labs: list[str]) -> list[Piece]:
    """Split a file into lines outside fences and fences.  Raises FenceError
    (file:line: message) for a malformed fence."""
    lines = text.splitlines(keepends=True)
    pieces: list[Piece] = []
    labels: dict[tuple[str, str], int] = {}
    is_c = path.endswith(C_SUFFIXES)
    i = 0
    while i < len(lines):
        line = lines[i]
        mark = _marker(path, i + 1, line, labs)
        if mark is None:
            if is_c and "LAB_STARTER" in line:
                raise FenceError(path, i + 1, "LAB_STARTER used outside a fence: "
                                 "only a fence's `#ifndef LAB_STARTER` may name it")
            pieces.append(line)
            i += 1
            continue
        style, lab, keyword, label = mark
        if keyword != "BEGIN":
            raise FenceError(path, i + 1, f"{keyword} marker with no BEGIN before it")
        if (lab, label) in labels:
            raise FenceError(path, i + 1, f"fence label {label!r} of lab {lab!r} is "
                             f"used twice (first at line {labels[lab, label]})")
        labels[lab, label] = i + 1
        fence = Fence(lab=lab, label=label, style=style, path=path, line=i + 1)
        if style == "c":
            i = _parse_c(fence, lines, i + 1, labs)
        else:
            i = _parse_md(fence, lines, i + 1, labs)
        pieces.append(fence)
    return pieces


def _inner_marker(fence: Fence, lines: list[str], j: int, labs: list[str]
                  ) -> Optional[tuple[str, str, str, str]]:
    mark = _marker(fence.path, j + 1, lines[j], labs)
    if mark is not None and mark[2] == "BEGIN":
        raise FenceError(fence.path, j + 1, f"fence inside fence {fence.label!r} "
                         f"(opened at line {fence.line}): fences cannot nest")
    return mark


def _parse_c(fence: Fence, lines: list[str], j: int, labs: list[str]) -> int:
    """After `// LAB(x) BEGIN label`: #ifndef LAB_STARTER, the solution,
    optionally #else and the stub, #endif, `// LAB(x) END`.  Returns the
    index of the line after END."""
    where = f"fence {fence.label!r} (opened at line {fence.line})"
    if j >= len(lines) or not IFNDEF.match(lines[j]):
        raise FenceError(fence.path, j + 1, f"expected `#ifndef LAB_STARTER` right "
                         f"after the BEGIN marker of {where}")
    j += 1
    depth = 0
    branch = fence.solution
    while True:
        if j >= len(lines):
            raise FenceError(fence.path, fence.line, f"{where} is never closed: "
                             "no #endif and `// LAB(...) END` before the end of the file")
        line = lines[j]
        mark = _inner_marker(fence, lines, j, labs)
        if mark is not None:
            raise FenceError(fence.path, j + 1, f"{mark[2]} marker inside {where}: "
                             "the #if LAB_STARTER block must be closed by #endif first")
        d = DIRECTIVE.match(line)
        kind = d.group(1) if d else None
        if "LAB_STARTER" in line:
            raise FenceError(fence.path, j + 1, f"LAB_STARTER again inside {where}")
        if kind in ("if", "ifdef", "ifndef"):
            depth += 1
        elif kind == "endif":
            if depth == 0:
                break
            depth -= 1
        elif kind in ("else", "elif") and depth == 0:
            if kind == "elif":
                raise FenceError(fence.path, j + 1, f"#elif in {where}: a fence has "
                                 "the solution, then #else and the stub")
            if branch is fence.stub:
                raise FenceError(fence.path, j + 1, f"a second #else in {where}")
            branch = fence.stub
            j += 1
            continue
        branch.append(line)
        j += 1
    j += 1
    mark = _marker(fence.path, j + 1, lines[j], labs) if j < len(lines) else None
    if mark is None or mark[0] != "c" or mark[2] != "END":
        raise FenceError(fence.path, j + 1, f"expected `// LAB({fence.lab}) END` right "
                         f"after the #endif that closes {where}")
    if mark[1] != fence.lab:
        raise FenceError(fence.path, j + 1, f"END of lab {mark[1]!r} closes {where}, "
                         f"which belongs to lab {fence.lab!r}")
    return j + 1


def _parse_md(fence: Fence, lines: list[str], j: int, labs: list[str]) -> int:
    """After `<!-- LAB(x) BEGIN label -->`: the solution, optionally
    `<!-- LAB(x) ELSE -->` and the stub, `<!-- LAB(x) END -->`."""
    where = f"fence {fence.label!r} (opened at line {fence.line})"
    branch = fence.solution
    while True:
        if j >= len(lines):
            raise FenceError(fence.path, fence.line, f"{where} is never closed: "
                             f"no `<!-- LAB({fence.lab}) END -->`")
        mark = _inner_marker(fence, lines, j, labs)
        if mark is None:
            branch.append(lines[j])
            j += 1
            continue
        style, lab, keyword, _ = mark
        if style != "md":
            raise FenceError(fence.path, j + 1, f"a C marker inside Markdown {where}")
        if lab != fence.lab:
            raise FenceError(fence.path, j + 1, f"{keyword} of lab {lab!r} inside "
                             f"{where}, which belongs to lab {fence.lab!r}")
        if keyword == "END":
            return j + 1
        if branch is fence.stub:
            raise FenceError(fence.path, j + 1, f"a second ELSE in {where}")
        branch = fence.stub
        j += 1


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def resolve(pieces: list[Piece], lab: Lab) -> str:
    """The starter's text: the stub of every fence (the solution of a lab
    listed in "solved"), without markers.  In C, the stubs of this lab's
    fences stand between two comments, so that students see where their
    code goes and what to leave alone."""
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
        elif p.lab in lab.solved:
            out.extend(p.solution)
        elif p.style == "c" and p.lab == lab.marker:
            pad = _indent(p.stub[0]) if p.stub else ""
            out.append(f"{pad}// ==== {lab.name} lab: your code ({p.label}) ====\n")
            out.extend(p.stub)
            out.append(f"{pad}// ==== {lab.name} lab: end of your code ({p.label}) ====\n")
        else:
            out.extend(p.stub)
    return "".join(out)


# ---------------------------------------------------------------- files

def excluded(path: str, patterns: tuple[str, ...]) -> Optional[str]:
    """The first pattern that leaves `path` out, or None."""
    parts = PurePosixPath(path).parts
    for pat in patterns:
        if pat.endswith("/"):
            for k in range(1, len(parts)):
                if fnmatch.fnmatchcase("/".join(parts[:k]) + "/", pat):
                    return pat
        elif fnmatch.fnmatchcase(path, pat):
            return pat
    return None


def tracked(repo: Path) -> list[tuple[str, str]]:
    """(mode, path) of every file git tracks in repo."""
    proc = subprocess.run(["git", "-C", str(repo), "ls-files", "-s", "-z"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise LabError(f"{repo} is not a git repository (git ls-files: "
                       f"{proc.stderr.decode(errors='replace').strip()})")
    out = []
    for entry in proc.stdout.decode().split("\0"):
        if not entry:
            continue
        info, path = entry.split("\t", 1)
        mode, _, stage = info.split(" ")
        if stage in ("0", "2"):         # "2": ours, in an unfinished merge
            out.append((mode, path))
    return out


def head_commit(repo: Path) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify",
                           "HEAD"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    head = proc.stdout.decode().strip() if proc.returncode == 0 else "(no commit)"
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                            "--untracked-files=no"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL).stdout.strip()
    return head + (" with uncommitted changes" if dirty else "")


def _normal(line: str) -> str:
    return " ".join(line.split())


def _significant(norm: str) -> bool:
    return len(norm) >= SIGNIFICANT and re.search(r"[A-Za-z]{2}", norm) is not None


@dataclass
class Starter:
    lab: Lab
    files: list[str]                   # relative paths written
    left_out: list[tuple[str, str]]    # (path, the pattern that left it out)
    fences: list[Fence]
    skipped: list[str]                 # tracked but gone from the working tree
    commit: str = ""


def verify(dest: Path, starter: Starter, reference: set[str], prose: set[str],
           patterns: tuple[str, ...]) -> list[str]:
    """Traces of the solution in dest, one line each (empty: none).

    A line of a C fence's solution is a trace unless it also appears in
    the starter's code (stubs included); Markdown does not count, so a doc
    that quotes the solution is caught.  A line of a Markdown fence's
    solution may also appear in unfenced Markdown (`prose`): the handout
    may show on purpose what the book's fenced walk-through shows too."""
    removed: dict[str, Fence] = {}
    for f in starter.fences:
        if f.lab in starter.lab.solved:
            continue
        allowed = reference if f.style == "c" else reference | prose
        for line in f.solution:
            n = _normal(line)
            if _significant(n) and n not in allowed:
                removed.setdefault(n, f)
    problems = []
    for root, dirs, names in os.walk(dest):
        dirs[:] = sorted(d for d in dirs if not (Path(root) == dest and d == ".git"))
        for name in sorted(names):
            full = Path(root) / name
            rel = full.relative_to(dest).as_posix()
            pat = excluded(rel, patterns)
            if pat is not None:
                problems.append(f"{rel}: should have been left out ({pat})")
            if full.is_symlink():
                continue
            try:
                text = full.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for k, line in enumerate(text.splitlines(), 1):
                if CANDIDATE.match(line):
                    problems.append(f"{rel}:{k}: a fence marker is left: {line.strip()}")
                if "LAB_STARTER" in line and rel != "Makefile":
                    problems.append(f"{rel}:{k}: names LAB_STARTER: {line.strip()}")
                f = removed.get(_normal(line))
                if f is not None:
                    problems.append(f"{rel}:{k}: repeats a line of the solution of "
                                    f"fence {f.label!r} ({f.path}:{f.line}): "
                                    f"{line.strip()}")
    return problems


@dataclass
class _Plan:
    """What the starter will hold, before anything is written: each file's
    (mode, path, content), and the lines verify() compares the solution's
    lines with."""

    files: list[tuple[str, str, Union[bytes, str]]] = field(default_factory=list)
    reference: set[str] = field(default_factory=set)  # the starter's code and stubs
    prose: set[str] = field(default_factory=set)      # its Markdown outside fences

    def seen(self, path: str, lines: Iterable[str]) -> None:
        """Lines the starter keeps outside fences, in Markdown or code."""
        (self.prose if path.endswith(".md") else self.reference).update(
            _normal(x) for x in lines)


def make_starter(source: Path, lab_name: str, dest: Path, git: bool = True,
                 log: bool = True) -> Starter:
    """Write the starter of lab_name from the tree source into dest."""
    source = source.resolve()
    lab = load_lab(source, lab_name)
    labs = known_labs(source)
    dest = dest.absolute()
    _check_dest(source, dest)

    patterns = STAFF_ONLY + lab.exclude
    starter = Starter(lab=lab, files=[], left_out=[], fences=[], skipped=[])
    plan = _Plan()
    for mode, path in tracked(source):
        pat = excluded(path, patterns)
        if pat is not None:
            starter.left_out.append((path, pat))
            continue
        _plan_file(source, mode, path, labs, starter, plan)
    planned = {path for _, path, _ in plan.files}
    needed = ("labs/lab.py", "labs/handin.py", f"labs/{lab.name}/lab.json",
              "Makefile", *lab.handin)
    lacking = [n for n in needed if n not in planned]
    if lacking:
        raise LabError(f"the starter would lack {', '.join(lacking)}, which "
                       "make handin and the autograder need: are they tracked "
                       "by git (git add)?")

    made_dest = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _write(dest, plan, starter)
        problems = verify(dest, starter, plan.reference, plan.prose, patterns)
        if problems:
            shown = problems[:20] + ([f"... and {len(problems) - 20} more"]
                                     if len(problems) > 20 else [])
            raise LabError("the starter would give the solution away; nothing "
                           "was kept:\n  " + "\n  ".join(shown))
        if git:
            starter.commit = _git_commit(dest, lab, head_commit(source))
    except BaseException:
        _undo(dest, made_dest)
        raise
    if log:
        for path in starter.skipped:
            print(f"mkstarter: note: {path} is tracked but not in the working "
                  "tree; left out", file=sys.stderr)
    return starter


def _check_dest(source: Path, dest: Path) -> None:
    """DEST must be a new or empty directory outside the repository."""
    if dest.exists() and not dest.is_dir():
        raise LabError(f"DEST {dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        raise LabError(f"DEST {dest} exists and is not empty: give a new "
                       "directory, or empty this one first")
    try:
        dest.resolve().relative_to(source)
        raise LabError(f"DEST {dest} is inside the repository {source}: the "
                       "starter is a git repository of its own; put it elsewhere")
    except ValueError:
        pass


def _plan_file(source: Path, mode: str, path: str, labs: list[str], starter: Starter,
               plan: _Plan) -> None:
    """Add one tracked file to the plan: a symbolic link as it is, a file
    with no fence as it is, a file with fences as resolve() leaves it."""
    lab = starter.lab
    full = source / path
    if mode == "160000":
        raise LabError(f"{path}: a git submodule; mkstarter cannot copy it")
    if mode == "120000":
        if not full.is_symlink():
            starter.skipped.append(path)
            return
        plan.files.append((mode, path, os.readlink(full)))
        return
    if not full.is_file():
        starter.skipped.append(path)
        return
    data = full.read_bytes()
    text: Optional[str] = None
    if b"LAB" in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        plan.files.append((mode, path, data))
        if b"\0" not in data:
            plan.seen(path, data.decode("utf-8", "replace").splitlines())
        return
    pieces = parse(path, text, labs)
    for p in pieces:
        if isinstance(p, Fence):
            starter.fences.append(p)
            kept = p.solution if p.lab in lab.solved else p.stub
            plan.reference.update(_normal(x) for x in kept)
        else:
            plan.seen(path, [p])
    plan.files.append((mode, path, resolve(pieces, lab).encode("utf-8")))


def _write(dest: Path, plan: _Plan, starter: Starter) -> None:
    """Write the planned files into dest, with their modes."""
    for mode, path, content in plan.files:
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            os.symlink(content, target)
        else:
            assert isinstance(content, bytes)
            target.write_bytes(content)
            os.chmod(target, 0o755 if mode == "100755" else 0o644)
        starter.files.append(path)


def _undo(dest: Path, made_dest: bool) -> None:
    """Leave nothing of a starter that failed: remove DEST if this run made
    it, else empty it (it was empty before)."""
    if made_dest:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink()


def _git_commit(dest: Path, lab: Lab, source_commit: str) -> str:
    env = dict(os.environ,
               GIT_AUTHOR_NAME="Quire course staff", GIT_AUTHOR_EMAIL="quire@localhost",
               GIT_COMMITTER_NAME="Quire course staff",
               GIT_COMMITTER_EMAIL="quire@localhost")

    def run(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(dest), "-c", "commit.gpgsign=false",
                               *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
        if proc.returncode != 0:
            raise LabError(f"git {' '.join(args)} in {dest} failed: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode().strip()

    run("init", "-q")
    run("symbolic-ref", "HEAD", "refs/heads/main")
    run("add", "-A", "-f")
    run("commit", "-q", "--no-verify", "-m", f"{lab.name} lab starter",
        "-m", f"Made by mkstarter from {source_commit}.")
    return run("rev-parse", "HEAD")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Write the student tree of a lab: fences replaced by stubs, "
                    "staff files left out, one git commit.")
    ap.add_argument("--lab", required=True, help="the lab (labs/NAME/lab.json)")
    ap.add_argument("--source", type=Path, default=HERE,
                    help="the solution tree to read (default: this repository)")
    ap.add_argument("--no-git", action="store_true",
                    help="do not make DEST a git repository")
    ap.add_argument("dest", metavar="DEST", help="the directory to write; must "
                    "not exist or be empty")
    args = ap.parse_args(argv)
    try:
        if not args.dest:
            raise LabError("no DEST given: make starter LAB=name DEST=dir")
        if not (args.source / ".git").exists():
            raise LabError(f"{args.source} is not the top of a git repository")
        s = make_starter(args.source, args.lab, Path(args.dest), git=not args.no_git)
    except LabError as e:
        print(f"mkstarter: {e}", file=sys.stderr)
        return 1
    print(f"Wrote the {s.lab.name} starter to {args.dest}: {len(s.files)} files; "
          f"{len(s.fences)} fence(s) replaced by their stubs; "
          f"{len(s.left_out)} file(s) left out.")
    if s.commit:
        print(f"It is a git repository with one commit, {s.commit[:12]} "
              f"\"{s.lab.name} lab starter\".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
