"""Helpers of the CLI end-to-end tests: run the real CLI in-process, write config directories,
and put desired objects on the server and into state the way `apply` will.

`put_on_server` runs the real `runai-reconcile apply --auto-approve --adopt` (in-process, over
loopback HTTP), so setting a test up goes through the same command users run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from reconcile.cli import main
from reconcile.config import load_config, load_settings
from reconcile.model import Address, State
from reconcile.state import StateStore
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"
PLAN_SCHEMA = REPO / "tests" / "data" / "plan-json-v1.schema.json"


@dataclass(frozen=True)
class Run:
    """One CLI invocation's outcome."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli_env(url: str) -> dict[str, str | None]:
    """The environment of a CLI run against the test emulator (client credentials flow)."""
    return {
        "RUNAI_URL": url,
        "RUNAI_CLIENT_ID": TEST_CLIENT_ID,
        "RUNAI_CLIENT_SECRET": TEST_CLIENT_SECRET,
        "RUNAI_TOKEN": None,
        "NO_COLOR": "1",
        # An internal error re-raises with its traceback instead of a one-line message.
        "RUNAI_RECONCILE_DEBUG": "1",
    }


class Cli:
    """Runs `runai-reconcile ARGS` in-process with click's runner, pointed at one emulator.

    `reconcile.cli.main` always ends in `sys.exit(code)` (standalone mode is forced off and
    errors are mapped to exit codes there); the runner catches that SystemExit and reports
    its code, so `exit_code` is exactly what the shell would see.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.env = cli_env(url)

    def __call__(self, *args: str | Path, env: Mapping[str, str | None] | None = None) -> Run:
        runner = CliRunner()
        result = runner.invoke(
            main, [str(a) for a in args], env={**self.env, **(env or {})}, catch_exceptions=False
        )
        return Run(result.exit_code, result.stdout, result.stderr)


def copy_examples(destination: Path) -> Path:
    """A copy of examples/ at `destination`; its settings keep state in `../state/`."""
    shutil.copytree(EXAMPLES, destination)
    return destination


def write_docs(path: Path, docs: Iterable[str]) -> Path:
    """Write YAML documents (each a YAML text) into one file, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n---\n".join(d.strip() for d in docs) + "\n", encoding="utf-8")
    return path


def state_path(config_dir: Path) -> Path:
    return load_settings(config_dir, env={}).state_path


def read_state(config_dir: Path) -> State:
    return StateStore(state_path(config_dir)).read()


def put_on_server(
    config_dir: Path, url: str, *, only: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> State:
    """Bring the server to `config_dir` (or the `only` addresses) and record it in state.

    Runs `runai-reconcile apply --auto-approve --adopt [--target ADDR ...] CONFIG_DIR` against
    `url` and returns the state it wrote.
    """
    targets = [arg for address in only for arg in ("--target", address)]
    run = Cli(url)("apply", "--auto-approve", "--adopt", *targets, config_dir, env=env)
    assert run.exit_code == 0, f"apply failed ({run.exit_code}):\n{run.output}"
    return read_state(config_dir)


def addresses(config_dir: Path) -> list[Address]:
    """The desired addresses of `config_dir`, sorted."""
    return sorted(load_config(config_dir, env={}).resources)


def planned_changes(cli: Cli, config_dir: Path, *args: str) -> dict[str, dict[str, Any]]:
    """`plan --format json` of `config_dir`: its changes by address (any exit but errors)."""
    run = cli("plan", config_dir, "--format", "json", "--detailed-exitcode", *args)
    assert run.exit_code in (0, 2, 3), run.output
    return {c["address"]: c for c in run.json()["changes"]}
