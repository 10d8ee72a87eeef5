"""The committed schemas: reproduced by the generator, valid 2020-12, used by the examples."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from jsonschema import Draft202012Validator

from reconcile import schema
from reconcile.kinds.registry import DOCUMENT_KINDS

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
# The tool's own file formats: written by hand, not generated from the Run:ai spec.
OWN_FORMATS = {"plan-file.json"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_schemas", REPO / "tools" / "generate_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_schemas() -> None:
    generator = _generator()
    spec = json.loads(generator.SLICE.read_text(encoding="utf-8"))
    generated = {
        name: generator.render(body)
        for name, body in generator.generate(spec, generator.SLICE.name).items()
    }
    committed = {
        p.name: p.read_text(encoding="utf-8")
        for p in SCHEMAS.glob("*.json")
        if p.name not in OWN_FORMATS
    }
    assert sorted(generated) == sorted(committed)
    for name, text in generated.items():
        assert text == committed[name], f"schemas/{name} is stale: run tools/generate_schemas.py"


def test_generator_check_mode(tmp_path: Path) -> None:
    generator = _generator()
    assert generator.main(["--out", str(SCHEMAS), "--check"]) == 0
    assert generator.main(["--out", str(tmp_path), "--check"]) == 1
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert generator.main(["--out", str(tmp_path), "--check"]) == 0


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(body)


def test_one_schema_per_kind() -> None:
    names = {p.stem for p in SCHEMAS.glob("*.json")}
    assert set(DOCUMENT_KINDS.values()) <= names
    assert {"envelope", "settings", "document", "manifest", "base"} <= names


def test_objects_are_closed_where_the_api_lists_properties() -> None:
    body = schema.load_schema("workspace-template")
    spec = body["$defs"]["WorkspaceTemplateSpec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["compute"]["additionalProperties"] is False
    # an environment variable's value is ordinary text: only `${VAR}` or `!sensitive` hide it
    assert "x-sensitive" not in body["$defs"]["EnvironmentVariable"]["properties"]["value"]
    # the API leaves the manifest open: so do we
    assert "additionalProperties" not in schema.load_schema("workload")["$defs"]["D24V2_Manifest"]


def test_nullable_becomes_a_type_array() -> None:
    image = schema.load_schema("training-template")["$defs"]["Image"]
    assert image["type"] == ["string", "null"]
    assert "example" not in image and "nullable" not in image


def test_document_schema_dispatches_on_kind() -> None:
    validator = Draft202012Validator(schema.load_schema("document"))
    good = {"kind": "WorkloadType", "metadata": {"name": "Job"}, "spec": {"category": "Train"}}
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "spec": {"categroy": "Train"}}
    assert list(validator.iter_errors(bad))


def _config_files(directory: Path) -> list[Path]:
    """The YAML files of a config directory, leaving out folders marked as not config."""
    ignored = [m.parent for m in directory.rglob(".runai-reconcile-ignore")]
    return sorted(
        p for p in directory.rglob("*.y*ml") if not any(p.is_relative_to(i) for i in ignored)
    )


@pytest.mark.parametrize("path", _config_files(REPO / "examples"), ids=lambda p: p.name)
def test_example_files_name_their_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path} must start with a yaml-language-server $schema line"
    assert (path.parent / match.group(1)).resolve().is_file()


def _check_jsonschema(schema_file: str, *files: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMAS / schema_file)]
    return subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_editors_accept_bases_extends_and_variables(tmp_path: Path) -> None:
    files = {
        "base.yaml": "kind: Base\nmetadata: {name: gpu, for: WorkspaceTemplate, extends: [cpu]}\n"
        "spec: {compute: {gpuDevicesRequest: 1}}\n",
        "user.yaml": "kind: WorkspaceTemplate\n"
        "metadata: {name: a, scope: {project: p}, extends: gpu}\n",  # spec from the base
        "settings.yaml": "variables: {TAG: '1'}\n"
        "environments: {prod: {server: embedded, variables: {TAG: '2'}}}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    documents = _check_jsonschema("document.json", tmp_path / "base.yaml", tmp_path / "user.yaml")
    assert documents.returncode == 0, documents.stdout + documents.stderr
    settings = _check_jsonschema("settings.json", tmp_path / "settings.yaml")
    assert settings.returncode == 0, settings.stdout + settings.stderr


@pytest.mark.parametrize(
    "text",
    [
        "kind: Base\nmetadata: {name: gpu, for: Nothing}\n",  # an unknown kind
        "kind: Base\nmetadata: {name: gpu, for: Project}\nscope: {}\n",  # not a base's field
        "kind: Project\nmetadata: {name: a, scope: {department: d}}\n",  # no spec, no base
        "kind: Project\nmetadata: {name: a, scope: {department: d}, extends: []}\n",
    ],
)
def test_editors_flag_bad_bases_and_extends(tmp_path: Path, text: str) -> None:
    (tmp_path / "doc.yaml").write_text(text)
    assert _check_jsonschema("document.json", tmp_path / "doc.yaml").returncode == 1
