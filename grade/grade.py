#!/usr/bin/env python3
"""Quire's autograder: run the graded tests, print one line each, then the score.

    python3 grade/grade.py                  every graded test
    python3 grade/grade.py --lab writeback  only tests marked lab("writeback")
    python3 grade/grade.py -k usertests     pytest's -k selection, as usual
    python3 grade/grade.py --json results.json   also write Gradescope's format

A graded test is a pytest test in grade/ with a points(n) marker; it earns
all its points if it passes and none otherwise.  The exit status is 0 only
when every selected test passed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

GRADE_DIR = Path(__file__).resolve().parent
REPO = GRADE_DIR.parent


@dataclass
class Result:
    name: str
    points: float
    visibility: str = "visible"
    lab: Optional[str] = None
    outcome: str = "passed"          # passed, failed or skipped
    seconds: float = 0.0
    failure: str = ""
    done: bool = False

    @property
    def earned(self) -> float:
        return self.points if self.outcome == "passed" else 0.0


def _number(n: float) -> str:
    return f"{n:g}"


def _failure_text(report: pytest.TestReport) -> str:
    """The assertion or error message, then any console tails."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
        # "AssertionError: <the test's message>\nassert <pytest's
        # introspection>": the test's own message says it better.
        head, sep, _ = text.partition("\nassert ")
        if sep and head.startswith("AssertionError: ") and \
                head[len("AssertionError: "):].strip():
            text = head
    elif isinstance(longrepr, tuple) and len(longrepr) == 3:   # a skip
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    for title, content in report.sections:
        if title.startswith("console tail"):
            text += f"\n--- {title} ---\n{content.rstrip()}\n--- end of console ---"
    if report.when != "call":
        text = f"(in test {report.when}) {text}"
    return text


class GradePlugin:
    """Records what happens to each graded test and prints one line each,
    in the order of collection.  The selection itself is conftest.py's
    (--graded, --lab), so that it happens in pytest -n's workers too; the
    points, visibility and lab come with each test's reports."""

    def __init__(self, stream: Any = sys.stdout, quiet: bool = True) -> None:
        self.quiet = quiet
        self.stream = stream
        self.results: dict[str, Result] = {}
        self.order: list[str] = []
        self.printed = 0              # results printed, in order
        self.errors: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        # pytest's own report would repeat ours.  (Unregistering it, rather
        # than -p no:terminal, keeps the options assertion messages need.)
        if self.quiet:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                config.pluginmanager.unregister(reporter)

    # -------------------------------------------------------- collection

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"could not load {report.nodeid}:\n{report.longreprtext}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Without workers: the order, from the items conftest.py kept."""
        self.order = [item.nodeid for item in items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With workers (pytest -n): the order, from the first worker."""
        if not self.order:
            self.order = list(ids)

    # -------------------------------------------------------- running

    def _result(self, report: pytest.TestReport) -> Result:
        r = self.results.get(report.nodeid)
        if r is None:
            props = dict(report.user_properties)
            r = self.results[report.nodeid] = Result(
                name=_name(report.nodeid), points=float(props.get("points", 0)),
                visibility=str(props.get("visibility", "visible")), lab=props.get("lab"))
        return r

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        r = self._result(report)
        r.seconds += report.duration
        if report.failed and r.outcome != "failed":
            r.outcome = "failed"
            r.failure = _failure_text(report)
        elif report.skipped and r.outcome == "passed":
            r.outcome = "skipped"
            r.failure = _failure_text(report)
        if report.when == "teardown":
            r.done = True
            self._print_ready()

    def _print_ready(self) -> None:
        """Print the results that are done, in order, up to the first that
        is not: the lines come out the same whatever ran in parallel."""
        while self.printed < len(self.order):
            r = self.results.get(self.order[self.printed])
            if r is None or not r.done:
                return
            self._print(r)
            self.printed += 1

    def _print(self, r: Result) -> None:
        word = {"passed": "OK", "failed": "FAIL", "skipped": "SKIP"}[r.outcome]
        pts = _number(r.points)
        print(f"{r.name}  ({pts} pt{'s' if pts != '1' else ''})  {word}  "
              f"{r.seconds:.1f}s", file=self.stream, flush=True)
        if r.outcome != "passed" and r.failure:
            for line in r.failure.rstrip().split("\n"):
                print(f"    {line}", file=self.stream)
            self.stream.flush()

    # -------------------------------------------------------- results

    def finished(self) -> list[Result]:
        out = []
        for nodeid in self.order:
            r = self.results.get(nodeid) or Result(name=_name(nodeid), points=0.0)
            if not r.done:            # interrupted, a worker crashed, or never run
                r.outcome = "failed"
                r.failure = r.failure or "the test did not run to completion"
            out.append(r)
        self.printed = len(self.order)
        return out


def _name(nodeid: str) -> str:
    """file::test as grade.py shows it: the file relative to grade/."""
    path, sep, rest = nodeid.partition("::")
    prefix = str(GRADE_DIR.relative_to(REPO)) + "/"
    return (path[len(prefix):] if path.startswith(prefix) else Path(path).name) + sep + rest


def parallel_args() -> list[str]:
    """pytest -n's arguments, for the grader and for make test: two
    workers where pytest-xdist is installed and there are two CPUs
    (QUIRE_GRADE_JOBS sets the number; 1: none).
    Each test file goes to one worker, so that a file's shared machines
    and crash runs are made once."""
    if importlib.util.find_spec("xdist") is None:
        return []
    jobs = int(os.environ.get("QUIRE_GRADE_JOBS", min(2, os.cpu_count() or 1)))
    return ["-n", str(jobs), "--dist", "loadscope"] if jobs > 1 else []


def gradescope_json(results: list[Result], errors: list[str], seconds: float
                    ) -> dict[str, Any]:
    """Gradescope's results.json: the total and one entry per test."""
    earned = sum(r.earned for r in results)
    possible = sum(r.points for r in results)
    summary = f"Score: {_number(earned)}/{_number(possible)}"
    if errors:
        summary += "\n\n" + "\n\n".join(errors)
    tests = []
    for r in results:
        tests.append({
            "name": r.name,
            "score": r.earned,
            "max_score": r.points,
            "status": "passed" if r.outcome == "passed" else "failed",
            "output": "OK" if r.outcome == "passed" else
                      (r.failure or r.outcome.upper()),
            "visibility": r.visibility,
        })
    return {
        "score": earned,
        "execution_time": round(seconds),
        "output": summary,
        "tests": tests,
    }


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Run Quire's graded tests and print the score.")
    ap.add_argument("--lab", metavar="NAME",
                    help="only the tests marked lab(NAME)")
    ap.add_argument("--json", metavar="PATH", type=Path,
                    help="write Gradescope's results.json format to PATH")
    ap.add_argument("-k", metavar="EXPR", dest="keyword",
                    help="only tests matching EXPR (as pytest -k)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show pytest's own report too")
    ap.add_argument("tests", nargs="*", metavar="TEST",
                    help="test files or node ids (default: all of grade/)")
    args = ap.parse_args(argv)

    if args.json is not None:
        args.json = args.json.resolve()
    # Test paths are relative to where grade.py was started; pytest runs in
    # the repository root.
    tests = []
    for t in args.tests:
        path, sep, rest = t.partition("::")
        tests.append(str(Path(path).resolve()) + sep + rest)
    os.chdir(REPO)
    plugin = GradePlugin(quiet=not args.verbose)
    pytest_args = ["-p", "no:cacheprovider", "--graded", *parallel_args()]
    if args.lab:
        # One word: pytest's first look at the arguments, before conftest.py
        # has added --lab, would take a separate value for a test path
        # when -k follows, and then never load conftest.py.
        pytest_args += [f"--lab={args.lab}"]
    if args.verbose:
        pytest_args += ["-q", "-rfEs"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    pytest_args += tests or [str(GRADE_DIR.relative_to(REPO))]

    start = time.monotonic()
    status = pytest.main(pytest_args, plugins=[plugin])
    seconds = time.monotonic() - start
    results = plugin.finished()

    for err in plugin.errors:
        print(f"ERROR: {err}")
    if status == pytest.ExitCode.USAGE_ERROR:
        print("ERROR: pytest refused the arguments (see above)")
    if not results:
        what = f"for lab {args.lab!r}" if args.lab else "selected"
        print(f"No graded tests {what}.")

    earned = sum(r.earned for r in results)
    possible = sum(r.points for r in results)
    print(f"Score: {_number(earned)}/{_number(possible)}")

    if args.json is not None:
        data = gradescope_json(results, plugin.errors, seconds)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")

    full = bool(results) and earned == possible and not plugin.errors and \
        status in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    return 0 if full else 1


if __name__ == "__main__":
    sys.exit(main())
