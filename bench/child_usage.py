"""Run a command and measure its own wall time, CPU time and peak RSS.

A process started straight from a benchmark reports the benchmark's peak RSS as its own: Linux
keeps a process's peak RSS across `exec` (the peak of the memory it replaced, which for a child
of `fork` or `vfork` is its parent's), and a benchmark that has generated a big tenant holds
hundreds of MiB. So the command is started by a small launcher process that forks it: the
fork copies only the launcher's few MiB, and the launcher's `wait4` gives the command's own
peak and CPU time (its reaped worker processes' included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

# argv: the file to write the usage to, then the command. The launcher imports nothing but
# what its interpreter starts with (-S: no site packages), to stay small.
_LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(report, "w") as handle:
    json.dump({"wall": elapsed, "cpu": usage.ru_utime + usage.ru_stime,
               "peak_kib": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, handle)
"""


@dataclass(frozen=True)
class Usage:
    """What one run of a command used: wall and CPU seconds, peak RSS in KiB, exit code."""

    wall: float
    cpu: float
    peak_kib: int
    code: int


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[str] | int | None = None,
    stderr: IO[str] | int | None = None,
) -> Usage:
    """Run `command` to its end through the launcher (see the module) and return its usage."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, report.name, *command]
        subprocess.run(launcher, env=env, stdout=stdout, stderr=stderr, check=True)
        measured = json.load(report)
    return Usage(
        wall=float(measured["wall"]),
        cpu=float(measured["cpu"]),
        peak_kib=int(measured["peak_kib"]),
        code=int(measured["code"]),
    )
