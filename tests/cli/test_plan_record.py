"""No-ops that apply must still write to state, end to end: an identical object taken over with
`--adopt`, and an owned entry that lags what the server holds. `plan` shows them and counts
them (`--detailed-exitcode` exits 2), `apply` records them without an API call, and the plan
after that says `No changes.`
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.cli.helpers import PLAN_SCHEMA, Cli, addresses, put_on_server, read_state, state_path
from tests.emulator.helpers import Api

SANDBOX = "workspace-template/cluster=cluster-a/cpu-sandbox"
NOTE = "      # already as desired: no API call, only recorded in state"


def _writes(api: Api) -> list[str]:
    """The API calls that changed something on the server (token requests aside)."""
    log = api.request_log()["requests"]
    return [
        f"{r['method']} {r['path']}"
        for r in log
        if r["method"] != "GET" and "token" not in r["path"]
    ]


def _edit_state(config_dir: Path, address: str, **changes: Any) -> None:
    """Change one entry of the state file in place, as a run that died half-way leaves it."""
    path = state_path(config_dir)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["resources"][address].update(changes)
    path.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")


def test_adopting_identical_objects_is_a_change_recorded_without_calls(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    put_on_server(examples_dir, cli.url)
    state_path(examples_dir).unlink()  # the server holds everything as desired; state nothing
    every = [str(a) for a in addresses(examples_dir)]

    run = cli("plan", "--adopt", "--detailed-exitcode", examples_dir)

    assert run.exit_code == 2, run.output
    lines = run.stdout.splitlines()
    for address in every:
        at = lines.index(f"  = {address} (adopt)")
        assert lines[at + 1] == NOTE
    assert lines[-1] == (
        f"Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, {len(every)} to record in state."
    )
    document = cli("plan", "--adopt", "--format", "json", examples_dir).json()
    jsonschema.validate(document, json.loads(PLAN_SCHEMA.read_text(encoding="utf-8")))
    assert document["has_changes"] is True
    assert document["summary"]["record"] == document["summary"]["no_op"] == len(every)
    assert all(c["records_state"] and c["calls"] == [] for c in document["changes"])

    api.clear_log()
    applied = cli("apply", "--adopt", "--auto-approve", examples_dir)

    assert applied.exit_code == 0, applied.output
    assert _writes(api) == []  # adopted as they are: state only
    assert sorted(map(str, read_state(examples_dir).entries)) == sorted(every)
    again = cli("plan", "--detailed-exitcode", examples_dir)
    assert (again.exit_code, again.stdout) == (0, "No changes.\n"), again.output


def test_a_stale_last_applied_is_recorded_then_the_plan_is_clean(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    state = put_on_server(examples_dir, cli.url)
    entry = next(e for a, e in state.entries.items() if str(a) == SANDBOX)
    # A run whose PUT/PATCH landed but which died before recording it: state still holds
    # the spec from before, while the server and the config agree on the new one.
    older = json.loads(json.dumps(entry.last_applied))
    older["spec"]["image"] = "python:3.10-slim"
    _edit_state(examples_dir, SANDBOX, last_applied=older)

    run = cli("plan", "--detailed-exitcode", examples_dir)

    assert run.exit_code == 2, run.output
    lines = run.stdout.splitlines()
    at = lines.index(f"  = {SANDBOX} (state holds an older spec than the server: record it)")
    assert lines[at + 1] == NOTE
    assert (
        lines[-1]
        == "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to record in state."
    )
    assert "Drift (changed outside runai-reconcile):" in run.stdout  # what state says moved

    api.clear_log()
    applied = cli("apply", "--auto-approve", examples_dir)

    assert applied.exit_code == 0, applied.output
    assert _writes(api) == []
    recorded = next(e for a, e in read_state(examples_dir).entries.items() if str(a) == SANDBOX)
    assert recorded.last_applied == entry.last_applied and recorded.remote_id == entry.remote_id
    again = cli("plan", "--detailed-exitcode", examples_dir)
    assert (again.exit_code, again.stdout) == (0, "No changes.\n"), again.output


def test_an_entry_holding_another_id_is_recorded(cli: Cli, examples_dir: Path) -> None:
    state = put_on_server(examples_dir, cli.url)
    entry = next(e for a, e in state.entries.items() if str(a) == SANDBOX)
    _edit_state(examples_dir, SANDBOX, remote_id="00000000-0000-4000-8000-00000000dead")

    run = cli("plan", "--format", "json", "--detailed-exitcode", examples_dir)

    assert run.exit_code == 2, run.output
    [change] = [c for c in run.json()["changes"] if c["records_state"]]
    assert change["address"] == SANDBOX and change["remote_id"] == entry.remote_id
    assert change["reason"].startswith("state holds id 00000000-0000-4000-8000-00000000dead")
    assert cli("apply", "--auto-approve", examples_dir).exit_code == 0
    recorded = next(e for a, e in read_state(examples_dir).entries.items() if str(a) == SANDBOX)
    assert recorded.remote_id == entry.remote_id
    assert cli("plan", "--detailed-exitcode", examples_dir).exit_code == 0


def test_a_saved_plan_carries_the_record_mark(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url, only=[SANDBOX])
    state_path(examples_dir).unlink()
    planfile = examples_dir.parent / "adopt.plan"
    saved = cli("plan", "--adopt", "--target", SANDBOX, "-out", planfile, examples_dir)
    assert saved.exit_code == 0, saved.output

    document = json.loads(planfile.read_text(encoding="utf-8"))
    [change] = document["changes"]
    assert (change["action"], change["records_state"]) == ("no-op", True)
    shown = cli("show", planfile)
    assert f"  = {SANDBOX} (adopt)\n{NOTE}\n" in shown.stdout
    assert shown.stdout.endswith("1 to record in state.\n")

    api.clear_log()
    applied = cli("apply", planfile)

    assert applied.exit_code == 0, applied.output
    assert _writes(api) == []
    assert [str(a) for a in read_state(examples_dir).entries] == [SANDBOX]
    after = cli("plan", "--target", SANDBOX, "--detailed-exitcode", examples_dir)
    assert (after.exit_code, after.stdout) == (0, "No changes.\n"), after.output
