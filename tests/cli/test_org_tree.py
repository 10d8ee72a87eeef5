"""The org tree as code, end to end through the CLI against the emulator: a node pool, a
department, a project in it with quotas and a template in that project, in one apply; quota
changes; deleting a unit that still holds objects; bad quotas refused before any write.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import Cli, planned_changes, read_state, write_docs
from tests.emulator.helpers import Api, create_template

POOL = """
kind: NodePool
metadata: {name: a100, scope: {cluster: cluster-a}}
spec:
  labelKey: gpu-type
  labelValue: a100
  placementStrategy: {gpu: binpack, cpu: spread}
"""
DEPARTMENT = """
kind: Department
metadata: {name: vision, scope: {cluster: cluster-a}, description: Computer vision}
spec:
  resources:
    default: {gpu: {deserved: 8, limit: -1, overQuotaWeight: 2}}
    a100: {gpu: {deserved: 4}, cpu: {deserved: 16000}, memory: {deserved: 65536, units: Mib}}
"""
PROJECT = """
kind: Project
metadata: {name: detection, scope: {department: vision}}
spec:
  requestedNamespace: runai-detection
  enforceRunaiScheduler: true
  resources:
    default: {gpu: {deserved: 4}}
    a100: {gpu: {deserved: 2, limit: 4, overQuotaWeight: 1}}
"""
TEMPLATE = """
kind: WorkspaceTemplate
metadata: {name: notebook, scope: {project: detection}}
spec:
  image: jupyter/scipy-notebook
  compute: {gpuDevicesRequest: 1}
"""
PROJECT_ADDRESS = "project/department=vision/detection"
TEMPLATE_ADDRESS = "workspace-template/project=detection/notebook"


def _config(root: Path, *docs: str) -> Path:
    write_docs(root / "org.yaml", docs)
    return root


def test_a_new_org_tree_and_a_template_in_it_apply_in_one_run(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT, TEMPLATE)
    planned = planned_changes(cli, config)
    assert {a: c["action"] for a, c in planned.items()} == {
        "node-pool/cluster=cluster-a/a100": "create",
        "department/cluster=cluster-a/vision": "create",
        PROJECT_ADDRESS: "create",
        TEMPLATE_ADDRESS: "create",
    }
    # Each waits for what it names: pool -> department -> project -> template.
    waves = [planned[a]["wave"] for a in planned]
    assert waves == sorted(waves) and len(set(waves)) == 4

    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 0, run.output
    state = read_state(config).entries
    ids = {str(a): e.remote_id for a, e in state.items()}
    project = api.get(f"/api/v1/org-unit/projects/{ids[PROJECT_ADDRESS]}").json()
    department = api.get(f"/api/v1/org-unit/departments/{project['parentId']}").json()
    pool_id = ids["node-pool/cluster=cluster-a/a100"]
    assert department["name"] == "vision" and project["requestedNamespace"] == "runai-detection"
    assert {r["nodePool"]["id"]: r["gpu"]["deserved"] for r in project["resources"]}[pool_id] == 2
    template = api.get(f"/api/v1/workload-templates/{ids[TEMPLATE_ADDRESS]}").json()
    assert template["meta"]["projectId"] == int(ids[PROJECT_ADDRESS])

    api.clear_log()
    assert cli("plan", config).stdout == "No changes.\n"
    # A settled plan reads lists only: one read per list, no read per object.
    reads = [(r["method"], r["path"]) for r in api.request_log()["requests"]]
    listed = {p for m, p in reads if m == "GET" and not p.endswith("/token")}
    assert all(m in ("GET", "POST") for m, _ in reads)
    assert len(listed) == len([p for m, p in reads if m == "GET"])
    assert {
        "/api/v1/node-pools",
        "/api/v1/org-unit/projects",
        "/api/v1/org-unit/departments",
    } <= listed
    assert not any(p.rsplit("/", 1)[-1].isdigit() for p in listed)


def test_a_quota_change_plans_one_update_through_the_resources_endpoint(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    project_id = read_state(config).entries
    remote_id = next(e.remote_id for a, e in project_id.items() if str(a) == PROJECT_ADDRESS)
    _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT.replace("deserved: 4}", "deserved: 6}"))
    planned = planned_changes(cli, config)
    changed = {a: c for a, c in planned.items() if c["action"] != "no-op"}
    assert list(changed) == [PROJECT_ADDRESS]
    assert changed[PROJECT_ADDRESS]["action"] == "update"
    assert changed[PROJECT_ADDRESS]["calls"] == [
        {"method": "PUT", "path": f"/api/v1/org-unit/projects/{remote_id}/resources"}
    ]
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 0, run.output
    served = api.get(f"/api/v1/org-unit/projects/{remote_id}").json()
    assert {r["nodePool"]["name"]: r["gpu"]["deserved"] for r in served["resources"]} == {
        "a100": 2,
        "default": 6,
    }
    assert cli("plan", config).stdout == "No changes.\n"


def test_removing_a_project_that_holds_a_template_needs_force(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT, TEMPLATE)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    write_docs(config / "org.yaml", [POOL, DEPARTMENT])
    write_docs(config / "templates.yaml", [TEMPLATE])
    run = cli("plan", config, "--detailed-exitcode")
    assert run.exit_code == 3, run.output
    assert f"{PROJECT_ADDRESS} will be deleted while it holds {TEMPLATE_ADDRESS}" in run.output
    refused = cli("apply", "--auto-approve", config)
    assert refused.exit_code == 3, refused.output
    assert PROJECT_ADDRESS in {str(a) for a in read_state(config).entries}


def test_removing_a_project_that_holds_an_unmanaged_template_needs_force(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    elsewhere = TEMPLATE.replace("notebook", "other").replace("detection}", "team-a}")
    config = _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT, elsewhere)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    project_id = next(
        e.remote_id for a, e in read_state(config).entries.items() if str(a) == PROJECT_ADDRESS
    )
    create_template(api, "workspaces", "by-hand", scope_id=project_id)
    write_docs(config / "org.yaml", [POOL, DEPARTMENT, elsewhere])
    run = cli("plan", config, "--detailed-exitcode")
    assert run.exit_code == 3, run.output
    held = "workspace-template/project=detection/by-hand"
    assert f"{PROJECT_ADDRESS} will be deleted while it holds {held}" in run.output


def test_the_default_node_pool_is_adopted_and_never_deleted(cli: Cli, tmp_path: Path) -> None:
    default = """
kind: NodePool
metadata: {name: default, scope: {cluster: cluster-b}}
spec: {placementStrategy: {gpu: spread}}
"""
    config = _config(tmp_path / "org", default)
    planned = planned_changes(cli, config)
    assert planned["node-pool/cluster=cluster-b/default"]["reason"] == "adopt"
    assert cli("apply", "--auto-approve", config).exit_code == 0
    write_docs(config / "org.yaml", [POOL])
    planned = planned_changes(cli, config)
    assert planned["node-pool/cluster=cluster-b/default"]["action"] == "forget"


def test_an_unknown_node_pool_is_refused_before_any_write(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "org", DEPARTMENT.replace("a100:", "h100:"))
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 1
    assert "node pool 'h100' does not exist on cluster cluster-a" in run.output
    names = [d["name"] for d in api.get("/api/v1/org-unit/departments").json()["departments"]]
    assert "vision" not in names


def test_projects_promised_more_than_their_department_are_refused_before_any_write(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    second = PROJECT.replace("name: detection", "name: tracking").replace(
        "runai-detection", "runai-tracking"
    )
    config = _config(tmp_path / "org", POOL, DEPARTMENT, PROJECT, second.replace("4}", "5}", 1))
    api.clear_log()
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 1, run.output
    assert (
        "department vision: its projects' deserved gpu in node pool default adds up to 9 "
        "(detection 4, tracking 5), over the department's 8"
    ) in run.output
    log = api.request_log()["requests"]
    assert [r for r in log if r["method"] != "GET" and not r["path"].endswith("/token")] == []
