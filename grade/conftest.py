"""pytest configuration for Quire's tests: markers and fixtures.

Markers
    points(n)        the test is graded and worth n points (all or nothing)
    lab(name)        the test belongs to lab `name` (grade.py --lab name)
    visibility(v)    Gradescope visibility: "visible" (default), "hidden",
                     "after_due_date" or "after_published"

Fixtures
    repo             the repository root (a Path)
    machine          a factory: machine(cpus=..., ...) boots Quire and returns
                     the Machine; every machine is killed at teardown
    fresh_image      a factory: fresh_image() copies fs.img into the test's
                     temporary directory and returns the copy's path
    mkfs, fsck       paths of the host tools
    run_fsck         run_fsck(image) runs mkfs/fsck on an image, returns the
                     CompletedProcess (stdout and stderr merged, as text)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qemu  # noqa: E402
from qemu import FS_IMAGE, KERNEL, REPO, Machine, MachineError  # noqa: E402

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n): graded test worth n points, all or nothing")
    config.addinivalue_line(
        "markers", "lab(name): test of lab `name`; grade.py --lab name runs these")
    config.addinivalue_line(
        "markers", "visibility(v): Gradescope visibility: visible, hidden, "
        "after_due_date or after_published")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("quire", "Quire's grading")
    group.addoption("--graded", action="store_true",
                    help="run only graded tests (those with a points marker)")
    group.addoption("--lab", metavar="NAME", help="with --graded: only lab NAME's tests")


def _graded(item: pytest.Item, lab: object) -> bool:
    """Is item a graded test (of lab, if given)?  Its points, visibility
    and lab go into its reports (user_properties), where grade.py reads
    them, also from the worker processes of pytest -n."""
    points = item.get_closest_marker("points")
    mark = item.get_closest_marker("lab")
    name = mark.args[0] if mark else None
    if points is None or (lab is not None and name != lab):
        return False
    vis = item.get_closest_marker("visibility")
    item.user_properties += [("points", points.args[0]), ("lab", name),
                             ("visibility", vis.args[0] if vis else "visible")]
    return True


def pytest_collection_modifyitems(config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Catch malformed markers at collection, not when grading; with
    --graded, keep only the graded tests."""
    _check_markers(items)
    if config.getoption("graded"):
        keep = [i for i in items if _graded(i, config.getoption("lab"))]
        kept = {id(i) for i in keep}
        drop = [i for i in items if id(i) not in kept]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def _check_markers(items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("points"):
            if len(mark.args) != 1 or not isinstance(mark.args[0], (int, float)) \
                    or mark.args[0] < 0:
                raise pytest.UsageError(
                    f"{item.nodeid}: use @pytest.mark.points(n) with a number n >= 0")
        for mark in item.iter_markers("visibility"):
            if len(mark.args) != 1 or mark.args[0] not in VISIBILITIES:
                raise pytest.UsageError(
                    f"{item.nodeid}: visibility must be one of {', '.join(VISIBILITIES)}")
        for mark in item.iter_markers("lab"):
            if len(mark.args) != 1 or not isinstance(mark.args[0], str):
                raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.lab(\"name\")")


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run make first",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mkfs() -> Path:
    return _need(REPO / "mkfs" / "mkfs")


@pytest.fixture(scope="session")
def fsck() -> Path:
    return _need(REPO / "mkfs" / "fsck")


@pytest.fixture
def run_fsck(fsck: Path) -> Callable[..., subprocess.CompletedProcess]:
    def run(image: Path, *args: str, timeout: float = 120.0
            ) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([str(fsck), *args, str(image)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=qemu.scaled(timeout))
        except subprocess.TimeoutExpired:
            pytest.fail(f"fsck did not finish within {qemu.scaled(timeout):g} s "
                        f"on {image}", pytrace=False)
    return run


@pytest.fixture
def fresh_image(tmp_path: Path) -> Callable[[str], Path]:
    _need(FS_IMAGE)
    count = [0]

    def make(name: str = "") -> Path:
        count[0] += 1
        dst = tmp_path / (name or f"image{count[0]}.img")
        return qemu.copy_sparse(FS_IMAGE, dst)
    return make


@pytest.fixture
def machine(request: pytest.FixtureRequest, tmp_path: Path
            ) -> Iterator[Callable[..., Machine]]:
    """machine(cpus=1, boot=True, **kwargs) -> Machine.

    kwargs go to qemu.Machine (mem, image, drive, extra_args, ...).  With
    boot=False the machine is only started (for tests that do not expect a
    prompt).  Each machine has its own work directory under the test's
    tmp_path, holding its disk image and console.log.
    """
    _need(KERNEL)
    _need(FS_IMAGE)
    machines: list[Machine] = []
    request.node.quire_machines = machines

    def make(cpus: int = 1, boot: bool = True, **kwargs: object) -> Machine:
        n = len(machines) + 1
        kwargs.setdefault("workdir", tmp_path / f"machine{n}")
        kwargs.setdefault("name", f"machine {n}, cpus={cpus}" if n > 1
                          else f"cpus={cpus}")
        m = Machine(cpus=cpus, **kwargs)  # type: ignore[arg-type]
        machines.append(m)
        if boot:
            m.boot()
        else:
            m.start()
        return m

    yield make
    for m in machines:
        m.close()


# Texts that tests record as their "summary" property, for the end of the
# run (the error sweep's counts).
SUMMARIES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count a mutation test's result (test_mutations.py) into the score,
    and keep a test's summary; with pytest-xdist this runs in the
    controller, which prints them."""
    import rules
    for name, value in report.user_properties:
        if report.when != "call":
            continue
        if name == "mutation":
            rules.record(*value)
        elif name == "summary":
            SUMMARIES.append(value)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The tests' summaries, and the mutation score of the rule tables
    (test_mutations.py), if run."""
    import rules
    for line in "\n".join(SUMMARIES).splitlines() + rules.score_lines():
        terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo
                              ) -> Iterator[None]:
    """Add each machine's console tail to a failed test's report, unless the
    error (a MachineError) shows it already."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    machines: Optional[list[Machine]] = getattr(item, "quire_machines", None)
    if not machines:
        return
    shown = call.excinfo is not None and isinstance(call.excinfo.value, MachineError)
    for m in machines:
        if shown and len(machines) == 1:
            continue
        report.sections.append((f"console tail ({m.name})", m.tail()))
