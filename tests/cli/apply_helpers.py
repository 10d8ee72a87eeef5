"""Helpers of the `apply` end-to-end tests: the CLI as a separate process (to kill it, or to
race two runs), what the server holds (read over HTTP), and small state-file probes.

The CLI subprocess talks to the test session's emulator over loopback HTTP (`RUNAI_URL`), so
killing the CLI never takes the server down with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from reconcile.model import Address, EntryStatus
from reconcile.state import StateStore
from reconcile.state.commit_log import log_path
from tests.cli.bulk import PROJECT
from tests.cli.helpers import REPO, cli_env, read_state, state_path
from tests.emulator.helpers import Api

TEMPLATES = "/api/v1/workload-templates"
# `[3/15] workspace-template/project=team-a/jupyter-small: create done (0.05 s)`
STEP_LINE = (
    r"^\[(\d+)/(\d+)\] (\S+): (create|update|replace|delete|forget|no-op) done"
    r" \(\d+\.\d\d s\)$"
)


def subprocess_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess against the emulator at `url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNAI_")}
    env.update({k: v for k, v in cli_env(url).items() if v is not None})
    env["PYTHONUNBUFFERED"] = "1"  # progress lines reach the pipe as they are printed
    env.update(extra)
    return env


class CliProcess:
    """`python -m reconcile ARGS` running in its own process; its output lines are collected
    by a reader thread (stdout and stderr merged) with the time each arrived."""

    def __init__(self, url: str, *args: str | Path, env: dict[str, str] | None = None) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reconcile", *(str(a) for a in args)],
            cwd=REPO,
            env=env or subprocess_env(url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, predicate: Callable[[str], bool], *, timeout: float = 60.0) -> bool:
        """True once a line matching `predicate` arrived; False if the process ended first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if any(predicate(line) for line in self.lines):
                    return True
                if not self._reader.is_alive():
                    return False
                left = deadline - time.monotonic()
                assert left > 0, f"no such line within {timeout} s:\n{self.output}"
                self._changed.wait(min(left, 0.5))

    def wait(self, timeout: float = 120.0) -> int:
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> int:
        """SIGKILL (no cleanup handlers run), then the exit status (-9 if the kill landed)."""
        self.process.kill()
        return self.wait()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


def server_templates(api: Api) -> list[dict[str, Any]]:
    """The `meta` of every workload template on the server (all pages)."""
    metas: list[dict[str, Any]] = []
    while True:
        answer = api.get(TEMPLATES, offset=len(metas), limit=500)
        assert answer.status_code == 200, answer.text
        entries = answer.json()["entries"]
        metas += [entry["meta"] for entry in entries]
        if len(entries) < 500:
            return metas


def assert_unique_names(metas: Iterable[dict[str, Any]]) -> None:
    """No two objects share a name in one scope (what a duplicate create would leave)."""
    counts = Counter((m["scopeType"], m.get("scopeId"), m["name"]) for m in metas)
    twice = sorted(key for key, count in counts.items() if count > 1)
    assert not twice, f"duplicate names on the server: {twice}"


def assert_bulk_owned(config_dir: Path, api: Api) -> dict[str, str]:
    """For a `tests.cli.bulk` config: no duplicate names, and every template on the server is
    in state (pending, or applied with its id). Returns name -> id of what the server holds."""
    metas = server_templates(api)
    assert_unique_names(metas)
    entries = read_state(config_dir).entries
    for meta in metas:
        entry = entries.get(Address("workspace-template", f"project={PROJECT}", meta["name"]))
        assert entry is not None, f"{meta['name']} ({meta['id']}) is on the server, not in state"
        assert entry.status is EntryStatus.PENDING_CREATE or entry.remote_id == meta["id"]
    return {m["name"]: m["id"] for m in metas}


def assert_state_parses(config_dir: Path) -> int:
    """The state file (if any) is whole JSON, and with its commit log (if a killed run left
    one) a readable state; returns the state's serial."""
    path = state_path(config_dir)
    if not path.exists():
        return 0
    data = json.loads(path.read_text(encoding="utf-8"))
    state = StateStore(path).read()
    assert state.serial >= data["serial"]
    assert state.serial == data["serial"] or log_path(path).exists()
    return state.serial


def serial_of(config_dir: Path) -> int:
    """The state file's serial (0 when there is no state file yet)."""
    path = state_path(config_dir)
    return StateStore(path).read().serial if path.exists() else 0


def write_settings(config_dir: Path, text: str) -> None:
    """A settings file whose state lives beside the config dir (`../state/`)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "runai-reconcile.yaml").write_text(text, encoding="utf-8")
