"""A stand-in for Quire's console, for testing grade/qemu.py without QEMU.

It behaves like the kernel's console and shell: prints a boot banner with
\\r\\n line ends, then "$ " before each command, echoes what it reads, and
runs a few commands:

    echo WORDS     prints WORDS
    lines N        prints N numbered lines
    noeol          prints text without a final newline
    notice         prints a line with a kernel disk notice inside it, in
                   pieces that arrive apart
    panic          prints a kernel panic message and hangs
    hang           prints nothing more, ever
    exit N         exits with status N at once (QEMU dying)
    halt           exits with status 0 (or --halt-status)
    anything else  "exec NAME failed"

Options: --halt-status N, --boot-panic (panic instead of a prompt),
--no-prompt (boot and hang), --late-banner (print a line after the first
prompt, as a kernel message from another CPU would).
"""

import argparse
import os
import sys
import time


def out(text: str) -> None:
    os.write(1, text.replace("\n", "\r\n").encode())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halt-status", type=int, default=0)
    ap.add_argument("--boot-panic", action="store_true")
    ap.add_argument("--no-prompt", action="store_true")
    ap.add_argument("--late-banner", action="store_true")
    args = ap.parse_args()

    out("\nquire kernel is booting\n\n")
    if args.boot_panic:
        out("panic: fake boot panic\nbacktrace:\n  0x80001234\n  0x80005678\n")
        while True:
            time.sleep(3600)
    if args.no_prompt:
        while True:
            time.sleep(3600)
    out("init: starting sh\n$ ")
    if args.late_banner:
        out("hart 2 starting\n")

    line = b""
    while True:
        c = os.read(0, 1)
        if not c:
            return 0
        out(c.decode())                 # the console echoes input
        if c != b"\n":
            line += c
            continue
        words = line.decode().split()
        line = b""
        if not words:
            pass
        elif words[0] == "echo":
            out(" ".join(words[1:]) + "\n")
        elif words[0] == "lines":
            for i in range(int(words[1])):
                out(f"line {i}\n")
        elif words[0] == "noeol":
            out("no newline")
        elif words[0] == "notice":
            for piece in ("TAG 0", "virt", "io-blk: disk 0 failed a read", " of block 7 (1 blocks)\n",
                          "x2a\nfs", ": disk error reading (block 7): read-only\n", "fsync ok\n"):
                out(piece)
                time.sleep(0.05)
        elif words[0] == "panic":
            out("panic: fake panic\nbacktrace:\n  0x80001234\n  0x80005678\n")
            while True:
                time.sleep(3600)
        elif words[0] == "hang":
            while True:
                time.sleep(3600)
        elif words[0] == "exit":
            return int(words[1])
        elif words[0] == "halt":
            return args.halt_status
        else:
            out(f"exec {words[0]} failed\n")
        out("$ ")


if __name__ == "__main__":
    sys.exit(main())
