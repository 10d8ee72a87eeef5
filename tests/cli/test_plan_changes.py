"""`plan` after config edits, end to end: clearing a field, moving a scope, deleting only what
state owns, adopting unowned objects, and `--target` / `--exclude`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Change
from reconcile.planner import request_for
from reconcile.state import StateStore
from tests.cli.helpers import Cli, addresses, put_on_server, read_state, state_path
from tests.emulator.helpers import Api, create_template

JUPYTER = "workspace-template/project=team-a/jupyter-small"
VSCODE_OLD = "workspace-template/department=research/vscode"
VSCODE_NEW = "workspace-template/department=platform/vscode"
SANDBOX = "workspace-template/cluster=cluster-a/cpu-sandbox"
LLM = "inference-template/project=inference/llm-serving"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _drop_document(path: Path, name: str) -> None:
    """Remove the document named `name` from a multi-document YAML file."""
    docs = path.read_text(encoding="utf-8").split("\n---\n")
    kept = [d for d in docs if f"  name: {name}\n" not in d]
    assert len(kept) == len(docs) - 1, f"no document {name} in {path}"
    path.write_text("\n---\n".join(kept), encoding="utf-8")


def _changes(cli: Cli, config_dir: Path, *args: str) -> dict[str, dict[str, Any]]:
    run = cli("plan", config_dir, "--format", "json", "--detailed-exitcode", *args)
    assert run.exit_code in (0, 2), run.output
    return {c["address"]: c for c in run.json()["changes"]}


def _actionable(changes: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {a: c["action"] for a, c in changes.items() if c["action"] != "no-op"}


def test_removed_field_plans_a_patch_that_clears_it(cli: Cli, examples_dir: Path, api: Api) -> None:
    put_on_server(examples_dir, cli.url)
    _edit(examples_dir / "templates/workspaces.yaml", "  imagePullPolicy: IfNotPresent\n", "")
    changes = _changes(cli, examples_dir)
    assert _actionable(changes) == {JUPYTER: "update"}
    change = changes[JUPYTER]
    remote_id = read_state(examples_dir).entries[Change.from_dict(change).address].remote_id
    assert change["calls"] == [
        {"method": "PATCH", "path": f"/api/v1/workload-templates/workspaces/{remote_id}"}
    ]
    assert [(f["path"], f["kind"]) for f in change["fields"]] == [("spec.imagePullPolicy", "clear")]
    # The PATCH the applier sends for this change carries it in fieldsToClear.
    planned = Change.from_dict(change)
    body = request_for(BY_SLUG[planned.address.kind], planned, Lookups()).body
    assert body["fieldsToClear"] == ["spec.imagePullPolicy"]
    text = cli("plan", examples_dir).stdout
    assert "- spec.imagePullPolicy (cleared)" in text
    put_on_server(examples_dir, cli.url)  # the apply engine sends that PATCH
    served = api.get(f"/api/v1/workload-templates/workspaces/{remote_id}").json()
    assert "imagePullPolicy" not in served["spec"]
    assert cli("plan", examples_dir).stdout == "No changes.\n"


def test_changed_scope_plans_a_replace_that_moves_the_object(cli: Cli, examples_dir: Path) -> None:
    state = put_on_server(examples_dir, cli.url)
    old_id = next(e.remote_id for a, e in state.entries.items() if str(a) == VSCODE_OLD)
    _edit(
        examples_dir / "templates/workspaces.yaml",
        "scope: {department: research}",
        "scope: {department: platform}",
    )
    changes = _changes(cli, examples_dir)
    assert _actionable(changes) == {VSCODE_NEW: "replace"}
    move = changes[VSCODE_NEW]
    assert move["actions"] == ["delete", "create"]
    assert (move["replaces"], move["replace_paths"]) == (VSCODE_OLD, ["metadata.scope"])
    assert move["calls"] == [
        {"method": "DELETE", "path": f"/api/v1/workload-templates/workspaces/{old_id}"},
        {"method": "POST", "path": "/api/v1/workload-templates/workspaces"},
    ]
    text = cli("plan", examples_dir).stdout
    assert f"-/+ {VSCODE_NEW} (scope changed: moves from {VSCODE_OLD})" in text
    assert "# forces replacement: metadata.scope" in text


def test_a_move_is_only_paired_when_both_addresses_are_selected(
    cli: Cli, examples_dir: Path
) -> None:
    """Excluding the old address of a scope move must never delete it."""
    put_on_server(examples_dir, cli.url)
    _edit(
        examples_dir / "templates/workspaces.yaml",
        "scope: {department: research}",
        "scope: {department: platform}",
    )
    only_new = _changes(cli, examples_dir, "--exclude", VSCODE_OLD)
    assert _actionable(only_new) == {VSCODE_NEW: "create"}
    only_old = _changes(cli, examples_dir, "--target", VSCODE_OLD)
    assert _actionable(only_old) == {VSCODE_OLD: "delete"}


def test_any_change_of_an_inference_template_is_a_replace(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    _edit(examples_dir / "templates/inference.yaml", "vllm-openai:v0.5.3", "vllm-openai:v0.6.0")
    changes = _changes(cli, examples_dir)
    assert _actionable(changes) == {LLM: "replace"}
    assert changes[LLM]["replace_paths"] == ["spec.image"]
    assert [c["method"] for c in changes[LLM]["calls"]] == ["DELETE", "POST"]


def test_removed_document_is_deleted_only_when_state_owns_it(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    put_on_server(examples_dir, cli.url)
    # A template someone made by hand: live, not desired, not owned -> never touched.
    create_template(api, "workspaces", "hand-made")
    _drop_document(examples_dir / "templates/workspaces.yaml", "cpu-sandbox")
    changes = _changes(cli, examples_dir)
    assert _actionable(changes) == {SANDBOX: "delete"}
    assert changes[SANDBOX]["calls"][0]["method"] == "DELETE"
    assert not any("hand-made" in address for address in changes)
    # Not in state any more (forgotten by hand): dropping its document plans nothing.
    state = read_state(examples_dir)
    owned = next(a for a in state.entries if str(a) == SANDBOX)
    StateStore(state_path(examples_dir)).write(state.without(owned))
    assert _actionable(_changes(cli, examples_dir)) == {}


def test_dropped_workload_type_is_forgotten_not_deleted(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    _drop_document(examples_dir / "workload-types.yaml", "Notebook")
    changes = _changes(cli, examples_dir)
    assert _actionable(changes) == {"workload-type/Notebook": "forget"}
    assert changes["workload-type/Notebook"]["calls"] == []


def test_unowned_live_objects_need_adopt(cli: Cli, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    state_path(examples_dir).unlink()  # the server holds everything, state owns nothing
    run = cli("plan", examples_dir, "--detailed-exitcode")
    assert run.exit_code == 1
    assert "--adopt" in run.stderr and run.stdout == ""
    deletable = [a for a in addresses(examples_dir) if a.kind != "workload-type"]
    for address in deletable:
        assert str(address) in run.stderr
    assert "workload-type/" not in run.stderr  # built-ins are adopted implicitly

    _edit(examples_dir / "templates/trainings.yaml", "4 trials at a time", "8 trials at a time")
    changes = _changes(cli, examples_dir, "--adopt")
    adopted = {a: (c["action"], c["reason"]) for a, c in changes.items()}
    for address in deletable:
        expected = "update" if address.name == "hpo-sweep" else "no-op"
        assert adopted[str(address)] == (expected, "adopt")
    update = changes["training-template/project=team-b/hpo-sweep"]
    assert [(f["path"], f["kind"]) for f in update["fields"]] == [
        ("metadata.description", "change")
    ]


def test_target_and_exclude_filter_the_plan(cli: Cli, examples_dir: Path) -> None:
    every = {str(a) for a in addresses(examples_dir)}
    only_types = _changes(cli, examples_dir, "--target", "workload-type")
    assert set(only_types) == {a for a in every if a.startswith("workload-type/")}
    one = _changes(cli, examples_dir, "--target", JUPYTER)
    assert set(one) == {JUPYTER}
    two = _changes(cli, examples_dir, "--target", JUPYTER, "--target", "workload/")
    assert set(two) == {JUPYTER} | {a for a in every if a.startswith("workload/")}
    excluded = _changes(cli, examples_dir, "--exclude", "workload", "--exclude", SANDBOX)
    assert set(excluded) == {a for a in every if not a.startswith("workload/")} - {SANDBOX}
    both = _changes(cli, examples_dir, "--target", "workspace-template", "--exclude", SANDBOX)
    assert set(both) == {a for a in every if a.startswith("workspace-template/")} - {SANDBOX}
    text = cli("plan", examples_dir, "--target", JUPYTER).stdout
    assert text.endswith("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.\n")
