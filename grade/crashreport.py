"""The crash checker's report: what was checked, what broke, how to look.

A Report is what check_run() returns and what test_crash.py judges: counts
of the states checked by kind, the states with violations (each by its
description, so that `crashcheck.py --from DIR --state DESC` rebuilds it),
the problems of the states booted in Quire, the checker's self-test and
the times.  summary() is the text a student sees; save() the JSON kept
beside the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass
class Violation:
    """The problems found in one crash state, named by its description."""

    state: str
    problems: list[str]


@dataclass
class Report:
    """Everything check_run() found in one recorded run."""

    seed: int
    state_seed: int
    entries: int
    flushes: int
    counts: dict[str, int]
    violations: list[Violation]
    boots: int                          # random states booted (no log to replay)
    replay_boots: int                   # states booted whose log the kernel replays
    boot_problems: list[Violation]      # of the random ones
    replay_problems: list[Violation]    # of those with a log to replay
    selftest: Optional[str]
    seconds: dict[str, float]
    workdir: Optional[Path] = None

    @property
    def checked(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return not (self.violations or self.boot_problems or self.replay_problems
                    or self.selftest)

    def summary(self, limit: int = 5) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        lines = [
            f"crashcheck: seed {self.seed}, state seed {self.state_seed}: "
            f"{self.entries} log entries, {self.flushes} FLUSHes",
            f"  {self.checked} crash states checked ({kinds}); "
            f"{len(self.violations)} with violations",
            f"  booted in Quire: {self.boots} random states "
            f"({len(self.boot_problems)} with problems), {self.replay_boots} with a "
            f"log to replay ({len(self.replay_problems)} with problems)",
            "  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()),
        ]
        if self.selftest:
            lines.append(f"  checker self-test FAILED: {self.selftest}")
        first = (self.violations + self.boot_problems + self.replay_problems)[:1]
        if first and self.workdir is not None:
            lines.append(f"  to look at one again: python3 grade/crashcheck.py --from "
                         f"{self.workdir} --state '{first[0].state}' --save-image crash.img")
        for title, items in (("violation", self.violations),
                             ("boot problem", self.boot_problems),
                             ("replay boot problem", self.replay_problems)):
            for viol in items[:limit]:
                lines.append(f"{title} in state: {viol.state}")
                lines += [f"    {p}" for p in viol.problems[:6]]
                if len(viol.problems) > 6:
                    lines.append(f"    ... and {len(viol.problems) - 6} more")
            if len(items) > limit:
                lines.append(f"... {len(items) - limit} more states with a {title}")
        return "\n".join(lines)

    def save(self, path: Path) -> None:
        def views(items: list[Violation]) -> list[dict]:
            return [{"state": x.state, "problems": x.problems} for x in items]
        path.write_text(json.dumps({
            "seed": self.seed, "state_seed": self.state_seed, "entries": self.entries,
            "flushes": self.flushes, "counts": self.counts, "checked": self.checked,
            "boots": self.boots, "replay_boots": self.replay_boots,
            "selftest": self.selftest, "seconds": self.seconds,
            "violations": views(self.violations),
            "boot_problems": views(self.boot_problems),
            "replay_problems": views(self.replay_problems)}, indent=1))

