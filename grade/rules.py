"""Rule tables: the numbered rules a lab or a promise states, each with
the graded tests that check it and the bug patches that break it alone.

A table is a Markdown table whose header row is

    | # | rule | checked by | broken by |

Each row: a rule number (with an optional HTML anchor before it), the
rule's text, the test ids (`file::test[param]`, relative to grade/) and
the patch file names, each in backquotes and separated by commas.  The
tables are labs/writeback/rules.md and labs/crash/rules.md (the labs,
patches in labs/<lab>/bugs/), grade/crashbugs/rules.md (the durability
promises outside the labs) and grade/errorbugs/rules.md (what a failing
disk may do), with their patches beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HEADER = re.compile(r"^\|\s*#\s*\|\s*rule\s*\|\s*checked by\s*\|\s*broken by\s*\|\s*$")
CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Rule:
    number: str                 # "6", or "D2" for a durability rule
    text: str
    tests: tuple[str, ...]      # test ids relative to grade/
    patches: tuple[str, ...]    # file names in the table's patch folder


@dataclass(frozen=True)
class Table:
    path: Path                  # the Markdown file
    patch_dir: Path             # where its patches are
    lab: str                    # the lab its tests belong to, or ""
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO))

    def rule_of(self, patch: str) -> Rule:
        return next(r for r in self.rules if patch in r.patches)


class TableError(Exception):
    """A rule table that cannot be read: the message says where."""


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(path: Path, patch_dir: Path, lab: str = "") -> Table:
    """Read the rule table in path."""
    lines = path.read_text().splitlines()
    start = next((i for i, l in enumerate(lines) if HEADER.match(l)), None)
    if start is None:
        raise TableError(f"{path}: no table with the header | # | rule | checked by | broken by |")
    rules = []
    for n, line in enumerate(lines[start + 2:], start + 3):
        if not line.startswith("|"):
            break
        cells = _cells(line)
        if len(cells) != 4:
            raise TableError(f"{path}:{n}: a row needs 4 cells, this one has {len(cells)}")
        number = re.sub(r"<[^>]*>", "", cells[0]).strip()
        tests, patches = CODE.findall(cells[2]), CODE.findall(cells[3])
        if not number or not tests or not patches:
            raise TableError(f"{path}:{n}: rule {number or '?'} needs a number, a test "
                             "and a patch, each in `backquotes`")
        rules.append(Rule(number, cells[1], tuple(tests), tuple(patches)))
    return Table(path, patch_dir, lab, tuple(rules))


def tables() -> list[Table]:
    """Every rule table of the repository (those present in this tree)."""
    found = []
    for name in ("writeback", "crash"):
        lab = REPO / "labs" / name
        if (lab / "rules.md").exists():
            found.append(parse(lab / "rules.md", lab / "bugs", name))
    for name in ("crashbugs", "errorbugs"):
        folder = REPO / "grade" / name
        if (folder / "rules.md").exists():
            found.append(parse(folder / "rules.md", folder))
    return found


# The mutation score of this run: for each table, patch -> caught.
SCORE: dict[str, dict[str, bool]] = {}


def record(table_name: str, patch: str, caught: bool) -> None:
    SCORE.setdefault(table_name, {})[patch] = caught


def score_lines() -> list[str]:
    """One line per table tried in this run: patches caught / patches."""
    lines = []
    for name, results in sorted(SCORE.items()):
        missed = sorted(p for p, ok in results.items() if not ok)
        line = f"mutation score, {name}: {len(results) - len(missed)}/{len(results)} patches caught"
        lines.append(line + (f"; not caught: {', '.join(missed)}" if missed else ""))
    return lines
