"""A lab's description: labs/<name>/lab.json.

    {
      "name": "writeback",                  the lab's name (= its folder)
      "title": "...",                       one line for people (optional)
      "marker": "writeback",                its tests' pytest marker, lab("...")
                                            (optional; default: the name)
      "handin": ["kernel/mm/page-writeback.c"],
                                            the files a student edits and hands in
      "exclude": ["docs/answers.md"],       more paths or glob patterns the
                                            starter leaves out (optional;
                                            "dir/" means a whole folder)
      "solved": []                          other labs whose fences the starter
                                            resolves to the solution instead of
                                            the stub (optional)
    }

Used by handin.py (which students run) and by the course staff's tools.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
KEYS = {"name", "title", "marker", "handin", "exclude", "solved"}


class LabError(Exception):
    """A problem to tell the user in one message, without a traceback."""


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    marker: str
    handin: tuple[str, ...]
    exclude: tuple[str, ...]
    solved: tuple[str, ...]


def known_labs(repo: Path) -> list[str]:
    """The labs of a tree: the folders labs/*/ that hold a lab.json."""
    labs = repo / "labs"
    if not labs.is_dir():
        return []
    return sorted(p.parent.name for p in labs.glob("*/lab.json"))


def check_relative(path: str, where: str) -> str:
    """A path inside the tree, as git writes it (a/b/c), or LabError."""
    if not isinstance(path, str) or not path:
        raise LabError(f"{where}: {path!r} is not a path")
    p = PurePosixPath(path)
    if "\\" in path or p.is_absolute() or ".." in p.parts or \
            str(p) != path.rstrip("/") or path.startswith("./"):
        raise LabError(f"{where}: {path!r} must be a plain relative path "
                       "inside the tree, like kernel/mm/page-writeback.c")
    return path


def load_lab(repo: Path, name: str) -> Lab:
    """Read and check labs/<name>/lab.json of the tree `repo`."""
    known = known_labs(repo)
    listing = ", ".join(known) if known else "none: no labs/*/lab.json"
    if not name:
        raise LabError(f"no lab given: name one with LAB=name (labs: {listing})")
    if not NAME.match(name) or name not in known:
        raise LabError(f"unknown lab {name!r}: there is no labs/{name}/lab.json "
                       f"(labs: {listing})")
    path = repo / "labs" / name / "lab.json"
    shown = f"labs/{name}/lab.json"
    try:
        data: Any = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise LabError(f"{shown}:{e.lineno}: not valid JSON: {e.msg}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LabError(f"{shown}: cannot read it: {e}") from None
    if not isinstance(data, dict):
        raise LabError(f"{shown}: must hold one JSON object")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise LabError(f"{shown}: unknown key(s) {', '.join(unknown)} "
                       f"(known: {', '.join(sorted(KEYS))})")
    if data.get("name") != name:
        raise LabError(f"{shown}: \"name\" must be {name!r}, the folder's name")

    def strings(key: str, required: bool) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise LabError(f"{shown}: \"{key}\" must be a list of strings")
        if required and not value:
            raise LabError(f"{shown}: \"{key}\" must name at least one file")
        return tuple(value)

    handin = strings("handin", True)
    for h in handin:
        check_relative(h, f"{shown}: \"handin\"")
        if h.endswith("/"):
            raise LabError(f"{shown}: \"handin\": {h!r} is a folder; list files")
    if len(set(handin)) != len(handin):
        raise LabError(f"{shown}: \"handin\" lists a file twice")
    exclude = strings("exclude", False)
    for e in exclude:
        if not e or e.startswith("/") or ".." in PurePosixPath(e).parts:
            raise LabError(f"{shown}: \"exclude\": {e!r} must be a relative "
                           "path or glob pattern inside the tree")
    solved = strings("solved", False)
    for s in solved:
        if s not in known or s == name:
            raise LabError(f"{shown}: \"solved\": {s!r} is not another lab "
                           f"(labs: {listing})")
    marker = data.get("marker", name)
    title = data.get("title", name)
    if not isinstance(marker, str) or not marker:
        raise LabError(f"{shown}: \"marker\" must be the tests' lab marker name")
    if not isinstance(title, str):
        raise LabError(f"{shown}: \"title\" must be a string")
    return Lab(name=name, title=title, marker=marker, handin=handin,
               exclude=exclude, solved=solved)
