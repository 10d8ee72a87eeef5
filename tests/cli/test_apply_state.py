"""`state list|show|rm|mv` and the safety budget, end to end: editing state never touches the
server, and an over-budget delete needs `--force`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.apply_helpers import serial_of, server_templates
from tests.cli.helpers import Cli, addresses, put_on_server, read_state, state_path
from tests.emulator.helpers import Api

SANDBOX = "workspace-template/cluster=cluster-a/cpu-sandbox"
WORKSPACES = "/api/v1/workload-templates/workspaces"


def _remote_id(config_dir: Path, address: str) -> str:
    return next(e.remote_id for a, e in read_state(config_dir).entries.items() if str(a) == address)


def test_state_list_and_show(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url)
    listed = cli("state", "list", "-C", examples_dir)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [str(a) for a in addresses(examples_dir)]  # sorted
    by_file = cli("state", "list", "--state", state_path(examples_dir))
    assert by_file.stdout == listed.stdout

    shown = cli("state", "show", "-C", examples_dir, SANDBOX)
    assert shown.exit_code == 0, shown.output
    entry = json.loads(shown.stdout)[SANDBOX]
    assert entry["status"] == "applied"
    assert entry["last_applied"]["spec"]["image"] == "python:3.11-slim"
    assert api.get(f"{WORKSPACES}/{entry['remote_id']}").status_code == 200

    missing = cli("state", "show", "-C", examples_dir, "workspace-template/tenant/nope")
    assert missing.exit_code == 1 and "not in the state" in missing.stderr
    bad = cli("state", "show", "-C", examples_dir, "not an address")
    assert bad.exit_code == 64, bad.output


def test_state_rm_forgets_without_deleting(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url)
    remote_id, serial = _remote_id(examples_dir, SANDBOX), serial_of(examples_dir)
    run = cli("state", "rm", "-C", examples_dir, SANDBOX)
    assert run.exit_code == 0, run.output
    assert "the server object was not touched" in run.stdout
    assert SANDBOX not in map(str, read_state(examples_dir).entries)
    assert serial_of(examples_dir) == serial + 1
    assert api.get(f"{WORKSPACES}/{remote_id}").status_code == 200  # still on the server

    # Desired, on the server, not owned: planning refuses to create it again.
    plan = cli("plan", examples_dir)
    assert plan.exit_code == 1, plan.output
    assert SANDBOX in plan.stderr and "--adopt" in plan.stderr and remote_id in plan.stderr
    refused = cli("apply", "--auto-approve", examples_dir)
    assert refused.exit_code == 1 and "--adopt" in refused.stderr
    assert [m["name"] for m in server_templates(api)].count("cpu-sandbox") == 1

    adopted = cli("apply", "--auto-approve", "--adopt", examples_dir)
    assert adopted.exit_code == 0, adopted.output
    assert _remote_id(examples_dir, SANDBOX) == remote_id  # the same object, owned again
    assert cli("plan", "--detailed-exitcode", examples_dir).exit_code == 0

    again = cli("state", "rm", "-C", examples_dir, SANDBOX, "workspace-template/tenant/nope")
    assert again.exit_code == 1 and "workspace-template/tenant/nope" in again.stderr
    assert SANDBOX in map(str, read_state(examples_dir).entries)  # all or nothing


def test_state_mv_follows_a_rename(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url)
    new = SANDBOX.replace("cpu-sandbox", "cpu-shell")
    remote_id, serial = _remote_id(examples_dir, SANDBOX), serial_of(examples_dir)
    # The object was renamed on the server, and its document in the config.
    renamed = api.patch(f"{WORKSPACES}/{remote_id}", {"meta": {"name": "cpu-shell"}})
    assert renamed.status_code == 200, renamed.text
    path = examples_dir / "templates" / "workspaces.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("cpu-sandbox", "cpu-shell"))

    moved = cli("state", "mv", "-C", examples_dir, SANDBOX, new)
    assert moved.exit_code == 0, moved.output
    entries = {str(a): e for a, e in read_state(examples_dir).entries.items()}
    assert SANDBOX not in entries and entries[new].remote_id == remote_id
    assert serial_of(examples_dir) == serial + 1
    plan = cli("plan", "--detailed-exitcode", examples_dir)
    assert plan.exit_code == 0, plan.output  # neither a create nor a delete

    gone = cli("state", "mv", "-C", examples_dir, SANDBOX, new.replace("cpu-shell", "other"))
    assert gone.exit_code == 1 and "not in the state" in gone.stderr
    occupied = "workspace-template/project=team-a/jupyter-small"
    clash = cli("state", "mv", "-C", examples_dir, new, occupied)
    assert clash.exit_code == 1 and "already in the state" in clash.stderr
    other_kind = cli("state", "mv", "-C", examples_dir, new, "training-template/tenant/x")
    assert other_kind.exit_code == 64, other_kind.output
    assert serial_of(examples_dir) == serial + 1  # refusals wrote nothing


def _drop_files(config_dir: Path, *names: str) -> None:
    for name in names:
        (config_dir / "templates" / name).unlink()


def test_over_budget_delete_needs_force(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url)  # 22 owned objects: the budget applies (>= 10)
    before = sorted(m["name"] for m in server_templates(api))
    # 7 deletes: 32 % > 30 %
    _drop_files(examples_dir, "workspaces.yaml", "trainings.yaml", "inference.yaml")

    plan = cli("plan", examples_dir)
    assert plan.exit_code == 3, plan.output
    assert "Safety budget exceeded (apply needs --force):" in plan.stdout
    budget = "would destroy 7 of 22 managed objects (32%), over the 30% budget for deletes"
    assert budget in plan.stdout

    serial = serial_of(examples_dir)
    refused = cli("apply", "--auto-approve", examples_dir)
    assert refused.exit_code == 3, refused.output
    assert "over the safety budget" in refused.stderr and "--force" in refused.stderr
    assert sorted(m["name"] for m in server_templates(api)) == before
    assert serial_of(examples_dir) == serial

    forced = cli("apply", "--auto-approve", "--force", examples_dir)
    assert forced.exit_code == 0, forced.output
    assert "Apply complete: 7 applied." in forced.stdout
    assert len(server_templates(api)) == len(before) - 7
    assert len(read_state(examples_dir).entries) == 15
    assert cli("plan", "--detailed-exitcode", examples_dir).exit_code == 0


def test_over_budget_saved_plan_needs_force_too(
    cli: Cli, examples_dir: Path, tmp_path: Path, api: Api
) -> None:
    put_on_server(examples_dir, cli.url)
    _drop_files(examples_dir, "workspaces.yaml", "trainings.yaml", "inference.yaml")
    plan_file = tmp_path / "deletes.plan"
    assert cli("plan", examples_dir, "-out", plan_file).exit_code == 3
    refused = cli("apply", plan_file)
    assert refused.exit_code == 3, refused.output
    assert len(server_templates(api)) == 9  # workload templates (and 2 asset templates)
    forced = cli("apply", "--force", plan_file)
    assert forced.exit_code == 0, forced.output
    assert len(server_templates(api)) == 2
