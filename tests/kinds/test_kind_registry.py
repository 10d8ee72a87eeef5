"""The kind registry, the generated defaults table, and the purity of the kind modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile.kinds.base import Kind
from reconcile.kinds.registry import (
    APPLY_RANK,
    BY_SLUG,
    DOCUMENT_KINDS,
    KINDS,
    REGISTERED,
    dependency_ranks,
)
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.paths import paths_overlap
from reconcile.schema import load_schema, sensitive_patterns

ROOT = Path(__file__).resolve().parents[2]
KIND_MODULES = sorted((ROOT / "reconcile" / "kinds").glob("*.py"))
# jsonfast: JSON text in C, pure like the rest (the kinds sort specs through it).
ALLOWED_OURS = (
    "reconcile.model",
    "reconcile.errors",
    "reconcile.paths",
    "reconcile.kinds",
    "reconcile.jsonfast",
)


def test_registry_tables_agree_with_each_kind() -> None:
    assert list(KINDS) == list(DOCUMENT_KINDS) == [k.document_kind for k in REGISTERED]
    assert {name: kind.slug for name, kind in KINDS.items()} == DOCUMENT_KINDS
    assert {kind.slug: kind for kind in REGISTERED} == BY_SLUG
    assert len(BY_SLUG) == len(REGISTERED), "slugs are unique"
    assert [name for name, kind in KINDS.items() if not kind.can_delete] == ["WorkloadType"]
    assert [name for name, kind in KINDS.items() if kind.is_async] == ["Workload"]
    assert [name for name, kind in KINDS.items() if kind.destroy_stops_work] == ["Workload"]


def test_apply_rank_is_derived_from_the_kinds_each_kind_uses() -> None:
    assert APPLY_RANK["workload-type"] == APPLY_RANK["node-pool"] == 0
    assert APPLY_RANK["department"] == 1  # its quotas name node pools
    assert APPLY_RANK["project"] == 2  # in a department
    # Assets are scoped to a project or department; new-style templates too.
    assert {APPLY_RANK[s] for s in ("environment", "compute", "datasource")} == {3}
    templates = [s for s in BY_SLUG if s.endswith("-template") and s != "asset-template"]
    assert {APPLY_RANK[s] for s in templates} == {3}
    assert APPLY_RANK["asset-template"] == 4  # it names assets
    assert APPLY_RANK["workload"] == 5  # submitted from templates
    for kind in REGISTERED:
        assert all(APPLY_RANK[used] < APPLY_RANK[kind.slug] for used in kind.uses)


def test_dependency_ranks_take_the_longest_chain_and_refuse_cycles() -> None:
    assert dependency_ranks({"a": (), "b": ("a",), "c": ("a", "b"), "d": ()}) == {
        "a": 0,
        "b": 1,
        "c": 2,
        "d": 0,
    }
    with pytest.raises(ValueError, match="cycle"):
        dependency_ranks({"a": ("b",), "b": ("a",)})
    with pytest.raises(ValueError, match="unregistered kinds: z"):
        dependency_ranks({"a": ("z",)})


@pytest.mark.parametrize("kind", REGISTERED, ids=lambda k: k.slug)
def test_scope_rules_match_the_kind_schema(kind: Kind) -> None:
    """The scopes a kind declares are the ones its published schema lets a document name."""
    schema = load_schema(kind.slug)
    scope = schema["properties"]["metadata"]["properties"].get("scope")
    if scope is None:
        assert kind.scope_types == ()
        return
    # One scope, or a list of them (one object per scope): both name the same definition.
    one, many = scope["anyOf"]
    assert (many["type"], many["items"], many["minItems"]) == ("array", one, 1)
    definition = schema["$defs"][one["$ref"].rsplit("/", 1)[1]]
    named = tuple(t for t in SCOPE_TYPES if t in definition.get("properties", {}))
    assert named == kind.scope_types


@pytest.mark.parametrize("kind", REGISTERED, ids=lambda k: k.slug)
def test_write_only_paths_are_secrets_of_the_kind_schema(kind: Kind) -> None:
    """What the server never answers with is compared by hash: it must be a sensitive path
    (or hold one), so that it is hashed in state and masked in every output."""
    patterns = sensitive_patterns(kind.document_kind)
    for path in kind.write_only_paths:
        assert any(paths_overlap(path, p) for p in patterns), path


def test_defaults_table_is_generated_from_the_committed_slice() -> None:
    tool = ROOT / "tools" / "extract_kind_defaults.py"
    result = subprocess.run(
        [sys.executable, str(tool), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_kind_modules_are_pure() -> None:
    """Only the standard library and model/errors/paths/jsonfast/kinds: no HTTP, no
    emulator, no files."""
    stdlib = sys.stdlib_module_names
    for path in KIND_MODULES:
        for name in _imports(path):
            ours = name.startswith(ALLOWED_OURS)
            assert ours or name.split(".")[0] in stdlib | {"__future__"}, f"{path.name}: {name}"
            assert name.split(".")[0] not in {"os", "io", "socket", "pathlib"}, path.name
