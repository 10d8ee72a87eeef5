"""What a plan file's schema cannot say: known kinds, field paths that parse, one change per
address, `actions` and counts that agree with the changes, string fingerprints, a relative
config directory, and (from format 1.2) a changes digest that matches the changes.

Pure checks over a document already valid against `schemas/plan-file.json`; each problem
names the file and the JSON path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconcile.diff import digest
from reconcile.errors import Problem
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Action, Address, Plan
from reconcile.paths import parse_path
from reconcile.render.common import summary_counts

# Formats whose binding holds neither a selection nor a digest of the changes.
UNBOUND_FORMATS = ("1.0", "1.1")


def problems(path: Path, document: Mapping[str, Any], plan: Plan) -> Iterator[Problem]:
    """Every problem of `document` (valid against the plan file schema) that the schema cannot
    see; `plan` is what it holds."""
    where = str(path)
    yield from _change_problems(where, document, plan)
    yield from _binding_problems(where, document, plan)
    yield from _count_problems(where, document, plan)


def _change_problems(where: str, document: Mapping[str, Any], plan: Plan) -> Iterator[Problem]:
    seen: set[Address] = set()
    for index, change in enumerate(plan.changes):
        at = f"$.changes[{index}]"
        for name, address in (("address", change.address), ("replaces", change.replaces)):
            if address is not None and address.kind not in BY_SLUG:
                yield Problem(
                    f"unknown kind '{address.kind}'", file=where, json_path=f"{at}.{name}"
                )
        if change.address in seen:
            yield Problem(f"{change.address} appears twice", file=where, json_path=f"{at}.address")
        seen.add(change.address)
        if document["changes"][index]["actions"] != change.action.json_actions:
            expected = json.dumps(change.action.json_actions)
            yield Problem(
                f"must be {expected} for action {change.action.value}",
                file=where,
                json_path=f"{at}.actions",
            )
        if change.records_state and (change.action is not Action.NOOP or change.calls):
            yield Problem(
                "only a no-op without calls records state",
                file=where,
                json_path=f"{at}.records_state",
            )
        yield from _path_problems(
            where, at, change.replace_paths, change.sensitive, [f.path for f in change.fields]
        )
    for index, drift in enumerate(plan.drift):
        if drift.address.kind not in BY_SLUG:
            yield Problem(
                f"unknown kind '{drift.address.kind}'",
                file=where,
                json_path=f"$.drift[{index}].address",
            )


def _binding_problems(where: str, document: Mapping[str, Any], plan: Plan) -> Iterator[Problem]:
    for text, value in document["binding"]["live_fingerprints"].items():
        if not isinstance(value, str):
            yield Problem(
                "expected string, got " + type(value).__name__,
                file=where,
                json_path=f"$.binding.live_fingerprints[{json.dumps(text)[:80]}]",
            )
        try:
            known = Address.parse(text).kind in BY_SLUG
        except ValueError:
            known = False
        if not known:
            yield Problem(
                f"not an address of a known kind: {text[:80]!r}",
                file=where,
                json_path="$.binding.live_fingerprints",
            )
    if document["format_version"] in UNBOUND_FORMATS:
        return
    for name in ("changes_digest", "selection"):
        if name not in document["binding"]:
            yield Problem(
                f"missing required field '{name}' (format 1.2 and later)",
                file=where,
                json_path=f"$.binding.{name}",
            )
    if os.path.isabs(plan.binding.config_dir):
        yield Problem(
            "must be relative to where `plan` ran", file=where, json_path="$.binding.config_dir"
        )
    if document["binding"].get("changes_digest") not in (None, digest(document["changes"])):
        yield Problem(
            "does not match the changes: the file was edited after `plan` saved it",
            file=where,
            json_path="$.binding.changes_digest",
        )


def _count_problems(where: str, document: Mapping[str, Any], plan: Plan) -> Iterator[Problem]:
    counts = summary_counts(plan)
    for key, value in sorted(document["summary"].items()):
        if counts.get(key) != value:
            yield Problem(
                f"must be {counts.get(key)} (what the changes count)",
                file=where,
                json_path=f"$.summary.{key}",
            )
    if document["has_changes"] != plan.has_changes:
        yield Problem(
            f"must be {json.dumps(plan.has_changes)} (what the changes say)",
            file=where,
            json_path="$.has_changes",
        )


def _path_problems(where: str, at: str, *groups: Sequence[str]) -> Iterator[Problem]:
    names = ("replace_paths", "sensitive", "fields")
    for name, paths in zip(names, groups, strict=True):
        for index, field_path in enumerate(paths):
            try:
                parse_path(field_path)
            except ValueError:
                suffix = f"[{index}].path" if name == "fields" else f"[{index}]"
                yield Problem("not a field path", file=where, json_path=f"{at}.{name}{suffix}")
