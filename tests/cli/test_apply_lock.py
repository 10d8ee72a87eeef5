"""The state lock end to end: a second apply exits 4 naming the holder while the first runs,
the serial only grows, `--lock-timeout` waits its turn, and `force-unlock` removes a stuck
holder's lock only with its id.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconcile.errors import StateError
from reconcile.state import StateStore
from tests.cli.apply_helpers import CliProcess, subprocess_env
from tests.cli.bulk import write_bulk_config
from tests.cli.helpers import REPO, Cli, read_state, state_path
from tests.emulator.helpers import Api

COUNT = 30
WHEN = r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
LOCK_ID = re.compile(r"lock id ([0-9a-f-]{36})")


class SerialSampler:
    """Reads the state's serial (the file, always whole JSON, and its commit log) every few
    milliseconds in a thread (-1: unreadable)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            try:
                json.loads(self.path.read_text("utf-8"))
                self.samples.append(StateStore(self.path).read().serial)
            except FileNotFoundError:
                self.samples.append(0)
            except (ValueError, StateError):  # a torn write: the file must always be whole JSON
                self.samples.append(-1)

    def __enter__(self) -> SerialSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_second_apply_exits_4_naming_the_holder(cli: Cli, tmp_path: Path, api: Api) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, COUNT)
    api.set_faults(latency_ms=50)  # ~100 ms a create, one at a time: ~3 s holding the lock
    with SerialSampler(state_path(config_dir)) as sampler:
        first = CliProcess(cli.url, "apply", "--auto-approve", "--parallelism", "1", config_dir)
        assert first.wait_for_line(lambda line: line.startswith(f"[1/{COUNT}] ")), first.output

        second = cli("apply", "--auto-approve", config_dir)
        assert second.exit_code == 4, second.output
        message = second.stderr
        assert "is locked by" in message
        assert f"@{socket.gethostname()} (pid {first.pid})" in message  # who
        assert re.search(WHEN, message), message  # when
        assert "for 'apply'" in message  # operation
        found = LOCK_ID.search(message)  # id
        holder = StateStore(state_path(config_dir)).read_holder()
        assert found and holder is not None and found[1] == holder.id
        assert second.stdout == ""  # refused before planning: nothing shown, nothing sent
        bulk_0 = "workspace-template/project=team-a/bulk-00000"
        assert cli("state", "rm", "-C", config_dir, bulk_0).exit_code == 4

        # With a lock timeout the next run waits for the first, then finds nothing to do.
        waited = cli("apply", "--auto-approve", "--lock-timeout", "120", config_dir)
        assert first.wait() == 0, first.output
    assert waited.exit_code == 0, waited.output
    assert "No changes." in waited.stdout
    assert f"Apply complete: {COUNT} applied." in first.output
    final = read_state(config_dir).serial
    assert -1 not in sampler.samples, "the state file was read half-written"
    samples = [s for s in sampler.samples if s]
    assert samples == sorted(samples), "the serial went backwards"
    assert samples[-1] == final and len(set(samples)) > 2  # the first run wrote step by step
    assert len(read_state(config_dir).entries) == COUNT


HOLD = """
import sys, time
from reconcile.errors import StateError
from reconcile.state import StateStore
lock = StateStore(sys.argv[1]).lock("apply")
info = lock.__enter__()
print(info.id, flush=True)
time.sleep(300)
"""


@contextmanager
def held_lock(path: Path, url: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Another process holding the state lock (a stuck run); yields it and its lock id."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        cwd=REPO,
        env=subprocess_env(url),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        lock_id = holder.stdout.readline().strip()
        assert lock_id, "the lock holder did not start"
        yield holder, lock_id
    finally:
        holder.kill()
        holder.wait()


def test_force_unlock_needs_the_holders_id(cli: Cli, tmp_path: Path) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, 3)
    not_locked = cli("force-unlock", "-C", config_dir, "0" * 8)
    assert not_locked.exit_code == 1 and "not locked" in not_locked.stderr

    with held_lock(state_path(config_dir), cli.url) as (holder, lock_id):
        blocked = cli("apply", "--auto-approve", config_dir)
        assert blocked.exit_code == 4, blocked.output
        found = LOCK_ID.search(blocked.stderr)
        assert found and found[1] == lock_id and f"(pid {holder.pid})" in blocked.stderr

        wrong = cli("force-unlock", "-C", config_dir, "7e57a11d-0000-4000-8000-000000000000")
        assert wrong.exit_code == 1, wrong.output
        assert "does not match" in wrong.stderr and "nothing was unlocked" in wrong.stderr
        assert cli("apply", "--auto-approve", config_dir).exit_code == 4  # still locked

        unlocked = cli("force-unlock", "-C", config_dir, lock_id)
        assert unlocked.exit_code == 0, unlocked.output
        assert f"lock id {lock_id}" in unlocked.stdout
        assert holder.poll() is None  # the stuck holder is still alive...
        run = cli("apply", "--auto-approve", config_dir)  # ...and no longer blocks anyone
        assert run.exit_code == 0, run.output
    assert len(read_state(config_dir).entries) == 3


def test_a_killed_holder_never_blocks_the_next_run(cli: Cli, tmp_path: Path) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, 3)
    with held_lock(state_path(config_dir), cli.url) as (holder, lock_id):
        holder.kill()  # SIGKILL: the kernel drops the lock; its holder info stays behind
        holder.wait()
        left = StateStore(state_path(config_dir)).read_holder()
        assert left is not None and left.id == lock_id
        run = cli("apply", "--auto-approve", config_dir)
        assert run.exit_code == 0, run.output
