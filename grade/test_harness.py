"""Tests of the harness itself (not graded): the console driver against a
fake console, the disk-image copy, and the block-driver stacks against the
real QEMU, started paused with no guest."""

from __future__ import annotations

import dataclasses
import os
import re
import struct
import sys
from pathlib import Path

import pytest

import qemu
import writelog
from qemu import (Blkdebug, Drive, Exited, InjectError, LogWrites, Machine,
                  Panic, Throttle, Timeout)

FAKE = Path(__file__).resolve().parent / "fakeconsole.py"


def fake(tmp_path: Path, *options: str) -> Machine:
    return Machine(command=[sys.executable, str(FAKE), *options],
                   workdir=tmp_path / "fake", name="fake")


# ---------------------------------------------------------------- console

def test_boot_run_and_halt(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        assert m.boot_time() > 0
        assert m.run("echo hello  world", timeout=10) == "hello world\n"
        out = m.run("lines 3", timeout=10)
        assert out == "line 0\nline 1\nline 2\n"
        assert "\r" not in m.output
        assert m.run("nosuch", timeout=10) == "exec nosuch failed\n"
        assert m.run("", timeout=10) == ""
        assert m.poweroff(timeout=10) == 0
        assert not m.running()
    assert (tmp_path / "fake" / "console.log").read_bytes().count(b"\r\n") > 3


def test_many_lines_arrive_in_order(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        out = m.run("lines 20000", timeout=60)
        lines = out.split("\n")
        assert lines[0] == "line 0" and lines[19999] == "line 19999"
        assert len(lines) == 20001
        assert m.run("echo after", timeout=10) == "after\n"


def test_async_message_before_echo_is_not_output(tmp_path: Path) -> None:
    with fake(tmp_path, "--late-banner") as m:
        m.boot(timeout=10)
        out = m.run("echo x", timeout=10)
        assert out == "x\n"
        assert "$ hart 2 starting\necho x\nx\n$ " in m.output


def test_disk_notice_inside_a_line_is_taken_out(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        assert m.run("notice", timeout=10) == "TAG 0x2a\nfsync ok\n"
        assert m.notices == ["virtio-blk: disk 0 failed a read of block 7 (1 blocks)",
                             "fs: disk error reading (block 7): read-only"]
        assert m.run("echo fs", timeout=10) == "fs\n"


def test_wait_for_text_and_regex_moves_mark(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.start()
        m.wait_for("booting", timeout=10)
        match = m.wait_for(re.compile(r"init: (\w+)"), timeout=10)
        assert match.group(1) == "starting"
        # "booting" is behind the mark now: waiting for it again times out.
        with pytest.raises(Timeout):
            m.wait_for("booting", timeout=0.5)


def test_timeout_message_has_console_tail(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        m.sendline("hang")
        with pytest.raises(Timeout) as info:
            m.wait_for("never printed", timeout=0.5)
        text = str(info.value)
        assert "waiting for 'never printed'" in text
        assert "console tail" in text and "quire kernel is booting" in text
        assert "$ hang" in info.value.tail


def test_run_times_out_when_prompt_never_comes(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        with pytest.raises(Timeout, match="prompt after 'hang'"):
            m.run("hang", timeout=0.5)


def test_timeout_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIRE_TIMEOUT_SCALE", "2.5")
    assert qemu.scaled(4) == 10.0
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        with pytest.raises(Timeout, match="after 0.5 s"):
            m.wait_for("nothing", timeout=0.2)
    for bad in ("abc", "0", "-1", "inf"):
        monkeypatch.setenv("QUIRE_TIMEOUT_SCALE", bad)
        with pytest.raises(ValueError, match="QUIRE_TIMEOUT_SCALE"):
            qemu.timeout_scale()
    monkeypatch.delenv("QUIRE_TIMEOUT_SCALE")
    assert qemu.timeout_scale() == 1.0


def test_panic_is_reported_with_its_message(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        with pytest.raises(Panic) as info:
            m.run("panic", timeout=30)
        assert "The kernel panicked: panic: fake panic" in str(info.value)
        # The lines after the panic line were waited for.
        assert "0x80005678" in info.value.tail


def test_panic_during_boot(tmp_path: Path) -> None:
    with fake(tmp_path, "--boot-panic") as m:
        with pytest.raises(Panic, match="fake boot panic"):
            m.boot(timeout=30)


def test_panic_check_can_be_turned_off(tmp_path: Path) -> None:
    with fake(tmp_path, "--boot-panic") as m:
        m.check_panic = False
        m.start()
        m.wait_for("0x80005678", timeout=10)


def test_unexpected_exit(tmp_path: Path) -> None:
    with fake(tmp_path) as m:
        m.boot(timeout=10)
        with pytest.raises(Exited, match="status 3 while waiting for the shell prompt"):
            m.run("exit 3", timeout=10)


def test_poweroff_status_and_wait_exit(tmp_path: Path) -> None:
    with fake(tmp_path, "--halt-status", "7") as m:
        m.boot(timeout=10)
        assert m.poweroff(timeout=10) == 7


def test_poweroff_falls_back_to_kill(tmp_path: Path) -> None:
    with fake(tmp_path, "--no-prompt") as m:
        m.start()
        m.wait_for("booting", timeout=10)
        with pytest.raises(Timeout, match="exit after halt"):
            m.poweroff(timeout=0.5)
        assert not m.running()


def test_kill_is_a_power_cut(tmp_path: Path) -> None:
    m = fake(tmp_path)
    with m:
        m.boot(timeout=10)
        status = m.kill()
        assert status is not None and status < 0
        assert not m.running()
    assert m.kill() == status      # harmless when already dead


def test_context_manager_kills_on_error(tmp_path: Path) -> None:
    m = fake(tmp_path, "--no-prompt")
    with pytest.raises(RuntimeError):
        with m:
            m.start()
            raise RuntimeError("test failed")
    assert not m.running()


def test_own_workdir_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUIRE_KEEP_WORK", raising=False)
    m = Machine(command=[sys.executable, str(FAKE)])
    with m:
        m.boot(timeout=10)
        assert m.workdir.exists()
    assert not m.workdir.exists()


# ---------------------------------------------------------------- images

def test_copy_sparse_keeps_holes_and_data(tmp_path: Path) -> None:
    src = tmp_path / "src.img"
    size = 64 << 20
    with open(src, "wb") as f:
        f.truncate(size)
        f.seek(4096)
        f.write(b"superblock")
        f.seek(size - 4096)
        f.write(b"\x00" * 100 + b"tail")
        f.seek(20 << 20)
        f.write(b"\x00" * (1 << 20))      # written zeros become a hole
    dst = qemu.copy_sparse(src, tmp_path / "dst.img")
    assert dst.stat().st_size == size
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_blocks * 512 < 4 << 20


def test_copy_sparse_of_empty_file(tmp_path: Path) -> None:
    src = tmp_path / "empty.img"
    src.write_bytes(b"")
    assert qemu.copy_sparse(src, tmp_path / "d.img").read_bytes() == b""


# ---------------------------------------------------------------- drives

def test_plain_drive_args(tmp_path: Path) -> None:
    args = Drive(image=tmp_path / "a,b.img").args(tmp_path)
    assert args == [
        "-blockdev", f"driver=file,node-name=disk-file,filename={tmp_path}/a,,b.img,"
                     "cache.direct=off,cache.no-flush=on",
        "-blockdev", "driver=raw,node-name=disk,file=disk-file"]
    assert Drive().device_args() == [
        "-device", "virtio-blk-device,id=vdisk,drive=disk,bus=virtio-mmio-bus.0"]
    with pytest.raises(ValueError):
        Drive().args(tmp_path)


def test_full_stack_args_order(tmp_path: Path) -> None:
    d = Drive(image=tmp_path / "d.img", host_flush=True,
              logwrites=LogWrites(),
              blkdebug=Blkdebug(rules=(InjectError(sector=8),)),
              throttle=Throttle(bps_write=1 << 20, iops_write=100))
    args = d.args(tmp_path)
    nodes = [a for a in args if a.startswith("driver=")]
    assert [n.split(",")[0] for n in nodes] == [
        "driver=file", "driver=file", "driver=blklogwrites", "driver=throttle",
        "driver=blkdebug", "driver=raw"]
    assert "cache.no-flush=off" in nodes[0]
    assert "file=disk-file,log=disk-log-file" in nodes[2]
    assert "file=disk-logwrites" in nodes[3]
    assert "image=disk-throttle" in nodes[4]
    assert "inject-error.0.event=write_aio,inject-error.0.errno=5," \
           "inject-error.0.sector=8,inject-error.0.once=off" in nodes[4]
    assert "file=disk-blkdebug" in nodes[5]
    assert args[args.index("-object") + 1] == \
        "throttle-group,id=throttle0,x-bps-write=1048576,x-iops-write=100"
    assert (tmp_path / "writes.log").read_bytes() == b""


def test_blkdebug_config_file(tmp_path: Path) -> None:
    bd = Blkdebug(rules=(InjectError(event="flush_to_disk", once=True),),
                  config_file=True)
    args = Drive(image=tmp_path / "d.img", blkdebug=bd).args(tmp_path)
    conf = tmp_path / "blkdebug.conf"
    assert f"config={conf}" in " ".join(args)
    assert conf.read_text() == ('[inject-error]\nevent = "flush_to_disk"\n'
                                'errno = "5"\nonce = "on"\nimmediately = "off"\n')


def disk(tmp_path: Path, mb: int = 4) -> Path:
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(mb << 20)
    return path


def drivers(nodes: list[dict]) -> dict[str, str]:
    return {n["node-name"]: n["drv"] for n in nodes}


@pytest.mark.parametrize("direct", [False, True])
def test_qemu_accepts_plain_drive(tmp_path: Path, direct: bool) -> None:
    nodes = qemu.probe_drive(Drive(image=disk(tmp_path), cache_direct=direct),
                             tmp_path)
    assert drivers(nodes) == {"disk": "raw", "disk-file": "file"}


def test_qemu_accepts_full_stack(tmp_path: Path) -> None:
    d = Drive(image=disk(tmp_path),
              logwrites=LogWrites(super_update_interval=1),
              blkdebug=Blkdebug(rules=(InjectError(sector=2048),
                                       InjectError(event="flush_to_disk",
                                                   iotype="flush", once=True))),
              throttle=Throttle(bps_write=1 << 20, iops_write=100))
    assert drivers(qemu.probe_drive(d, tmp_path)) == {
        "disk": "raw", "disk-throttle": "throttle", "disk-blkdebug": "blkdebug",
        "disk-logwrites": "blklogwrites", "disk-log-file": "file",
        "disk-file": "file"}


def test_qemu_refuses_bad_options(tmp_path: Path) -> None:
    d = Drive(image=disk(tmp_path),
              blkdebug=Blkdebug(rules=(InjectError(event="no_such_event"),)))
    with pytest.raises(qemu.MachineError, match="no_such_event"):
        qemu.probe_drive(d, tmp_path)


def test_throttle_passes_io(tmp_path: Path) -> None:
    image = disk(tmp_path)
    d = Drive(image=image, throttle=Throttle(iops_write=1000))
    outs = qemu.qemu_io(d, tmp_path, ["write -P 0x5a 8192 4096"])
    assert "wrote 4096/4096 bytes" in outs[0]
    data = image.read_bytes()
    assert data[8192:12288] == b"\x5a" * 4096 and data[:8192] == bytes(8192)


@pytest.mark.parametrize("event", ["write_aio", "pwritev"])
@pytest.mark.parametrize("layers", ["alone", "config-file", "full-stack"])
def test_blkdebug_fails_the_chosen_write(tmp_path: Path, event: str,
                                         layers: str) -> None:
    image = disk(tmp_path)
    rule = InjectError(event=event, sector=16, iotype="write")  # bytes 8192..8703
    d = Drive(image=image,
              blkdebug=Blkdebug(rules=(rule,), config_file=layers == "config-file"))
    if layers == "full-stack":
        d = dataclasses.replace(d, throttle=Throttle(iops_write=1000),
                                logwrites=LogWrites())
    outs = qemu.qemu_io(d, tmp_path, ["write -P 0x11 0 4096",
                                      "write -P 0x22 8192 4096",
                                      "write -P 0x33 16384 4096",
                                      "read -P 0 8192 4096"])
    assert "wrote 4096/4096" in outs[0] and "wrote 4096/4096" in outs[2]
    assert "write failed: Input/output error" in outs[1]
    assert "read 4096/4096" in outs[3]     # iotype="write": reads still work
    data = image.read_bytes()
    assert data[:4096] == b"\x11" * 4096
    assert data[8192:12288] == bytes(4096)           # never reached the disk
    assert data[16384:20480] == b"\x33" * 4096
    if layers == "full-stack":
        log = writelog.read_log(tmp_path / "writes.log")
        assert [(e.sector, e.flags) for e in log.entries] == [
            (0, 0), (4, 0), (0, writelog.FLUSH)]


def test_blkdebug_fails_a_flush_once(tmp_path: Path) -> None:
    """A failed flush never reaches the write log; QEMU's own flush at exit
    does (the rule fired once)."""
    d = Drive(image=disk(tmp_path), logwrites=LogWrites(),
              throttle=Throttle(iops_write=1000),
              blkdebug=Blkdebug(rules=(InjectError(event="flush_to_disk",
                                                   iotype="flush", once=True),)))
    qemu.qemu_io(d, tmp_path, ["write -P 0x11 0 4096", "flush",
                               "write -P 0x22 4096 4096"])
    log = writelog.read_log(tmp_path / "writes.log")
    assert [(e.sector, e.flags) for e in log.entries] == [
        (0, 0), (1, 0), (0, writelog.FLUSH)]


def test_blklogwrites_records_writes_and_flushes(tmp_path: Path) -> None:
    image = disk(tmp_path)
    d = Drive(image=image, logwrites=LogWrites(sector_size=4096))
    qemu.qemu_io(d, tmp_path, ["write -P 0x41 4096 8192", "flush",
                               "write -P 0x42 0 4096"])
    log = writelog.read_log(tmp_path / "writes.log")
    assert log.sector_size == 4096
    got = [(e.sector, e.nr_sectors, e.flags, e.data[:1]) for e in log.entries]
    # The last flush is QEMU's own, when it closes the disk at exit.
    assert got == [(1, 2, 0, b"\x41"), (0, 0, writelog.FLUSH, b""),
                   (0, 1, 0, b"\x42"), (0, 0, writelog.FLUSH, b"")]
    assert log.entries[0].data == b"\x41" * 8192
    assert log.nr_entries == 4


def test_write_log_after_power_cut(tmp_path: Path) -> None:
    """Entries after the last flush are in the log file but not yet counted
    by its superblock; read_log() finds them, and stops at a torn entry."""
    image = disk(tmp_path)
    d = Drive(image=image, logwrites=LogWrites(sector_size=4096))
    qemu.qemu_io(d, tmp_path, ["write -P 0x41 0 4096", "flush",
                               "write -P 0x42 4096 4096"])
    path = tmp_path / "writes.log"
    raw = bytearray(path.read_bytes())
    struct.pack_into("<Q", raw, 16, 2)          # as at the first flush
    cut = 6 * 4096 + 100        # mid-way into the final flush entry
    path.write_bytes(bytes(raw[:cut]))
    log = writelog.read_log(path)
    assert log.nr_entries == 2
    assert [e.flags for e in log.entries] == [0, writelog.FLUSH, 0]
    assert log.entries[2].data == b"\x42" * 4096
    path.write_bytes(bytes(raw[:4096 * 5 + 10]))  # the 2nd write's data torn
    assert len(writelog.read_log(path).entries) == 2


# ---------------------------------------------------------------- grade.py

SAMPLE = '''
import pytest
from qemu import Timeout

@pytest.mark.points(2)
def test_passes():
    pass

@pytest.mark.points(3)
def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken"

@pytest.mark.points(1)
def test_bare_assert():
    out = "1 1 4"
    assert out == "1 1 3"

@pytest.mark.points(1)
@pytest.mark.visibility("hidden")
def test_times_out():
    raise Timeout("Timed out after 5 s waiting for 'x'", "boot line\\n$ cmd")

@pytest.mark.points(4)
@pytest.mark.lab("wb")
def test_lab():
    pass

def test_not_graded():
    raise AssertionError("must not run under grade.py")
'''


def grade(tmp_path: Path, *args: str) -> tuple[int, str, dict]:
    import json
    import subprocess
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE)
    (tmp_path / "conftest.py").write_text(
        (Path(__file__).parent / "conftest.py").read_text())
    out = tmp_path / "results" / "results.json"
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "grade.py"), "--json",
         str(out), *args, str(sample)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=qemu.scaled(120),
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    return proc.returncode, proc.stdout, json.loads(out.read_text())


def test_grade_report_and_json(tmp_path: Path) -> None:
    status, out, data = grade(tmp_path)
    assert status == 1
    lines = out.splitlines()
    assert re.search(r"^test_sample.py::test_passes  \(2 pts\)  OK  \d+\.\ds$", out, re.M)
    assert re.search(r"^test_sample.py::test_fails  \(3 pts\)  FAIL  ", out, re.M)
    assert re.search(r"^test_sample.py::test_times_out  \(1 pt\)  FAIL  ", out, re.M)
    i = lines.index("    AssertionError: arithmetic is broken")
    assert lines[i + 1].startswith("test_sample.py::test_bare_assert")
    assert "    AssertionError: assert '1 1 4' == '1 1 3'" in lines
    assert "    $ cmd" in lines             # the console tail of the Timeout
    assert "not_graded" not in out
    assert lines[-1] == "Score: 6/11"
    assert data["score"] == 6
    assert [t["name"].split("::")[1] for t in data["tests"]] == [
        "test_passes", "test_fails", "test_bare_assert", "test_times_out", "test_lab"]
    by = {t["name"].split("::")[1]: t for t in data["tests"]}
    assert by["test_passes"] == {"name": by["test_passes"]["name"], "score": 2.0,
                                 "max_score": 2.0, "status": "passed",
                                 "output": "OK", "visibility": "visible"}
    assert by["test_fails"]["score"] == 0 and by["test_fails"]["max_score"] == 3
    assert "arithmetic is broken" in by["test_fails"]["output"]
    assert by["test_times_out"]["visibility"] == "hidden"
    assert "$ cmd" in by["test_times_out"]["output"]
    assert "Score: 6/11" in data["output"]


def test_grade_lab_and_k(tmp_path: Path) -> None:
    status, out, data = grade(tmp_path, "--lab", "wb")
    assert status == 0
    assert out.splitlines()[-1] == "Score: 4/4"
    assert [t["score"] for t in data["tests"]] == [4.0]
    status, out, data = grade(tmp_path, "-k", "passes or fails")
    assert status == 1 and out.splitlines()[-1] == "Score: 2/5"
    status, out, data = grade(tmp_path, "--lab", "nosuchlab")
    assert status == 1 and "No graded tests for lab 'nosuchlab'" in out
    assert data["tests"] == [] and data["score"] == 0


def test_write_log_without_superblock(tmp_path: Path) -> None:
    """The guest's flushes all fail, so only QEMU's own flush at exit (which
    goes to each node directly, not through blkdebug) is logged.  Cut before
    that flush, the log has entries but no superblock; read_log() still
    reads them."""
    d = Drive(image=disk(tmp_path), logwrites=LogWrites(),
              blkdebug=Blkdebug(rules=(InjectError(event="flush_to_disk",
                                                   iotype="flush"),)))
    qemu.qemu_io(d, tmp_path, ["write -P 0x11 0 4096", "flush",
                               "write -P 0x22 4096 4096"])
    path = tmp_path / "writes.log"
    log = writelog.read_log(path)
    assert [(e.sector, e.flags) for e in log.entries] == [
        (0, 0), (1, 0), (0, writelog.FLUSH)]
    raw = bytearray(path.read_bytes())
    raw[:4096] = bytes(4096)
    path.write_bytes(bytes(raw[:5 * 4096]))
    log = writelog.read_log(path, sector_size=4096)
    assert log.nr_entries == 0
    assert [(e.sector, e.flags) for e in log.entries] == [(0, 0), (1, 0)]


# ---------------------------------------------------------------- with Quire

def test_quire_boots_on_full_stack(machine, run_fsck) -> None:  # type: ignore[no-untyped-def]
    """End to end: Quire runs on a disk under every layer at once; the log
    records its writes and flushes; the image stays sound."""
    d = Drive(logwrites=LogWrites(),
              throttle=Throttle(bps_write=64 << 20, iops_write=5000),
              blkdebug=Blkdebug(rules=(InjectError(event="write_aio", iotype="write",
                                                   sector=1 << 40),)))  # beyond the disk
    m = machine(cpus=3, drive=d)
    assert m.run("echo hello > f") == ""
    assert m.run("cat f") == "hello\n"
    assert m.poweroff() == 0
    log = writelog.read_log(m.workdir / "writes.log")
    assert any(e.is_flush for e in log.entries)
    assert any(not e.is_flush and e.nr_sectors > 0 for e in log.entries)
    assert log.nr_entries == len(log.entries)   # QEMU exited cleanly
    assert m.image is not None
    result = run_fsck(m.image)
    assert result.returncode == 0, result.stdout
