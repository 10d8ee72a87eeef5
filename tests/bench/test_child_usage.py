"""bench/child_usage.py measures a command's own peak RSS, not its starter's."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.child_usage import run_measured

MIB = 1024
HELD = 256  # MiB this test process holds while it starts commands


def _held() -> bytearray:
    block = bytearray(HELD * 1024 * 1024)
    for at in range(0, len(block), 4096):  # touched: resident, not just reserved
        block[at] = 1
    return block


def test_a_small_command_started_by_a_big_process_reports_its_own_peak() -> None:
    block = _held()
    direct = subprocess.Popen([sys.executable, "-S", "-c", "pass"])
    _, _, usage = os.wait4(direct.pid, 0)
    # What the launcher is for: started straight from here, the command "peaks" at our size.
    assert usage.ru_maxrss >= HELD * MIB
    measured = run_measured([sys.executable, "-S", "-c", "pass"])
    assert measured.peak_kib < 64 * MIB
    assert measured.code == 0
    del block


def test_a_command_that_grows_reports_its_peak_cpu_and_exit_code() -> None:
    grow = (
        "import sys, time\n"
        "block = bytearray(160 * 1024 * 1024)\n"
        "for at in range(0, len(block), 4096): block[at] = 1\n"
        "end = time.process_time() + 0.2\n"
        "while time.process_time() < end: pass\n"
        "sys.exit(3)\n"
    )
    measured = run_measured([sys.executable, "-S", "-c", grow])
    assert measured.peak_kib >= 160 * MIB
    assert measured.cpu >= 0.2
    assert measured.wall >= 0.2  # a busy loop of 0.2 s of CPU in one thread
    assert measured.code == 3
