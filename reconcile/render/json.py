"""The versioned machine format of a plan (`--format json`) and the saved plan file codec.

Both share one document shape, pinned by a contract test. On screen a sensitive value reads
`(sensitive)`; in a plan file it is `{"sensitive_sha256": <salted hash>}`, never the value,
and `plan_from_file_dict(..., desired=...)` puts the value back from the config after
checking the hash. Knows only the model; never prints or touches files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconcile.errors import PlanError, StalePlanError
from reconcile.model import (
    JSON,
    PLAN_FORMAT_VERSION,
    Address,
    Binding,
    Change,
    Drift,
    Plan,
    Resource,
)
from reconcile.paths import get, pair_items
from reconcile.render.common import hide_change, hide_drift, placeholder, summary_counts
from reconcile.sensitive import MARKER, Mask, hash_marker, is_marker, salted_hash

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


def plan_from_file_dict(
    data: Mapping[str, Any], *, desired: Mapping[Address, Resource] | None = None
) -> Plan:
    """Load a plan file document. With `desired`, hashed values in each change's `after` and
    in its fields' `after` are replaced by the desired values, which must hash the same
    (else StalePlanError); `before` values stay hashed (nothing is sent from them)."""
    binding = saved_binding(data)
    salt = str(data["sensitive_salt"])
    changes = tuple(Change.from_dict(c) for c in data.get("changes", []))
    if desired is not None:
        changes = tuple(_restore(c, desired.get(c.address), salt) for c in changes)
    return Plan(
        changes=changes,
        binding=binding,
        drift=tuple(Drift.from_dict(d) for d in data.get("drift", [])),
        safety_violations=tuple(str(v) for v in data.get("safety_violations", [])),
    )


def saved_binding(data: Mapping[str, Any]) -> Binding:
    """The binding of a plan file document (which config it came from), once the document is
    known to be a plan file this tool can load; PlanError if not. Reads no change."""
    version = str(data.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanError(
            f"plan file format {version or '(none)'} is not supported (this tool writes "
            f"{FORMAT_VERSION})",
            hint="make the plan again with this version of runai-reconcile",
        )
    if not isinstance(data.get("sensitive_salt"), str):
        raise PlanError(
            "not a saved plan file (no sensitive_salt): the `--format json` output cannot be "
            "applied",
            hint="save a plan with `runai-reconcile plan -out FILE`",
        )
    return Binding.from_dict(data["binding"])


def _document(plan: Plan, mask: Mask) -> dict[str, JSON]:
    return {
        "format_version": FORMAT_VERSION,
        "changes": [hide_change(c, mask).to_dict() for c in plan.changes],
        "drift": [hide_drift(d, mask).to_dict() for d in plan.drift],
        "summary": summary_counts(plan),
        "has_changes": plan.has_changes,
        "binding": plan.binding.to_dict(),
        "safety_violations": list(plan.safety_violations),
    }


def _dumps(document: Mapping[str, JSON]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _restore(change: Change, resource: Resource | None, salt: str) -> Change:
    """`change` with the hashed values of what it sends taken back from the desired spec."""
    source = resource.spec if resource is not None else None
    fields = tuple(
        replace(f, after=_fill(f.after, get(source, f.path), salt, change.address))
        for f in change.fields
    )
    after = _fill(change.after, source, salt, change.address)
    return replace(change, after=after, fields=fields)


def _fill(value: JSON, source: JSON, salt: str, address: Address) -> JSON:
    """`value` with each marker replaced by the same place in `source`, hash checked."""
    if is_marker(value):
        if source is None or salted_hash(salt, source) != value[MARKER]:
            raise StalePlanError(
                f"a sensitive value of {address} changed since the plan was made",
                hint="make the plan again",
            )
        return source
    if isinstance(value, dict):
        src = source if isinstance(source, dict) else {}
        return {k: _fill(v, src.get(k), salt, address) for k, v in value.items()}
    if isinstance(value, list):
        pairs = pair_items(value, source if isinstance(source, list) else [])
        return [_fill(v, s, salt, address) for v, s in pairs]
    return value
