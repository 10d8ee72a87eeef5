"""`drift` end to end: edits and deletes made behind the tool's back, with who and when; the
plan shows the same drift and re-creates what was deleted.
"""

from __future__ import annotations

from pathlib import Path

from reconcile.model import Address, State
from reconcile.state import StateStore
from tests.cli.helpers import Cli, put_on_server, state_path
from tests.emulator.helpers import TEST_CLIENT_ID, Api

BATCH = "training-template/tenant/batch-1gpu"
GATEWAY = "workload/project=inference/model-gateway"
TRAININGS = "/api/v1/workload-templates/trainings"


def _id(state: State, address: str) -> str:
    return state.entries[Address.parse(address)].remote_id


def test_no_drift_exits_0(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    run = cli("drift", examples_dir)
    assert (run.exit_code, run.stdout) == (0, "No drift.\n"), run.output
    assert cli("drift", examples_dir, "--format", "json").json()["drift"] == []


def test_edit_behind_the_tools_back_is_drift_with_who_and_when(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    state = put_on_server(examples_dir, cli.url)
    answer = api.patch(f"{TRAININGS}/{_id(state, BATCH)}", {"spec": {"backoffLimit": 5}})
    assert answer.status_code == 200, answer.text
    when = answer.json()["meta"]["updatedAt"]
    assert when != answer.json()["meta"]["createdAt"]

    run = cli("drift", examples_dir)
    assert run.exit_code == 2, run.output
    assert f"~ {BATCH} (updated by {TEST_CLIENT_ID} at {when})" in run.stdout
    assert "~ spec.backoffLimit: 3 -> 5" in run.stdout
    assert run.stdout.endswith("Drift: 1 object changed outside runai-reconcile.\n")

    report = cli("drift", examples_dir, "--format", "json").json()
    assert report["summary"] == {"drift": 1}
    (entry,) = report["drift"]
    assert (entry["address"], entry["deleted"]) == (BATCH, False)
    assert (entry["updated_by"], entry["updated_at"]) == (TEST_CLIENT_ID, when)
    assert [(f["path"], f["before"], f["after"]) for f in entry["fields"]] == [
        ("spec.backoffLimit", 3, 5)
    ]
    markdown = cli("drift", examples_dir, "--format", "markdown")
    assert markdown.exit_code == 2 and BATCH in markdown.stdout

    # The plan shows the same drift apart from the change that puts the value back.
    plan = cli("plan", examples_dir, "--format", "json", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert [d["address"] for d in plan.json()["drift"]] == [BATCH]
    update = next(c for c in plan.json()["changes"] if c["address"] == BATCH)
    assert [(f["path"], f["before"], f["after"]) for f in update["fields"]] == [
        ("spec.backoffLimit", 5, 3)
    ]


def test_unowned_server_fields_are_not_drift(cli: Cli, examples_dir: Path, api: Api) -> None:
    """A field the config never set, added by hand, is the server's business, not drift."""
    state = put_on_server(examples_dir, cli.url)
    answer = api.patch(f"{TRAININGS}/{_id(state, BATCH)}", {"spec": {"nodePools": ["a100"]}})
    assert answer.status_code == 200, answer.text
    assert cli("drift", examples_dir).exit_code == 0
    assert cli("plan", examples_dir, "--detailed-exitcode").stdout == "No changes.\n"


def test_deleted_behind_the_tools_back_is_reported_and_recreated(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    state = put_on_server(examples_dir, cli.url)
    assert api.delete(f"{TRAININGS}/{_id(state, BATCH)}").status_code == 204
    assert api.delete(f"/api/v2/workloads/{_id(state, GATEWAY)}").status_code in (200, 202, 204)

    run = cli("drift", examples_dir)
    assert run.exit_code == 2, run.output
    assert f"! {BATCH} (deleted outside runai-reconcile)" in run.stdout
    assert f"! {GATEWAY} (deleted outside runai-reconcile)" in run.stdout
    deleted = cli("drift", examples_dir, "--format", "json").json()["drift"]
    assert {(d["address"], d["deleted"]) for d in deleted} == {(BATCH, True), (GATEWAY, True)}

    plan = cli("plan", examples_dir, "--format", "json", "--detailed-exitcode")
    assert plan.exit_code == 2
    planned = {c["address"]: c for c in plan.json()["changes"] if c["action"] != "no-op"}
    assert set(planned) == {BATCH, GATEWAY}
    for change in planned.values():
        assert change["actions"] == ["create"]
        assert change["reason"] == "deleted outside the tool: re-creating"
    assert planned[BATCH]["calls"] == [{"method": "POST", "path": TRAININGS}]


def test_renamed_behind_the_tools_back_is_a_name_change_not_a_delete(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    state = put_on_server(examples_dir, cli.url)
    remote_id = _id(state, BATCH)
    answer = api.patch(f"{TRAININGS}/{remote_id}", {"meta": {"name": "batch-renamed"}})
    assert answer.status_code == 200, answer.text

    run = cli("drift", examples_dir)
    assert run.exit_code == 2, run.output
    assert f"~ {BATCH} (updated by" in run.stdout and "deleted" not in run.stdout
    (entry,) = cli("drift", examples_dir, "--format", "json").json()["drift"]
    assert (entry["address"], entry["deleted"]) == (BATCH, False)
    assert [(f["path"], f["before"], f["after"]) for f in entry["fields"]] == [
        ("metadata.name", "batch-1gpu", "batch-renamed")
    ]
    # The plan shows the same drift, and renames the very object back.
    plan = cli("plan", examples_dir, "--format", "json", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert [d["fields"] for d in plan.json()["drift"]] == [entry["fields"]]
    (rename,) = [c for c in plan.json()["changes"] if c["action"] != "no-op"]
    assert (rename["address"], rename["remote_id"]) == (BATCH, remote_id)


def test_drift_does_not_take_the_state_lock(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    with StateStore(state_path(examples_dir)).lock("apply"):
        run = cli("drift", examples_dir)
    assert run.exit_code == 0, run.output
