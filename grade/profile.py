#!/usr/bin/env python3
"""make profile: where the kernel spends its time while a command runs.

Boots Quire, runs `prof COMMAND` (user/prof.c), which samples every hart
from machine mode (kernel/debug/profile.c) while the command runs, and
prints a flat profile: each kernel function with its share of the kernel
samples (self: the hart was in it; total: it was in it or in something
it called), then, for the top functions, which functions called them.
Names come from kernel/kernel's symbol table.

    python3 grade/profile.py [--cmd 'wbbench seqwrite /p 64'] [--cpus N]
                             [--mem 128M] [--hz N] [--top N] [--raw FILE]
                             [--disk-mb N] [--focus FUNC ...]

The default command writes 64 MiB and fsyncs it: the write path.
"""

from __future__ import annotations

import argparse
import bisect
import re
import struct
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qemu import KERNEL, REPO, Machine, MachineError  # noqa: E402

DEFAULT_CMD = "wbbench seqwrite /prof 64"
TRAMPOLINE = (1 << 38) - 4096   # MAXVA - PGSIZE, kernel/memlayout.h
HEADER = re.compile(r"prof: (.*)")
STACK = re.compile(r"prof-stack (\d+) ([ku])((?: [0-9a-f]+)*)")


class Symbols:
    """Function names of an ELF file's symbol table, looked up by address."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 2:
            raise ValueError(f"{path} is not a 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                    for i in range(shnum)]
        found: dict[int, str] = {}
        for sh in sections:
            if sh[1] != 2:                      # SHT_SYMTAB
                continue
            strtab = sections[sh[6]]
            for off in range(sh[4], sh[4] + sh[5], 24):
                name, info, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", data, off)
                kind = info & 0xF
                if kind not in (0, 2) or shndx == 0 or value < 0x80000000:
                    continue                    # functions and asm labels only
                start = strtab[4] + name
                label = data[start:data.index(b"\0", start)].decode()
                if label and not label.startswith((".", "$")) and value not in found:
                    found[value] = label
        self.addrs = sorted(found)
        self.names = [found[a] for a in self.addrs]
        self.etext = next((a for a, n in found.items() if n == "etext"), 1 << 64)

    def name(self, pc: int) -> str:
        if pc >= TRAMPOLINE:
            return "trampoline"       # uservec/userret, mapped high (memlayout.h)
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.names[i] if i >= 0 and pc < self.etext else f"{pc:#x}"


def parse(out: str) -> tuple[dict[str, int], list[tuple[int, str, list[int]]]]:
    info: dict[str, int] = {}
    stacks = []
    for line in out.splitlines():
        m = STACK.search(line)
        if m:
            stacks.append((int(m.group(1)), m.group(2),
                           [int(x, 16) for x in m.group(3).split()]))
            continue
        m = HEADER.search(line)
        if m and "samples=" in line:
            info = {k: int(v) for k, v in (w.split("=", 1) for w in m.group(1).split())}
    return info, stacks


def report(info: dict[str, int], stacks: list[tuple[int, str, list[int]]],
           syms: Symbols, cmd: str, cpus: int, top: int, focus: list[str]) -> str:
    self_ = Counter()
    total = Counter()
    callers: dict[str, Counter] = defaultdict(Counter)
    kernel = user = 0
    for count, mode, pcs in stacks:
        if mode == "u":
            user += count
            continue
        kernel += count
        names = [syms.name(pc) for pc in pcs]
        self_[names[0]] += count
        for name in set(names):
            total[name] += count
        callers[names[0]][names[1] if len(names) > 1 else "(no frame)"] += count
    lines = [f"Kernel profile of `{cmd}` (CPUS={cpus}, {info.get('hz', 0)} samples/s per hart)"]
    idle = info.get("idle", 0)
    allsamples = kernel + user + idle
    run_us = info.get("run_us", 0)
    handler = info.get("handler_us", 0)
    lines.append(f"{allsamples:,} samples in {run_us / 1e6:.2f} s: {kernel:,} kernel, "
                 f"{user:,} user, {idle:,} idle; {info.get('dropped', 0):,} dropped "
                 "(buffer full)")
    if run_us:
        lines.append(f"sampler's own time: {handler:,} us, {100 * handler / (run_us * cpus):.2f}% "
                     f"of the harts' time ({handler / max(allsamples, 1):.2f} us per sample)")
    if not kernel:
        lines.append("no kernel samples")
        return "\n".join(lines)
    lines += ["", "   self%  total%  samples  function (kernel samples only)"]
    for name, n in self_.most_common(25):
        lines.append(f"  {100 * n / kernel:6.1f}  {100 * total[name] / kernel:6.1f}  "
                     f"{n:7,}  {name}")
    lines += ["", "  total%  function (itself or what it calls)"]
    for name, n in total.most_common(25):
        lines.append(f"  {100 * n / kernel:6.1f}  {name}")
    for name in focus:
        lines += ["", f"Where {name}'s time goes (share of its total samples):"]
        below: Counter = Counter()
        for count, mode, pcs in stacks:
            names = [syms.name(pc) for pc in pcs] if mode == "k" else []
            if name in names:
                i = names.index(name)
                below["(itself)" if i == 0 else names[i - 1]] += count
        n = sum(below.values())
        for callee, c in below.most_common(12):
            lines.append(f"  {100 * c / max(n, 1):6.1f}%  {callee}")
    lines += ["", f"Callers of the top {top} (share of the function's own samples):"]
    for name, n in self_.most_common(top):
        lines.append(f"  {name} ({100 * n / kernel:.1f}%)")
        for caller, c in callers[name].most_common(5):
            lines.append(f"    {100 * c / n:5.1f}%  {caller}")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmd", default="", help=f"the command to profile (default: {DEFAULT_CMD})")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--hz", type=int, default=0, help="samples per second per hart")
    ap.add_argument("--top", type=int, default=8, help="functions whose callers are shown")
    ap.add_argument("--raw", help="also save prof's output to this file")
    ap.add_argument("--focus", action="append", default=[], metavar="FUNC",
                    help="also show what FUNC's time is spent in (the functions it calls)")
    ap.add_argument("--disk-mb", type=int, default=0,
                    help="boot on a fresh file system of this size (default: a copy of fs.img)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    cmd = args.cmd.strip() or DEFAULT_CMD
    prof = f"prof -f {args.hz} {cmd}" if args.hz else f"prof {cmd}"
    work = tempfile.TemporaryDirectory(prefix="quire-profile-")
    image = None
    if args.disk_mb:
        image = Path(work.name) / "fs.img"
        programs = sorted(str(p) for p in (REPO / "user").glob("_*"))
        subprocess.run([str(REPO / "mkfs" / "mkfs"), "-s", str(args.disk_mb), str(image),
                        f"README={REPO / 'README.md'}", *programs], check=True,
                       capture_output=True)
    try:
        with Machine(cpus=args.cpus, mem=args.mem, image=image, name="profile") as m:
            m.boot()
            out = m.run(prof, timeout=args.timeout)
    except MachineError as e:
        print(f"profile: {e}", file=sys.stderr)
        return 1
    if args.raw:
        Path(args.raw).write_text(out)
    info, stacks = parse(out)
    if not info:
        print(f"profile: prof printed no profile; it printed:\n{out}", file=sys.stderr)
        return 1
    shown = [ln for ln in out.splitlines() if not ln.startswith(("prof-stack", "prof: "))]
    if any(s.strip() for s in shown):
        print("The command printed:\n" + "\n".join("  " + s for s in shown if s.strip()) + "\n")
    print(report(info, stacks, Symbols(KERNEL), cmd, args.cpus, args.top, args.focus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
