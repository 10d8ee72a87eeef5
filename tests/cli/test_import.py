"""`import`: an existing tenant, made through the plain API, becomes a config that plans
"No changes.", and every change to it afterwards plans exactly that change."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.helpers import Cli, read_state
from tests.cli.tenant import SECRET, create_tenant, workload_body
from tests.emulator.helpers import Api

VARIABLE = re.compile(r"^  ([A-Z0-9_]+)  \((\S+) (\S+)\)$", re.MULTILINE)


def variables(output: str) -> dict[str, str]:
    """The variables `import` asks for, each set to the value the tenant holds (the test knows
    them: environment variable values are credentials; MODE is `on`, the others SECRET)."""
    found = VARIABLE.findall(output)
    return {name: "on" if path.endswith("[name=MODE].value") else SECRET for name, _, path in found}


def changes(cli: Cli, config: Path, env: dict[str, str]) -> list[dict[str, object]]:
    run = cli("plan", "--format", "json", config, env=env)
    assert run.exit_code == 0, run.output
    found: list[dict[str, object]] = run.json()["changes"]
    return [c for c in found if c["action"] != "no-op"]


def test_round_trip_of_every_kind_and_scope(cli: Cli, api: Api, tmp_path: Path) -> None:
    made = create_tenant(api)
    config = tmp_path / "config"
    run = cli("import", config)
    assert run.exit_code == 0, run.output
    imported = sorted(str(a) for a in addresses_with(config, run.stdout))
    # The seeded org tree and assets are imported too.
    seeded = {"node-pool", "department", "project", "environment", "compute", "datasource"}
    assert [a for a in imported if a.split("/")[0] not in seeded] == sorted(
        a for a in made if a.split("/")[0] not in seeded
    )
    assert set(made) <= set(imported)
    assert "project/department=research/team-a" in imported
    assert {
        "environment/tenant/jupyter-lab",
        "environment/project=team-a/vscode",
        "compute/department=research/cpu-only",
        "datasource/project=team-a/home",
        "datasource/department=research/datasets",
        "datasource/tenant/examples",
    } <= set(imported)
    env = variables(run.stdout)
    # Every environment variable value of every template and environment asset, and the
    # secret of each credential and registry that holds one.
    assert len(env) == 16 * 2 + 4 + 1 + 5
    text = "\n".join(p.read_text() for p in config.rglob("*.yaml"))
    # No secret, nor a word of one (a data source's type names what it mounts; credential
    # fields and types name theirs).
    fields = ("secretAccessKey", "existingSecretName", "generic-secret", "type: secret")
    assert SECRET not in text and "secret" not in re.sub("|".join(fields), "", text).lower()
    assert "$${RUNAI_PROJECT}" in text  # Run:ai's own placeholder, kept literal
    assert "exclude" not in text and "readOnly" not in text  # schema defaults left out
    assert cli("validate", config, env={**env, "RUNAI_URL": None}).exit_code == 0
    # The secrets the server never shows are recorded by the first apply, with no write.
    plan = cli("plan", "--detailed-exitcode", config, env=env)
    assert plan.exit_code == 2 and "5 to record in state." in plan.stdout, plan.output
    api.clear_log()
    assert cli("apply", "--auto-approve", config, env=env).exit_code == 0
    writes = [r for r in api.request_log()["requests"] if r["method"] != "GET"]
    assert [r["path"] for r in writes] in ([], ["/api/v1/token"])
    assert SECRET not in next((config / "state").glob("*.json")).read_text()
    plan = cli("plan", "--detailed-exitcode", config, env=env)
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout
    for file, before, after, path in [
        ("workspace-templates/project-team-a.yaml", "image: python:3.11", "image: python:3.12",
         "spec.image"),
        ("asset-templates/tenant.yaml", "args: \"--debug\"", "args: \"--verbose\"",
         "spec.specificEnv.args"),
        ("workload-types.yaml", "priority: high", "priority: low", "spec.priority"),
        ("workloads/project-team-a.yaml", "replicas: 1", "replicas: 2",
         "spec.manifest.spec.replicas"),
    ]:  # fmt: skip
        target = config / file
        original = target.read_text()
        assert original.count(before) == 1, (file, original)
        target.write_text(original.replace(before, after))
        planned = changes(cli, config, env)
        assert [[f["path"] for f in c["fields"]] for c in planned] == [[path]], planned  # type: ignore[union-attr]
        target.write_text(original)
    (config / "workspace-templates" / "project-team-a.yaml").unlink()  # adopted: now deleted
    planned = changes(cli, config, env)
    assert [(c["action"], c["address"]) for c in planned] == [
        ("delete", "workspace-template/project=team-a/workspaces-project")
    ]


def addresses_with(config: Path, output: str) -> list[object]:
    return addresses_env(config, variables(output))


def addresses_env(config: Path, env: dict[str, str]) -> list[object]:
    from reconcile.config import load_config

    return sorted(load_config(config, env=env).resources)


def test_importing_twice_adds_nothing(cli: Cli, api: Api, tmp_path: Path) -> None:
    create_tenant(api)
    config = tmp_path / "config"
    first = cli("import", config)
    assert first.exit_code == 0, first.output
    files = {p: p.read_bytes() for p in config.rglob("*") if p.is_file()}
    serial = read_state(config).serial
    again = cli("import", "--add", config)
    assert again.exit_code == 0, again.output
    assert "Imported 0 objects" in again.stdout
    assert {p: p.read_bytes() for p in config.rglob("*") if p.is_file()} == files
    assert read_state(config).serial == serial


def test_add_writes_only_new_objects_into_new_files(cli: Cli, api: Api, tmp_path: Path) -> None:
    create_tenant(api)
    config = tmp_path / "config"
    assert cli("import", "--kind", "Workload", config).exit_code == 0
    mine = config / "workloads" / "project-team-a.yaml"
    mine.write_text(mine.read_text() + "# my notes\n")
    user_text = mine.read_text()
    assert api.post("/api/v2/workloads", workload_body("api")).status_code == 202
    run = cli("import", "--add", "--kind", "Workload", config)
    assert run.exit_code == 0, run.output
    assert "Clash: workloads/project-team-a.yaml exists" in run.stderr
    assert mine.read_text() == user_text
    added = config / "workloads" / "project-team-a.imported.yaml"
    assert "name: api" in added.read_text() and "name: web" not in added.read_text()
    assert cli("plan", "--detailed-exitcode", config).exit_code == 0


def test_filters_and_no_state(cli: Cli, api: Api, tmp_path: Path) -> None:
    create_tenant(api)
    config = tmp_path / "config"
    run = cli(
        "import", "--no-state", "--kind", "TrainingTemplate", "--kind", "inference-template",
        "--scope", "tenant", "--scope", "project=team-a", "--name", "*-project", config,
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    found = addresses_env(config, variables(run.stdout))
    assert [str(a) for a in found] == [
        "inference-template/project=team-a/inferences-project",
        "training-template/project=team-a/trainings-project",
    ]
    assert not (config / "state").exists()


def test_built_in_types_as_shipped_only_when_asked(cli: Cli, tmp_path: Path) -> None:
    run = cli("import", "--kind", "WorkloadType", tmp_path / "a")
    assert run.exit_code == 0 and "Imported 0 objects" in run.stdout
    everything = cli("import", "--all", "--kind", "WorkloadType", tmp_path / "b")
    assert everything.exit_code == 0, everything.output
    text = (tmp_path / "b" / "workload-types.yaml").read_text()
    assert "name: PyTorchJob" in text and "name: TrainingWorkload" in text
    assert cli("plan", "--detailed-exitcode", tmp_path / "b").exit_code == 0


def test_a_non_empty_directory_needs_add(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    run = cli("import", tmp_path)
    assert run.exit_code == 64
    assert "exists and is not empty" in run.stderr and "--add" in run.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_unknown_kind_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    run = cli("import", "--kind", "Template", tmp_path / "out")
    assert run.exit_code == 64 and "unknown kind 'Template'" in run.stderr


def test_state_records_adoption_with_secrets_hashed(cli: Cli, api: Api, tmp_path: Path) -> None:
    create_tenant(api)
    config = tmp_path / "config"
    run = cli("import", config)
    assert run.exit_code == 0, run.output
    state_text = next((config / "state").glob("*.json")).read_text()
    assert SECRET not in state_text
    assert len(json.loads(state_text)["resources"]) == len(addresses_with(config, run.stdout))
