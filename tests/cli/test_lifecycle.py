"""A document's `lifecycle:` end to end through the CLI and the emulator: `movedFrom` renames
the object state knows (in place, or by a replace where the kind has no update), `protect`
stops a delete or a replace even with `--force`, `ignoreChanges` paths edited on the server
are neither changes nor drift, and `--replace` replaces exactly the object it names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.model import Address
from tests.cli.apply_helpers import server_templates
from tests.cli.helpers import Cli, read_state, write_docs
from tests.emulator.helpers import Api

WORKSPACES = "/api/v1/workload-templates/workspaces"
WORKSPACE = """kind: WorkspaceTemplate
metadata:
  name: {name}
  scope: {{project: team-a}}
spec:
  image: {image}
  compute: {{cpuCoreRequest: 0.5}}
{lifecycle}"""
INFERENCE = """kind: InferenceTemplate
metadata:
  name: {name}
  scope: {{project: team-a}}
spec:
  image: vllm/vllm-openai:v0.5.3
  servingPort: {{container: 8000, protocol: http}}
{lifecycle}"""


def _doc(template: str, name: str, lifecycle: str = "", image: str = "python:3.11") -> str:
    return template.format(name=name, image=image, lifecycle=lifecycle)


def _config(tmp_path: Path, *docs: str) -> Path:
    config_dir = tmp_path / "config"
    write_docs(config_dir / "t.yaml", docs)
    (config_dir / "runai-reconcile.yaml").write_text("server: embedded\n")
    return config_dir


def _apply(cli: Cli, config_dir: Path, *args: str) -> None:
    run = cli("apply", "--auto-approve", *args, config_dir)
    assert run.exit_code == 0, run.output


def _ids(api: Api) -> dict[str, str]:
    return {m["name"]: m["id"] for m in server_templates(api)}


@pytest.mark.parametrize(
    ("template", "slug", "action", "same_id"),
    [
        (WORKSPACE, "workspace-template", "update", True),
        (INFERENCE, "inference-template", "replace", False),
    ],
)
def test_moved_from_renames_the_object_in_one_apply_and_converges(
    cli: Cli, tmp_path: Path, api: Api, template: str, slug: str, action: str, same_id: bool
) -> None:
    config_dir = _config(tmp_path, _doc(template, "old-name"))
    _apply(cli, config_dir)
    old_id = _ids(api)["old-name"]
    old, new = f"{slug}/project=team-a/old-name", f"{slug}/project=team-a/new-name"

    moved = f"lifecycle:\n  movedFrom: {old}\n"
    write_docs(config_dir / "t.yaml", [_doc(template, "new-name", moved)])
    plan = cli("plan", "--format", "json", config_dir)
    assert plan.exit_code == 0, plan.output
    (change,) = [c for c in plan.json()["changes"] if c["action"] != "no-op"]
    assert (change["address"], change["action"], change["replaces"]) == (new, action, old)
    assert "old-name" in change["reason"]
    text = cli("plan", config_dir).stdout
    assert f"# moved from {old}" in text and "1 to add" not in text
    assert plan.json()["drift"] == []  # a declared move is a change, not drift
    pending = cli("drift", config_dir)
    assert pending.exit_code == 0 and "No drift." in pending.stdout, pending.output

    _apply(cli, config_dir)
    ids = _ids(api)
    assert list(ids) == ["new-name"]  # one live object: no orphan, no duplicate
    assert (ids["new-name"] == old_id) is same_id
    assert set(map(str, read_state(config_dir).entries)) == {new}
    # The declaration stays in the config, harmlessly.
    again = cli("plan", "--detailed-exitcode", config_dir)
    assert again.exit_code == 0 and "No changes." in again.stdout, again.output


def test_moved_from_an_object_renamed_on_the_server_already_moves_state_only(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = _config(tmp_path, _doc(WORKSPACE, "old-name"))
    _apply(cli, config_dir)
    remote_id = _ids(api)["old-name"]
    renamed = api.patch(f"{WORKSPACES}/{remote_id}", {"meta": {"name": "new-name"}})
    assert renamed.status_code == 200, renamed.text
    old, new = (f"workspace-template/project=team-a/{n}" for n in ("old-name", "new-name"))

    write_docs(
        config_dir / "t.yaml", [_doc(WORKSPACE, "new-name", f"lifecycle: {{movedFrom: {old}}}\n")]
    )
    plan = cli("plan", "--format", "json", config_dir)
    (change,) = plan.json()["changes"]
    assert (change["action"], change["records_state"], change["replaces"]) == ("no-op", True, old)
    assert change["calls"] == []
    _apply(cli, config_dir)
    assert _ids(api) == {"new-name": remote_id}
    assert set(map(str, read_state(config_dir).entries)) == {new}
    # Converged: with the declaration, and once it is removed.
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "new-name")])
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0


def test_protect_blocks_a_delete_and_a_replace_even_with_force(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    address = "workspace-template/project=team-a/kept"
    protected = _doc(WORKSPACE, "kept", "lifecycle: {protect: true}\n")
    config_dir = _config(tmp_path, protected, _doc(WORKSPACE, "other"))
    _apply(cli, config_dir)
    assert read_state(config_dir).entries[Address.parse(address)].protected
    kept_id = _ids(api)["kept"]

    for args in (
        ("plan", "--replace", address),
        ("apply", "--auto-approve", "--force", "--replace", address),
    ):
        run = cli(*args, config_dir)
        assert run.exit_code == 1 and f"{address} (replace)" in run.output, run.output

    # Removing the document does not lift the protection: state recorded it.
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "other")])
    for args in (("plan",), ("apply", "--auto-approve", "--force")):
        run = cli(*args, config_dir)
        assert run.exit_code == 1 and f"{address} (delete)" in run.output, run.output
        assert "lifecycle.protect" in run.output
    assert _ids(api)["kept"] == kept_id

    # A reviewed change first drops the flag (recorded in state with no call); then it goes.
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "kept"), _doc(WORKSPACE, "other")])
    plan = cli("plan", config_dir)
    assert "lifecycle.protect is now false" in plan.stdout, plan.output
    _apply(cli, config_dir)
    assert _ids(api)["kept"] == kept_id
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "other")])
    _apply(cli, config_dir)
    assert list(_ids(api)) == ["other"]


def test_an_ignored_field_edited_on_the_server_is_neither_change_nor_drift(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    ignored = "lifecycle:\n  ignoreChanges: [spec.compute.cpuCoreRequest]\n"
    config_dir = _config(tmp_path, _doc(WORKSPACE, "tuned", ignored))
    _apply(cli, config_dir)
    remote_id = _ids(api)["tuned"]
    # Created with the document's value.
    assert api.get(f"{WORKSPACES}/{remote_id}").json()["spec"]["compute"]["cpuCoreRequest"] == 0.5

    edited = api.patch(f"{WORKSPACES}/{remote_id}", {"spec": {"compute": {"cpuCoreRequest": 2}}})
    assert edited.status_code == 200, edited.text
    plan = cli("plan", "--detailed-exitcode", config_dir)
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output
    assert cli("drift", config_dir).exit_code == 0

    # An update of another field leaves the server's value in place.
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "tuned", ignored, image="python:3.12")])
    _apply(cli, config_dir)
    spec = api.get(f"{WORKSPACES}/{remote_id}").json()["spec"]
    assert (spec["image"], spec["compute"]["cpuCoreRequest"]) == ("python:3.12", 2)
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0

    # Without the declaration the same difference is drift and a change again.
    write_docs(config_dir / "t.yaml", [_doc(WORKSPACE, "tuned", image="python:3.12")])
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 2


def test_replace_replaces_exactly_the_named_object(cli: Cli, tmp_path: Path, api: Api) -> None:
    config_dir = _config(tmp_path, _doc(WORKSPACE, "a"), _doc(WORKSPACE, "b"))
    _apply(cli, config_dir)
    before = _ids(api)
    address = "workspace-template/project=team-a/a"

    plan = cli("plan", "--format", "json", "--replace", address, config_dir)
    assert plan.exit_code == 0, plan.output
    actions = {c["address"]: (c["action"], c["reason"]) for c in plan.json()["changes"]}
    assert actions == {
        address: ("replace", "replacement requested (--replace)"),
        "workspace-template/project=team-a/b": ("no-op", ""),
    }
    assert plan.json()["binding"]["selection"]["replace"] == [address]

    # Saved and applied: the plan file records --replace, so its re-plan makes the same plan.
    saved = cli("plan", "--replace", address, "-out", tmp_path / "p.json", config_dir)
    assert saved.exit_code == 0, saved.output
    applied = cli("apply", tmp_path / "p.json")
    assert applied.exit_code == 0, applied.output
    after = _ids(api)
    assert after["b"] == before["b"] and after["a"] != before["a"]
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0

    unknown = cli("plan", "--replace", "workspace-template/project=team-a/nope", config_dir)
    assert unknown.exit_code == 1
    assert "--replace workspace-template/project=team-a/nope: no such address" in unknown.output


def test_lifecycle_conflicts_are_errors_with_file_and_line(cli: Cli, tmp_path: Path) -> None:
    old = "workspace-template/project=team-a/old"
    moved = f"lifecycle: {{movedFrom: [{old}]}}\n"
    config_dir = _config(
        tmp_path,
        _doc(WORKSPACE, "one", moved),
        _doc(WORKSPACE, "two", moved),
        _doc(WORKSPACE, "three", "lifecycle: {movedFrom: workspace-template/project=team-a/one}\n"),
        _doc(WORKSPACE, "four", "lifecycle: {ignoreChanges: [spec.compute.noSuchField]}\n"),
    )
    run = cli("validate", config_dir)
    assert run.exit_code == 1, run.output
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.output
    one, chain, path = (line.split("/config/", 1)[1] for line in lines)
    assert one.startswith(f"t.yaml:10:1: error: lifecycle.movedFrom {old} is claimed by ")
    assert "project=team-a/one too (at " in one
    assert one.endswith("/config/t.yaml:1:1) [$.lifecycle.movedFrom]")
    assert chain.startswith("t.yaml:19:1: error: lifecycle.movedFrom ")
    assert "project=team-a/one is also a desired address" in chain
    assert path.startswith("t.yaml:35:29: error: spec.compute.noSuchField: no such field")
