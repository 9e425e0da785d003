"""Drive Quire in QEMU: boot it, type at its shell, read what it prints.

A Machine is one run of QEMU on one disk image.  By default it boots
kernel/kernel on a fresh, private copy of fs.img, so that a test may write
to the disk freely.  The console is QEMU's serial port on QEMU's standard
input and output; a reader thread collects everything the machine prints.
The kernel's disk notices, which may land inside a program's line, are
kept apart from the rest (Machine.notices, notices.py).

    with Machine(cpus=3) as m:
        m.boot()                          # waits for the first "$ "
        out = m.run("echo hi | wc")       # what the command printed
        assert m.poweroff() == 0          # runs halt; QEMU's exit status

Every wait has a deadline.  Deadlines are given in seconds and multiplied by
the environment variable QUIRE_TIMEOUT_SCALE (default 1), so that a slow
machine can be given more time without editing a test.  When a deadline
passes, when the kernel panics, or when QEMU exits while something is still
awaited, a MachineError is raised whose message says what was awaited and
shows the last lines the machine printed (the console tail).

The disk is described by a Drive (drives.py), a stack of QEMU block nodes
that can slow the disk down, make requests fail or log every write.  This
module is what tests import: Machine, and with it the names of the modules
it is built from (settings.py, errors.py, drives.py), listed in __all__;
procs.py makes sure no QEMU outlives the harness.
"""

from __future__ import annotations

import codecs
import errno as errno_mod
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Iterable, Optional, Pattern, Sequence, Union

from drives import (Blkdebug, Drive, InjectError, LogWrites, Throttle,
                    probe_drive, qemu_io)
from errors import TAIL_LINES, Exited, MachineError, Panic, Timeout
from notices import NoticeFilter
from procs import close_pipes, die_with_parent
from settings import FS_IMAGE, KERNEL, REPO, qemu_binary, scaled, timeout_scale

__all__ = [
    "Machine", "copy_sparse", "PROMPT", "PANIC",
    # settings.py
    "REPO", "KERNEL", "FS_IMAGE", "timeout_scale", "scaled", "qemu_binary",
    # errors.py
    "MachineError", "Timeout", "Panic", "Exited", "TAIL_LINES",
    # drives.py
    "Drive", "Throttle", "Blkdebug", "InjectError", "LogWrites",
    "probe_drive", "qemu_io",
]

# The shell prints "$ " at the start of a line before reading each command.
PROMPT = re.compile(r"(?m)^\$ ")
# What the kernel prints when it panics ("panic: ...").
PANIC = re.compile(r"\bpanic: ")
# A panic message may go on for a few lines (a backtrace); wait this long
# (scaled) for more output before raising, so the message shows all of it.
PANIC_GRACE = 1.0

Expect = Union[str, Pattern[str]]


# ---------------------------------------------------------------- disk images

def copy_sparse(src: Union[str, Path], dst: Union[str, Path]) -> Path:
    """Copy a disk image, leaving holes where the source has holes or zeros.

    fs.img is mostly empty; a plain copy would write every byte of it.
    """
    chunk = 1 << 20
    src, dst = Path(src), Path(dst)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fd = fin.fileno()
        size = os.fstat(fd).st_size
        for start, end in _data_extents(fd, size):
            pos = start
            while pos < end:
                n = min(chunk, end - pos)
                data = os.pread(fd, n, pos)
                if not data:
                    break
                if data.count(0) != len(data):
                    os.pwrite(fout.fileno(), data, pos)
                pos += len(data)
        fout.truncate(size)
    return dst


def _data_extents(fd: int, size: int) -> Iterable[tuple[int, int]]:
    """The (start, end) byte ranges of a file that may hold data."""
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        yield (0, size)
        return
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, seek_data)
        except OSError as e:
            if e.errno == errno_mod.ENXIO:      # only a hole is left
                return
            if e.errno == errno_mod.EINVAL and pos == 0:  # not supported here
                yield (0, size)
                return
            raise
        end = os.lseek(fd, start, seek_hole)
        yield (start, min(end, size))
        pos = end


# ---------------------------------------------------------------- the machine

class Machine:
    """One run of Quire in QEMU.  Use it as a context manager: QEMU is
    always killed at the end.

    cpus, mem: QEMU's -smp and -m.
    image: a disk image used as is; None means a fresh copy of fs.img in
        the work directory (sparse, so cheap).
    drive: a Drive describing extra block layers; its image is filled in.
    extra_args: more QEMU arguments, appended.
    workdir: where the image copy, logs and console.log go; None makes a
        temporary directory that is removed at close() (unless
        QUIRE_KEEP_WORK=1).
    command: run this instead of QEMU (for testing the driver itself).
    """

    def __init__(self, cpus: int = 1, mem: str = "128M",
                 image: Optional[Union[str, Path]] = None,
                 drive: Optional[Drive] = None,
                 extra_args: Sequence[str] = (),
                 workdir: Optional[Union[str, Path]] = None,
                 kernel: Optional[Union[str, Path]] = None,
                 command: Optional[Sequence[str]] = None,
                 name: str = "") -> None:
        self.cpus = cpus
        self.mem = mem
        self.kernel = Path(kernel) if kernel is not None else KERNEL
        self.extra_args = list(extra_args)
        self.name = name or f"cpus={cpus}"
        self._own_workdir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="quire-")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._fake_command = list(command) if command is not None else None

        if image is None and self._fake_command is None:
            if not FS_IMAGE.exists():
                raise FileNotFoundError(f"{FS_IMAGE} is missing: run make first")
            image = copy_sparse(FS_IMAGE, self.workdir / "fs.img")
        self.image: Optional[Path] = Path(image) if image is not None else None
        self.drive = (drive or Drive())
        if self.image is not None:
            self.drive = self.drive.with_image(self.image)

        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.start_time: Optional[float] = None
        self._boot_time: Optional[float] = None
        self._cond = threading.Condition()
        self._chunks: list[str] = []       # output not yet joined into _text
        self._text = ""                    # console output, \r removed
        self._notices = NoticeFilter()     # takes disk notices out of _text
        self._mark = 0                     # waits look at _text[_mark:]
        self._panic_scanned = 0            # _text[:this] has no panic
        self._eof = False
        self._stderr_chunks: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._log: Optional[IO[bytes]] = None
        self._verbose = os.environ.get("QUIRE_VERBOSE", "") not in ("", "0")
        self.check_panic = True

    # ------------------------------------------------------------ starting

    def command(self) -> list[str]:
        """The QEMU command line this machine runs."""
        if self._fake_command is not None:
            return list(self._fake_command)
        cmd = [qemu_binary(), "-machine", "virt,aclint=on", "-bios", "none",
               "-kernel", str(self.kernel), "-m", self.mem,
               "-smp", str(self.cpus), "-nographic", "-monitor", "none",
               "-serial", "stdio", "-no-reboot",
               "-global", "virtio-mmio.force-legacy=false"]
        cmd += self.drive.args(self.workdir) + self.drive.device_args()
        return cmd + self.extra_args

    def start(self) -> "Machine":
        """Start QEMU; returns at once (see boot())."""
        if self.proc is not None:
            raise RuntimeError("this machine was already started")
        if self._fake_command is None and not self.kernel.exists():
            raise FileNotFoundError(f"{self.kernel} is missing: run make first")
        cmd = self.command()
        self._log = open(self.workdir / "console.log", "wb")
        (self.workdir / "command.txt").write_text(" ".join(cmd) + "\n")
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.workdir, bufsize=0,
            preexec_fn=die_with_parent)
        for target in (self._read_console, self._read_stderr):
            t = threading.Thread(target=target, daemon=True,
                                 name=f"quire-{target.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def _read_console(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if self._log is not None and data:
                try:
                    self._log.write(data)
                    self._log.flush()
                except (OSError, ValueError):
                    pass
            if self._verbose and data:
                sys.stderr.write(data.decode("utf-8", "replace"))
                sys.stderr.flush()
            text = decoder.decode(data, final=not data).replace("\r", "")
            with self._cond:
                if text:
                    self._chunks.append(text)
                if not data:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._cond:
                self._stderr_chunks.append(data)

    # ------------------------------------------------------------ output

    def _sync(self) -> str:
        """Join output that has arrived into _text (call with _cond held)."""
        if self._chunks:
            self._text += self._notices.feed("".join(self._chunks))
            self._chunks.clear()
        if self._eof:
            self._text += self._notices.flush()
        return self._text

    @property
    def output(self) -> str:
        """Everything the machine printed so far (\\r removed), but for the
        kernel's disk notices (see `notices`)."""
        with self._cond:
            return self._sync()

    @property
    def notices(self) -> list[str]:
        """The kernel's disk notices so far, one line each, in order: they
        are not in `output` (see notices.py)."""
        with self._cond:
            self._sync()
            return list(self._notices.notices)

    @property
    def stderr(self) -> str:
        with self._cond:
            return b"".join(self._stderr_chunks).decode("utf-8", "replace")

    def output_since_mark(self) -> str:
        with self._cond:
            return self._sync()[self._mark:]

    def mark(self) -> int:
        """Make later waits look only at output from now on; returns the
        position (an index into `output`)."""
        with self._cond:
            self._mark = len(self._sync())
            return self._mark

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of console output."""
        return "\n".join(self.output.split("\n")[-lines:])

    def _error(self, cls: type, message: str) -> MachineError:
        err: MachineError = cls(f"[{self.name}] {message}", self.tail(), self.stderr)
        return err

    # ------------------------------------------------------------ waiting

    def wait_for(self, expect: Expect, timeout: float = 30.0,
                 what: Optional[str] = None) -> "re.Match[str]":
        """Wait until `expect` (text, or a compiled regular expression)
        appears in the output after the mark; move the mark past it and
        return the match (its positions index `output`).

        Raises Panic if the kernel panics first, Exited if QEMU exits first,
        Timeout if `timeout` seconds (scaled) pass first.
        """
        if self.proc is None:
            raise RuntimeError("start() the machine first")
        pattern = re.compile(re.escape(expect)) if isinstance(expect, str) else expect
        what = what or repr(pattern.pattern if not isinstance(expect, str) else expect)
        limit = scaled(timeout)
        deadline = time.monotonic() + limit
        searched = self._mark          # no match starts before this
        with self._cond:
            while True:
                text = self._sync()
                m = pattern.search(text, max(self._mark, searched))
                if m is not None:
                    self._check_panic_locked(m.start())  # a panic before it counts
                    self._mark = m.end()
                    return m
                # Next time rescan a little before the end, for a match that
                # spans two reads.
                searched = max(self._mark, len(text) - 4096)
                self._check_panic_locked(len(text))
                if self._eof:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._error(
                        Timeout, f"Timed out after {limit:g} s waiting for {what}")
                self._cond.wait(left)
        raise self._exited(f"waiting for {what}")

    def _check_panic_locked(self, upto: int) -> None:
        """Raise Panic if a panic message starts before `upto` (call with
        _cond held)."""
        if not self.check_panic:
            return
        start = max(0, self._panic_scanned - 64)
        m = PANIC.search(self._text, start)
        if m is None or m.start() >= upto:
            self._panic_scanned = max(self._panic_scanned, upto)
            return
        # Let the rest of the panic message (a few lines) arrive first.
        grace_end = time.monotonic() + scaled(PANIC_GRACE)
        while not self._eof and self._sync().count("\n", m.end()) < 4:
            left = grace_end - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)
        line_start = self._text.rfind("\n", 0, m.start()) + 1
        line_end = self._text.find("\n", m.start())
        line = self._text[line_start:line_end if line_end >= 0 else None]
        raise self._error(Panic, f"The kernel panicked: {line.strip()}")

    def _exited(self, doing: str) -> MachineError:
        """The error for QEMU having exited (call without _cond held)."""
        assert self.proc is not None
        try:
            status: Optional[int] = self.proc.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            status = None
        for t in self._threads:
            t.join(scaled(5))
        how = (f"QEMU exited with status {status}" if status is not None
               else "QEMU closed its output")
        return self._error(Exited, f"{how} while {doing}")

    def boot(self, timeout: float = 60.0) -> "Machine":
        """Start QEMU if needed and wait for the shell's first prompt."""
        if self.proc is None:
            self.start()
        self.wait_for(PROMPT, timeout, what="the first shell prompt '$ '")
        if self._boot_time is None and self.start_time is not None:
            self._boot_time = time.monotonic() - self.start_time
        return self

    def boot_time(self) -> float:
        """Wall-clock seconds from starting QEMU to the first prompt (for
        benchmarks: tests never judge by time)."""
        if self._boot_time is None:
            raise RuntimeError("the machine has not booted")
        return self._boot_time

    # ------------------------------------------------------------ input

    def send(self, text: str) -> None:
        """Type text at the console."""
        if self.proc is None or self.proc.stdin is None:
            raise RuntimeError("start() the machine first")
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except OSError:
            raise self._exited(f"typing {text!r}") from None

    def sendline(self, line: str) -> None:
        self.send(line + "\n")

    def run(self, cmd: str, timeout: float = 30.0) -> str:
        """Type a command line, wait for the next prompt, and return what the
        command printed: the output after the echoed command line, up to the
        next prompt.

        The shell must have printed its prompt already (after boot() or an
        earlier run()).  Output that does not end with a newline before the
        next prompt is not recognised: the prompt must start a line.
        """
        if "\n" in cmd:
            raise ValueError("run() takes one command line")
        start = self._mark
        self.sendline(cmd)
        m = self.wait_for(PROMPT, timeout, what=f"the shell prompt after {cmd!r}")
        region = self.output[start:m.start()]
        # What came before the echo (a kernel message from another CPU, say)
        # was printed before the command was typed: it is not the command's.
        echo = cmd + "\n"
        i = region.find(echo)
        return region[i + len(echo):] if i >= 0 else region

    # ------------------------------------------------------------ stopping

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float = 30.0, what: str = "QEMU to exit") -> int:
        """Wait for QEMU to exit; returns its exit status.  Raises Timeout
        (leaving QEMU running) or Panic."""
        if self.proc is None:
            raise RuntimeError("start() the machine first")
        limit = scaled(timeout)
        deadline = time.monotonic() + limit
        with self._cond:
            while not self._eof:
                self._check_panic_locked(len(self._sync()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._error(
                        Timeout, f"Timed out after {limit:g} s waiting for {what}")
                self._cond.wait(left)
            self._check_panic_locked(len(self._sync()))
        try:
            status = self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise self._error(Timeout, f"QEMU closed its output but did not exit "
                                       f"within {limit:g} s") from None
        for t in self._threads:
            t.join(scaled(5))
        return status

    def poweroff(self, timeout: float = 30.0) -> int:
        """Run `halt` and wait for QEMU to exit; returns its exit status.
        If QEMU is still running at the deadline it is killed and Timeout
        raised."""
        self.sendline("halt")
        try:
            return self.wait_exit(timeout, what="QEMU to exit after halt")
        except Timeout:
            self.kill()
            raise

    def kill(self) -> Optional[int]:
        """Pull the plug: SIGKILL QEMU (nothing is flushed).  Returns the exit
        status (negative: killed by a signal), or None if never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        status = self.proc.wait()
        for t in self._threads:
            t.join(5)
        return status

    def close(self) -> None:
        """Kill QEMU if it runs, and release pipes and files."""
        self.kill()
        if self.proc is not None:
            close_pipes(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_workdir and os.environ.get("QUIRE_KEEP_WORK", "") in ("", "0"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"<Machine {self.name} {state} {self.workdir}>"
