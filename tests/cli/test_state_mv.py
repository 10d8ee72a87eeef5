"""`state mv` keeps the live object: after renaming a document and moving its state entry,
the plan renames that very object where the API can (workspace templates: PATCH carries the
name), else replaces it (inference templates have no update) — never a create beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.model import Address
from tests.cli.apply_helpers import server_templates
from tests.cli.helpers import Cli, read_state, write_docs
from tests.emulator.helpers import Api

WORKSPACE = """kind: WorkspaceTemplate
metadata:
  name: {name}
  scope: {{project: team-a}}
spec:
  image: python:3.11
"""
INFERENCE = """kind: InferenceTemplate
metadata:
  name: {name}
  scope: {{project: team-a}}
spec:
  image: vllm/vllm-openai:v0.5.3
  servingPort: {{container: 8000, protocol: http}}
"""


def _applied(cli: Cli, tmp_path: Path, doc: str) -> Path:
    """A config directory holding `doc`, applied."""
    config_dir = tmp_path / "config"
    write_docs(config_dir / "t.yaml", [doc])
    (config_dir / "runai-reconcile.yaml").write_text("server: embedded\n")
    assert cli("apply", "--auto-approve", config_dir).exit_code == 0
    return config_dir


@pytest.mark.parametrize(
    ("doc", "slug", "action", "same_id"),
    [
        (WORKSPACE, "workspace-template", "update", True),
        (INFERENCE, "inference-template", "replace", False),
    ],
)
def test_state_mv_renames_or_replaces_the_live_object(
    cli: Cli, tmp_path: Path, api: Api, doc: str, slug: str, action: str, same_id: bool
) -> None:
    config_dir = _applied(cli, tmp_path, doc.format(name="old-name"))
    old_id = next(m["id"] for m in server_templates(api) if m["name"] == "old-name")

    write_docs(config_dir / "t.yaml", [doc.format(name="new-name")])
    old, new = f"{slug}/project=team-a/old-name", f"{slug}/project=team-a/new-name"
    assert cli("state", "mv", "-C", config_dir, old, new).exit_code == 0
    plan = cli("plan", "--format", "json", config_dir)
    assert plan.exit_code == 0, plan.output
    changes = {c["address"]: c for c in plan.json()["changes"]}
    assert changes[new]["action"] == action, changes
    assert changes[new]["replaces"] == old and "old-name" in changes[new]["reason"]

    applied = cli("apply", "--auto-approve", config_dir)
    assert applied.exit_code == 0, applied.output
    names = {m["name"]: m["id"] for m in server_templates(api)}
    assert "old-name" not in names and "new-name" in names  # no orphan, no duplicate
    assert (names["new-name"] == old_id) is same_id
    assert read_state(config_dir).entries[Address.parse(new)].remote_id == names["new-name"]
    again = cli("plan", "--detailed-exitcode", config_dir)
    assert again.exit_code == 0, again.output


def test_an_owned_object_renamed_on_the_server_is_renamed_back(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = _applied(cli, tmp_path, WORKSPACE.format(name="kept"))
    remote_id = next(m["id"] for m in server_templates(api) if m["name"] == "kept")
    renamed = api.patch(
        f"/api/v1/workload-templates/workspaces/{remote_id}", {"meta": {"name": "moved"}}
    )
    assert renamed.status_code == 200, renamed.text
    applied = cli("apply", "--auto-approve", config_dir)
    assert applied.exit_code == 0, applied.output
    assert {m["name"]: m["id"] for m in server_templates(api)} == {"kept": remote_id}
