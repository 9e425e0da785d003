"""Tests of the lab tools (labs/README.md): the starter tree, the wrong
implementations the lab tests must catch, the Gradescope autograder and
`make handin`, for every lab (labs/*/lab.json): the tests that use a
starter or an autograder run once per lab.

These need the solution, so mkstarter leaves this file out of every
starter.  The expensive parts are made once per session: the starter tree
(made with `make starter`, then built), a built copy of the solution tree
on which the wrong implementations are applied one after another, and the
autograder unpacked from `make gradescope`'s zip and set up with its
setup.sh.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import pytest

from trees import (PY, git, graded_tests, make, need_ok, run, run_pytest,
                   tail, tracked_files)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "labs"))

from lab import Lab, known_labs, load_lab  # noqa: E402

LAB_NAMES = known_labs(REPO)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

# What no starter may hold (mkstarter's STAFF_ONLY, restated here).
STAFF_ONLY = ("labs/README.md", "labs/mkstarter.py", "labs/mkgradescope.py",
              "labs/gradescope/", "labs/*/bugs/", "grade/test_labs.py",
              "grade/test_mutations.py")


def staff_only(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, p + "*") if p.endswith("/") else path == p
               for p in STAFF_ONLY)


# ---------------------------------------------------------------- helpers

# ---------------------------------------------------------------- fences

C_BEGIN = re.compile(r"^\s*//\s*LAB\((?P<lab>[\w-]+)\)\s+BEGIN\s+(?P<label>\S+)")
MD_BEGIN = re.compile(r"^\s*<!--\s*LAB\((?P<lab>[\w-]+)\)\s+BEGIN\s")
MD_ELSE = re.compile(r"^\s*<!--\s*LAB\([\w-]+\)\s+ELSE\s*-->")
MD_END = re.compile(r"^\s*<!--\s*LAB\([\w-]+\)\s+END\s*-->")
DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|else|endif)\b")
ANY_MARKER = re.compile(r"LAB\([\w-]*\)\s+(BEGIN|ELSE|END)\b")


def split_fences(text: str, lab: Lab) -> tuple[str, list[str], list[str]]:
    """A fenced file's text in lab's starter (what is outside fences, plus
    the stubs, or the solutions of the labs it lists as solved), the
    solution lines it leaves out and the stub lines it keeps.  (A second
    reading of the fence format, apart from mkstarter's.)"""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    solution: list[str] = []
    stubs: list[str] = []
    i = 0
    while i < len(lines):
        begin = C_BEGIN.match(lines[i])
        if begin:
            assert "#ifndef LAB_STARTER" in lines[i + 1]
            solved = begin.group("lab") in lab.solved
            first = len(out)
            i, sol, stub = _c_branches(lines, i + 2)
            out += sol if solved else stub
            if not solved:
                solution += sol
                stubs += stub
                if begin.group("lab") == lab.marker:
                    _frame(out, first, begin.group("lab"), begin.group("label"))
        elif MD_BEGIN.match(lines[i]):
            md = MD_BEGIN.match(lines[i])
            solved = md is not None and md.group("lab") in lab.solved
            i, sol, stub = _md_branches(lines, i + 1)
            out += sol if solved else stub
            if not solved:
                solution += sol
                stubs += stub
        else:
            out.append(lines[i])
            i += 1
    return "".join(out), solution, stubs


def _c_branches(lines: list[str], i: int) -> tuple[int, list[str], list[str]]:
    """From the line after `#ifndef LAB_STARTER`: the index after the END
    marker, the solution's lines and the stub's."""
    sol: list[str] = []
    stub: list[str] = []
    depth, into = 0, sol
    while True:
        d = DIRECTIVE.match(lines[i])
        kind = d.group(1) if d else None
        if kind in ("if", "ifdef", "ifndef"):
            depth += 1
        elif kind == "endif" and depth == 0:
            return i + 2, sol, stub          # #endif and the END marker
        elif kind == "endif":
            depth -= 1
        elif kind == "else" and depth == 0:
            into = stub
            i += 1
            continue
        into.append(lines[i])
        i += 1


def _md_branches(lines: list[str], i: int) -> tuple[int, list[str], list[str]]:
    """From the line after a Markdown BEGIN: the index after END, the
    solution's lines and the stub's."""
    sol: list[str] = []
    stub: list[str] = []
    into = sol
    while not MD_END.match(lines[i]):
        if MD_ELSE.match(lines[i]):
            into = stub
        else:
            into.append(lines[i])
        i += 1
    return i + 1, sol, stub


def _frame(out: list[str], first: int, lab: str, label: str) -> None:
    """Put the comments that show students their part around the stub that
    starts at out[first]."""
    stub = out[first:]
    pad = stub[0][:len(stub[0]) - len(stub[0].lstrip())] if stub else ""
    out[first:] = [f"{pad}// ==== {lab} lab: your code ({label}) ====\n", *stub,
                   f"{pad}// ==== {lab} lab: end of your code ({label}) ====\n"]


def fenced_files(repo: Path) -> dict[str, str]:
    """Path -> text of the tracked files of repo with fences."""
    found = {}
    for rel in tracked_files(repo):
        if staff_only(rel):
            continue
        data = (repo / rel).read_bytes()
        if b"LAB(" in data:
            text = data.decode("utf-8", "replace")
            if any(C_BEGIN.match(x) or MD_BEGIN.match(x) for x in text.splitlines()):
                found[rel] = text
    return found


def normal(line: str) -> str:
    return " ".join(line.split())


def solution_only(repo: Path, lab: Lab) -> dict[str, str]:
    """The distinctive lines of the solution branches (normalised) -> the
    file they are in: lines of ten characters or more, with a word, that
    appear nowhere in lab's starter outside the solution.  For a C fence,
    Markdown outside fences does not count (a doc quoting a solution line
    gives it away); for a Markdown fence it does (the handout may show on
    purpose what a fenced walk-through in the book shows too)."""
    fenced = fenced_files(repo)
    code: set[str] = set()
    prose: set[str] = set()
    for rel in tracked_files(repo):
        if staff_only(rel):
            continue
        text = fenced.get(rel)
        if text is None:
            text = (repo / rel).read_bytes().decode("utf-8", "replace")
        else:
            text = split_fences(text, lab)[0]
        (prose if rel.endswith(".md") else code).update(
            normal(x) for x in text.splitlines())
    lines: dict[str, str] = {}
    for rel, text in fenced.items():
        allowed = code | prose if rel.endswith(".md") else code
        for line in split_fences(text, lab)[1]:
            n = normal(line)
            if len(n) >= 10 and re.search("[A-Za-z]{2}", n) and n not in allowed:
                lines.setdefault(n, rel)
    return lines


# ---------------------------------------------------------------- results.json

def results_problems(data: Any) -> list[str]:
    """What is wrong with a results.json, as Gradescope reads it."""
    bad: list[str] = []

    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if not isinstance(data, dict):
        return ["not a JSON object"]
    if not number(data.get("score")):
        bad.append(f"score {data.get('score')!r} is not a number")
    if not isinstance(data.get("output", ""), str):
        bad.append("output is not a string")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in VISIBILITIES:
            bad.append(f"{key} {data[key]!r} is not one of {VISIBILITIES}")
    if "execution_time" in data and not number(data["execution_time"]):
        bad.append("execution_time is not a number")
    tests = data.get("tests")
    if not isinstance(tests, list):
        return bad + ["tests is not a list"]
    names = set()
    total = 0.0
    for k, t in enumerate(tests):
        if not isinstance(t, dict):
            bad.append(f"tests[{k}] is not an object")
            continue
        name = t.get("name")
        if not isinstance(name, str) or not name:
            bad.append(f"tests[{k}] has no name")
        elif name in names:
            bad.append(f"two tests named {name}")
        names.add(str(name))
        if not number(t.get("score")) or not number(t.get("max_score")):
            bad.append(f"{name}: score or max_score is not a number")
            continue
        if not 0 <= t["score"] <= t["max_score"]:
            bad.append(f"{name}: score {t['score']} outside 0..{t['max_score']}")
        total += t["score"]
        if not isinstance(t.get("output", ""), str):
            bad.append(f"{name}: output is not a string")
        if t.get("visibility", "visible") not in VISIBILITIES:
            bad.append(f"{name}: visibility {t.get('visibility')!r}")
        if t.get("status", "passed") not in ("passed", "failed"):
            bad.append(f"{name}: status {t.get('status')!r}")
    if number(data.get("score")) and abs(total - data["score"]) > 1e-6:
        bad.append(f"score {data['score']} is not the tests' sum {total}")
    return bad


# ---------------------------------------------------------------- pytest runs

@pytest.fixture(scope="session", params=LAB_NAMES)
def lab(request: pytest.FixtureRequest) -> Lab:
    """Each lab in turn: the tests that use it run once per lab."""
    return load_lab(REPO, request.param)


@pytest.fixture(scope="session")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Optional[str]]:
    """The graded tests of this repository, named as grade.py names them
    (file::test, relative to grade/), and their labs.  Only files git
    tracks count: the starter and the solution copy hold only those."""
    files = [rel for rel in tracked_files(REPO)
             if re.fullmatch(r"grade/test_\w+\.py", rel) and not staff_only(rel)]
    return graded_tests(REPO, files, tmp_path_factory.mktemp("labcollect"))


@pytest.fixture(scope="session")
def lab_tests(lab: Lab, graded: dict[str, Optional[str]]) -> set[str]:
    """The graded tests of the lab."""
    names = {t for t, name in graded.items() if name == lab.marker}
    assert names, f"the repository has no graded test marked lab(\"{lab.marker}\")"
    return names


# ---------------------------------------------------------------- the starter

@pytest.fixture(scope="session")
def starter(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make starter LAB=... DEST=...`, once per lab."""
    dest = tmp_path_factory.mktemp("starter") / lab.name
    proc = make(REPO, "starter", f"LAB={lab.name}", f"DEST={dest}", timeout=120)
    need_ok(proc, f"make starter LAB={lab.name}")
    return dest


@pytest.fixture(scope="session")
def starter_build(starter: Path) -> subprocess.CompletedProcess:
    """`make all` in the starter, once (the result; tests judge it)."""
    return make(starter, "all", timeout=900)


@pytest.fixture
def built_starter(starter: Path, starter_build: subprocess.CompletedProcess) -> Path:
    need_ok(starter_build, "make all in the starter")
    return starter


def test_starter_has_no_solution(lab: Lab, starter: Path) -> None:
    """No line found only in a solution branch appears anywhere in the
    starter; no fence marker is left; LAB_STARTER only in the Makefile."""
    for h in lab.handin:
        assert h in fenced_files(REPO), f"{h} has no lab fence"
    dest_files = set(tracked_files(starter))
    solution = solution_only(REPO, lab)
    assert len(solution) >= 10, \
        f"only {len(solution)} distinctive solution lines: the check would be empty"
    leaks = []
    for rel in sorted(dest_files):
        text = (starter / rel).read_bytes().decode("utf-8", "replace")
        for k, line in enumerate(text.splitlines(), 1):
            if normal(line) in solution:
                leaks.append(f"{rel}:{k}: solution line of {solution[normal(line)]}: "
                             f"{line.strip()}")
            if ANY_MARKER.search(line):
                leaks.append(f"{rel}:{k}: fence marker: {line.strip()}")
            if "LAB_STARTER" in line and rel != "Makefile":
                leaks.append(f"{rel}:{k}: LAB_STARTER: {line.strip()}")
    assert not leaks, "the starter gives the solution away:\n" + "\n".join(leaks[:30])


def test_starter_has_the_stubs(lab: Lab, starter: Path) -> None:
    """Each fenced file of the starter is the file with every fence
    replaced by its stub (or its solution, for a lab listed as solved),
    and the rest untouched."""
    fenced = fenced_files(REPO)
    wrong = []
    for rel, text in fenced.items():
        want, _, stubs = split_fences(text, lab)
        got_path = starter / rel
        if not got_path.exists():
            wrong.append(f"{rel}: missing from the starter")
            continue
        got = got_path.read_text()
        if got != want:
            wrong.append(f"{rel}: differs from the file with its fences replaced "
                         "by their stubs")
        for line in stubs:
            if line.strip() and line not in got:
                wrong.append(f"{rel}: stub line missing: {line.strip()}")
    assert not wrong, "\n".join(wrong)


def test_starter_files(lab: Lab, starter: Path) -> None:
    """The starter holds the repository's files but the staff's: no
    bugs/, no test_labs.py, no mkstarter; it has what make handin needs."""
    want = {rel for rel in tracked_files(REPO) if not staff_only(rel)}
    got = set(tracked_files(starter))
    assert not got - want, f"files that should not be there: {sorted(got - want)}"
    assert not want - got, f"files missing: {sorted(want - got)}"
    for rel in (f"labs/{lab.name}/lab.json", "labs/handin.py", "labs/lab.py", *lab.handin):
        assert rel in got, f"the starter lacks {rel}"
    assert not list(starter.glob("labs/*/bugs"))
    assert not (starter / "grade" / "test_labs.py").exists()


def test_starter_is_one_commit(lab: Lab, starter: Path) -> None:
    """The starter is a git repository with exactly one commit and no
    uncommitted change to a tracked file."""
    assert git(starter, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(starter, "log", "-1", "--format=%s").strip() == f"{lab.name} lab starter"
    status = git(starter, "status", "--porcelain", "--untracked-files=no")
    assert status == "", f"the starter has uncommitted changes:\n{status}"
    committed = set(git(starter, "ls-files").split())
    assert committed == set(tracked_files(starter))


def test_starter_builds_without_warnings(starter: Path,
                                         starter_build: subprocess.CompletedProcess
                                         ) -> None:
    need_ok(starter_build, "make all in the starter")
    warnings = [x for x in starter_build.stdout.splitlines() if "warning" in x.lower()]
    assert not warnings, "the starter builds with warnings:\n" + "\n".join(warnings)
    for rel in ("kernel/kernel", "fs.img", "mkfs/fsck"):
        assert (starter / rel).exists(), f"make all in the starter made no {rel}"


def test_starter_boots_and_passes_the_other_tests(built_starter: Path,
                                                  tmp_path: Path) -> None:
    """On the starter's kernel the shell runs: test_boot.py and usertests
    -q pass (the stub iterator is enough for everything else)."""
    ids = ["grade/test_boot.py::test_boot_and_halt", "grade/test_boot.py::test_shell_tools",
           "grade/test_boot.py::test_missing_command", "grade/test_usertests.py::test_usertests"]
    result = run_pytest(built_starter, ids, tmp_path, timeout=900)
    bad = {t: o for t, o in result.outcomes.items() if o != "passed"}
    assert not bad, f"on the starter kernel: {bad}\n{tail(result.output)}"


def test_starter_fails_every_lab_test(lab: Lab, built_starter: Path, lab_tests: set[str],
                                      tmp_path: Path) -> None:
    """Every graded test of the lab fails on its starter."""
    results = tmp_path / "results.json"
    proc = run([PY, "grade/grade.py", "--lab", lab.marker, "--json", str(results)],
               built_starter, timeout=1800)
    assert results.exists(), f"grade.py wrote no results:\n{tail(proc.stdout)}"
    data = json.loads(results.read_text())
    assert not results_problems(data), results_problems(data)
    names = {t["name"] for t in data["tests"]}
    assert names == lab_tests, (f"the starter's lab tests differ from the solution's: "
                                f"missing {sorted(lab_tests - names)}, "
                                f"extra {sorted(names - lab_tests)}")
    passed = [t["name"] for t in data["tests"] if t["score"] > 0]
    assert not passed, f"lab tests that pass on the starter: {passed}"
    assert proc.returncode == 1


def test_starter_staff_targets_refuse(lab: Lab, starter: Path, tmp_path: Path) -> None:
    """In a student's tree, make starter and make gradescope say they only
    work in the solution tree."""
    for target in ("starter", "gradescope"):
        proc = make(starter, target, f"LAB={lab.name}", f"DEST={tmp_path / 'x'}",
                    f"OUT={tmp_path / 'x.zip'}", timeout=60)
        assert proc.returncode != 0, f"make {target} worked in the starter"
        assert "solution tree" in proc.stdout, \
            f"make {target} in the starter should name the solution tree:\n{proc.stdout}"
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.zip").exists()


# ---------------------------------------------------------------- mkstarter

MINI_C = """int keep;
// LAB(demo) BEGIN one
#ifndef LAB_STARTER
int solution_only_alpha = 1;
#ifdef NESTED
int nested_solution_beta = 2;
#endif
#else
int stub_gamma = 3;
#endif
// LAB(demo) END
int after;
"""
MINI_C_STARTER = ("int keep;\n// ==== demo lab: your code (one) ====\nint stub_gamma = 3;\n"
                  "// ==== demo lab: end of your code (one) ====\nint after;\n")
MINI_MD = """# Demo
<!-- LAB(demo) BEGIN prose -->
The answer is forty-two, says the solution.
<!-- LAB(demo) ELSE -->
Work the answer out yourself.
<!-- LAB(demo) END -->
The end.
"""
MINI_MD_STARTER = "# Demo\nWork the answer out yourself.\nThe end.\n"


def mini_tree(root: Path, files: Optional[dict[str, str]] = None,
              exclude: Sequence[str] = ()) -> Path:
    """A small git repository with one lab, "demo"."""
    root.mkdir(parents=True)
    base = {
        "Makefile": "all:\n",
        "labs/demo/lab.json": json.dumps({"name": "demo", "handin": ["src/a.c"],
                                          "exclude": list(exclude)}),
        "labs/demo/bugs/wrong.patch": "--- a/src/a.c\n",
        "src/a.c": MINI_C,
        "doc.md": MINI_MD,
        "secret/answers.txt": "the answers\n",
    }
    base.update(files or {})
    for rel, text in base.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel in ("labs/lab.py", "labs/handin.py"):
        shutil.copy(REPO / rel, root / rel)
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


def mkstarter(source: Path, dest: Path, lab: str = "demo") -> subprocess.CompletedProcess:
    return run([PY, str(REPO / "labs" / "mkstarter.py"), "--source", str(source),
                "--lab", lab, str(dest)], source.parent, timeout=60)


def test_mkstarter_on_a_small_tree(tmp_path: Path) -> None:
    """C and Markdown fences become their stubs; bugs/ and the lab's
    "exclude" are left out; DEST has one commit."""
    src = mini_tree(tmp_path / "src", exclude=["secret/"])
    dest = tmp_path / "dest"
    proc = mkstarter(src, dest)
    assert proc.returncode == 0, proc.stdout
    assert (dest / "src/a.c").read_text() == MINI_C_STARTER
    assert (dest / "doc.md").read_text() == MINI_MD_STARTER
    assert not (dest / "labs/demo/bugs").exists()
    assert not (dest / "secret").exists()
    assert (dest / "labs/demo/lab.json").exists()
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"


# (file, text, line that the message must name)
MALFORMED = [
    ("src/a.c", "int a;\n// LAB(demo) BEGIN x\nint b;\n// LAB(demo) END\n", 3),
    ("src/a.c", "int a;\n// LAB(demo) END\n", 2),
    ("src/a.c", "// LAB(nosuchlab) BEGIN x\n#ifndef LAB_STARTER\n#endif\n"
                "// LAB(nosuchlab) END\n", 1),
    ("src/a.c", "// LAB(demo) BEGN x\n", 1),
    ("src/a.c", "int a;\n// LAB(demo) BEGIN\n#ifndef LAB_STARTER\n#endif\n"
                "// LAB(demo) END\n", 2),
    ("src/a.c", "int a;\n// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\nint b;\n", 2),
    ("src/a.c", "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\nint b;\n#else\n"
                "int c;\n#endif\n", 7),
    ("src/a.c", "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\nint b;\n#endif\n"
                "int c;\n// LAB(demo) END\n", 5),
    ("src/a.c", "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\n// LAB(demo) BEGIN y\n", 3),
    ("src/a.c", "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\n#else\n#else\n#endif\n"
                "// LAB(demo) END\n", 4),
    ("src/a.c", "int a;\n#ifdef LAB_STARTER\n#endif\n", 2),
    ("src/a.c", "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\n#endif\n// LAB(demo) END\n"
                "// LAB(demo) BEGIN x\n#ifndef LAB_STARTER\n#endif\n// LAB(demo) END\n", 5),
    ("doc.md", "# Doc\n<!-- LAB(demo) BEGIN p -->\nsecret\n", 2),
    ("doc.md", "# Doc\n<!-- LAB(demo) ELSE -->\n", 2),
    ("doc.md", "<!-- LAB(demo) BEGIN p -->\na\n<!-- LAB(demo) ELSE -->\nb\n"
               "<!-- LAB(demo) ELSE -->\n<!-- LAB(demo) END -->\n", 5),
    ("doc.md", "<!-- LAB(demo) BEGIN p\n", 1),
]


def test_mkstarter_rejects_malformed_fences(tmp_path: Path) -> None:
    """Each malformed fence is refused with file:line, and nothing is written."""
    wrong = []
    for k, (rel, text, line) in enumerate(MALFORMED):
        src = mini_tree(tmp_path / f"src{k}", {rel: text})
        dest = tmp_path / f"dest{k}"
        proc = mkstarter(src, dest)
        if proc.returncode == 0:
            wrong.append(f"case {k} ({rel}): accepted:\n{text}")
        elif f"{rel}:{line}:" not in proc.stdout:
            wrong.append(f"case {k}: the message should name {rel}:{line}; it was: "
                         f"{proc.stdout.strip()}")
        if dest.exists():
            wrong.append(f"case {k}: DEST was written")
    assert not wrong, "\n".join(wrong)


def test_mkstarter_refuses_bad_arguments(tmp_path: Path) -> None:
    src = mini_tree(tmp_path / "src")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    cases = [
        (mkstarter(src, full), "not empty"),
        (mkstarter(src, tmp_path / "d1", lab="nosuchlab"), "unknown lab 'nosuchlab'"),
        (mkstarter(src, src / "inside"), "inside the repository"),
        (make(REPO, "starter", f"DEST={tmp_path / 'd2'}", timeout=60), "no lab given"),
        (make(REPO, "starter", f"LAB={LAB_NAMES[0]}", timeout=60), "no DEST given"),
        (make(REPO, "gradescope", timeout=60), "no lab given"),
    ]
    for proc, words in cases:
        assert proc.returncode != 0 and words in proc.stdout, \
            f"expected a refusal saying {words!r}; got status {proc.returncode}:\n{proc.stdout}"
    assert sorted(os.listdir(full)) == ["x"]
    for d in ("d1", "d2"):
        assert not (tmp_path / d).exists()


def test_mkstarter_catches_a_leak(tmp_path: Path) -> None:
    """A solution line repeated outside its fence (a doc quoting it) stops
    mkstarter, naming the file and line; DEST is removed."""
    doc = "# Notes\n\nThe trick:\n\n    int solution_only_alpha = 1;\n"
    src = mini_tree(tmp_path / "src", {"notes.md": doc})
    dest = tmp_path / "dest"
    proc = mkstarter(src, dest)
    assert proc.returncode != 0, "mkstarter did not notice the leak"
    assert "notes.md:5:" in proc.stdout and "solution" in proc.stdout, proc.stdout
    assert not dest.exists()


# ---------------------------------------------------------------- Gradescope

@dataclass
class Autograder:
    zip_path: Path
    root: Path          # what /autograder is on Gradescope
    setup: subprocess.CompletedProcess

    def grade(self, fill: Callable[[Path], None]) -> tuple[dict[str, Any], str]:
        """Run run_autograder on the submission fill() puts in
        submission/; results.json and the output."""
        sub = self.root / "submission"
        shutil.rmtree(sub, ignore_errors=True)
        sub.mkdir()
        fill(sub)
        results = self.root / "results" / "results.json"
        results.unlink(missing_ok=True)
        proc = run([str(self.root / "run_autograder")], self.root, timeout=1800,
                   env={"AUTOGRADER_ROOT": str(self.root)})
        assert results.exists(), f"run_autograder wrote no results.json:\n{tail(proc.stdout)}"
        data = json.loads(results.read_text())
        problems = results_problems(data)
        assert not problems, f"results.json is malformed: {problems}"
        return data, proc.stdout


@pytest.fixture(scope="session")
def autograder(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Autograder:
    """make gradescope; the zip unpacked as Gradescope does into
    root/source; setup.sh run; run_autograder copied to root."""
    base = tmp_path_factory.mktemp("gradescope")
    zip_path = base / f"gradescope-{lab.name}.zip"
    need_ok(make(REPO, "gradescope", f"LAB={lab.name}", f"OUT={zip_path}", timeout=300),
            "make gradescope")
    root = base / "autograder"
    source = root / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            z.extract(info, source)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(source / info.filename, mode)
    setup = run(["bash", str(source / "setup.sh")], source, timeout=900,
                env={"AUTOGRADER_ROOT": str(root)})
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    return Autograder(zip_path=zip_path, root=root, setup=setup)


@pytest.fixture
def ready(autograder: Autograder) -> Autograder:
    need_ok(autograder.setup, "setup.sh")
    return autograder


def test_gradescope_zip(lab: Lab, autograder: Autograder) -> None:
    """The zip has setup.sh, an executable run_autograder and the starter
    tree, and nothing of the solution; setup.sh builds that tree."""
    with zipfile.ZipFile(autograder.zip_path) as z:
        infos = {i.filename: i for i in z.infolist()}
        names = set(infos)
        for name in ("setup.sh", "run_autograder", "autograder.py",
                     "autograder.json", "packages.txt", "quire/Makefile",
                     "quire/grade/grade.py", f"quire/labs/{lab.name}/lab.json",
                     *(f"quire/{h}" for h in lab.handin)):
            assert name in names, f"the zip has no {name}"
        assert (infos["run_autograder"].external_attr >> 16) & 0o111, \
            "run_autograder is not executable in the zip"
        assert not [n for n in names if n.startswith("quire/") and staff_only(n[6:])], \
            "the zip holds staff files"
        assert not [n for n in names if "/.git/" in n or n.startswith(".git")]
        stubs = {h: z.read(f"quire/{h}").decode() for h in lab.handin}
        packages = z.read("packages.txt").decode()
    for h, stub in stubs.items():
        assert stub == split_fences(fenced_files(REPO)[h], lab)[0], \
            f"the zip's {h} is not the starter's"
    solution = solution_only(REPO, lab)
    assert solution, "no distinctive solution line: the check would be empty"
    with zipfile.ZipFile(autograder.zip_path) as z:
        for name in names:
            text = z.read(name).decode("utf-8", "replace")
            leaked = [x.strip() for x in text.splitlines() if normal(x) in solution]
            assert not leaked, f"{name} holds solution lines: {leaked[:3]}"
            if name.startswith("quire/"):
                assert not ANY_MARKER.search(text), f"{name} holds a fence marker"
    for pkg in ("qemu-system-misc", "gcc-riscv64-unknown-elf", "python3-pytest"):
        assert pkg in packages.split(), f"packages.txt lacks {pkg}"
    need_ok(autograder.setup, "setup.sh")
    assert (autograder.root / "source" / "quire" / "kernel" / "kernel").exists()


def copy_handin(lab: Lab, sub: Path) -> None:
    """The solution's hand-in files, uploaded on their own."""
    for h in lab.handin:
        shutil.copy(REPO / h, sub)


def test_gradescope_solution_gets_full_marks(lab: Lab, ready: Autograder,
                                             lab_tests: set[str]) -> None:
    """The solution's hand-in files, uploaded on their own, earn every point."""
    data, out = ready.grade(lambda sub: copy_handin(lab, sub))
    names = {t["name"] for t in data["tests"]}
    assert names == lab_tests, f"graded {sorted(names)}, want {sorted(lab_tests)}"
    lost = [f"{t['name']}: {t['output'][:300]}" for t in data["tests"]
            if t["score"] != t["max_score"]]
    assert not lost, "the solution lost points:\n" + "\n".join(lost)
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert all(Path(h).name in data["output"] for h in lab.handin), data["output"]


def test_gradescope_starter_handin_gets_zero(lab: Lab, ready: Autograder, starter: Path,
                                             lab_tests: set[str], tmp_path: Path) -> None:
    """The starter's stubs, handed in with make handin, earn nothing for
    the lab's tests."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(starter), str(clone))
    proc = handin(clone, lab)
    need_ok(proc, "make handin in a clone of the starter")
    archive = clone / f"handin-{lab.name}.tar.gz"
    data, out = ready.grade(lambda sub: shutil.copy(archive, sub))
    assert {t["name"] for t in data["tests"]} == lab_tests
    earned = [t["name"] for t in data["tests"] if t["score"] > 0]
    assert not earned, f"the stub earned points for {earned}"
    assert data["score"] == 0
    head = git(clone, "rev-parse", "HEAD").strip()
    assert f"handin-{lab.name}.tar.gz (commit {head[:12]}" in data["output"], data["output"]


def test_gradescope_build_failure(lab: Lab, ready: Autograder, lab_tests: set[str]) -> None:
    """A submission that does not compile (here a git repository whose
    last commit has it) gets score 0, every test listed at 0, and the
    compiler's error in the output."""
    broken = lab.handin[0]

    def fill(sub: Path) -> None:
        for h in lab.handin:
            target = sub / h
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text((REPO / h).read_text() + ("\nthis is not C;\n" if h == broken
                                                       else ""))
        git(sub, "init", "-q")
        git(sub, "add", "-A")
        git(sub, "commit", "-q", "-m", "broken")
        for h in lab.handin:
            (sub / h).unlink()      # only the repository has them
    data, out = ready.grade(fill)
    assert data["score"] == 0
    assert {t["name"] for t in data["tests"]} == lab_tests
    assert all(t["score"] == 0 for t in data["tests"])
    assert "build failed" in data["output"], data["output"]
    assert re.search(rf"{re.escape(Path(broken).name)}:\d+:\d+: error:", data["output"]), \
        f"no compiler error in the output:\n{data['output']}"
    assert "of commit" in data["output"], "the file should come from the git repository"


def test_gradescope_missing_file(lab: Lab, ready: Autograder, lab_tests: set[str]) -> None:
    """A submission without the hand-in files gets score 0 and says what
    to upload."""
    data, out = ready.grade(lambda sub: (sub / "README.txt").write_text("hello\n"))
    assert data["score"] == 0
    assert {t["name"] for t in data["tests"]} == lab_tests
    assert f"has no {lab.handin[0]}" in data["output"], data["output"]
    assert f"handin-{lab.name}.tar.gz" in data["output"]


# ---------------------------------------------------------------- make handin

@pytest.fixture
def clone(starter: Path, tmp_path: Path) -> Path:
    """A student's clone of the starter."""
    path = tmp_path / "student"
    git(tmp_path, "clone", "-q", str(starter), str(path))
    return path


def handin(repo: Path, lab: Lab) -> subprocess.CompletedProcess:
    """make handin in a clone of lab's starter, which knows its lab."""
    return make(repo, "handin", timeout=60)


def archive_files(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def test_handin_refuses_uncommitted_changes(lab: Lab, clone: Path, tmp_path: Path) -> None:
    first = lab.handin[0]
    target = clone / first
    archive = clone / f"handin-{lab.name}.tar.gz"
    original = target.read_text()

    def refused(why: str, *words: str) -> None:
        proc = handin(clone, lab)
        assert proc.returncode != 0, f"make handin worked with {why}:\n{proc.stdout}"
        for w in words:
            assert w in proc.stdout, f"with {why}, the refusal should say {w!r}:\n{proc.stdout}"
        assert not archive.exists(), f"make handin wrote an archive with {why}"

    target.write_text(original + "// changed\n")
    refused("the hand-in file modified", first, "modified, not committed", "commit")
    git(clone, "add", first)
    refused("the hand-in file staged", first, "staged")
    git(clone, "commit", "-q", "-m", "work")
    (clone / "README.md").write_text("edited\n")
    refused("another tracked file modified", "README.md")
    git(clone, "checkout", "--", "README.md")
    git(clone, "rm", "-q", "--cached", first)
    git(clone, "commit", "-q", "-m", "untrack it")
    refused("the hand-in file untracked", first, "not in your last commit")
    proc = make(clone, "handin", "LAB=nosuchlab", timeout=60)
    assert proc.returncode != 0 and "unknown lab 'nosuchlab'" in proc.stdout, proc.stdout
    bare = tmp_path / "nogit"
    shutil.copytree(clone, bare, ignore=shutil.ignore_patterns(".git"))
    proc = make(bare, "handin", f"LAB={lab.name}", timeout=60,
                env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert proc.returncode != 0 and "not inside a git repository" in proc.stdout, \
        proc.stdout


def test_handin_packs_the_committed_files(lab: Lab, clone: Path) -> None:
    archive = clone / f"handin-{lab.name}.tar.gz"
    target = clone / lab.handin[0]
    target.write_text(target.read_text() + "// my work\n")
    git(clone, "commit", "-q", "-am", "my work")
    (clone / "scratch.txt").write_text("an untracked file is fine\n")
    proc = handin(clone, lab)
    assert proc.returncode == 0, proc.stdout
    assert f"handin-{lab.name}.tar.gz" in proc.stdout, proc.stdout
    files = archive_files(archive)
    assert set(files) == {*lab.handin, "handin.json"}, sorted(files)
    for h in lab.handin:
        assert files[h] == (clone / h).read_bytes()
    meta = json.loads(files["handin.json"])
    assert meta["lab"] == lab.name
    assert meta["commit"] == git(clone, "rev-parse", "HEAD").strip()
    assert meta["files"] == list(lab.handin) and meta["commit_date"]
    # A later edit, committed or not, does not change what was packed.
    target.write_text("uncommitted\n")
    assert archive_files(archive)[lab.handin[0]] != b"uncommitted\n"
    status = git(clone, "status", "--porcelain", "--untracked-files=all")
    assert "handin-" not in status, "the archive shows up as an untracked file"
