"""Drive Quire in QEMU: boot it, type at its shell, read what it prints.

A Machine is one run of QEMU on one disk image.  By default it boots
kernel/kernel on a fresh, private copy of fs.img, so that a test may write
to the disk freely.  The console is QEMU's serial port on QEMU's standard
input and output; a reader thread collects everything the machine prints.

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

The disk is described by a Drive, which builds QEMU's -blockdev options as a
stack of block nodes, from the file on the host up to the raw node the
virtio disk uses:

    raw "disk"  <-  blkdebug  <-  throttle  <-  blklogwrites  <-  file

Each middle layer is optional: Blkdebug makes chosen requests fail, Throttle
slows the disk down, LogWrites records every write and flush that reaches
the disk into a log file (the format of Linux's dm-log-writes).
"""

from __future__ import annotations

import codecs
import ctypes
import dataclasses
import errno as errno_mod
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Optional, Pattern, Sequence, Union

REPO = Path(__file__).resolve().parent.parent
KERNEL = REPO / "kernel" / "kernel"
FS_IMAGE = REPO / "fs.img"

# The shell prints "$ " at the start of a line before reading each command.
PROMPT = re.compile(r"(?m)^\$ ")
# What the kernel prints when it panics ("panic: ...").
PANIC = re.compile(r"\bpanic: ")
# Lines of console output shown in an error message.
TAIL_LINES = 40
# A panic message may go on for a few lines (a backtrace); wait this long
# (scaled) for more output before raising, so the message shows all of it.
PANIC_GRACE = 1.0

Expect = Union[str, Pattern[str]]


# ---------------------------------------------------------------- deadlines

def timeout_scale() -> float:
    """The factor QUIRE_TIMEOUT_SCALE (default 1) applied to every deadline."""
    raw = os.environ.get("QUIRE_TIMEOUT_SCALE", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"QUIRE_TIMEOUT_SCALE={raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"QUIRE_TIMEOUT_SCALE={raw!r} must be a positive number")
    return value


def scaled(seconds: float) -> float:
    """A deadline in seconds, multiplied by QUIRE_TIMEOUT_SCALE."""
    return seconds * timeout_scale()


def qemu_binary() -> str:
    """The QEMU to run: $QEMU if set (as in `make QEMU=...`), else the usual name."""
    return os.environ.get("QEMU") or "qemu-system-riscv64"


# ---------------------------------------------------------------- errors

class MachineError(Exception):
    """Something the test waited for did not happen.  The message has the
    console tail; `tail` holds it alone."""

    def __init__(self, message: str, tail: str = "", stderr: str = "") -> None:
        self.reason = message
        self.tail = tail
        self.stderr = stderr
        text = message
        if stderr.strip():
            text += "\n--- QEMU's standard error ---\n" + stderr.rstrip()
        text += f"\n--- console tail (last {TAIL_LINES} lines) ---\n"
        text += tail.rstrip() if tail.strip() else "(the machine printed nothing)"
        text += "\n--- end of console ---"
        super().__init__(text)


class Timeout(MachineError):
    """A deadline passed."""


class Panic(MachineError):
    """The kernel printed a panic message."""


class Exited(MachineError):
    """QEMU exited while something was still awaited."""


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


# ---------------------------------------------------------------- drives

def _opts(pairs: Sequence[tuple[str, object]]) -> str:
    """key=value,key=value for QEMU, with commas in values doubled."""
    out = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "on" if value else "off"
        out.append(f"{key}={str(value).replace(',', ',,')}")
    return ",".join(out)


@dataclass(frozen=True)
class Throttle:
    """Slow the disk down: QEMU's throttle filter with a throttle group.

    Limits are per second; None means no limit.  A limit on writes keeps
    folios under writeback long enough for a test to race with them.
    """

    bps_write: Optional[int] = None
    iops_write: Optional[int] = None
    bps_read: Optional[int] = None
    iops_read: Optional[int] = None
    bps_total: Optional[int] = None
    iops_total: Optional[int] = None
    iops_size: Optional[int] = None   # a request counts as size/iops_size I/Os
    group: str = "throttle0"

    def object_arg(self) -> str:
        return "throttle-group," + _opts([
            ("id", self.group),
            ("x-bps-write", self.bps_write),
            ("x-iops-write", self.iops_write),
            ("x-bps-read", self.bps_read),
            ("x-iops-read", self.iops_read),
            ("x-bps-total", self.bps_total),
            ("x-iops-total", self.iops_total),
            ("x-iops-size", self.iops_size),
        ])


@dataclass(frozen=True)
class InjectError:
    """One blkdebug rule: requests that hit `event` fail with `errno`.

    event is a blkdebug event name: "write_aio", "read_aio", "flush_to_disk",
    "pwritev", "preadv", ...  The event arms the rule; from then on every
    request of type iotype ("read", "write", "flush", ...; None: every
    type) that touches `sector` (512-byte units; None: any) fails, or only
    the first one with once=True.  state limits the rule to one blkdebug
    state (see set-state in QEMU's docs/devel/blkdebug.txt).
    """

    event: str = "write_aio"
    errno: int = errno_mod.EIO
    sector: Optional[int] = None
    once: bool = False
    immediately: bool = False
    state: Optional[int] = None
    iotype: Optional[str] = None

    def pairs(self) -> list[tuple[str, object]]:
        return [("event", self.event), ("errno", self.errno),
                ("sector", self.sector), ("once", self.once),
                ("immediately", self.immediately), ("state", self.state),
                ("iotype", self.iotype)]


@dataclass(frozen=True)
class Blkdebug:
    """Inject I/O errors with QEMU's blkdebug driver.

    The rules go on the command line, or with config_file=True into a
    blkdebug configuration file in the machine's work directory;
    extra_config is raw text added to that file (set-state rules, say).
    """

    rules: tuple[InjectError, ...] = ()
    config_file: bool = False
    extra_config: str = ""
    align: Optional[int] = None       # request alignment blkdebug enforces

    def config_text(self) -> str:
        parts = []
        for rule in self.rules:
            lines = ["[inject-error]"]
            for key, value in rule.pairs():
                if value is None:
                    continue
                if isinstance(value, bool):
                    value = "on" if value else "off"
                lines.append(f'{key} = "{value}"')
            parts.append("\n".join(lines) + "\n")
        if self.extra_config:
            parts.append(self.extra_config.rstrip("\n") + "\n")
        return "\n".join(parts)

    def node_pairs(self, workdir: Path, child: str) -> list[tuple[str, object]]:
        pairs: list[tuple[str, object]] = [("image", child), ("align", self.align)]
        if self.config_file or self.extra_config:
            path = workdir / "blkdebug.conf"
            path.write_text(self.config_text())
            pairs.append(("config", str(path)))
        else:
            for i, rule in enumerate(self.rules):
                pairs += [(f"inject-error.{i}.{k}", v) for k, v in rule.pairs()]
        return pairs


@dataclass(frozen=True)
class LogWrites:
    """Record every write and flush with QEMU's blklogwrites driver.

    The log (Linux dm-log-writes format) goes to `log`, by default
    writes.log in the machine's work directory; it is created empty.
    sector_size is the log's unit and also the smallest request the disk
    accepts from the guest (QEMU splits or pads others to it).  QEMU writes
    the log's superblock (with the entry count) at every flush and every
    super_update_interval entries (QEMU's default: 4096).
    """

    log: Optional[Path] = None
    sector_size: int = 4096
    super_update_interval: Optional[int] = None

    def log_path(self, workdir: Path) -> Path:
        return Path(self.log) if self.log is not None else workdir / "writes.log"


@dataclass(frozen=True)
class Drive:
    """The virtio disk: a stack of QEMU block nodes over an image file.

    Bottom up: a `file` node on the image; then, each only when given, a
    blklogwrites node (so the log holds what reached the disk), a throttle
    node, a blkdebug node; and on top a `raw` node named TOP that the
    virtio-blk-device uses.  blkdebug sits right under the raw node because
    the raw node announces "write_aio", "read_aio" and "flush_to_disk"
    events only to its own child; a request blkdebug fails never reaches
    the layers below (it is not throttled, nor logged as written).

    image None means the machine's own image.  host_flush=False (the
    default) makes QEMU answer the guest's flushes without syncing the host
    file: tests simulate power cuts from the write log, never by crashing
    the host, and host syncs only slow them down.  The guest still sees and
    logs every flush.
    """

    image: Optional[Path] = None
    cache_direct: bool = False
    host_flush: bool = False
    read_only: bool = False
    logwrites: Optional[LogWrites] = None
    blkdebug: Optional[Blkdebug] = None
    throttle: Optional[Throttle] = None

    TOP = "disk"          # node name of the raw node on top
    DEVICE = "vdisk"      # qdev id of the virtio-blk-device

    def with_image(self, image: Union[str, Path]) -> "Drive":
        return dataclasses.replace(self, image=Path(image))

    def _cache(self) -> list[tuple[str, object]]:
        return [("cache.direct", self.cache_direct),
                ("cache.no-flush", not self.host_flush)]

    def args(self, workdir: Union[str, Path]) -> list[str]:
        """QEMU arguments for the stack, without the -device option.

        Writes any file the stack needs (an empty write log, a blkdebug
        configuration) into workdir.
        """
        if self.image is None:
            raise ValueError("Drive.args needs an image: use with_image()")
        workdir = Path(workdir)
        args: list[str] = []

        def node(driver: str, name: str, pairs: list[tuple[str, object]]) -> str:
            args.extend(["-blockdev", _opts(
                [("driver", driver), ("node-name", name)] + pairs)])
            return name

        ro = [("read-only", True)] if self.read_only else []
        below = node("file", "disk-file",
                     [("filename", str(self.image))] + self._cache() + ro)
        if self.logwrites is not None:
            log = self.logwrites.log_path(workdir)
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_bytes(b"")
            logfile = node("file", "disk-log-file",
                           [("filename", str(log))] + self._cache())
            below = node("blklogwrites", "disk-logwrites", [
                ("file", below), ("log", logfile),
                ("log-append", False),
                ("log-sector-size", self.logwrites.sector_size),
                ("log-super-update-interval",
                 self.logwrites.super_update_interval)])
        if self.throttle is not None:
            args.extend(["-object", self.throttle.object_arg()])
            below = node("throttle", "disk-throttle",
                         [("throttle-group", self.throttle.group), ("file", below)])
        if self.blkdebug is not None:
            below = node("blkdebug", "disk-blkdebug",
                         self.blkdebug.node_pairs(workdir, below))
        node("raw", self.TOP, [("file", below)] + ro)
        return args

    def device_args(self) -> list[str]:
        return ["-device",
                f"virtio-blk-device,id={self.DEVICE},drive={self.TOP},"
                "bus=virtio-mmio-bus.0"]


def probe_drive(drive: Drive, workdir: Union[str, Path],
                timeout: float = 20.0) -> list[dict]:
    """Start QEMU paused (-S) on `drive`, and list its block nodes.

    Checks that QEMU accepts the drive's command line without booting
    anything: QEMU opens every block node before it answers on its QMP
    monitor.  Returns query-named-block-nodes (each dict has "node-name"
    and "drv"); raises MachineError if QEMU refuses the options.
    """
    cmd = [qemu_binary(), "-machine", "virt", "-bios", "none", "-m", "128M",
           "-S", "-display", "none", "-serial", "none", "-monitor", "none",
           "-qmp", "stdio", "-nodefaults",
           "-global", "virtio-mmio.force-legacy=false"]
    cmd += drive.args(workdir) + drive.device_args()
    with _QmpPipe(cmd, scaled(timeout)) as qmp:
        qmp.execute("qmp_capabilities")
        nodes = qmp.execute("query-named-block-nodes", {"flat": True})
        qmp.execute("quit")
        qmp.wait_exit()
    return nodes


def qemu_io(drive: Drive, workdir: Union[str, Path], commands: Sequence[str],
            timeout: float = 20.0) -> list[str]:
    """Run qemu-io commands (e.g. "write -P 0xab 0 4096") on the virtio
    disk's block backend inside a paused QEMU, so that they go down the
    stack as the guest's requests would; returns each command's output.  For checking the block stacks without a guest.
    """
    cmd = [qemu_binary(), "-machine", "virt", "-bios", "none", "-m", "128M",
           "-S", "-display", "none", "-serial", "none", "-monitor", "none",
           "-qmp", "stdio", "-nodefaults",
           "-global", "virtio-mmio.force-legacy=false"]
    cmd += drive.args(workdir) + drive.device_args()
    outputs = []
    with _QmpPipe(cmd, scaled(timeout)) as qmp:
        qmp.execute("qmp_capabilities")
        for c in commands:
            line = f'qemu-io -d {Drive.DEVICE} "{c}"'
            qmp.stray.clear()
            reply = qmp.execute("human-monitor-command", {"command-line": line})
            outputs.append("".join(qmp.stray) + str(reply))
        qmp.execute("quit")
        qmp.wait_exit()
    return outputs


class _QmpPipe:
    """A QEMU with its QMP monitor on stdio, spoken to line by line."""

    def __init__(self, cmd: list[str], deadline: float) -> None:
        self.cmd = cmd
        self.deadline = time.monotonic() + deadline
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.eof = False
        self.stderr = ""
        self.stray: list[str] = []
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()
        self.greeting = self._next()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def _fail(self, why: str) -> MachineError:
        self.kill()
        self._t_err.join(5)
        return MachineError(f"{why}\ncommand: {' '.join(self.cmd)}",
                            "", self.stderr)

    def _next(self) -> dict:
        line = ""
        with self.cond:
            while not self.lines:
                if self.eof:
                    self.proc.wait()
                    raise self._fail(
                        f"QEMU exited with status {self.proc.returncode} "
                        "before answering on its monitor")
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise self._fail("QEMU did not answer on its monitor in time")
                self.cond.wait(left)
            line = self.lines.pop(0)
        try:
            return json.loads(line)
        except ValueError:
            # Not QMP: text QEMU printed on stdout itself (qemu-io does).
            self.stray.append(line)
            return {}

    def execute(self, command: str, arguments: Optional[dict] = None) -> object:
        msg: dict = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self._next()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise self._fail(f"QMP {command} failed: {reply['error']}")
            # anything else is an asynchronous event: skip it

    def wait_exit(self) -> int:
        left = max(0.1, self.deadline - time.monotonic())
        try:
            return self.proc.wait(left)
        except subprocess.TimeoutExpired:
            raise self._fail("QEMU did not exit after quit") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "_QmpPipe":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


# ---------------------------------------------------------------- the machine

def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL if the harness dies, so that a
    killed test run leaves no QEMU behind (Linux only; harmless elsewhere)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)    # PR_SET_PDEATHSIG


def _find_prctl():  # type: ignore[no-untyped-def]
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _find_prctl()


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
            preexec_fn=_die_with_parent)
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
            self._text += "".join(self._chunks)
            self._chunks.clear()
        return self._text

    @property
    def output(self) -> str:
        """Everything the machine printed so far (\\r removed)."""
        with self._cond:
            return self._sync()

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
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
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
