"""A scope list read from YAML: every scoped kind takes one, and each problem names its place
(an empty list, a bad item, a scope listed twice, an address of two documents, a `movedFrom`
that does not say which object moved); the published schemas accept the list
(`check-jsonschema`), and `fmt` keeps it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconcile.config import read_config
from reconcile.model import Address
from reconcile.yamlformat import format_yaml

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
TEMPLATE = """\
kind: WorkspaceTemplate
metadata:
  name: jupyter
  scope:
    - {project: team-a}
    - project: team-b
    - {department: research}
spec:
  image: python:3.11
"""
ONE_SCOPE = """\
kind: WorkspaceTemplate
metadata:
  name: jupyter
  scope: {scope}
spec:
  image: python:3.11
"""


def _read(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    config = read_config(tmp_path, env={})
    return [
        f"{p.line}:{p.col} {p.message.replace(f'{tmp_path}/', '')} [{p.json_path}]"
        for p in config.problems
    ]


def test_a_scope_list_is_one_object_per_scope_each_placed_at_its_item(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(TEMPLATE, encoding="utf-8")
    config = read_config(tmp_path, env={})
    assert config.problems == ()
    assert config.documents == 1
    origins = {str(a): r.origin for a, r in config.resources.items()}
    assert {a: (o.line, o.col) for a, o in origins.items() if o is not None} == {
        "workspace-template/department=research/jupyter": (7, 7),
        "workspace-template/project=team-a/jupyter": (5, 7),
        "workspace-template/project=team-b/jupyter": (6, 7),
    }
    specs = [r.spec for r in config.resources.values()]
    assert all(s == specs[0] for s in specs)


@pytest.mark.parametrize(
    ("kind", "scopes", "spec"),
    [
        ("Project", "[{department: research}, {department: platform}]", "{}"),
        ("Department", "[{cluster: cluster-a}, {cluster: cluster-b}]", "{}"),
        (
            "NodePool",
            "[{cluster: cluster-a}, {cluster: cluster-b}]",
            "{labelKey: a, labelValue: b}",
        ),
        ("AssetTemplate", "[{tenant: true}, {project: team-a}]", "{assets: {environment: e}}"),
        (
            "Workload",
            "[{project: team-a}, {project: team-b}]",
            "{manifest: {apiVersion: v1, kind: Pod, metadata: {name: p}}}",
        ),
    ],
)
def test_every_scoped_kind_takes_a_list(tmp_path: Path, kind: str, scopes: str, spec: str) -> None:
    text = f"kind: {kind}\nmetadata: {{name: unit, scope: {scopes}}}\nspec: {spec}\n"
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    config = read_config(tmp_path, env={})
    assert config.problems == ()
    assert len(config.resources) == 2


def test_an_empty_list_and_bad_items_are_errors_at_their_place(tmp_path: Path) -> None:
    text = (
        "kind: WorkspaceTemplate\nmetadata: {name: a, scope: []}\nspec: {image: x}\n---\n"
        "kind: WorkspaceTemplate\nmetadata:\n  name: b\n"
        "  scope: [{project: Team_A}, {projekt: x}, 3]\nspec: {image: x}\n"
    )
    assert _read(tmp_path, text) == [
        "2:28 must not be empty [$.metadata.scope]",
        "8:21 must match the pattern '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' (got 'Team_A')"
        " [$.metadata.scope[0].project]",
        "8:31 unknown field 'projekt' (did you mean 'project'?) [$.metadata.scope[1].projekt]",
        "8:44 expected mapping, got number [$.metadata.scope[2]]",
    ]


def test_duplicate_addresses_name_both_places(tmp_path: Path) -> None:
    twice = TEMPLATE.replace("project: team-b", "project: team-a")
    assert _read(tmp_path, twice) == [
        "6:7 duplicate address workspace-template/project=team-a/jupyter "
        "(first defined at t.yaml:5:7) [$.metadata.scope[1]]"
    ]
    across = TEMPLATE + "---\n" + ONE_SCOPE.format(scope="{project: team-b}")
    assert _read(tmp_path, across) == [
        "13:9 duplicate address workspace-template/project=team-b/jupyter "
        "(first defined at t.yaml:6:7) [$.metadata.name]"
    ]


def test_moved_from_renames_the_object_of_its_scope_and_refuses_an_ambiguous_move(
    tmp_path: Path,
) -> None:
    renamed = TEMPLATE + "lifecycle: {movedFrom: workspace-template/project=team-b/nb}\n"
    (tmp_path / "t.yaml").write_text(renamed, encoding="utf-8")
    config = read_config(tmp_path, env={})
    assert config.problems == ()
    moved = {str(a): r.lifecycle.moved_from for a, r in config.resources.items()}
    assert moved == {
        "workspace-template/department=research/jupyter": (),
        "workspace-template/project=team-a/jupyter": (),
        "workspace-template/project=team-b/jupyter": (
            Address("workspace-template", "project=team-b", "nb"),
        ),
    }
    elsewhere = TEMPLATE + "lifecycle: {movedFrom: workspace-template/project=team-c/jupyter}\n"
    assert _read(tmp_path, elsewhere) == [
        "10:24 lifecycle.movedFrom workspace-template/project=team-c/jupyter: with a list of "
        "scopes, an old address must lie in one of the listed scopes (it renames the object "
        "of that scope); move an object between scopes in a document of its own "
        "[$.lifecycle.movedFrom]"
    ]
    # One scope in a list says which object moved: any move is as for a single scope.
    one = TEMPLATE.replace("    - project: team-b\n    - {department: research}\n", "")
    moved_one = one + "lifecycle: {movedFrom: workspace-template/project=team-c/jupyter}\n"
    assert _read(tmp_path, moved_one) == []


def _check_jsonschema(schema: Path, instance: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(instance)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("schema", ["workspace-template.json", "document.json", "envelope.json"])
def test_the_published_schemas_accept_a_scope_list_and_refuse_an_empty_one(
    tmp_path: Path, schema: str
) -> None:
    listed = tmp_path / "listed.yaml"
    listed.write_text(TEMPLATE, encoding="utf-8")
    checked = _check_jsonschema(SCHEMAS / schema, listed)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text(ONE_SCOPE.format(scope="[]"), encoding="utf-8")
    refused = _check_jsonschema(SCHEMAS / schema, empty)
    assert refused.returncode == 1, refused.stdout + refused.stderr


def test_fmt_keeps_a_scope_list() -> None:
    assert format_yaml(TEMPLATE) == TEMPLATE
    shuffled = "spec:\n  image: python:3.11\n" + TEMPLATE.split("spec:")[0]
    assert format_yaml(shuffled) == TEMPLATE
