#!/usr/bin/env python3
"""Quire's benchmarks: boot Quire in QEMU, run user/wbbench, print figures.

`make bench` runs this after building.  Each benchmark boots a machine of
its own (so that one's page cache does not help the next), runs wbbench
subcommands that each print one line of name=value figures, and the table
at the end puts the figures side by side:

    seq      64 MiB written sequentially + fsync, in MiB/s, beside the raw
             device's write speed (rawdisk on a scratch disk, same boot);
             device bytes written per data byte.  Run twice: with both
             disks held to 32 MiB/s by QEMU, so that the disk limits both
             paths, as a real disk would; and unthrottled, where the "disk"
             is the host's memory and the guest's emulated CPU limits the
             page cache (rawdisk copies nothing, so it barely uses the CPU).
             Beside them the limit of a path that copies the data once and
             writes it: a user-space memcpy of the same size plus the raw
             write, measured in the same boot
    cached   write() of 8 MiB into the page cache and read() of it back
             from the cache, each against a user-space memcpy of 8 MiB in
             the same run (each the best of 5 rounds in one wbbench run)
    fsync1   fsync of one dirty page in a file of 16 cached pages against
             one of 65,536 cached pages (256 MiB; a 512M machine, one CPU)
    dirtied  fsync while another process dirties the file at full speed,
             against the same fsync with no dirtier: time, and the pages
             the fsync wrote per page dirty at its call (8 MiB file: below
             the background threshold; 16 MiB: the flusher writes too)
    bigfile  write + fsync and read back a file twice the size of RAM;
             the read (cold: the file is twice RAM) against the raw
             device's read in the same boot
    boot     seconds from QEMU's start to the first prompt, CPUS=1 and 3

Benchmarks print figures; they judge nothing.  A figure that could not be
measured (wbbench failed, printed something unexpected, the kernel
panicked, a deadline passed) shows as "not available: <reason>", and the
exit status is 1 if any did (bigfile excepted: it needs page reclaim, and
is reported but not counted).  Every wait has a deadline, multiplied by
QUIRE_TIMEOUT_SCALE.

    python3 grade/bench.py [--only seq,fsync1,...] [--cpus N] [--reps N]
                           [--boots N] [--json [PATH]] [-q]

--json writes the figures to grade/results/bench.json (or PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import (Failure, Figure, Section, as_json, load_average,  # noqa: E402
                        spread, table)
from qemu import (FS_IMAGE, KERNEL, REPO, Drive, Machine,  # noqa: E402
                  MachineError, Throttle, copy_sparse, scaled)

MIB = 1 << 20
MKFS = REPO / "mkfs" / "mkfs"
DEFAULT_JSON = REPO / "grade" / "results" / "bench.json"
GROUPS = ("seq", "cached", "fsync1", "dirtied", "bigfile", "boot")

SEQ_MB = 64                 # sequential write, and the raw write beside it
# The disks' speed for the first seq run: a slow disk, slower than the
# page cache can fill under emulation, so that the disk is what limits both
# paths (what the comparison is about) on any host.
SEQ_DISK_MIBS = 32
CACHED_MB = 8               # write() into and read() from the page cache
FSYNC_SMALL, FSYNC_LARGE = 16, 65536
FSYNC_REPS = 51
# fsync1 runs on one CPU: with more, a process woken on another hart may
# wait milliseconds for it (a busy host schedules QEMU's hart threads
# late), and those waits, not the page cache, then make the median.
FSYNC_CPUS = 1
# fsync under a dirtier, on two file sizes: below the background threshold
# the flusher stays idle; above it, it writes the file at the same time.
# The fsync's own pages come from the calling process's counters (folios
# it tagged TOWRITE, folios whose writeback it started), so the flusher's
# pages are never counted as the fsync's.
DIRTIED = ((8, "the flusher stays idle"),
           (16, "the flusher writes the file too"))
DIRTIED_SECS = 2
BACKGROUND_THRESH = re.compile(r"background writeback at (\d+) dirty pages")
BIG_MB = 256                # twice the 128M machine's memory
BIG_IMAGE_MB = 1024         # disk image for fsync1 and bigfile
BOOT_TARGETS = {1: 0.5, 3: 0.7}
# More harts than the host has CPUs would measure the host's scheduler: a
# hart that holds a spin lock is descheduled while the others spin.
DEFAULT_CPUS = min(3, os.cpu_count() or 1)


class BenchFailed(Exception):
    """A benchmark program did not print the figures it should have.
    str() is the whole story; `short` one line of it for the table."""

    def __init__(self, message: str, short: str = "") -> None:
        super().__init__(message)
        self.short = short or message.split("\n", 1)[0]


class Bench:
    """Runs the benchmarks and collects sections, raw outputs, failures."""

    def __init__(self, work: Path, cpus: int, reps: int, boots: int,
                 quiet: bool = False, keep: bool = False) -> None:
        self.work = work
        self.keep = keep
        self.cpus = cpus
        self.reps = reps
        self.boots = boots
        self.quiet = quiet
        self.sections: list[Section] = []
        self.failures: list[Failure] = []
        self.raw: dict[str, list[dict[str, int]]] = {}
        self._machines = 0
        self._template: Optional[Path] = None
        self.last_cmd = ""           # the wbbench command run last, for failures
        self.load = load_average()   # the host's load when the run began

    # ------------------------------------------------------------ helpers

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"bench: {text}", file=sys.stderr, flush=True)

    def machine(self, **kwargs: object) -> Machine:
        self._machines += 1
        kwargs.setdefault("cpus", self.cpus)
        workdir = self.work / f"machine{self._machines}"
        return Machine(workdir=workdir, **kwargs)  # type: ignore[arg-type]

    def big_image(self, name: str) -> Path:
        """A fresh BIG_IMAGE_MB MiB file system with the user programs
        (made once with mkfs, then copied sparse)."""
        if self._template is None:
            self._template = self.work / "big-template.img"
            programs = sorted(str(p) for p in (REPO / "user").glob("_*"))
            try:
                subprocess.run([str(MKFS), "-s", str(BIG_IMAGE_MB), str(self._template),
                                f"README={REPO / 'README.md'}", *programs],
                               check=True, capture_output=True, text=True,
                               timeout=scaled(120))
            except subprocess.CalledProcessError as e:
                raise BenchFailed(f"mkfs failed: {(e.stderr or e.stdout).strip()}") from None
            except subprocess.TimeoutExpired:
                raise BenchFailed("mkfs did not finish in time") from None
        return copy_sparse(self._template, self.work / name)

    def drop_images(self) -> None:
        """Delete the disk images of the machines that ran so far (the mkfs
        template excepted).  A benchmark leaves hundreds of MiB of dirty
        data in the host's page cache; deleted, it is never written back,
        so the host's disk does not slow the next benchmark down."""
        if self.keep:
            return
        for path in self.work.rglob("*.img"):
            if path != self._template:
                path.unlink(missing_ok=True)

    def wbbench(self, m: Machine, args: str, need: Sequence[str],
                timeout: float) -> dict[str, int]:
        """Run `wbbench ARGS` and return its figures; BenchFailed unless it
        printed its line with every name in need."""
        cmd = self.last_cmd = f"wbbench {args}"
        self.say(f"[{m.name}] {cmd}")
        out = m.run(cmd, timeout=timeout)
        name = args.split()[0]
        figures: Optional[dict[str, int]] = None
        for line in out.splitlines():
            words = line.split()
            if not words or words[0] != name or len(words) < 2:
                continue
            try:
                figures = {k: int(v) for k, v in (w.split("=", 1) for w in words[1:])}
            except ValueError:
                figures = None
                continue
            break
        shown = out.strip() or "(it printed nothing)"
        first = next((ln.strip() for ln in out.splitlines() if ln.strip()), "no output")
        if figures is None:
            raise BenchFailed(f"`{cmd}` did not print its figures; it printed:\n{shown}",
                              f"`{cmd}` failed: {first}")
        missing = [k for k in need if k not in figures]
        if missing:
            raise BenchFailed(f"`{cmd}` printed no {', '.join(missing)}; it printed:\n{shown}",
                              f"`{cmd}` printed no {', '.join(missing)}")
        self.raw.setdefault(name, []).append(figures)
        return figures

    def fail(self, group: str, err: BaseException, counted: bool = True) -> str:
        """Record a failure of the command run last; returns the short
        reason for the table."""
        command, self.last_cmd = self.last_cmd, ""
        if isinstance(err, MachineError):
            reason = err.reason.split("] ", 1)[-1]
            tail = err.tail.rstrip().splitlines()[-10:]
            detail = "\n".join([reason, "--- the machine's last lines ---", *tail])
        elif isinstance(err, BenchFailed):
            reason, detail = err.short, str(err)
        else:
            reason = detail = str(err)
        self.failures.append(Failure(group, command, detail, counted))
        self.say(f"{group}: FAILED: {reason}")
        return reason

    # ------------------------------------------------------------ benchmarks

    def bench_seq(self) -> None:
        # Twice: on disks held to SEQ_DISK_MIBS, where the disk is the
        # bottleneck and the ratio shows how well writeback uses it; and
        # on unthrottled disks, which are as fast as the host's memory, so
        # the ratio there shows what the emulated CPU costs per page.
        self.seq_run("seq", f"{SEQ_MB} MiB + fsync against the raw disk, both disks "
                     f"held to {SEQ_DISK_MIBS} MiB/s", SEQ_DISK_MIBS)
        self.seq_run("seq_fast", f"{SEQ_MB} MiB + fsync against the raw disk, "
                     "unthrottled disks (the emulated CPU is the bottleneck)", None)

    def seq_run(self, key: str, what: str, mibs: Optional[int]) -> None:
        sec = Section(f"Sequential write: {what} (CPUS={self.cpus}, 128M; "
                      f"median of {self.reps})")
        self.sections.append(sec)
        drive, extra = self._seq_disks(key, mibs)
        seq: list[dict[str, int]] = []
        raw: list[dict[str, int]] = []
        copy: list[dict[str, int]] = []
        reason = ""
        try:
            with self.machine(image=self.big_image(f"{key}.img"), extra_args=extra,
                              drive=drive, name=key) as m:
                m.boot()
                for i in range(self.reps):
                    seq.append(self.wbbench(m, f"seqwrite /seq{i} {SEQ_MB}",
                                            ("us", "write_us", "fsync_us", "disk_write_bytes",
                                             "disk_writes", "flushes"), timeout=300))
                    raw.append(self.wbbench(m, f"raw {SEQ_MB}", ("mb", "us"), timeout=300))
                    copy.append(self.wbbench(m, f"memcpy {SEQ_MB}", ("mb", "us"),
                                             timeout=300))
        except (MachineError, BenchFailed) as e:
            reason = self.fail(key, e)
        self.drop_images()
        # Whatever was measured is shown, even when a later run failed.
        sec.figures += seq_figures(key, seq, raw, reason)
        sec.figures += limit_figures(key, seq, raw, copy, reason)

    def bench_cached(self) -> None:
        sec = Section(f"write() into and read() from the page cache, {CACHED_MB} MiB, "
                      f"against a user-space memcpy of {CACHED_MB} MiB in the same run "
                      f"(CPUS={self.cpus}, 128M; median of {self.reps})")
        self.sections.append(sec)
        runs: list[dict[str, int]] = []
        reason = ""
        try:
            with self.machine(name="cached") as m:
                m.boot()
                for i in range(self.reps):
                    runs.append(self.wbbench(m, f"cached /c{i} {CACHED_MB}",
                                             ("memcpy_us", "write_us", "read_us"),
                                             timeout=300))
        except (MachineError, BenchFailed) as e:
            reason = self.fail("cached", e)
        sec.figures += cached_figures(runs, reason)

    def _seq_disks(self, key: str, mibs: Optional[int]) -> tuple[Optional[Drive], list[str]]:
        """The main disk's Drive (None: the default) and the QEMU arguments
        of the scratch disk rawdisk writes to, both held to mibs MiB/s
        unless mibs is None."""
        scratch = self.work / f"{key}-scratch.img"
        with open(scratch, "wb") as f:
            f.truncate((SEQ_MB + 8) * MIB)
        # The scratch disk gets the same cache options as the main disk
        # (Drive's defaults, in drives.py: host page cache, guest flushes
        # not synced to the host) and the same throttling, so the two are
        # compared on equal terms.  Each disk has a throttle group of its own.
        top = "scratch-file"
        extra = ["-blockdev", f"driver=file,node-name=scratch-file,filename={scratch},"
                 "cache.direct=off,cache.no-flush=on"]
        drive = None
        if mibs is not None:
            drive = Drive(throttle=Throttle(bps_write=mibs * MIB))
            scratch_group = Throttle(bps_write=mibs * MIB, group="throttle-scratch")
            extra += ["-object", scratch_group.object_arg(),
                      "-blockdev", "driver=throttle,node-name=scratch-throttle,"
                      "throttle-group=throttle-scratch,file=scratch-file"]
            top = "scratch-throttle"
        extra += ["-blockdev", f"driver=raw,node-name=scratch,file={top}",
                  "-device", "virtio-blk-device,drive=scratch,bus=virtio-mmio-bus.1"]
        return drive, extra

    def bench_fsync1(self) -> None:
        sec = Section(f"fsync of one dirty page (CPUS={FSYNC_CPUS}, 512M; "
                      f"median of {FSYNC_REPS} fsyncs)")
        self.sections.append(sec)
        results: dict[int, dict[str, int]] = {}
        reason = ""
        try:
            with self.machine(cpus=FSYNC_CPUS, mem="512M",
                              image=self.big_image("fsync1.img"), name="fsync1") as m:
                m.boot()
                for n in (FSYNC_SMALL, FSYNC_LARGE):
                    results[n] = self.wbbench(m, f"fsync1 /f{n} {n} {FSYNC_REPS}",
                                              ("median_us", "min_us", "cached"),
                                              timeout=600)
        except (MachineError, BenchFailed) as e:
            reason = self.fail("fsync1", e)
        for n in (FSYNC_SMALL, FSYNC_LARGE):
            r = results.get(n)
            label = f"file with {n:,} cached pages"
            if r is None:
                sec.figures.append(Figure(f"fsync1_{n}_us", label, None, note=reason))
                continue
            note = f"min {r['min_us']:,} us"
            if r["cached"] < n:
                note += f"; only {r['cached']:,} pages were cached"
            sec.figures.append(Figure(f"fsync1_{n}_us", label, r["median_us"], "us",
                                      digits=0, note=note))
        small, large = results.get(FSYNC_SMALL), results.get(FSYNC_LARGE)
        ratio = (large["median_us"] / small["median_us"]
                 if small and large and small["median_us"] else None)
        sec.figures.append(Figure("fsync1_ratio", f"ratio {FSYNC_LARGE:,} / {FSYNC_SMALL}",
                                  ratio, digits=2, note="" if ratio is not None
                                  else reason or "a median was 0"))

    def bench_dirtied(self) -> None:
        sec = Section(f"fsync while another process dirties the file at full speed "
                      f"(CPUS={self.cpus}, 128M; median of {self.reps})")
        self.sections.append(sec)
        runs: dict[int, list[dict[str, int]]] = {mb: [] for mb, _ in DIRTIED}
        reason = ""
        background: Optional[int] = None
        try:
            with self.machine(image=self.big_image("dirtied.img"), name="dirtied") as m:
                m.boot()
                found = BACKGROUND_THRESH.search(m.run("wbstat", timeout=30))
                background = int(found.group(1)) if found else None
                for mb, _ in DIRTIED:
                    for i in range(self.reps):
                        runs[mb].append(self.wbbench(
                            m, f"dirtied /d{mb}.{i} {mb} {DIRTIED_SECS}",
                            ("idle_us", "idle_dirty", "idle_written", "busy_us",
                             "busy_tagged", "busy_self_written", "busy_written"),
                            timeout=300))
        except (MachineError, BenchFailed) as e:
            reason = self.fail("dirtied", e)

        for mb, what in DIRTIED:
            pages = mb * MIB // 4096
            if background is not None:
                side = "below" if pages < background else "not below"
                what = (f"{pages:,} pages, {side} the background threshold "
                        f"({background:,}); " + what)
            sec.figures += dirtied_figures(mb, what, runs[mb], reason)

    def bench_bigfile(self) -> None:
        sec = Section(f"A file twice the size of RAM: {BIG_MB} MiB on a 128M machine "
                      f"(CPUS={self.cpus})")
        self.sections.append(sec)
        _, extra = self._seq_disks("bigfile", None)
        try:
            with self.machine(image=self.big_image("bigfile.img"), extra_args=extra,
                              name="bigfile") as m:
                m.boot()
                r = self.wbbench(m, f"bigfile /big {BIG_MB}", ("write_us", "read_us"),
                                 timeout=900)
                rawr = self.wbbench(m, f"raw {SEQ_MB}", ("mb", "read_us"), timeout=300)
        except (MachineError, BenchFailed) as e:
            # Needs page reclaim; reported, but not a failure of the run.
            reason = self.fail("bigfile", e, counted=False)
            for key, label in (("bigfile_write_s", "write + fsync"),
                               ("bigfile_read_s", "read back")):
                sec.figures.append(Figure(key, label, None, note=reason))
            return
        w, rd = r["write_us"] / 1e6, r["read_us"] / 1e6
        raw_read = rawr["mb"] / (rawr["read_us"] / 1e6) if rawr["read_us"] else None
        sec.figures += [
            Figure("bigfile_write_s", "write + fsync", w, "s", digits=2,
                   note=f"{BIG_MB / w:.1f} MiB/s" if w else ""),
            Figure("bigfile_read_s", "read back (cold: the file is twice RAM)", rd, "s",
                   digits=2, note=f"{BIG_MB / rd:.1f} MiB/s" if rd else ""),
            Figure("bigfile_raw_read_mibs", "raw device read (rawdisk), same boot", raw_read,
                   "MiB/s", note=f"{rawr['mb']} MiB in 256 KiB reads"),
            Figure("bigfile_read_over_raw", "cold read / raw read",
                   BIG_MB / rd / raw_read if rd and raw_read else None, digits=2,
                   note="goal >= 0.5"),
        ]

    def bench_boot(self) -> None:
        sec = Section(f"Boot to the first prompt (median of {self.boots} boots, 128M)")
        self.sections.append(sec)
        for cpus in (1, 3):
            times: list[float] = []
            reason = ""
            for i in range(self.boots):
                try:
                    self.last_cmd = f"boot {i + 1} with CPUS={cpus}"
                    with self.machine(cpus=cpus, name=f"boot cpus={cpus}") as m:
                        m.boot(timeout=60)
                        times.append(m.boot_time())
                except MachineError as e:
                    reason = self.fail("boot", e)
                    break
            key, label = f"boot_cpus{cpus}_s", f"CPUS={cpus}"
            target = f"target < {BOOT_TARGETS[cpus]} s"
            if len(times) < self.boots:
                sec.figures.append(Figure(key, label, None, note=reason))
                continue
            sec.figures.append(Figure(
                key, label, statistics.median(times), "s", digits=2,
                note=f"{target}; range {min(times):.2f}-{max(times):.2f} s"))

    def run(self, groups: Sequence[str]) -> None:
        for group in GROUPS:
            if group in groups:
                started = time.monotonic()
                try:
                    getattr(self, f"bench_{group}")()
                except BenchFailed as e:      # mkfs and the like
                    reason = self.fail(group, e, counted=group != "bigfile")
                    self.sections.append(Section(group, [Figure(group, group, None,
                                                                note=reason)]))
                self.drop_images()
                self.say(f"{group} done in {time.monotonic() - started:.1f} s")

def seq_figures(key: str, seq: list[dict[str, int]], raw: list[dict[str, int]],
                reason: str) -> list[Figure]:
    """The rows of one seq run, from wbbench's seqwrite and raw figures
    (either list may be short or empty: a row without them shows reason)."""
    mc = statistics.median(SEQ_MB / (r["us"] / 1e6) for r in seq) if seq else None
    md = statistics.median(r["mb"] / (r["us"] / 1e6) for r in raw) if raw else None
    rows = []
    if seq:
        write_s = statistics.median(r["write_us"] for r in seq) / 1e6
        fsync_s = statistics.median(r["fsync_us"] for r in seq) / 1e6
        rows.append(Figure(
            f"{key}_mibs", "page cache: write + fsync", mc, "MiB/s",
            note=f"write() {write_s:.2f} s, then fsync {fsync_s:.2f} s"
                 + spread([SEQ_MB / (r["us"] / 1e6) for r in seq])))
    else:
        rows.append(Figure(f"{key}_mibs", "page cache: write + fsync", None, note=reason))
    rows.append(Figure(
        f"{key}_raw_mibs", "raw device (rawdisk), same boot", md,
        "MiB/s" if raw else "",
        note=f"{SEQ_MB} MiB in 256 KiB writes, then a FLUSH"
             + spread([r["mb"] / (r["us"] / 1e6) for r in raw]) if raw else reason))
    rows.append(Figure(
        f"{key}_over_raw", "page cache / raw", mc / md if mc and md else None, digits=2,
        note="" if mc and md else reason))
    if seq:
        rows.append(Figure(
            f"{key}_device_bytes_per_byte", "device bytes written per data byte",
            statistics.median(r["disk_write_bytes"] / (SEQ_MB * MIB) for r in seq),
            digits=3,
            note=f"{statistics.median(r['disk_writes'] for r in seq):.0f} write "
                 f"requests, {statistics.median(r['flushes'] for r in seq):.0f} flushes"))
    else:
        rows.append(Figure(f"{key}_device_bytes_per_byte",
                           "device bytes written per data byte", None, note=reason))
    return rows


def limit_figures(key: str, seq: list[dict[str, int]], raw: list[dict[str, int]],
                  copy: list[dict[str, int]], reason: str) -> list[Figure]:
    """The limit of a write path that copies the data once and then writes
    it: memcpy of SEQ_MB in user space plus the raw write of SEQ_MB, both
    measured in the same boot; and the page cache's write + fsync against it."""
    if not (seq and raw and copy):
        return [Figure(f"{key}_limit_mibs", "limit: memcpy + raw write", None, note=reason),
                Figure(f"{key}_over_limit", "page cache / limit", None, note=reason)]
    copy_s = statistics.median(r["us"] for r in copy) / 1e6
    raw_s = statistics.median(r["us"] for r in raw) / 1e6
    limit = SEQ_MB / (copy_s + raw_s)
    mc = statistics.median(SEQ_MB / (r["us"] / 1e6) for r in seq)
    return [
        Figure(f"{key}_limit_mibs", "limit: memcpy + raw write, same boot", limit, "MiB/s",
               note=f"memcpy {SEQ_MB} MiB {copy_s:.3f} s "
                    f"({SEQ_MB / copy_s:,.0f} MiB/s) + raw write {raw_s:.3f} s"),
        Figure(f"{key}_over_limit", "page cache / limit", mc / limit, digits=2,
               note="goal >= 0.5 unthrottled" if key == "seq_fast" else ""),
    ]


def cached_figures(rs: list[dict[str, int]], reason: str) -> list[Figure]:
    """write() into and read() from the cache against memcpy, per run."""
    if not rs:
        return [Figure(f"cached_{k}", k, None, note=reason)
                for k in ("memcpy_mibs", "write_mibs", "read_mibs")]

    def mibs(key: str) -> list[float]:
        return [CACHED_MB / (r[key] / 1e6) for r in rs if r[key]]

    copy, write, read = mibs("memcpy_us"), mibs("write_us"), mibs("read_us")
    wr = [w / c for w, c in zip(write, copy)]
    rr = [r / c for r, c in zip(read, copy)]
    return [
        Figure("cached_memcpy_mibs", "limit: user-space memcpy", statistics.median(copy),
               "MiB/s", note=spread(copy).lstrip("; ")),
        Figure("cached_write_mibs", "write() into the cache", statistics.median(write),
               "MiB/s", note=spread(write).lstrip("; ")),
        Figure("cached_write_over_memcpy", "  write / memcpy", statistics.median(wr),
               digits=2, note="goal >= 0.3" + spread(wr, 2)),
        Figure("cached_read_mibs", "read() from the cache", statistics.median(read),
               "MiB/s", note=spread(read).lstrip("; ")),
        Figure("cached_read_over_memcpy", "  read / memcpy", statistics.median(rr),
               digits=2, note="goal >= 0.5" + spread(rr, 2)),
    ]


def dirtied_figures(mb: int, what: str, rs: list[dict[str, int]],
                    reason: str) -> list[Figure]:
    """The rows of the dirtied benchmark on an mb MiB file, from wbbench's
    figures of each run (none: every row shows reason); what describes the
    file against the background threshold."""
    ratio = [r["busy_us"] / r["idle_us"] for r in rs if r["idle_us"]]
    # Above the background threshold the two fsyncs find different
    # amounts dirty (the flusher has cleaned part of the file before
    # the idle one), so their times are compared per page too.
    per_page = [(r["busy_us"] / r["busy_tagged"]) / (r["idle_us"] / r["idle_dirty"])
                for r in rs if r["busy_tagged"] and r["idle_dirty"] and r["idle_us"]]
    per = [r["busy_self_written"] / r["busy_tagged"] for r in rs if r["busy_tagged"]]
    idle_per = [r["idle_written"] / r["idle_dirty"] for r in rs if r["idle_dirty"]]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rs)

    return [
        Figure(f"dirtied{mb}_idle_ms", f"{mb} MiB file: fsync, no dirtier",
               med("idle_us") / 1e3 if rs else None, "ms",
               note=f"{med('idle_dirty'):,.0f} pages dirty at the call, "
                    f"{med('idle_written'):,.0f} written by the fsync"
               if rs else reason),
        Figure(f"dirtied{mb}_busy_ms", f"{mb} MiB file: fsync, with a dirtier",
               med("busy_us") / 1e3 if rs else None, "ms",
               note=f"{med('busy_tagged'):,.0f} pages dirty at the call (tagged), "
                    f"{med('busy_self_written'):,.0f} written by the fsync, "
                    f"{med('busy_written'):,.0f} by anyone meanwhile"
               if rs else reason),
        Figure(f"dirtied{mb}_time_ratio", "  fsync time, with / without a dirtier",
               statistics.median(ratio) if ratio else None, digits=2,
               note=spread(ratio, 2).lstrip("; ") if ratio else reason),
        Figure(f"dirtied{mb}_time_per_page_ratio",
               "  ... per page dirty at the call",
               statistics.median(per_page) if per_page else None, digits=2,
               note=spread(per_page, 2).lstrip("; ") if per_page else reason),
        Figure(f"dirtied{mb}_written_per_dirty",
               "  pages the fsync wrote / pages dirty at its call",
               statistics.median(per) if per else None, digits=2,
               note=what + spread(per, 2) if per else reason),
        Figure(f"dirtied{mb}_idle_written_per_dirty", "  ... with no dirtier",
               statistics.median(idle_per) if idle_per else None, digits=2,
               note="" if idle_per else reason),
    ]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run Quire's benchmarks in QEMU "
                                     "and print a table of figures.")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated benchmarks to run (default: all of "
                             f"{','.join(GROUPS)})")
    parser.add_argument("--cpus", type=int, default=DEFAULT_CPUS,
                        help="CPUs of the benchmark machines (default: 3, or "
                             "the host's CPUs if fewer)")
    parser.add_argument("--reps", type=int, default=3,
                        help="runs of seq and dirtied; the median is shown (default 3)")
    parser.add_argument("--boots", type=int, default=5,
                        help="boots per CPU count for the boot time (default 5)")
    parser.add_argument("--json", nargs="?", const=str(DEFAULT_JSON), metavar="PATH",
                        help=f"also write the figures as JSON (default path "
                             f"{DEFAULT_JSON.relative_to(REPO)})")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on standard error")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if args.reps < 1 or args.boots < 1 or args.cpus < 1:
        parser.error("--reps, --boots and --cpus must be at least 1")
    for need in (KERNEL, FS_IMAGE, MKFS):
        if not need.exists():
            print(f"bench: {need.relative_to(REPO)} is missing: run make all first",
                  file=sys.stderr)
            return 2

    keep = os.environ.get("QUIRE_KEEP_WORK", "") not in ("", "0")
    work = Path(tempfile.mkdtemp(prefix="quire-bench-"))
    started = time.monotonic()
    bench = Bench(work, args.cpus, args.reps, args.boots, quiet=args.quiet, keep=keep)
    try:
        bench.run(groups)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if keep:
            print(f"bench: work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(bench.sections, bench.failures, bench.load))
    print(f"\n({time.monotonic() - started:.0f} s in all)")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        figures = as_json(bench.sections, bench.failures, bench.raw, bench.cpus, bench.load)
        path.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {path}")
    return 1 if any(f.counted for f in bench.failures) else 0


if __name__ == "__main__":
    sys.exit(main())
