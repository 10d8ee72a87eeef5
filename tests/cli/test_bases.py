"""Shared bases and per-environment variables end to end through the CLI and the emulator:
documents extending one base create objects with the merged spec, a change in the base
updates every document using it, `--environment` picks a variable's value from one config
directory, and a wrong base reference or value is reported where it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.apply_helpers import server_templates
from tests.cli.helpers import Cli, write_docs
from tests.emulator.helpers import Api

WORKSPACES = "/api/v1/workload-templates/workspaces"
BASE = """kind: Base
metadata: {{name: jupyter, for: WorkspaceTemplate}}
spec:
  image: {image}
  compute: {{cpuCoreRequest: 0.5, gpuDevicesRequest: 1}}
  environmentVariables:
    - {{name: LEVEL, value: info}}
    - {{name: MODE, value: lab}}
"""
USERS = """kind: WorkspaceTemplate
metadata: {name: small, scope: {project: team-a}, extends: jupyter}
---
kind: WorkspaceTemplate
metadata: {name: large, scope: {project: team-b}, extends: [jupyter]}
spec:
  compute: {gpuDevicesRequest: 4}
  environmentVariables:
    - {name: MODE, value: batch}
    - {name: EXTRA, value: "yes"}
"""


def _config(tmp_path: Path, base: str, users: str = USERS, settings: str = "") -> Path:
    config_dir = tmp_path / "config"
    write_docs(config_dir / "bases" / "jupyter.yaml", [base])
    write_docs(config_dir / "templates.yaml", [users])
    (config_dir / "runai-reconcile.yaml").write_text("server: embedded\n" + settings)
    return config_dir


def _specs(api: Api) -> dict[str, dict[str, Any]]:
    specs = {}
    for meta in server_templates(api):
        if meta["name"] in ("small", "large"):
            specs[meta["name"]] = api.get(f"{WORKSPACES}/{meta['id']}").json()["spec"]
    return specs


def _env(spec: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in spec["environmentVariables"]}


def test_documents_extending_one_base_are_created_and_updated_with_it(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = _config(tmp_path, BASE.format(image="python:3.11"))
    run = cli("apply", "--auto-approve", config_dir)
    assert run.exit_code == 0, run.output
    specs = _specs(api)
    assert specs["small"]["image"] == specs["large"]["image"] == "python:3.11"
    assert specs["small"]["compute"]["gpuDevicesRequest"] == 1
    assert specs["large"]["compute"]["gpuDevicesRequest"] == 4
    assert specs["large"]["compute"]["cpuCoreRequest"] == 0.5
    assert _env(specs["small"]) == {"LEVEL": "info", "MODE": "lab"}
    assert _env(specs["large"]) == {"LEVEL": "info", "MODE": "batch", "EXTRA": "yes"}
    assert cli("plan", config_dir).stdout.strip().endswith("No changes.")

    write_docs(config_dir / "bases" / "jupyter.yaml", [BASE.format(image="python:3.12")])
    plan = cli("plan", "--format", "json", config_dir).json()
    changes = {c["address"]: c["action"] for c in plan["changes"]}
    assert changes == {
        "workspace-template/project=team-a/small": "update",
        "workspace-template/project=team-b/large": "update",
    }
    run = cli("apply", "--auto-approve", config_dir)
    assert run.exit_code == 0, run.output
    assert {s["image"] for s in _specs(api).values()} == {"python:3.12"}
    assert cli("plan", config_dir).stdout.strip().endswith("No changes.")


ENVIRONMENTS = """variables: {TAG: "3.11", LEVEL: info}
environments:
  staging: {variables: {TAG: "3.12-rc"}}
  production: {variables: {LEVEL: warn, TOKEN: !sensitive prod-token}}
"""
WITH_VARIABLES = """kind: Base
metadata: {name: jupyter, for: WorkspaceTemplate}
spec:
  image: "python:${TAG}"
  environmentVariables:
    - {name: LEVEL, value: "${LEVEL}"}
"""


def _after(cli: Cli, config_dir: Path, environment: str, **env: str) -> list[Any]:
    run = cli("--environment", environment, "plan", "--format", "json", config_dir, env=env)
    assert run.exit_code == 0, run.output
    return [(c["after"]["spec"], c["sensitive"]) for c in run.json()["changes"]]


def test_each_environment_plans_its_own_values_from_one_directory(cli: Cli, tmp_path: Path) -> None:
    users = USERS.replace('{name: EXTRA, value: "yes"}', '{name: TOKEN, value: "${TOKEN}"}')
    config_dir = _config(tmp_path, WITH_VARIABLES, users, ENVIRONMENTS)
    # TOKEN comes from the process environment in staging (secret), from the settings in
    # production (tagged !sensitive there); the settings' values are shown.
    staging = _after(cli, config_dir, "staging", TOKEN="from-env", TAG="ignored")
    production = _after(cli, config_dir, "production", TOKEN="from-env")
    assert [s["image"] for s, _ in staging] == ["python:3.12-rc", "python:3.12-rc"]
    assert [s["image"] for s, _ in production] == ["python:3.11", "python:3.11"]
    assert [_env(s)["LEVEL"] for s, _ in staging] == ["info", "info"]
    assert [_env(s)["LEVEL"] for s, _ in production] == ["warn", "warn"]
    for plan in (staging, production):  # sorted by address: small (team-a), then large
        (_, small_secrets), (large, large_secrets) = plan
        assert _env(large)["TOKEN"] == "(sensitive)"
        assert large_secrets == ["spec.environmentVariables[name=TOKEN].value"]
        assert small_secrets == []


def test_an_unset_variable_is_named_in_the_base_for_the_document_using_it(
    cli: Cli, tmp_path: Path
) -> None:
    config_dir = _config(tmp_path, WITH_VARIABLES)
    run = cli("validate", config_dir)
    assert run.exit_code == 1
    assert f"{config_dir}/bases/jupyter.yaml:4:10: error: variable TAG is set neither" in run.output
    assert "used by" in run.output and "templates.yaml:2)" in run.output


def test_base_references_and_values_are_reported_where_they_are_written(
    cli: Cli, tmp_path: Path
) -> None:
    bases = """kind: Base
metadata: {name: jupyter, for: WorkspaceTemplate, extends: loop}
spec:
  image: python:3.11
---
kind: Base
metadata: {name: loop, for: WorkspaceTemplate, extends: jupyter}
---
kind: Base
metadata: {name: training, for: TrainingTemplate}
---
kind: Base
metadata: {name: wrong, for: WorkspaceTemplate}
spec:
  compute: {gpuDevicesRequest: many}
"""
    users = """kind: WorkspaceTemplate
metadata: {name: a, scope: {project: team-a}, extends: jupyter}
---
kind: WorkspaceTemplate
metadata: {name: b, scope: {project: team-a}, extends: [training, missing]}
---
kind: WorkspaceTemplate
metadata: {name: c, scope: {project: team-a}, extends: wrong}
spec: {image: python:3.11}
"""
    config_dir = _config(tmp_path, bases, users)
    run = cli("validate", config_dir)
    assert run.exit_code == 1
    base_file, users_file = config_dir / "bases" / "jupyter.yaml", config_dir / "templates.yaml"
    cycle = f"jupyter ({base_file}:2) -> loop ({base_file}:7) -> jupyter ({base_file}:2)"
    lines = run.output.splitlines()
    assert f"{users_file}:2:56: error: bases extend each other in a cycle: {cycle} " in (
        "\n".join(lines)
    )
    assert any(
        line.startswith(f"{users_file}:5:56: error: base training ({base_file}:10) is for ")
        for line in lines
    )
    assert any(
        line.startswith(f"{users_file}:5:56: error: unknown base 'missing', extended by this")
        for line in lines
    )
    assert any(
        line.startswith(f"{base_file}:15:32: error: expected integer or null")
        and line.endswith(
            f"(in base wrong, used by {users_file}:8) [$.spec.compute.gpuDevicesRequest]"
        )
        for line in lines
    ), lines
    # The bases of the cycle say so themselves, once each.
    assert sum(line.startswith(f"{base_file}:") and "cycle" in line for line in lines) == 2


def test_the_example_plans_its_staging_image_from_the_same_files(
    cli: Cli, examples_dir: Path
) -> None:
    images = {}
    for environment in ("default", "staging"):
        run = cli("--environment", environment, "plan", "--format", "json", examples_dir)
        assert run.exit_code == 0, run.output
        images[environment] = {
            c["address"]: c["after"]["spec"]["image"]
            for c in run.json()["changes"]
            if c["address"].startswith("training-template/")
        }
    assert set(images["default"].values()) == {"nvcr.io/nvidia/pytorch:24.05-py3"}
    assert set(images["staging"].values()) == {"nvcr.io/nvidia/pytorch:24.08-py3"}
    assert images["default"].keys() == images["staging"].keys() and len(images["staging"]) == 2


def test_checking_the_document_file_alone_reports_its_problem_in_the_base(
    cli: Cli, tmp_path: Path
) -> None:
    config_dir = _config(
        tmp_path,
        BASE.format(image="python:3.11").replace("cpuCoreRequest: 0.5", "cpuCoreRequest: x"),
    )
    users, base = config_dir / "templates.yaml", config_dir / "bases" / "jupyter.yaml"
    # As a pre-commit hook runs it: only the changed file, read within its directory.
    run = cli("validate", users)
    assert run.exit_code == 1
    assert f"{base}:5:29: error: expected number or null, got string (in base jupyter" in run.output
    unrelated = write_docs(
        config_dir / "other.yaml", ["kind: WorkloadType\nmetadata: {name: Job}\nspec: {}"]
    )
    assert cli("validate", unrelated).exit_code == 0
