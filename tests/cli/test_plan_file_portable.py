"""Plan in one checkout, apply in another: a plan file names its config directory relative to
where `plan` ran, so `apply PLANFILE` in a second checkout of the same config (at another
path) applies against that checkout, and never reads or writes the first one's files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import Cli
from tests.cli.planfile_helpers import managed, server_writes, template, write_config
from tests.emulator.helpers import Api

CHANGED = "workspace-template/project=team-a/delta"


def _with_delta(config: Path, cpu: int = 1) -> None:
    """The managed templates as they are, and one more: delta."""
    names = ("alpha", "beta", "gamma")
    docs = {f"{n}.yaml": template(n) for n in names}
    write_config(config, {**docs, "delta.yaml": template("delta", cpu=cpu)})


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root`: its bytes and modification time."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def checkouts(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two copies of one repository (`config/` with its state), and a plan saved in the first
    (made from its top, as CI's plan job does) at first/plan.json."""
    first, second = tmp_path / "ci" / "job-1" / "repo", tmp_path / "elsewhere" / "repo"
    managed(cli, first / "config")
    _with_delta(first / "config")
    shutil.copytree(first, second)
    monkeypatch.chdir(first)
    run = cli("plan", "config", "-out", "plan.json")
    assert run.exit_code == 0, run.output
    return first, second


def test_a_plan_file_names_its_config_relative_to_where_plan_ran(
    checkouts: tuple[Path, Path],
) -> None:
    first, _ = checkouts
    binding = json.loads((first / "plan.json").read_text(encoding="utf-8"))["binding"]
    assert binding["config_dir"] == "config"
    assert str(first) not in json.dumps(binding)


def test_apply_in_another_checkout_writes_only_there(
    cli: Cli, api: Api, checkouts: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = checkouts
    before = _snapshot(first)
    state_before = (second / "config/state/default.json").read_bytes()
    monkeypatch.chdir(second)
    run = cli("apply", first / "plan.json")
    assert run.exit_code == 0, run.output
    assert f"{CHANGED}: create done" in run.stdout
    assert _snapshot(first) == before  # the first checkout: not a byte, not a time changed
    state = json.loads((second / "config/state/default.json").read_bytes())
    assert CHANGED in state["resources"] and state_before != json.dumps(state).encode()


@pytest.mark.parametrize("how", ["-C", "positional"])
def test_an_explicit_config_dir_overrides(
    cli: Cli,
    checkouts: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    first, second = checkouts
    before = _snapshot(first)
    monkeypatch.chdir(tmp_path)  # no `config` here: only the explicit directory can serve
    args = ["-C", second / "config"] if how == "-C" else [second / "config"]
    run = cli("apply", first / "plan.json", *args)
    assert run.exit_code == 0, run.output
    assert _snapshot(first) == before
    assert CHANGED in (second / "config/state/default.json").read_text(encoding="utf-8")


def test_errors_name_what_differs(
    cli: Cli,
    api: Api,
    checkouts: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = checkouts
    plan_file = first / "plan.json"
    monkeypatch.chdir(tmp_path)
    missing = cli("apply", plan_file)
    assert missing.exit_code == 1, missing.output
    assert f"{plan_file} was planned from the config directory config" in missing.stderr
    assert f"{tmp_path / 'config'} is not a directory" in missing.stderr
    assert "-C DIR" in missing.stderr

    _with_delta(second / "config", cpu=4)
    monkeypatch.chdir(second)
    api.clear_log()
    edited = cli("apply", plan_file)
    assert edited.exit_code == 1, edited.output
    assert f"(config {second / 'config'})" in edited.stderr
    assert "the configuration changed since the plan" in edited.stderr
    assert server_writes(api) == []

    both = cli("apply", plan_file, "config", "-C", "other")
    assert both.exit_code == 64 and "two config directories" in both.stderr


def test_an_older_plan_file_naming_another_checkout_absolutely_is_refused(
    cli: Cli, api: Api, checkouts: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Format 1.1 named the config directory by its absolute path: it still applies from
    where it names, and never from another checkout."""
    first, second = checkouts
    document = json.loads((first / "plan.json").read_text(encoding="utf-8"))
    document["format_version"] = "1.1"
    for key in ("changes_digest", "selection"):
        del document["binding"][key]
    document["binding"]["config_dir"] = os.fspath(first / "config")
    older = first.parent / "older.json"
    older.write_text(json.dumps(document), encoding="utf-8")
    before = _snapshot(first)
    monkeypatch.chdir(second)
    api.clear_log()
    refused = cli("apply", older)
    assert refused.exit_code == 1, refused.output
    assert f"by the absolute path {first / 'config'}" in refused.stderr
    assert server_writes(api) == [] and _snapshot(first) == before

    monkeypatch.chdir(first)
    applied = cli("apply", older)
    assert applied.exit_code == 0, applied.output
    assert f"{CHANGED}: create done" in applied.stdout
