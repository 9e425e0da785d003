"""The rule tables keep the grader honest.

labs/writeback/rules.md (the writeback lab) and grade/crashbugs/rules.md
(the durability promises) number every rule, each with the graded tests
that check it and patches that break it alone.  Here every patch is
applied, one at a time, to a built copy of the solution, and the tests
its row names must fail, with a failure that names the rule.  A patch
that no test catches is a grader that gives full marks to a wrong
implementation.  At the end of the run the mutation score (patches caught
out of patches) is printed for each table.

Course staff only: the patches are not in any starter, and neither is
this file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

import rules
from trees import (PytestRun, SolutionCopy, copy_tree, graded_tests, run_pytest, tail,
                   tracked_files)

REPO = Path(__file__).resolve().parent.parent
TABLES = rules.tables()
PATCHES = [(t, p) for t in TABLES for r in t.rules for p in r.patches]


def table_problems(table: rules.Table, graded: dict[str, str]) -> list[str]:
    """What is wrong with a table: rules without tests or patches that
    exist, patches without a row, tests that are not graded (or not in the
    table's lab), numbers used twice."""
    bad = []
    numbers = [r.number for r in table.rules]
    bad += [f"rule {n} appears twice" for n in sorted(set(numbers)) if numbers.count(n) > 1]
    listed = {p for r in table.rules for p in r.patches}
    on_disk = {p.name for p in table.patch_dir.glob("*.patch")}
    bad += [f"{p} is in {table.patch_dir.name}/ but in no row" for p in sorted(on_disk - listed)]
    bad += [f"rule {r.number}: {p} does not exist" for r in table.rules
            for p in r.patches if p not in on_disk]
    for r in table.rules:
        for t in r.tests:
            if t not in graded:
                bad.append(f"rule {r.number}: {t} is not a graded test")
            elif table.lab and graded[t] != table.lab:
                bad.append(f"rule {r.number}: {t} is not a test of lab {table.lab}")
    return bad


@pytest.fixture(scope="session")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    files = [f for f in tracked_files(REPO, untracked=True)
             if re.fullmatch(r"grade/test_\w+\.py", f)]
    return graded_tests(REPO, files, tmp_path_factory.mktemp("graded"))


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_table_is_complete(table: rules.Table, graded: dict[str, str]) -> None:
    """Every rule has a patch and a graded test; every patch has a rule.
    The tests are graded, so a patch they catch loses marks."""
    assert len(table.rules) > 0, f"{table.name} has no rules"
    bad = table_problems(table, graded)
    assert not bad, f"{table.name}:\n" + "\n".join(bad)


@pytest.fixture(scope="session")
def solution_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SolutionCopy]:
    root = tmp_path_factory.mktemp("solution") / "quire"
    copy_tree(REPO, root, untracked=True)   # the working tree as it is now
    copy = SolutionCopy(root)
    copy.build()
    yield copy
    copy.restore()


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_named_tests_pass_on_the_solution(table: rules.Table, solution_copy: SolutionCopy,
                                          tmp_path: Path) -> None:
    """The tests that must catch the patches pass on the solution itself."""
    ids = sorted({f"grade/{t}" for r in table.rules for t in r.tests})
    solution_copy.restore()
    solution_copy.build()
    result = run_pytest(solution_copy.root, ids, tmp_path)
    wrong = {t: o for t, o in result.outcomes.items() if o != "passed"}
    assert not wrong, f"on the unpatched solution: {wrong}\n{tail(result.output)}"


def catch_problems(rule: rules.Rule, result: PytestRun) -> list[str]:
    """Why a patched run does not count as caught: a named test that did
    not fail, or whose failure does not name the rule."""
    bad = []
    for tid, outcome in result.outcomes.items():
        if outcome != "failed":
            bad.append(f"{tid}: {outcome}, not failed")
        elif not re.search(rf"\brule {re.escape(rule.number)}\b", result.failures[tid]):
            bad.append(f"{tid} failed, but its message does not name rule {rule.number}:\n"
                       f"{tail(result.failures[tid], 15)}")
    return bad


@pytest.mark.parametrize("table,patch", PATCHES,
                         ids=[f"{t.path.parent.name}/{p}" for t, p in PATCHES])
def test_patch_is_caught(table: rules.Table, patch: str, solution_copy: SolutionCopy,
                         tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    """The solution with the patch applied fails every test the patch's
    row names, each naming the rule."""
    rule = table.rule_of(patch)
    try:
        solution_copy.apply(table.patch_dir / patch)
        solution_copy.build()
        result = run_pytest(solution_copy.root, [f"grade/{t}" for t in rule.tests], tmp_path)
    finally:
        solution_copy.restore()
    bad = catch_problems(rule, result)
    # conftest.py adds it to the score, in whichever process prints it.
    record_property("mutation", (table.name, patch, not bad))
    assert not bad, (f"{patch} breaks rule {rule.number} of {table.name} "
                     f"({rule.text}), and:\n" + "\n".join(bad))
