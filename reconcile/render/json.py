"""The versioned machine format of a plan (`--format json`) and the saved plan file codec.

Both share one document shape, pinned by a contract test. On screen a sensitive value reads
`(sensitive)`; in a plan file it is `{"sensitive_sha256": <salted hash>}`, never the value.
Knows only the model; never prints or touches files (`reconcile.planfile` reads, checks and
signs plan files).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconcile.model import JSON, PLAN_FORMAT_VERSION, Binding, Change, Drift, Plan
from reconcile.render.common import hide_change, hide_drift, placeholder, summary_counts
from reconcile.sensitive import Mask, hash_marker

FORMAT_VERSION = PLAN_FORMAT_VERSION


def plan_to_dict(plan: Plan) -> dict[str, JSON]:
    """The `--format json` document (sensitive values read `(sensitive)`)."""
    return _document(plan, placeholder)


def render(plan: Plan) -> str:
    """The `--format json` text: sorted keys, 2-space indent, one trailing newline."""
    return _dumps(plan_to_dict(plan))


def render_drift(drifts: Sequence[Drift]) -> str:
    """The `drift --format json` text: the same `drift[]` entries as in a plan."""
    document = {
        "format_version": FORMAT_VERSION,
        "drift": [hide_drift(d, placeholder).to_dict() for d in drifts],
        "summary": {"drift": len(drifts)},
    }
    return _dumps(document)


def plan_to_file_dict(plan: Plan, salt: str) -> dict[str, JSON]:
    """The plan file document: the JSON format with salted hashes for sensitive values.

    `salt` should be fresh random text per plan (e.g. `secrets.token_hex(16)`); it is stored
    in the file so `apply PLANFILE` can check the config still holds the same values.
    """
    document = _document(plan, hash_marker(salt))
    document["sensitive_salt"] = salt
    return document


def file_changes(changes: Iterable[Change], salt: str) -> list[dict[str, JSON]]:
    """`changes` as a plan file holds them: sensitive values as hashes salted with `salt`."""
    return _changes(changes, hash_marker(salt))


def plan_from_file_dict(data: Mapping[str, Any]) -> Plan:
    """The plan a plan file document holds, sensitive values still hashed (nothing is sent
    from it: `apply PLANFILE` plans again and compares). The document must be checked first
    (`reconcile.planfile` checks it against its schema)."""
    return Plan(
        changes=tuple(Change.from_dict(c) for c in data.get("changes", [])),
        binding=Binding.from_dict(data["binding"]),
        drift=tuple(Drift.from_dict(d) for d in data.get("drift", [])),
        safety_violations=tuple(str(v) for v in data.get("safety_violations", [])),
    )


def _document(plan: Plan, mask: Mask) -> dict[str, JSON]:
    return {
        "format_version": FORMAT_VERSION,
        "changes": _changes(plan.changes, mask),
        "drift": [hide_drift(d, mask).to_dict() for d in plan.drift],
        "summary": summary_counts(plan),
        "has_changes": plan.has_changes,
        "binding": plan.binding.to_dict(),
        "safety_violations": list(plan.safety_violations),
    }


def _changes(changes: Iterable[Change], mask: Mask) -> list[dict[str, JSON]]:
    return [hide_change(c, mask).to_dict() for c in changes]


def _dumps(document: Mapping[str, JSON]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
