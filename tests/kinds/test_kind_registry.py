"""The KINDS table, the generated defaults table, and the purity of the kind modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from reconcile.kinds import DOCUMENT_KINDS, KINDS

ROOT = Path(__file__).resolve().parents[2]
KIND_MODULES = sorted((ROOT / "reconcile" / "kinds").glob("*.py"))
ALLOWED_OURS = ("reconcile.model", "reconcile.errors", "reconcile.kinds")


def test_kinds_table_matches_document_kinds_and_dependency_ranks() -> None:
    assert list(KINDS) == list(DOCUMENT_KINDS)
    assert {name: kind.slug for name, kind in KINDS.items()} == DOCUMENT_KINDS
    assert all(kind.document_kind == name for name, kind in KINDS.items())
    ranks = {name: kind.rank for name, kind in KINDS.items()}
    assert ranks["WorkloadType"] < ranks["WorkspaceTemplate"] == ranks["AssetTemplate"]
    assert ranks["AssetTemplate"] < ranks["Workload"]
    assert [name for name, kind in KINDS.items() if not kind.can_delete] == ["WorkloadType"]
    assert [name for name, kind in KINDS.items() if kind.is_async] == ["Workload"]


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
    """Only the standard library and model/errors/kinds: no HTTP, no emulator, no files."""
    stdlib = sys.stdlib_module_names
    for path in KIND_MODULES:
        for name in _imports(path):
            ours = name.startswith(ALLOWED_OURS)
            assert ours or name.split(".")[0] in stdlib | {"__future__"}, f"{path.name}: {name}"
            assert name.split(".")[0] not in {"os", "io", "socket", "pathlib"}, path.name
