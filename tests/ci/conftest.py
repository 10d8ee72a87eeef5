"""Fixtures of the CI integration tests: the repository's CI files, read as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent.parent
CI = REPO / "examples" / "ci"


def load_yaml(path: Path) -> Any:
    """One YAML document, as plain data."""
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def load_all_yaml(path: Path) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")))
