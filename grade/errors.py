"""What a wait on a machine raises when what it waits for does not come.

Every error carries the last lines the machine printed (the console tail)
and QEMU's standard error, because that is all a student sees of a failed
test in the grader's output.  Kept apart from the machine driver so that
the QMP client (qmp.py) can raise the same errors.
"""

from __future__ import annotations

# Lines of console output shown in an error message.
TAIL_LINES = 40


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

