"""Assets as code, end to end through the CLI against the emulator: a new project, an
environment asset in it and an asset template using it, in one apply; changes; deleting an
asset a template uses; an unknown asset name; a failed create stopping only what names it.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import Cli, planned_changes, read_state, write_docs
from tests.emulator.helpers import Api

PROJECT = """
kind: Project
metadata: {name: vision-lab, scope: {department: research}}
spec:
  resources:
    default: {gpu: {deserved: 1}}
"""
ENVIRONMENT = """
kind: Environment
metadata: {name: notebook-env, scope: {project: vision-lab}, description: Notebooks}
spec:
  image: jupyter/scipy-notebook
  uidGidSource: fromTheImage
  workloadSupportedTypes: {workspace: true, training: false}
  connections:
    - name: jupyter
      internalToolInfo:
        {toolType: jupyter-notebook, connectionType: ExternalUrl, containerPort: 8888}
"""
TEMPLATE = """
kind: AssetTemplate
metadata: {name: notebook, scope: {project: vision-lab}}
spec:
  assets: {environment: notebook-env, compute: one-gpu, datasources: [{name: scratch, kind: pvc}]}
  specificEnv: {args: "--debug"}
"""
SCRATCH = """
kind: DataSource
metadata: {name: scratch, scope: {project: vision-lab}}
spec: {type: pvc, path: /scratch, claimName: scratch, claimInfo: {size: 10G}}
"""
# Unrelated to the environment: a tenant compute and a data source of another type.
UNRELATED = """
kind: Compute
metadata: {name: two-gpus, scope: {tenant: true}}
spec: {gpuDevicesRequest: 2, cpuCoreRequest: 4}
---
kind: DataSource
metadata: {name: dotfiles, scope: {tenant: true}}
spec: {type: git, repository: "https://example.com/dotfiles.git", path: /dotfiles}
"""
ENV_ADDRESS = "environment/project=vision-lab/notebook-env"
TEMPLATE_ADDRESS = "asset-template/project=vision-lab/notebook"


def _config(root: Path, *docs: str) -> Path:
    write_docs(root / "assets.yaml", docs)
    return root


def test_a_project_an_environment_and_a_template_using_it_apply_in_one_run(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "c", PROJECT, ENVIRONMENT, SCRATCH, TEMPLATE)
    planned = planned_changes(cli, config)
    assert {a: c["action"] for a, c in planned.items()} == {
        "project/department=research/vision-lab": "create",
        ENV_ADDRESS: "create",
        "datasource/project=vision-lab/scratch": "create",
        TEMPLATE_ADDRESS: "create",
    }
    # Each waits for what it names: project -> environment and data source -> template.
    waves = {a: c["wave"] for a, c in planned.items()}
    assert waves[ENV_ADDRESS] == waves["datasource/project=vision-lab/scratch"]
    assert waves["project/department=research/vision-lab"] < waves[ENV_ADDRESS]
    assert waves[ENV_ADDRESS] < waves[TEMPLATE_ADDRESS]

    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 0, run.output
    entries = read_state(config).entries
    ids = {str(a): e.remote_id for a, e in entries.items()}
    assert ids["datasource/project=vision-lab/scratch"].startswith("pvc/")
    template = api.get(f"/api/v1/asset/workload-template/{ids[TEMPLATE_ADDRESS]}").json()
    environment = template["spec"]["assets"]["environment"]
    assert (environment["id"], environment["name"]) == (ids[ENV_ADDRESS], "notebook-env")
    scratch = template["spec"]["assets"]["datasources"][0]
    assert scratch["id"] == ids["datasource/project=vision-lab/scratch"].removeprefix("pvc/")
    env = api.get(f"/api/v1/asset/environment/{ids[ENV_ADDRESS]}").json()
    assert env["meta"]["projectName"] == "vision-lab"
    assert env["meta"]["workloadSupportedTypes"] == {"workspace": True, "training": False}

    again = cli("plan", config, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output

    # An environment change plans one update, sent as the API's PUT.
    changed = _config(config, PROJECT, ENVIRONMENT.replace("scipy", "datascience"), SCRATCH,
                      TEMPLATE)  # fmt: skip
    update = planned_changes(cli, changed)
    steps = {a: c for a, c in update.items() if c["action"] != "no-op"}
    assert list(steps) == [ENV_ADDRESS] and steps[ENV_ADDRESS]["action"] == "update"
    assert [f["path"] for f in steps[ENV_ADDRESS]["fields"]] == ["spec.image"]
    assert cli("apply", "--auto-approve", changed).exit_code == 0
    env = api.get(f"/api/v1/asset/environment/{ids[ENV_ADDRESS]}").json()
    assert env["spec"]["image"] == "jupyter/datascience-notebook"

    # A create-only field replaces the asset.
    narrowed = ENVIRONMENT.replace("training: false", "training: true")
    replaced = planned_changes(cli, _config(config, PROJECT, narrowed, SCRATCH, TEMPLATE))
    assert replaced[ENV_ADDRESS]["action"] == "replace"


def test_removing_an_environment_a_template_uses_needs_force(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path / "c", PROJECT, ENVIRONMENT, SCRATCH, TEMPLATE)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    # The template now names a tenant environment of the seed instead; the old one goes.
    kept = TEMPLATE.replace("environment: notebook-env", "environment: jupyter-lab")
    _config(config, PROJECT, SCRATCH, kept)
    assert planned_changes(cli, config)[ENV_ADDRESS]["action"] == "delete"
    assert cli("apply", "--auto-approve", config).exit_code == 0  # nothing uses it now

    _config(config, PROJECT, ENVIRONMENT, SCRATCH, TEMPLATE)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    _config(config, PROJECT, SCRATCH, TEMPLATE)  # the template still names it
    refused = cli("apply", "--auto-approve", config)
    assert refused.exit_code == 3, refused.output
    assert f"{ENV_ADDRESS} will be deleted while {TEMPLATE_ADDRESS} uses it" in refused.output
    assert ENV_ADDRESS in {str(a) for a in read_state(config).entries}


def test_an_unknown_compute_name_is_an_error_before_any_write(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    bad = TEMPLATE.replace("compute: one-gpu", "compute: one-gpx")
    config = _config(tmp_path / "c", PROJECT, ENVIRONMENT, SCRATCH, bad)
    api.call("DELETE", "/_emulator/requests")
    run = cli("apply", "--auto-approve", config)
    assert run.exit_code == 1, run.output
    assert "no compute asset named 'one-gpx'" in run.output and "one-gpu" in run.output
    writes = [r for r in api.get("/_emulator/requests").json()["requests"] if r["method"] != "GET"]
    assert [w["path"] for w in writes] == ["/api/v1/token"]


def test_a_failed_environment_create_stops_the_template_only(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "c", PROJECT, ENVIRONMENT, SCRATCH, TEMPLATE, UNRELATED)
    faults = {"fail_route": "POST /api/v1/asset/environment"}
    assert api.call("PUT", "/_emulator/faults", json=faults).status_code == 200
    run = cli("apply", "--auto-approve", "--keep-going", config)
    assert run.exit_code == 1, run.output
    owned = {str(a) for a in read_state(config).entries}
    assert ENV_ADDRESS not in owned and TEMPLATE_ADDRESS not in owned
    assert {
        "project/department=research/vision-lab",
        "datasource/project=vision-lab/scratch",
        "compute/tenant/two-gpus",
        "datasource/tenant/dotfiles",
    } <= owned
    assert f"names {ENV_ADDRESS}, which this run did not create" in run.output
    assert api.get("/api/v1/asset/workload-template", name="notebook").json()["entries"] == []

    # Once the server takes it, the next apply creates what is left, in order.
    api.call("PUT", "/_emulator/faults", json={"fail_route": ""})
    assert cli("apply", "--auto-approve", config).exit_code == 0
    assert {ENV_ADDRESS, TEMPLATE_ADDRESS} <= {str(a) for a in read_state(config).entries}


def test_a_no_change_plan_reads_assets_by_list_calls_only(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = _config(tmp_path / "c", PROJECT, ENVIRONMENT, SCRATCH, TEMPLATE, UNRELATED)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    api.call("DELETE", "/_emulator/requests")
    assert cli("plan", config, "--detailed-exitcode").exit_code == 0
    counters = api.get("/_emulator/requests").json()["counters"]
    asset_calls = {k: n for k, n in counters.items() if "/api/v1/asset/" in k}
    assert asset_calls == {
        "GET /api/v1/asset/environment": 1,
        "GET /api/v1/asset/compute": 1,
        "GET /api/v1/asset/datasource": 1,
        "GET /api/v1/asset/workload-template": 1,
    }
