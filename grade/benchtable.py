"""The benchmarks' figures, and how they are shown.

bench.py measures; this module holds what it measures into (a Figure per
row of the table, grouped in Sections, and a Failure for each benchmark
that did not run to the end) and turns them into the table `make bench`
prints and the JSON `--json` writes.  The table's heading names the QEMU
version, the host's CPUs and its load when the run began, because the
figures come from an emulated machine: they are only comparable with
runs on the same host, and a busy host slows them down.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

from qemu import qemu_binary, scaled


@dataclass
class Figure:
    """One row of the table."""

    key: str                     # name in the JSON file
    label: str
    value: Optional[float]       # None: not available
    unit: str = ""
    digits: int = 1              # decimals shown
    note: str = ""               # shown after the value (or the reason it is missing)

    def text(self) -> str:
        if self.value is None:
            return f"not available: {self.note}"
        if self.digits == 0:
            number = f"{self.value:,.0f}"
        else:
            number = f"{self.value:,.{self.digits}f}"
        return f"{number} {self.unit}".rstrip()


@dataclass
class Section:
    """A group of rows under one heading: one benchmark, one machine."""

    title: str
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Failure:
    """A benchmark that did not run to the end, for the report."""

    group: str
    command: str
    reason: str
    counted: bool = True         # makes the exit status 1


def spread(values: Sequence[float], digits: int = 1) -> str:
    """"; range A-B" for more than one value, else nothing."""
    if len(values) < 2:
        return ""
    return f"; range {min(values):,.{digits}f}-{max(values):,.{digits}f}"


def load_average() -> float:
    """The host's one-minute load average (0 where unknown)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def qemu_version() -> str:
    """"QEMU 7.2.0", say, for the table's heading."""
    try:
        out = subprocess.run([qemu_binary(), "--version"], capture_output=True,
                             text=True, timeout=scaled(10)).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "QEMU (version unknown)"
    words = out.split()
    return f"QEMU {words[3]}" if len(words) > 3 and words[2] == "version" else "QEMU"


def table(sections: Sequence[Section], failures: Sequence[Failure], load: float) -> str:
    """The table of figures, then the benchmarks that failed, with why."""
    width = max([len(f.label) for s in sections for f in s.figures] + [10]) + 2
    lines = [f"Quire benchmarks ({qemu_version()}, host {platform.machine()}, "
             f"{os.cpu_count()} host CPUs, load average {load:.1f} at the start)"]
    if load > 0.5 * (os.cpu_count() or 1):
        lines.append("  (the host was busy: figures may be slower and more "
                     "variable than on an idle machine)")
    for s in sections:
        lines += ["", s.title]
        for f in s.figures:
            value = f.text()
            row = f"  {f.label:<{width}}{value}"
            if f.value is not None and f.note:
                row = f"{row:<{width + 18}}  {f.note}"
            lines.append(row)
    if failures:
        lines += ["", "Benchmarks that failed:"]
        for f in failures:
            lines.append(f"  [{f.group}] {f.command or '(setup)'}"
                         + ("" if f.counted else "  (not counted in the exit status: "
                                                 "it needs page reclaim)"))
            for line in f.reason.strip().splitlines()[:12]:
                lines.append(f"      {line}")
    return "\n".join(lines)


def as_json(sections: Sequence[Section], failures: Sequence[Failure],
            raw: dict[str, list[dict[str, int]]], cpus: int, load: float) -> dict:
    """The figures for --json, with the raw wbbench output of every run."""
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "qemu": qemu_version(),
        "cpus": cpus,
        "host_cpus": os.cpu_count(),
        "host_load": load,
        "timeout_scale": scaled(1.0),
        "figures": {f.key: {"label": f.label, "section": s.title, "value": f.value,
                            "unit": f.unit, "note": f.note}
                    for s in sections for f in s.figures},
        "runs": raw,
        "failures": [asdict(f) for f in failures],
    }
