"""The virtio disk as a stack of QEMU block nodes: slow it down, make
requests fail, record every write.

A Drive builds QEMU's -blockdev options, from the file on the host up to
the raw node the virtio disk uses:

    raw "disk"  <-  blkdebug  <-  throttle  <-  blklogwrites  <-  file

Each middle layer is optional: Blkdebug makes chosen requests fail,
Throttle slows the disk down, LogWrites records every write and flush that
reaches the disk into a log file (the format of Linux's dm-log-writes,
read by writelog.py).  A Machine (qemu.py) takes a Drive; tests import
these classes from qemu, beside Machine.

probe_drive() and qemu_io() run QEMU paused, with no guest, to check that
a stack is what it claims: the nodes QEMU opened, and what requests sent
down it do.
"""

from __future__ import annotations

import dataclasses
import errno as errno_mod
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from qmp import QmpPipe
from settings import qemu_binary, scaled


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


def _paused_qemu(drive: Drive, workdir: Union[str, Path]) -> list[str]:
    """A QEMU command line that opens `drive` and stops before the first
    instruction (-S), with QMP on stdio: no kernel, no console."""
    cmd = [qemu_binary(), "-machine", "virt", "-bios", "none", "-m", "128M",
           "-S", "-display", "none", "-serial", "none", "-monitor", "none",
           "-qmp", "stdio", "-nodefaults",
           "-global", "virtio-mmio.force-legacy=false"]
    return cmd + drive.args(workdir) + drive.device_args()


def probe_drive(drive: Drive, workdir: Union[str, Path],
                timeout: float = 20.0) -> list[dict]:
    """Start QEMU paused (-S) on `drive`, and list its block nodes.

    Checks that QEMU accepts the drive's command line without booting
    anything: QEMU opens every block node before it answers on its QMP
    monitor.  Returns query-named-block-nodes (each dict has "node-name"
    and "drv"); raises MachineError if QEMU refuses the options.
    """
    with QmpPipe(_paused_qemu(drive, workdir), scaled(timeout)) as qmp:
        qmp.execute("qmp_capabilities")
        nodes = qmp.execute("query-named-block-nodes", {"flat": True})
        qmp.execute("quit")
        qmp.wait_exit()
    return nodes


def qemu_io(drive: Drive, workdir: Union[str, Path], commands: Sequence[str],
            timeout: float = 20.0) -> list[str]:
    """Run qemu-io commands (e.g. "write -P 0xab 0 4096") on the virtio
    disk's block backend inside a paused QEMU, so that they go down the
    stack as the guest's requests would; returns each command's output.
    For checking the block stacks without a guest.
    """
    outputs = []
    with QmpPipe(_paused_qemu(drive, workdir), scaled(timeout)) as qmp:
        qmp.execute("qmp_capabilities")
        for c in commands:
            line = f'qemu-io -d {Drive.DEVICE} "{c}"'
            qmp.stray.clear()
            reply = qmp.execute("human-monitor-command", {"command-line": line})
            outputs.append("".join(qmp.stray) + str(reply))
        qmp.execute("quit")
        qmp.wait_exit()
    return outputs
