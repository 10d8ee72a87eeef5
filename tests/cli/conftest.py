"""Fixtures of the CLI end-to-end tests (the emulator fixtures are in tests/conftest.py).

- `cli` (function): `tests.cli.helpers.Cli` pointed at the shared emulator, reset for the
  test; `cli("plan", DIR, ...)` returns a `Run` (exit_code, stdout, stderr).
- `examples_dir` (function): a copy of `examples/` under tmp_path (state in tmp_path/state).
- `saved` (function): `tests.cli.planfile_helpers.Saved`: a small managed config and a fresh
  plan file for its next change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.helpers import Cli, copy_examples
from tests.cli.planfile_helpers import Saved, saved_plan


@pytest.fixture
def cli(emulator: EmbeddedEmulator) -> Cli:
    return Cli(emulator.url)


@pytest.fixture
def examples_dir(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "examples")


@pytest.fixture
def saved(cli: Cli, tmp_path: Path) -> Saved:
    return saved_plan(cli, tmp_path)
