#!/usr/bin/env python3
"""The crash checker: Quire's durability promises, checked on every disk a
power cut could leave.

    python3 grade/crashcheck.py [--seed N] [--states N] [--boots N] ...
    python3 grade/crashcheck.py --from DIR [--state DESC --save-image PATH]

It runs the workload user/crashwork under QEMU's blklogwrites driver, which
records every write and FLUSH the guest sends, then rebuilds from that log
the disk images a power cut could leave, and checks each one: fsck is
clean, every file shows only bytes written to it, and what fsync,
fdatasync, msync(MS_SYNC) or sync promised is there.  A sample of the
states is booted in QEMU, where Quire must read back exactly what the host
found.

This file is the command line and the order of the stages; each stage is a
module of its own, in the order the data flows:

    crashrun.py       run crashwork under the write log, note the log's
                      size after each step (run.json, base.img, writes.log)
    crashworkload.py  what crashwork did and promised, from its output
    crashpattern.py   the data pattern: which write left a given word
    crashlog.py       the write log: entries, FLUSHes (and why it can be
                      trusted)
    crashstates.py    the power-cut model: which crash states are checked,
                      and their descriptions
    crashimage.py     the disk image of one crash state
    crashverdict.py   the checks on one state, and the checker's self-test
    crashboot.py      booting a crash state in Quire
    crashreport.py    the report: summary text and report.json

Exit status: 0 all good, 1 violations found, 2 the check could not be done.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crashboot import boot_state  # noqa: E402
from crashreport import Report, Violation  # noqa: E402
from crashrun import CheckerError, Run, make_image, run_workload  # noqa: E402
from crashstates import State, entry_states, generate_states, parse_state  # noqa: E402
from crashverdict import Checker, Verdict, selftest  # noqa: E402
from qemu import KERNEL, MachineError  # noqa: E402

__all__ = ["check_run", "check_states", "main", "make_image", "run_workload"]

# The checker the worker processes use.  They are forked, so they inherit
# it as it is (its caches included) instead of a pickled copy.
_CHECKER: Optional[Checker] = None


def _worker_init(workdir: str) -> None:
    assert _CHECKER is not None
    _CHECKER.open_builder(Path(workdir) / f"work-{os.getpid()}.img")


def _worker_chunk(states: list[State]) -> list[Verdict]:
    assert _CHECKER is not None
    return [_CHECKER.check(st) for st in states]


def check_states(checker: Checker, states: list[State], workdir: Path, jobs: int
                 ) -> list[Verdict]:
    """Check every state, with `jobs` processes (each its own work image)."""
    global _CHECKER
    if jobs <= 1 or len(states) < 64:
        checker.open_builder(workdir / "work.img")
        return [checker.check(st) for st in states]
    _CHECKER = checker
    size = max(16, len(states) // (jobs * 4))
    chunks = [states[i:i + size] for i in range(0, len(states), size)]
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(jobs, initializer=_worker_init, initargs=(str(workdir),)) as pool:
            out: list[Verdict] = []
            for part in pool.imap(_worker_chunk, chunks):
                out += part
            return out
    finally:
        _CHECKER = None
        for p in workdir.glob("work-*.img"):
            p.unlink()


def check_run(run: Run, workdir: Path, nrandom: int = 1000, state_seed: int = 1,
              boots: int = 2, replay_boots: int = 1, jobs: int = 2,
              kernel: Optional[Path] = None, only: Sequence[str] = (),
              every_write: bool = False) -> Report:
    """Check the crash states of a recorded run (see run_workload), then
    boot `boots` random states that hold no committed log and
    `replay_boots` that do (the kernel replays it at mount).  With
    every_write, the single and all-but-one states are made for every
    write request, data too, not only for the metadata's blocks."""
    t0 = time.monotonic()
    checker = Checker(run)
    if only:
        states = [parse_state(s, checker.log) for s in only]
    else:
        states = generate_states(checker.log, checker.is_meta, nrandom,
                                 random.Random(state_seed))
        if every_write:
            found = {(st.flush, st.units): st for st in entry_states(checker.log)}
            found.update({(st.flush, st.units): st for st in states})
            states = sorted(found.values(), key=lambda s: (s.flush, s.kind, s.units))
    verdicts = check_states(checker, states, workdir, jobs)
    if checker.builder is None:
        checker.open_builder(workdir / "work.img")
    problem = None if only else selftest(checker, states)
    t1 = time.monotonic()
    counts: dict[str, int] = {}
    for st in states:
        counts[st.kind] = counts.get(st.kind, 0) + 1
    violations = [Violation(v.state.describe(checker.log), v.problems)
                  for v in verdicts if v.problems]
    rng = random.Random(state_seed * 7919 + 1)
    clean = [(st, v) for st, v in zip(states, verdicts) if not v.problems and st.units]
    plain = [st for st, v in clean if not v.replayed]
    replaying = [st for st, v in clean if v.replayed]
    booted: list[list[Violation]] = [[], []]
    samples = (rng.sample(plain, min(boots, len(plain))),
               rng.sample(replaying, min(replay_boots, len(replaying))))
    for which, sample in enumerate(samples):
        for i, st in enumerate(sample):
            name = f"boot{i + 1}" if which == 0 else f"replay{i + 1}"
            probs = boot_state(checker, st, workdir / name, kernel or run.kernel)
            if probs:
                booted[which].append(Violation(st.describe(checker.log), probs))
    t2 = time.monotonic()
    checker.builder.close()
    checker.builder.work.unlink()
    return Report(run.seed, state_seed, len(checker.log.entries), len(checker.log.flushes),
                  counts, violations, len(samples[0]), len(samples[1]),
                  booted[0], booted[1], problem,
                  {"workload": run.seconds, "states": t1 - t0, "boots": t2 - t1},
                  workdir)


# ---------------------------------------------------------------- command line

def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description="Run user/crashwork under QEMU's write log, rebuild the disks a "
        "power cut could leave, and check Quire's promises on each (fsck clean, no "
        "foreign bytes, synced data kept).  Exit status: 0 all good, 1 violations "
        "found, 2 the check could not be done.",
        epilog="Examples: crashcheck.py --seed 3 --states 3000 --workdir /tmp/cc; "
        "crashcheck.py --from /tmp/cc --state 'random F=120 +121-125,127.1' "
        "--save-image /tmp/crash.img")
    ap.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    ap.add_argument("--steps", type=int, default=40, help="workload steps (default 40)")
    ap.add_argument("--states", type=int, default=1000,
                    help="random crash states, besides the prefix, single and allbut "
                    "ones (default 1000)")
    ap.add_argument("--state-seed", type=int, default=1,
                    help="seed of the random states and of the boot sample (default 1)")
    ap.add_argument("--boots", type=int, default=2,
                    help="random states to boot in QEMU (default 2)")
    ap.add_argument("--replay-boots", type=int, default=1,
                    help="states with a committed log to boot (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes checking states (default: one per CPU)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the workload machine")
    ap.add_argument("--kernel", type=Path,
                    help="kernel to run (default kernel/kernel; with --from, the "
                    "run's kernel)")
    ap.add_argument("--image", type=Path,
                    help="initial disk image (default: a new small one, see --image-mb)")
    ap.add_argument("--image-mb", type=int, default=6,
                    help="size of the default image in MiB (default 6)")
    ap.add_argument("--workdir", type=Path,
                    help="keep the run here (base.img, writes.log, run.json, "
                    "report.json); default: a temporary directory, removed")
    ap.add_argument("--from", dest="from_dir", type=Path,
                    help="check the run recorded in this directory instead of running")
    ap.add_argument("--state", action="append", default=[],
                    help="check only this state (a description from a report); "
                    "may be repeated")
    ap.add_argument("--save-image", type=Path,
                    help="with one --state: also write that crash image here")
    ap.add_argument("--show", type=int, default=5, help="violations to print (default 5)")
    return ap


def _save_image(run: Run, state: str, dest: Path) -> None:
    """Write the crash image of one state to dest (through a temporary file
    beside it, so that dest is never half written)."""
    checker = Checker(run)
    builder = checker.open_builder(dest.with_name(dest.name + ".tmp"))
    builder.goto(parse_state(state, checker.log))
    builder.close()
    os.replace(builder.work, dest)
    print(f"crashcheck: wrote {dest}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.save_image and len(args.state) != 1:
        ap.error("--save-image needs exactly one --state")

    tmp = None
    workdir = args.workdir or args.from_dir
    if workdir is None:
        tmp = tempfile.mkdtemp(prefix="crashcheck-")
        workdir = Path(tmp)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.from_dir:
            run = Run.load(args.from_dir / "run.json")
        else:
            image = args.image or make_image(workdir / "initial.img", args.image_mb)
            print(f"crashcheck: running crashwork {args.seed} {args.steps} "
                  f"in {workdir}", flush=True)
            run = run_workload(workdir, args.seed, args.steps,
                               kernel=args.kernel or KERNEL, image=image, cpus=args.cpus)
        boots = (0, 0) if args.state else (args.boots, args.replay_boots)
        report = check_run(run, workdir, nrandom=args.states, state_seed=args.state_seed,
                           boots=boots[0], replay_boots=boots[1], jobs=args.jobs,
                           kernel=args.kernel, only=args.state)
        if args.save_image:
            _save_image(run, args.state[0], args.save_image)
        # A check of chosen states does not replace the run's full report.
        saved = workdir / ("report-states.json" if args.state else "report.json")
        report.save(saved)
        print(report.summary(args.show))
        if tmp is None:
            print(f"crashcheck: details in {saved}")
        return 0 if report.ok else 1
    except (CheckerError, MachineError, ValueError) as e:
        print(f"crashcheck: {e}", file=sys.stderr)
        return 2
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
