"""The document builder (reconcile/documents.py) on parsed documents handed in directly:
interpolation, the offline name checks each kind declares, manifests, and the resource."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.documents import (
    MAX_MANIFEST_BYTES,
    Checked,
    JsonPath,
    Source,
    check_document,
    check_manifest,
    interpolate,
)
from reconcile.errors import Problem
from reconcile.model import Address


def _where(path: JsonPath, at_key: bool) -> tuple[int, int]:
    """A stand-in for the YAML locator: the line is the path's depth, the column says key."""
    return len(path) + 1, 1 if at_key else 5


SOURCE = Source("doc.yaml", _where)


def _no_files(
    value: str, source: Source, path: JsonPath
) -> tuple[Any, Source | None, list[Problem]]:
    return None, None, [source.problem(path, f"no file {value}")]


def check(doc: Any, env: dict[str, str] | None = None) -> Checked:
    return check_document(doc, SOURCE, env=env or {}, load_manifest=_no_files)


def messages(checked: Checked) -> list[tuple[str, str]]:
    return [(p.json_path, p.message) for p in checked.problems]


TEMPLATE: dict[str, Any] = {
    "kind": "WorkspaceTemplate",
    "metadata": {"name": "nb", "scope": {"project": "team-a"}, "description": "d"},
    "spec": {"image": "python:3.11"},
}


def test_a_template_becomes_its_normalized_resource() -> None:
    checked = check(TEMPLATE)
    assert checked.problems == []
    resource = checked.resource
    assert resource is not None
    assert resource.address == Address("workspace-template", "project=team-a", "nb")
    assert resource.spec["metadata"] == {"description": "d"}
    assert resource.spec["spec"]["image"] == "python:3.11"
    assert resource.origin is not None
    assert (resource.origin.file, resource.origin.line) == ("doc.yaml", 1)
    assert (checked.placed[0].line, checked.placed[0].col) == (3, 5)


def test_interpolation_marks_its_paths_sensitive_and_never_shows_values() -> None:
    value, secret, missing = interpolate(
        {"a": "x-${TOKEN}", "b": ["$${LITERAL}", "${UNSET}"], "c": 1}, {"TOKEN": "s3cr3t"}
    )
    assert value == {"a": "x-s3cr3t", "b": ["${LITERAL}", "${UNSET}"], "c": 1}
    assert secret == [("a",)]
    assert missing == [(("b", 1), "UNSET")]
    doc = {**TEMPLATE, "spec": {"image": "${IMAGE}"}}
    checked = check(doc, {"IMAGE": "repo/img:1"})
    assert checked.resource is not None
    assert checked.resource.spec["spec"]["image"] == "repo/img:1"
    assert "spec.image" in checked.resource.sensitive
    unset = check(doc)
    assert messages(unset) == [
        (
            "$.spec.image",
            "variable IMAGE is set neither in the settings' variables nor in the environment "
            "(write $${IMAGE} for a literal ${IMAGE})",
        )
    ]


@pytest.mark.parametrize(
    ("doc", "path", "what"),
    [
        (
            {"kind": "Workload", "metadata": {"name": "w", "scope": {"project": "a"}}},
            "$.spec.priority",
            "priority",
        ),
        ({"kind": "WorkloadType", "metadata": {"name": "Job"}}, "$.spec.category", "category"),
        (
            {"kind": "DistributedTemplate", "metadata": {"name": "d", "scope": {"tenant": True}}},
            "$.master.spec.priorityClass",
            "priority",
        ),
    ],
)
def test_each_kind_checks_the_names_it_declares(doc: dict[str, Any], path: str, what: str) -> None:
    """Priorities and categories are the same on every tenant: checked without a server."""
    field = path.rsplit(".", 1)[1]
    body: dict[str, Any] = {"image": "x"} if doc["kind"] == "DistributedTemplate" else {}
    if doc["kind"] == "Workload":
        body = {"manifest": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w"}}}
    full = {**doc, "spec": dict(body)}
    if path.startswith("$.master"):
        full["master"] = {"spec": {field: "hihg"}}
        full["spec"]["image"] = "x"
    else:
        full["spec"][field] = "hihg"
    found = [m for p, m in messages(check(full)) if p == path]
    assert len(found) == 1, messages(check(full))
    assert found[0].startswith(f"unknown {what} 'hihg': must be one of ")


def test_a_name_from_the_environment_is_refused_and_not_echoed() -> None:
    doc = {**TEMPLATE, "spec": {"image": "x", "priorityClass": "${P}"}}
    (found,) = [m for p, m in messages(check(doc, {"P": "s3cr3t"})) if p == "$.spec.priorityClass"]
    assert found == "a value from ${VAR} cannot be a name (names are shown): write the name plainly"


def test_master_must_not_be_set_beside_master_spec_same_as_worker() -> None:
    doc = {
        "kind": "DistributedTemplate",
        "metadata": {"name": "d", "scope": {"tenant": True}},
        "masterSpecSameAsWorker": True,
        "master": {"spec": {"image": "x"}},
        "spec": {"image": "x"},
    }
    assert ("$.master", "'master' must not be set when masterSpecSameAsWorker is true") in (
        messages(check(doc))
    )


def test_an_empty_document_and_a_broken_identity_give_no_resource() -> None:
    empty = check(None)
    assert (empty.resource, messages(empty)) == (
        None,
        [("$", "empty document (remove the stray '---')")],
    )
    nameless = check({**TEMPLATE, "metadata": {"scope": {"project": "a"}}})
    assert nameless.resource is None and nameless.problems


def test_manifest_checks() -> None:
    assert (
        check_manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, SOURCE, ())
        == []
    )
    assert [p.message for p in check_manifest([], SOURCE, ())] == [
        "the manifest must be one Kubernetes object (a mapping)"
    ]
    assert [p.message for p in check_manifest({"kind": "Pod"}, SOURCE, ())] == [
        "the manifest needs 'apiVersion'",
        "the manifest needs 'metadata.name'",
    ]
    big = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    big["data"] = "x" * MAX_MANIFEST_BYTES
    (problem,) = check_manifest(big, SOURCE, ("spec", "manifest"))
    assert problem.message.endswith("bytes; the API takes at most 2 MiB")
    assert problem.json_path == "$.spec.manifest"


def test_a_workload_manifest_file_is_loaded_through_the_loader() -> None:
    doc = {
        "kind": "Workload",
        "metadata": {"name": "w", "scope": {"project": "a"}},
        "spec": {"manifestFile": "pod.yaml"},
    }
    assert messages(check(doc)) == [("$.spec.manifestFile", "no file pod.yaml")]
