"""A QEMU started with its QMP monitor on standard input and output.

The machine driver (qemu.py) types at a serial console and needs no
monitor.  Checking a drive stack without a guest does: QEMU is started
paused, asked over QMP (JSON, one message a line) which block nodes it
opened, or told to send qemu-io requests down the stack.  drives.py does
that with this client.  Every wait has a deadline; when it passes, or
QEMU exits or refuses a command, a MachineError says so, with QEMU's
standard error.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Optional

from errors import MachineError
from procs import close_pipes


class QmpPipe:
    """A QEMU with its QMP monitor on stdio, spoken to line by line.

    cmd is the whole QEMU command line (with -qmp stdio).  deadline is in
    seconds, already scaled, and covers the whole conversation: the
    greeting, every command and the exit after quit.  Lines that are not
    QMP messages (qemu-io prints on QEMU's own standard output) are kept
    in `stray`.
    """

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
        """Send one QMP command and return its "return" value; an "error"
        reply raises MachineError."""
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

    def __enter__(self) -> "QmpPipe":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        close_pipes(self.proc)

