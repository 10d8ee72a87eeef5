"""Helpers every renderer shares: hiding sensitive values, summary wording.

A value is hidden when its path lies at or under one of the change's sensitive paths or
its FieldChange is flagged; how it is hidden (a placeholder, a salted hash) is the caller's
`mask`. Knows only the model; never prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from reconcile.model import (
    JSON,
    Action,
    Change,
    Drift,
    FieldChange,
    Plan,
)
from reconcile.sensitive import Mask, hide

SENSITIVE = "(sensitive)"


def placeholder(_value: JSON) -> JSON:
    """The display mask: every hidden value reads `(sensitive)`."""
    return SENSITIVE


def value_text(value: JSON) -> str:
    """A value as one line of JSON (strings quoted, newlines and escapes escaped)."""
    if value == SENSITIVE:
        return SENSITIVE
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def patterns(change: Change) -> tuple[str, ...]:
    """The sensitive paths of a change: its own, and those of its flagged fields."""
    flagged = (f.path for f in change.fields if f.sensitive)
    return tuple(dict.fromkeys((*change.sensitive, *flagged)))


def hide_field(field: FieldChange, paths: Sequence[str], mask: Mask) -> FieldChange:
    if field.sensitive:
        before = None if field.before is None else mask(field.before)
        after = None if field.after is None else mask(field.after)
    else:
        before = hide(field.before, field.path, paths, mask)
        after = hide(field.after, field.path, paths, mask)
    return replace(field, before=before, after=after)


def hide_change(change: Change, mask: Mask) -> Change:
    """A copy of `change` safe to show or store: sensitive values masked everywhere."""
    paths = patterns(change)
    if not paths:
        return change
    return replace(
        change,
        before=hide(change.before, "", paths, mask),
        after=hide(change.after, "", paths, mask),
        fields=tuple(hide_field(f, paths, mask) for f in change.fields),
    )


def hide_drift(drift: Drift, mask: Mask) -> Drift:
    return replace(drift, fields=tuple(hide_field(f, (), mask) for f in drift.fields))


def summary_counts(plan: Plan) -> dict[str, int]:
    """The plan's counts, plus unchanged objects (those only recorded in state among them)
    and drifted ones."""
    counts = plan.summary()
    counts["no_op"] = sum(1 for c in plan.changes if c.action is Action.NOOP)
    counts["drift"] = len(plan.drift)
    return counts


def summary_line(plan: Plan) -> str:
    """`Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.` or `No changes.`; forgets
    and no-ops only recorded in state are counted after the destroys, when there are any."""
    if not plan.has_changes:
        return "No changes."
    counts = plan.summary()
    parts = [
        f"{counts['add']} to add",
        f"{counts['change']} to change",
        f"{counts['replace']} to replace",
        f"{counts['destroy']} to destroy",
    ]
    if counts["forget"]:
        parts.append(f"{counts['forget']} to forget")
    if counts["record"]:
        parts.append(f"{counts['record']} to record in state")
    return "Plan: " + ", ".join(parts) + "."
