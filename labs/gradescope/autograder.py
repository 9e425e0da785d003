#!/usr/bin/env python3
"""Grade one Gradescope submission of a Quire lab (run by run_autograder).

Layout, as Gradescope makes it (AUTOGRADER_ROOT moves it; default
/autograder):

    source/autograder.json   {"lab": ..., "tree": "quire", ...} (mkgradescope)
    source/quire/            the pristine starter tree, built by setup.sh
    submission/              what the student uploaded
    results/results.json     what this writes
    work/quire/              the copy that is graded (made here)

The student's hand-in files (labs/<lab>/lab.json, "handin") are looked for
in the submission, in this order:

 1. a hand-in archive (.tar.gz, .tgz or .tar, as `make handin` writes):
    its members at the hand-in paths;
 2. files at the hand-in paths, at the top of the submission or below one
    folder level or more (a repository uploaded from GitHub, or a folder);
 3. files with the hand-in files' names anywhere (uploaded on their own);
 4. the last commit of a git repository in the submission (.git).

They are laid over a copy of the starter tree, which is then built
(`make all`) and graded with `grade/grade.py --lab <marker> --json
results/results.json`.  results.json is written whatever happens: when the
submission lacks a file or does not build, every test of the lab is listed
with score 0 and "output" says why (with the end of the build log).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

ROOT = Path(os.environ.get("AUTOGRADER_ROOT") or "/autograder")
SOURCE = ROOT / "source"
SUBMISSION = ROOT / "submission"
RESULTS = ROOT / "results" / "results.json"
WORK = ROOT / "work"
ARCHIVES = (".tar.gz", ".tgz", ".tar")
MAX_FILE = 4 << 20          # a hand-in file larger than this is a mistake
BUILD_TIMEOUT = 900
GRADE_TIMEOUT = float(os.environ.get("QUIRE_GRADE_TIMEOUT") or 3000)
LOG_TAIL = 12000            # characters of the build log shown to students


class SubmissionError(Exception):
    """What is wrong with the submission, for the student."""


@dataclass
class Submission:
    files: dict[str, bytes]
    origin: str
    notes: list[str] = field(default_factory=list)


def _rel(p: Path, base: Path) -> str:
    return p.relative_to(base).as_posix()


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _from_archive(path: Path, handin: tuple[str, ...]
                  ) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The hand-in files (and handin.json) found in an archive."""
    files: dict[str, bytes] = {}
    meta: dict[str, Any] = {}
    with tarfile.open(path, "r:*") as tar:
        for m in tar.getmembers():
            if not m.isfile():
                continue
            name = _member_name(m.name)
            for h in handin:
                if (name == h or name.endswith("/" + h)) and h not in files:
                    if m.size > MAX_FILE:
                        raise SubmissionError(f"{path.name}: {name} is {m.size} bytes: "
                                              "too large to be the hand-in file")
                    f = tar.extractfile(m)
                    if f is not None:
                        files[h] = f.read()
            if name == "handin.json" or name.endswith("/handin.json"):
                f = tar.extractfile(m)
                try:
                    loaded = json.loads(f.read()) if f is not None else {}
                    meta = loaded if isinstance(loaded, dict) else {}
                except ValueError:
                    meta = {}
    return files, meta


def find_submission(sub: Path, handin: tuple[str, ...], lab: str) -> Submission:
    """The hand-in files in the submission folder, looked for in the order
    the module's docstring gives; SubmissionError says what is wrong."""
    if not sub.is_dir():
        raise SubmissionError(f"there is no submission folder ({sub})")
    everything = sorted(p for p in sub.rglob("*")
                        if ".git" not in p.relative_to(sub).parts)
    files = [p for p in everything if p.is_file() and not p.is_symlink()]
    notes: list[str] = []
    found = _in_archives(sub, files, handin, lab, notes)
    if found is not None:
        return found
    return _as_files(sub, files, handin, lab, notes)


def _in_archives(sub: Path, files: list[Path], handin: tuple[str, ...], lab: str,
                 notes: list[str]) -> Optional[Submission]:
    """1. The hand-in files from the one hand-in archive that holds any
    (handin-<lab>.tar.gz if there are several); None if none does.  An
    archive that cannot be read is noted and passed over."""
    found = []
    for p in files:
        if not p.name.endswith(ARCHIVES):
            continue
        try:
            got, meta = _from_archive(p, handin)
        except (tarfile.TarError, OSError, EOFError) as e:
            notes.append(f"could not read {_rel(p, sub)} as an archive ({e})")
            continue
        if got:
            found.append((p, got, meta))
    if not found:
        return None
    if len(found) > 1:
        preferred = [f for f in found if f[0].name == f"handin-{lab}.tar.gz"]
        if len(preferred) != 1:
            names = ", ".join(_rel(f[0], sub) for f in found)
            raise SubmissionError(f"the submission has several hand-in archives "
                                  f"({names}): upload only one")
        found = preferred
    path, got, meta = found[0]
    missing = [h for h in handin if h not in got]
    if missing:
        raise SubmissionError(f"{_rel(path, sub)} has no {', '.join(missing)}: "
                              "make it again with `make handin`")
    origin = _rel(path, sub)
    if meta.get("commit"):
        origin += f" (commit {str(meta['commit'])[:12]}"
        origin += f", {meta['commit_date']})" if meta.get("commit_date") else ")"
    return Submission(files=got, origin=origin, notes=notes)


def _as_files(sub: Path, files: list[Path], handin: tuple[str, ...], lab: str,
              notes: list[str]) -> Submission:
    """2-4. Each hand-in file as a plain file (at its path, below a folder,
    or by its name alone), else from a git repository in the submission."""
    chosen: dict[str, bytes] = {}
    origins = []
    missing = []
    for h in handin:
        picked = _pick_file(sub, files, h)
        if picked is not None:
            chosen[h] = picked.read_bytes()
            origins.append(_rel(picked, sub))
            continue
        data = _from_git(sub, h)
        if data is not None:
            chosen[h] = data[0]
            origins.append(data[1])
            continue
        missing.append(h)
    if missing:
        what = ", ".join(missing)
        raise SubmissionError(
            f"the submission has no {what}.  Upload handin-{lab}.tar.gz (from "
            f"`make handin`), or the file{'s' if len(missing) > 1 else ''} "
            f"{what} on {'their' if len(missing) > 1 else 'its'} own.")
    return Submission(files=chosen, origin=", ".join(origins), notes=notes)


def _pick_file(sub: Path, files: list[Path], h: str) -> Optional[Path]:
    """The plain file that is hand-in file h: at its path, else at its path
    below a folder, else by its name anywhere (the first of these that
    finds any).  Several different candidates are an error; copies of the
    same content are not."""
    name = PurePosixPath(h).name
    tiers = [
        [p for p in files if _rel(p, sub) == h],
        [p for p in files if _rel(p, sub).endswith("/" + h)],
        [p for p in files if p.name == name],
    ]
    for tier in tiers:
        if not tier:
            continue
        contents = {p.read_bytes() for p in tier if p.stat().st_size <= MAX_FILE}
        if not contents:
            raise SubmissionError(f"{_rel(tier[0], sub)} is too large to be "
                                  f"the hand-in file {h}")
        if len(contents) > 1:
            raise SubmissionError(
                f"the submission has several different files that could be {h}: "
                f"{', '.join(_rel(p, sub) for p in tier)}; upload only one")
        return tier[0]
    return None


def _from_git(sub: Path, path: str) -> Optional[tuple[bytes, str]]:
    """path as of HEAD of a git repository in the submission (its top or
    one level down), and where it came from."""
    for git_dir in [sub / ".git", *sorted(sub.glob("*/.git"))]:
        if not git_dir.exists():
            continue
        proc = subprocess.run(["git", "--git-dir", str(git_dir), "show",
                               f"HEAD:{path}"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        if proc.returncode == 0 and len(proc.stdout) <= MAX_FILE:
            rev = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse",
                                  "--short=12", "HEAD"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL).stdout.decode().strip()
            return proc.stdout, f"{path} of commit {rev} in {_rel(git_dir, sub)}"
    return None


# ---------------------------------------------------------------- results

def write_results(data: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_name(RESULTS.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, RESULTS)


def run_grader(tree: Path, marker: str) -> tuple[Optional[dict[str, Any]], str]:
    """grade.py's results.json (None if it wrote none) and its output."""
    RESULTS.unlink(missing_ok=True)
    cmd = [sys.executable, "grade/grade.py", "--lab", marker, "--json", str(RESULTS)]
    try:
        proc = subprocess.run(cmd, cwd=tree, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=GRADE_TIMEOUT)
        out = proc.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        out += f"\nThe grader did not finish within {GRADE_TIMEOUT:g} s."
        return None, out
    sys.stdout.write(out)
    sys.stdout.flush()
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return None, out
    return (data if isinstance(data, dict) else None), out


def zero(data: Optional[dict[str, Any]], output: str, why: str) -> dict[str, Any]:
    """Every test at 0 with `why` as its output; `output` on top."""
    tests = []
    for t in (data or {}).get("tests", []):
        t = dict(t)
        t.update(score=0, status="failed", output=why)
        tests.append(t)
    return {"score": 0, "output": output, "tests": tests,
            "execution_time": (data or {}).get("execution_time", 0)}


def build(tree: Path) -> tuple[bool, str]:
    (tree / "kernel" / "kernel").unlink(missing_ok=True)
    try:
        proc = subprocess.run(["make", "--no-print-directory", "all"], cwd=tree,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        log = (e.stdout or b"").decode(errors="replace")
        return False, log + f"\nThe build did not finish within {BUILD_TIMEOUT} s."
    log = proc.stdout.decode(errors="replace")
    ok = proc.returncode == 0 and (tree / "kernel" / "kernel").exists()
    if not ok:
        (tree / "kernel" / "kernel").unlink(missing_ok=True)
    return ok, log


def tail(text: str, limit: int = LOG_TAIL) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return "...\n" + cut[cut.find("\n") + 1:]


def grade() -> dict[str, Any]:
    config = json.loads((SOURCE / "autograder.json").read_text())
    pristine = SOURCE / config.get("tree", "quire")
    sys.path.insert(0, str(pristine / "labs"))
    from lab import load_lab  # the starter's labs/lab.py
    lab = load_lab(pristine, config["lab"])

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    tree = WORK / "quire"
    subprocess.run(["cp", "-a", str(pristine), str(tree)], check=True)
    (tree / "kernel" / "kernel").unlink(missing_ok=True)

    try:
        sub = find_submission(SUBMISSION, lab.handin, lab.name)
    except SubmissionError as e:
        message = f"Lab {lab.name}: not graded: {e}"
        print(message)
        data, _ = run_grader(tree, lab.marker)
        return zero(data, message, "Not run: the submission is incomplete "
                    "(see the output above).")

    now = time.time()
    for path, content in sub.files.items():
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.utime(target, (now, now))
        if target.suffix in (".c", ".S"):
            target.with_suffix(".o").unlink(missing_ok=True)
    header = f"Lab {lab.name}: graded {', '.join(sub.files)} from {sub.origin}."
    for note in sub.notes:
        header += f"\n(Note: {note}.)"
    print(header, flush=True)

    ok, log = build(tree)
    if not ok:
        print(log)
        data, _ = run_grader(tree, lab.marker)
        return zero(data, f"{header}\n\nThe build failed, so no test ran.  The end "
                    f"of the build's output:\n\n{tail(log)}",
                    "Not run: the build failed (see the build log above).")

    data, out = run_grader(tree, lab.marker)
    if data is None or not isinstance(data.get("tests"), list):
        return zero(data, f"{header}\n\nThe grader wrote no results.  Its "
                    f"output:\n\n{tail(out)}", "Not run: the grader failed.")
    data["output"] = f"{header}\n\n{data.get('output', '')}"
    return data


def main() -> int:
    try:
        data = grade()
    except Exception:
        trace = traceback.format_exc()
        print(trace, file=sys.stderr)
        data = {"score": 0, "tests": [],
                "output": "The autograder failed; please tell the course staff.\n\n"
                          + tail(trace)}
    write_results(data)
    print(f"Wrote {RESULTS}: score {data['score']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
