"""`apply PLANFILE` end to end: a saved plan is applied only while what it was made from still
holds, and a refusal names the part that moved: the state, the config, a live object, or the
plan's age.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.cli.apply_helpers import serial_of, server_templates
from tests.cli.helpers import Cli, put_on_server, read_state
from tests.emulator.helpers import Api, create_template

JUPYTER = "workspace-template/project=team-a/jupyter-small"
SANDBOX = "workspace-template/cluster=cluster-a/cpu-sandbox"
WORKSPACES = "/api/v1/workload-templates/workspaces"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def planned(cli: Cli, examples_dir: Path, tmp_path: Path) -> Path:
    """The examples on the server and in state, then a saved plan that updates jupyter-small."""
    put_on_server(examples_dir, cli.url)
    _edit(examples_dir / "templates/workspaces.yaml", "cpuCoreRequest: 2\n", "cpuCoreRequest: 3\n")
    plan_file = tmp_path / "p.json"
    run = cli("plan", examples_dir, "-out", plan_file, "--detailed-exitcode")
    assert run.exit_code == 2, run.output
    return plan_file


def _refused(cli: Cli, plan_file: Path) -> str:
    """Apply `plan_file`, expect a refusal, and return its message (stderr)."""
    run = cli("apply", plan_file)
    assert run.exit_code == 1, run.output
    assert "no longer matches what it was planned from" in run.stderr
    assert "plan -out" in run.stderr  # the hint: make a new plan
    assert " done" not in run.stdout  # no step ran
    return run.stderr


def test_unchanged_saved_plan_applies_once(cli: Cli, examples_dir: Path, planned: Path) -> None:
    serial = serial_of(examples_dir)
    run = cli("apply", planned)  # a saved plan is applied without asking
    assert run.exit_code == 0, run.output
    assert f"[1/1] {JUPYTER}: update done" in run.stdout
    assert "Apply complete: 1 applied." in run.stdout
    assert serial_of(examples_dir) > serial
    assert cli("plan", "--detailed-exitcode", examples_dir).exit_code == 0

    again = _refused(cli, planned)  # the apply moved the serial the plan was bound to
    assert f"state serial moved from {serial} to {serial_of(examples_dir)}" in again


def test_saved_plan_refused_after_a_state_change(
    cli: Cli, examples_dir: Path, planned: Path
) -> None:
    serial = serial_of(examples_dir)
    removed = cli("state", "rm", "-C", examples_dir, SANDBOX)
    assert removed.exit_code == 0, removed.output
    message = _refused(cli, planned)
    assert f"state serial moved from {serial} to {serial + 1}" in message
    assert "configuration" not in message and "changed on the server" not in message
    assert serial_of(examples_dir) == serial + 1  # the refusal wrote nothing


def test_saved_plan_refused_after_a_config_change(
    cli: Cli, examples_dir: Path, planned: Path
) -> None:
    _edit(examples_dir / "templates/workspaces.yaml", "cpuCoreRequest: 3\n", "cpuCoreRequest: 4\n")
    message = _refused(cli, planned)
    assert "the configuration changed since the plan" in message
    assert "state serial" not in message


def test_saved_plan_refused_after_a_live_change(
    cli: Cli, examples_dir: Path, planned: Path, api: Api
) -> None:
    remote_id = next(
        e.remote_id for a, e in read_state(examples_dir).entries.items() if str(a) == JUPYTER
    )
    patched = api.patch(
        f"{WORKSPACES}/{remote_id}",
        {"meta": {"name": "jupyter-small", "description": "edited by hand"}},
    )
    assert patched.status_code == 200, patched.text
    message = _refused(cli, planned)
    assert f"{JUPYTER} changed on the server since the plan (by test-client)" in message
    assert "state serial" not in message and "configuration" not in message
    live = api.get(f"{WORKSPACES}/{remote_id}").json()
    assert live["spec"]["compute"]["cpuCoreRequest"] == 2  # the planned update was not sent


def test_saved_plan_refused_when_a_planned_create_appeared(
    cli: Cli, examples_dir: Path, tmp_path: Path, api: Api
) -> None:
    plan_file = tmp_path / "create.plan"
    assert cli("plan", examples_dir, "-out", plan_file).exit_code == 0
    create_template(api, "workspaces", "jupyter-small")  # someone was faster
    message = _refused(cli, plan_file)
    assert f"{JUPYTER} was created on the server since the plan" in message
    assert [m["name"] for m in server_templates(api)] == ["jupyter-small"]  # nothing else sent


def test_saved_plan_refused_when_too_old(cli: Cli, examples_dir: Path, planned: Path) -> None:
    document = json.loads(planned.read_text(encoding="utf-8"))
    made = datetime.now(timezone.utc) - timedelta(days=3)
    document["binding"]["created_at"] = made.strftime("%Y-%m-%dT%H:%M:%SZ")  # made 3 days ago
    planned.write_text(json.dumps(document), encoding="utf-8")
    message = _refused(cli, planned)
    assert "plan is 3 d old (ttl 24 h)" in message
    assert "state serial" not in message and "configuration" not in message


def test_a_first_plan_saved_before_any_state_exists_applies(
    cli: Cli, examples_dir: Path, tmp_path: Path
) -> None:
    """The first CI run: no state file yet, `plan -out` then `apply PLANFILE`."""
    plan_file = tmp_path / "first.json"
    assert cli("plan", examples_dir, "-out", plan_file).exit_code == 0
    run = cli("apply", plan_file)
    assert run.exit_code == 0, run.output
    lineage = json.loads(plan_file.read_text(encoding="utf-8"))["binding"]["state_lineage"]
    assert read_state(examples_dir).lineage == lineage  # secrets are hashed with this salt
    assert cli("plan", "--detailed-exitcode", examples_dir).exit_code == 0
