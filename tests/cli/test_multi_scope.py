"""One document for many scopes, end to end through the CLI and the emulator: a 3-scope
document creates three objects and converges, dropping a scope deletes exactly that object,
`--target`, drift and `protect` act per address, and `import --fold` writes identical
objects of several scopes as one document that plans "No changes."."""

from __future__ import annotations

import re
from pathlib import Path

from reconcile.model import Address
from tests.cli.apply_helpers import server_templates
from tests.cli.helpers import Cli, read_state, write_docs
from tests.emulator.helpers import Api

WORKSPACES = "/api/v1/workload-templates/workspaces"
VARIABLE = re.compile(r"^  ([A-Z0-9_]+)  \(", re.MULTILINE)
SCOPES = "[{project: team-a}, {project: team-b}, {department: research}]"
DOC = """kind: WorkspaceTemplate
metadata:
  name: jupyter
  scope: {scopes}
spec:
  image: python:3.11
  compute: {{cpuCoreRequest: 0.5}}
{lifecycle}"""
ADDRESSES = [
    "workspace-template/department=research/jupyter",
    "workspace-template/project=team-a/jupyter",
    "workspace-template/project=team-b/jupyter",
]


def _config(tmp_path: Path, scopes: str = SCOPES, lifecycle: str = "") -> Path:
    config_dir = tmp_path / "config"
    write_docs(config_dir / "t.yaml", [DOC.format(scopes=scopes, lifecycle=lifecycle)])
    (config_dir / "runai-reconcile.yaml").write_text("server: embedded\n")
    return config_dir


def _changes(cli: Cli, config_dir: Path, *args: str) -> list[tuple[str, str]]:
    plan = cli("plan", "--format", "json", *args, config_dir)
    assert plan.exit_code == 0, plan.output
    return [(c["address"], c["action"]) for c in plan.json()["changes"] if c["action"] != "no-op"]


def _scopes_on_server(api: Api) -> list[tuple[str, str | None]]:
    return sorted(
        (m["scopeType"], m.get("projectId") or m.get("departmentId"))
        for m in server_templates(api)
        if m["name"] == "jupyter"
    )


def test_three_scopes_create_three_objects_converge_and_a_dropped_scope_is_one_delete(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = _config(tmp_path)
    assert _changes(cli, config_dir) == [(a, "create") for a in ADDRESSES]
    run = cli("apply", "--auto-approve", config_dir)
    assert run.exit_code == 0, run.output
    assert sorted(str(a) for a in read_state(config_dir).entries) == ADDRESSES
    assert len(_scopes_on_server(api)) == 3
    plan = cli("plan", "--detailed-exitcode", config_dir)
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output

    dropped = SCOPES.replace("{project: team-b}, ", "")
    write_docs(config_dir / "t.yaml", [DOC.format(scopes=dropped, lifecycle="")])
    assert _changes(cli, config_dir) == [(ADDRESSES[2], "delete")]
    run = cli("apply", "--auto-approve", config_dir)
    assert run.exit_code == 0, run.output
    assert sorted(str(a) for a in read_state(config_dir).entries) == ADDRESSES[:2]
    assert len(_scopes_on_server(api)) == 2
    assert "No changes." in cli("plan", config_dir).stdout


def test_target_and_exclude_select_one_scope_of_the_list(cli: Cli, tmp_path: Path) -> None:
    config_dir = _config(tmp_path)
    assert _changes(cli, config_dir, "--target", ADDRESSES[1]) == [(ADDRESSES[1], "create")]
    excluded = _changes(cli, config_dir, "--exclude", "workspace-template/project=team-a")
    assert excluded == [(ADDRESSES[0], "create"), (ADDRESSES[2], "create")]


def test_drift_and_protect_are_per_address(cli: Cli, tmp_path: Path, api: Api) -> None:
    config_dir = _config(tmp_path, lifecycle="lifecycle: {protect: true}")
    assert cli("apply", "--auto-approve", config_dir).exit_code == 0
    remote_id = read_state(config_dir).entries[Address.parse(ADDRESSES[1])].remote_id
    answer = api.patch(f"{WORKSPACES}/{remote_id}", {"spec": {"image": "python:3.12"}})
    assert answer.status_code == 200, answer.text
    report = cli("drift", "--format", "json", config_dir).json()
    assert [d["address"] for d in report["drift"]] == [ADDRESSES[1]]

    # Each object of the list inherits `protect`: dropping one scope is refused.
    write_docs(config_dir / "t.yaml", [DOC.format(scopes="[{project: team-a}]", lifecycle="")])
    plan = cli("plan", config_dir)
    assert plan.exit_code == 1
    assert f"{ADDRESSES[0]} (delete)" in plan.output and f"{ADDRESSES[2]} (delete)" in plan.output


def test_import_fold_writes_one_document_that_plans_no_changes(cli: Cli, tmp_path: Path) -> None:
    config_dir = _config(tmp_path)
    with_variable = DOC.format(scopes="[{project: team-a}, {project: inference}]", lifecycle="")
    with_variable = with_variable.replace("jupyter", "serve") + (
        "  environmentVariables: [{name: HF_TOKEN, value: hf-1}]\n"
    )
    lone = DOC.format(scopes="{project: team-b}", lifecycle="").replace("jupyter", "lone")
    write_docs(config_dir / "more.yaml", [with_variable, lone])
    assert cli("apply", "--auto-approve", config_dir).exit_code == 0
    imported = tmp_path / "imported"
    run = cli("import", "--fold", "--kind", "WorkspaceTemplate", imported)
    assert run.exit_code == 0, run.output
    assert "Imported 6 objects into 2 files" in run.stdout
    folded = imported / "workspace-templates" / "many-scopes.yaml"
    text = folded.read_text()
    assert text.count("kind: WorkspaceTemplate") == 2
    # Sorted by address form, whatever order the server lists them in.
    assert text.index("department: research") < text.index("project: team-a")
    assert text.index("project: team-a") < text.index("project: team-b")
    assert "lone" in (imported / "workspace-templates" / "project-team-b.yaml").read_text()
    # Values that became `${VAR}` are named once, after the first scope, for every scope.
    (variable,) = VARIABLE.findall(run.stdout)
    assert variable.startswith("WORKSPACE_TEMPLATE_PROJECT_INFERENCE_SERVE_")
    assert text.count("${" + variable + "}") == 1
    plan = cli("plan", "--detailed-exitcode", imported, env={variable: "hf-1"})
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output
