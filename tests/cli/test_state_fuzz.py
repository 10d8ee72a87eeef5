"""Random and mutated state files fed to `state list` and `plan`: every one is either read or
refused with a message naming the file, never a traceback, and nothing is written.

The CLI runs with RUNAI_RECONCILE_DEBUG=1 (tests.cli.helpers.cli_env), so an internal error
re-raises and fails the test instead of being reported in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.bulk import write_bulk_config
from tests.cli.helpers import Cli, state_path

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID: dict[str, Any] = {
    "version": 2,
    "lineage": "8c0d4f0e-0000-4000-8000-000000000000",
    "serial": 3,
    "tool_version": "0.1.0",
    "server": "",
    "resources": {
        "workspace-template/project=team-a/bulk-00000": {
            "remote_id": "0b7e8f1c-0000-4000-8000-000000000001",
            "last_applied": {"metadata": {"name": "bulk-00000"}, "spec": {"image": "x"}},
            "status": "applied",
        }
    },
}

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """The valid state with one value replaced, one key dropped or renamed, or its text cut."""
    document = json.loads(json.dumps(VALID))
    how = draw(st.sampled_from(["replace", "drop", "rename", "truncate", "bytes"]))
    if how == "bytes":
        return draw(st.binary(max_size=64))
    if how == "truncate":
        text = json.dumps(document).encode()
        return text[: draw(st.integers(0, len(text) - 1))]
    path = draw(st.sampled_from(_paths(document)[1:]))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "replace":
        parent[last] = draw(_JSON)
    elif isinstance(parent, dict):
        value = parent.pop(last)
        if how == "rename":
            parent[draw(st.text(max_size=12))] = value
    return json.dumps(document).encode()


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _check(cli: Cli, config_dir: Path, content: bytes, *command: str | Path) -> None:
    path = state_path(config_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    before = _files(path.parent)
    run = cli(*command)
    assert run.exit_code in (0, 1, 2), run.output
    assert "internal error" not in run.output and "Traceback" not in run.output
    if run.exit_code == 1:  # a refused state (or one bound to another server) names the file
        assert f"state file {path}" in run.stderr or f"state {path} belongs" in run.stderr, (
            run.output
        )
    assert _files(path.parent) == before  # nothing written, no backup, no temp file


def test_fuzzed_state_files_never_crash_state_list(cli: Cli, tmp_path: Path) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, 1)

    @_SETTINGS
    @given(content=_mutated())
    def run(content: bytes) -> None:
        _check(cli, config_dir, content, "state", "list", "-C", config_dir)

    run()


def test_fuzzed_state_files_never_crash_plan(cli: Cli, tmp_path: Path) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, 1)

    @settings(_SETTINGS, max_examples=30)
    @given(content=_mutated())
    def run(content: bytes) -> None:
        _check(cli, config_dir, content, "plan", config_dir)

    run()
