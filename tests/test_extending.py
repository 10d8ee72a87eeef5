"""Documents laid over shared bases while a config directory is read (reconcile/extending.py):
by one process or by worker processes, sensitivity following each value, and the settings'
variables shown unless tagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.config import read_config
from reconcile.model import Address

BASES = """kind: Base
metadata: {name: web, for: WorkspaceTemplate}
spec:
  image: "nginx:${TAG}"
  environmentVariables:
    - {name: TOKEN, value: !sensitive base-token}
    - {name: LEVEL, value: !sensitive hidden-level}
---
kind: Base
metadata: {name: web-gpu, for: WorkspaceTemplate, extends: web}
spec:
  compute: {gpuDevicesRequest: 1}
"""
DOCS = """kind: WorkspaceTemplate
metadata: {name: one, scope: {project: team-a}, extends: web-gpu}
spec:
  environmentVariables:
    - {name: LEVEL, value: shown}
---
kind: WorkspaceTemplate
metadata: {name: two, scope: {project: team-a}, extends: web}
spec: {image: "nginx:${SECRET_TAG}"}
"""
SETTINGS = """variables: {TAG: "1.27"}
environments:
  prod: {variables: {TAG: !sensitive "1.27-hardened"}}
"""


def _dir(tmp_path: Path) -> Path:
    (tmp_path / "a-bases.yaml").write_text(BASES)
    (tmp_path / "z-docs.yaml").write_text(DOCS)
    (tmp_path / "runai-reconcile.yaml").write_text(SETTINGS)
    return tmp_path


@pytest.mark.parametrize("workers", [1, 2])
def test_documents_take_their_bases_in_any_process(tmp_path: Path, workers: int) -> None:
    config = read_config(_dir(tmp_path), env={"SECRET_TAG": "x"}, workers=workers)
    assert config.problems == ()
    assert config.documents == 4  # the bases are documents, not objects
    one = config.resources[Address.parse("workspace-template/project=team-a/one")]
    two = config.resources[Address.parse("workspace-template/project=team-a/two")]
    assert one.spec["spec"]["image"] == "nginx:1.27"
    assert one.spec["spec"]["compute"]["gpuDevicesRequest"] == 1
    # The base's tag follows its value: kept where the base's value stays, gone where the
    # document writes its own; a settings variable is shown, the environment's is not.
    assert one.sensitive == {"spec.environmentVariables[name=TOKEN].value"}
    assert two.sensitive == {
        "spec.environmentVariables[name=TOKEN].value",
        "spec.environmentVariables[name=LEVEL].value",
        "spec.image",
    }


def test_a_tagged_settings_variable_is_secret(tmp_path: Path) -> None:
    env = {"SECRET_TAG": "x", "RUNAI_RECONCILE_ENVIRONMENT": "prod"}
    config = read_config(_dir(tmp_path), env=env)
    one = config.resources[Address.parse("workspace-template/project=team-a/one")]
    assert one.spec["spec"]["image"] == "nginx:1.27-hardened"
    assert "spec.image" in one.sensitive


def test_a_document_with_bad_extends_is_left_to_the_schema(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "kind: WorkspaceTemplate\n"
        "metadata: {name: a, scope: {project: p}, extends: [1]}\n"
        "spec: {image: x}\n"
    )
    problems = read_config(tmp_path, env={}).problems
    assert [(p.line, p.json_path) for p in problems] == [(2, "$.metadata.extends[0]")]


def test_a_repeated_base_name_names_both_places(tmp_path: Path) -> None:
    base = "kind: Base\nmetadata: {name: b, for: Project}\n"
    (tmp_path / "a.yaml").write_text(base)
    (tmp_path / "b.yaml").write_text(base)
    problems = read_config(tmp_path, env={}).problems
    assert [(p.file, p.line, p.message) for p in problems] == [
        (f"{tmp_path}/b.yaml", 2, f"duplicate base b (first defined at {tmp_path}/a.yaml:2)")
    ]
