"""`plan examples/` end to end against the emulator: everything to create on an empty server,
and `No changes.` once the server and the state hold it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema

from reconcile.kinds.registry import APPLY_RANK, BY_SLUG
from reconcile.model import Address
from tests.cli.helpers import PLAN_SCHEMA, REPO, Cli, addresses, put_on_server
from tests.emulator.helpers import Api

GOLDEN = REPO / "tests" / "data" / "golden" / "cli-plan-examples.txt"
# Built-in workload types of the default seed (reconcile/emulator/data/seed.yaml).
WORKLOAD_TYPE_IDS = {
    "Notebook": "68700704-f87a-4ea3-bce4-98bfa7e40525",
    "PyTorchJob": "2942874d-376c-45af-9927-a7cab01e08cb",
}
COLLECTIONS = {
    "node-pool": "/api/v1/node-pools",
    "department": "/api/v1/org-unit/departments",
    "project": "/api/v1/org-unit/projects",
    "workspace-template": "/api/v1/workload-templates/workspaces",
    "training-template": "/api/v1/workload-templates/trainings",
    "distributed-template": "/api/v1/workload-templates/distributed",
    "inference-template": "/api/v1/workload-templates/inferences",
    "asset-template": "/api/v1/asset/workload-template",
    "environment": "/api/v1/asset/environment",
    "compute": "/api/v1/asset/compute",
    "datasource": "/api/v1/asset/datasource/pvc",  # the examples' data source is a pvc
    "workload": "/api/v2/workloads",
}


def _validate(document: Any) -> None:
    jsonschema.validate(document, json.loads(PLAN_SCHEMA.read_text(encoding="utf-8")))


def test_empty_server_plans_every_object_in_dependency_order(cli: Cli, examples_dir: Path) -> None:
    run = cli("plan", examples_dir, "--detailed-exitcode", "--format", "json")
    assert run.exit_code == 2, run.stderr
    plan = run.json()
    _validate(plan)
    changes = plan["changes"]
    assert sorted(c["address"] for c in changes) == sorted(map(str, addresses(examples_dir)))
    for change in changes:
        address = Address.parse(change["address"])
        if address.kind == "workload-type":
            # Built in on the server and never deleted by the tool: adopted implicitly.
            assert (change["actions"], change["reason"]) == (["update"], "adopt")
            type_id = WORKLOAD_TYPE_IDS[address.name]
            assert change["calls"] == [
                {"method": "PUT", "path": f"/api/v1/workload-types/{type_id}"}
            ]
        else:
            assert (change["actions"], change["reason"], change["before"]) == (["create"], "", None)
            assert change["calls"] == [{"method": "POST", "path": COLLECTIONS[address.kind]}]
    keys = [(APPLY_RANK[Address.parse(c["address"]).kind], c["address"]) for c in changes]
    assert keys == sorted(keys), "node pools and workload types, org units, templates, workloads"
    waves = {Address.parse(c["address"]).kind: c["wave"] for c in changes}
    assert waves["workload-type"] < waves["workspace-template"] < waves["workload"]
    assert waves["node-pool"] < waves["department"] < waves["project"] < waves["workspace-template"]
    assert plan["summary"]["add"] == 20 and plan["summary"]["change"] == 2
    assert plan["has_changes"] is True


def test_empty_server_plan_text_matches_golden(cli: Cli, examples_dir: Path) -> None:
    """Deterministic: no server ids appear but the seeded workload types' (fixed in the seed)."""
    run = cli("plan", examples_dir, "--detailed-exitcode")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith(f"Server: {cli.url}")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(run.stdout, encoding="utf-8")
    assert run.stdout == GOLDEN.read_text(encoding="utf-8"), f"output differs from {GOLDEN}"
    assert run.stdout.endswith("Plan: 20 to add, 2 to change, 0 to replace, 0 to destroy.\n")


def test_plan_without_detailed_exitcode_exits_0_with_changes(cli: Cli, examples_dir: Path) -> None:
    run = cli("plan", examples_dir)
    assert run.exit_code == 0, run.stderr
    assert "20 to add" in run.stdout


def test_no_changes_once_server_and_state_hold_everything(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    state = put_on_server(examples_dir, cli.url)
    assert set(state.entries) == set(addresses(examples_dir))
    run = cli("plan", examples_dir, "--detailed-exitcode")
    assert (run.exit_code, run.stdout) == (0, "No changes.\n"), run.output
    # ... although the server added ids, timestamps, runnable, combinedSpec and the rest.
    for address, entry in state.entries.items():
        if address.kind == "workload-type":
            continue
        answer = api.get(BY_SLUG[address.kind].get_request(entry.remote_id).path)
        assert answer.status_code == 200, answer.text
        served = answer.json()
        # Org units and node pools are flat; templates and assets keep theirs in `meta`,
        # workloads in `workload.metadata`; a data source's remote id is TYPE/ID.
        meta = (served.get("workload") or {}).get("metadata") or served.get("meta", served)
        assert entry.remote_id.endswith(meta["id"]) and meta["createdAt"] and meta["updatedAt"]
        if address.kind.endswith("-template") and address.kind != "asset-template":
            assert "runnable" in served and "combinedSpec" in served
    plan = cli("plan", examples_dir, "--format", "json").json()
    _validate(plan)
    assert {c["action"] for c in plan["changes"]} == {"no-op"}
    assert plan["has_changes"] is False and plan["drift"] == []


def test_partly_applied_config_plans_only_the_rest(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url, only=["workload-type", "workspace-template"])
    run = cli("plan", examples_dir, "--format", "json", "--detailed-exitcode")
    assert run.exit_code == 2
    planned = {c["address"]: c["action"] for c in run.json()["changes"]}
    done = ("workload-type", "workspace-template")
    for address in addresses(examples_dir):
        assert planned[str(address)] == ("no-op" if address.kind in done else "create")
