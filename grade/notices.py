"""Take the kernel's disk notices out of the console stream.

When the disk fails a request, the kernel says so on the console at once,
from the interrupt that completes the request ("virtio-blk: disk 0 failed
a read of block 225 (17 blocks)", "fs: disk error ...: the file system is
now read-only").  A user program may be half-way through a line just then
(its printf writes a character at a time), so the notice lands inside that
line: "TAG 0virtio-blk: ...\\nx29c22a".  The kernel prints a notice whole,
holding the UART, so taking the notice out restores the program's line
exactly; the notices are kept apart, in order, for the tests that look for
them.
"""

from __future__ import annotations

import re

# The start of every notice; a notice runs to the end of its line.
STARTS = ("virtio-blk: ", "fs: disk error ")
NOTICE = re.compile("(?:" + "|".join(map(re.escape, STARTS)) + ")[^\n]*\n")
# A notice that has started but whose line has not come in yet.
UNFINISHED = re.compile("(?:" + "|".join(map(re.escape, STARTS)) + ")[^\n]*\\Z")


class NoticeFilter:
    """Feed it console text as it arrives; it returns the text without the
    notices, holding back the tail of a notice (or of what may be the start
    of one) until its line ends."""

    def __init__(self) -> None:
        self.notices: list[str] = []
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self.notices += [m.group(0).rstrip("\n") for m in NOTICE.finditer(text)]
        text = NOTICE.sub("", text)
        cut = _unfinished_start(text)
        self._held = text[cut:]
        return text[:cut]

    def flush(self) -> str:
        """The end of the stream: what was held back is ordinary output."""
        text, self._held = self._held, ""
        return text


def _unfinished_start(text: str) -> int:
    """Where a notice that has not ended yet starts in text (len(text) if
    none): a whole start with no newline after it, or a start's first
    characters at the very end.  (Holding back an "f" that turns out to be
    a program's costs nothing: the prompt that ends a command is not held.)"""
    m = UNFINISHED.search(text)
    if m is not None:
        return m.start()
    for start in STARTS:
        for n in range(len(start) - 1, 0, -1):
            if text.endswith(start[:n]):
                return len(text) - n
    return len(text)
