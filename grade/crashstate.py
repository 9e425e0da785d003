#!/usr/bin/env python3
"""Rebuild one crash state as a disk image, to boot Quire on it.

    make crashstate LAB=crash STATE='allbut F=120 +121-125'

runs

    crashstate.py --lab crash --state STATE -o grade/results/crash-lab/state.img

which rebuilds the disk of that crash state of the last run of the lab's
tests (grade/results/crash-lab/run, which `make grade LAB=crash` leaves),
prints what the checker found wrong with it, draws the picture of its
writes (state.png beside the image), and then make boots Quire on the
image: the kernel mounts it as after that power cut (replaying its log if
your replay finds a committed transaction), and `ls cw`, `cat`, `wbstat`
show what survived.  --from DIR takes another recorded run (any
crashcheck.py --workdir).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crashlab import RESULTS  # noqa: E402
from crashrun import CheckerError, Run  # noqa: E402
from crashstates import parse_state  # noqa: E402
from crashverdict import Checker  # noqa: E402

RUNS = {"crash": RESULTS / "run"}


def known_problems(run_dir: Path, state: str) -> list[str]:
    """What the run's report says about this state (nothing if it was
    not a violation, or was not checked)."""
    report = run_dir / "report.json"
    if not report.exists():
        return []
    want = " ".join(state.split()[-2:])
    for v in json.loads(report.read_text()).get("violations", []):
        if " ".join(v["state"].split()[-2:]) == want:
            return list(v["problems"])
    return []


def save_image(run: Run, state: str, dest: Path) -> Checker:
    """Write the state's disk image to dest (through a file beside it)."""
    checker = Checker(run)
    builder = checker.open_builder(dest.with_name(dest.name + ".tmp"))
    builder.goto(parse_state(state, checker.log))
    builder.close()
    os.replace(builder.work, dest)
    return checker


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Rebuild a crash state's disk image.")
    ap.add_argument("--lab", default="crash", help="whose last run (default: crash)")
    ap.add_argument("--from", dest="run_dir", type=Path,
                    help="a recorded run's directory instead of the lab's last run")
    ap.add_argument("--state", required=True, help="the state, as a failure names it")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    run_dir = args.run_dir or RUNS.get(args.lab)
    if run_dir is None or not (run_dir / "run.json").exists():
        print(f"crashstate: no recorded run in {run_dir}: run `make grade "
              f"LAB={args.lab}` first", file=sys.stderr)
        return 2
    try:
        run = Run.load(run_dir / "run.json")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        checker = save_image(run, args.state, args.output)
    except (CheckerError, ValueError, IndexError, OSError) as e:
        print(f"crashstate: {e}", file=sys.stderr)
        return 2
    print(f"crashstate: the disk of '{args.state}' is {args.output}")
    for p in known_problems(run_dir, args.state):
        print(f"  {p}")
    try:
        import crashpicture
        st = parse_state(args.state, checker.log)
        png = crashpicture.draw(checker.log, checker.sb, st, args.output.with_suffix(".png"),
                                f"crash state {args.state}",
                                known_problems(run_dir, args.state))
        print(f"crashstate: its writes and FLUSHes are drawn in {png}")
    except ImportError:
        pass
    print("crashstate: booting Quire on it (halt, or Ctrl-a x, to leave)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
