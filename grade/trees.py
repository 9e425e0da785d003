"""Copies of the repository, built and tested: what the tests of the lab
tools (test_labs.py) and of the rule tables (test_mutations.py) do to a
tree that is not the one they run in.

    copy = SolutionCopy(root)          # the tracked files, copied and built
    copy.apply(patch)                  # one wrong implementation in ...
    copy.build()
    result = run_pytest(copy.root, ["grade/test_x.py::test_y"], work)
    copy.restore()                     # ... and out again

Every command has a deadline (scaled by QUIRE_TIMEOUT_SCALE); one that
passes fails the calling test with the command's output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import pytest

import qemu

PY = sys.executable


def run(cmd: Sequence[str], cwd: Path, timeout: float = 120,
        env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Run a command; stdout and stderr merged as text.  A deadline that
    passes fails the test."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        return subprocess.run(list(cmd), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=full_env,
                              timeout=qemu.scaled(timeout))
    except subprocess.TimeoutExpired as e:
        out = e.stdout if isinstance(e.stdout, str) else (e.stdout or b"").decode()
        pytest.fail(f"`{' '.join(cmd)}` in {cwd} did not finish within "
                    f"{qemu.scaled(timeout):g} s; its output:\n{out[-3000:]}",
                    pytrace=False)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def git(cwd: Path, *args: str) -> str:
    proc = run(["git", "-c", "user.name=Test", "-c", "user.email=test@localhost",
                "-c", "commit.gpgsign=false", *args], cwd, timeout=60)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}"
    return proc.stdout


def tracked_files(repo: Path, untracked: bool = False) -> list[str]:
    """The files git tracks in repo that exist in its working tree; with
    untracked, also those it would track (new files not ignored)."""
    more = ["--others", "--exclude-standard"] if untracked else []
    out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", *more],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return sorted(p for p in out.split("\0")
                  if p and (repo / p).is_file() and not (repo / p).is_symlink())


def copy_tree(src: Path, dst: Path, untracked: bool = False) -> None:
    """The tracked files of src (and, with untracked, the new files git
    would track), with their working-tree contents."""
    for rel in tracked_files(src, untracked):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)


def make(cwd: Path, *args: str, timeout: float = 600,
         env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    return run(["make", "--no-print-directory", *args], cwd, timeout=timeout, env=env)


def need_ok(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (status {proc.returncode}):\n{tail(proc.stdout)}",
                    pytrace=False)


# ---------------------------------------------------------------- pytest runs

@dataclass
class PytestRun:
    """What a pytest run in another tree did: each test id's outcome
    ("passed", "failed", "error", "skipped", or "missing" when no such test
    ran), the failure text of each failed id, and pytest's output."""

    outcomes: dict[str, str]
    failures: dict[str, str] = field(default_factory=dict)
    output: str = ""


def _junit_cases(xml: Path) -> list[tuple[str, str, str, str]]:
    """(module, name, outcome, failure text) of each test case in a JUnit file."""
    cases = []
    if not xml.exists():
        return cases
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = {child.tag: child for child in case}
        outcome = ("failed" if "failure" in kinds else "error" if "error" in kinds
                   else "skipped" if "skipped" in kinds else "passed")
        bad = kinds.get("failure", kinds.get("error"))
        text = "" if bad is None else (bad.get("message", "") + "\n" + (bad.text or ""))
        cases.append((case.get("classname", "").split(".")[-1], case.get("name", ""),
                      outcome, text))
    return cases


def _outcome(got: list[str]) -> str:
    if not got:
        return "missing"
    for kind in ("failed", "error"):
        if kind in got:
            return kind
    return "passed" if all(o == "passed" for o in got) else "skipped"


def run_pytest(tree: Path, ids: Sequence[str], work: Path, timeout: float = 900) -> PytestRun:
    """Run the tests ids (paths relative to tree) in tree."""
    work.mkdir(parents=True, exist_ok=True)
    xml = work / "junit.xml"
    xml.unlink(missing_ok=True)
    proc = run([PY, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                f"--junitxml={xml}", f"--basetemp={work / 'tmp'}", *ids],
               tree, timeout=timeout)
    cases = _junit_cases(xml)
    result = PytestRun({}, {}, proc.stdout)
    for tid in ids:
        path, _, func = tid.partition("::")
        mine = [(o, text) for mod, name, o, text in cases
                if mod == Path(path).stem and (name == func or name.startswith(func + "["))]
        result.outcomes[tid] = _outcome([o for o, _ in mine])
        result.failures[tid] = "\n".join(text for _, text in mine if text)
    return result


# ---------------------------------------------------------------- graded tests

COLLECTOR = '''
import os

def pytest_collection_modifyitems(config, items):
    with open(os.environ["QUIRE_GRADED_TESTS"], "w") as f:
        for item in items:
            points = item.get_closest_marker("points")
            lab = item.get_closest_marker("lab")
            if points and points.args and points.args[0] > 0:
                f.write(item.nodeid + " " + (lab.args[0] if lab and lab.args else "-") + "\\n")
'''


def graded_tests(repo: Path, files: Sequence[str], work: Path) -> dict[str, str]:
    """The graded tests (points > 0) of the test files files in repo, named
    as grade.py names them (file::test, relative to grade/), each with the
    lab it belongs to ("-" for none)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "gradedcollect.py").write_text(COLLECTOR)
    out = work / "tests.txt"
    proc = run([PY, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only",
                "-p", "gradedcollect", *files], repo, timeout=120,
               env={"PYTHONPATH": str(work), "QUIRE_GRADED_TESTS": str(out)})
    assert out.exists(), f"collecting the graded tests failed:\n{tail(proc.stdout)}"
    tests = {}
    for line in out.read_text().splitlines():
        nodeid, lab = line.rsplit(" ", 1)
        tests[re.sub(r"^grade/", "", nodeid)] = lab
    return tests


# ---------------------------------------------------------------- a patched copy

class SolutionCopy:
    """A built copy of the solution tree, to apply a patch to and undo it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.saved: dict[Path, bytes] = {}

    def build(self) -> None:
        need_ok(make(self.root, "all", timeout=900), f"make all in {self.root}")

    def apply(self, patch: Path) -> None:
        self.restore()
        targets = re.findall(r"(?m)^\+\+\+ b/(\S+)", patch.read_text())
        for rel in targets:
            self.saved[self.root / rel] = (self.root / rel).read_bytes()
        proc = run(["git", "apply", str(patch)], self.root, timeout=60)
        if proc.returncode != 0:
            self.restore()
            pytest.fail(f"{patch.name} does not apply to the solution tree:\n"
                        f"{proc.stdout}", pytrace=False)

    def restore(self) -> None:
        for path, data in self.saved.items():
            path.write_bytes(data)
        self.saved.clear()
