"""The Terraform-like text view of a plan and of drift, for terminals and logs.

Formats plan data only, in the plan's order; colour only when the caller asks (the CLI
decides from the TTY and NO_COLOR). Sensitive values read `(sensitive)`. Never prints.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconcile.model import (
    JSON,
    Action,
    Change,
    Drift,
    FieldChange,
    FieldChangeKind,
    Plan,
)
from reconcile.paths import format_path
from reconcile.printable import one_line
from reconcile.render.common import (
    hide_change,
    hide_drift,
    placeholder,
    summary_line,
    value_text,
)

_RESET = "\x1b[0m"
_COLORS = {
    "+": "32",
    "~": "33",
    "-": "31",
    "-/+": "35",
    ".": "2",
    "=": "36",
    "!": "31",
    "#": "2",
}
_MARKS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.FORGET: ".",
    Action.NOOP: "=",  # shown only when it records state (`Change.records_state`)
}
_RECORD_NOTE = "# already as desired: no API call, only recorded in state"
_FIELD_MARKS = {FieldChangeKind.ADD: "+", FieldChangeKind.CHANGE: "~", FieldChangeKind.CLEAR: "-"}
_INDENT = "      "


def render(plan: Plan, *, color: bool = False) -> str:
    """The whole plan: changes, drift, safety-budget violations, and the summary line."""
    out: list[str] = []
    steps = plan.steps()
    if steps:
        out += ["runai-reconcile will perform the following actions:", ""]
        for change in steps:
            out += [*change_lines(change, color=color), ""]
    if plan.drift:
        out += [*drift_section(plan.drift, color=color), ""]
    if plan.safety_violations:
        out += [*violation_lines(plan.safety_violations, color=color), ""]
    out.append(summary_line(plan))
    return "\n".join(out) + "\n"


def render_drift(drifts: Sequence[Drift], *, color: bool = False) -> str:
    """The `drift` command's view: the drift section and a count, or `No drift.`"""
    if not drifts:
        return "No drift.\n"
    noun = "object" if len(drifts) == 1 else "objects"
    tail = f"Drift: {len(drifts)} {noun} changed outside runai-reconcile."
    return "\n".join([*drift_section(drifts, color=color), "", tail]) + "\n"


def change_lines(change: Change, *, color: bool = False) -> list[str]:
    """One change: its mark and address, then its fields, forcing paths and API calls (or,
    for a no-op that only records state, a line saying so)."""
    change = hide_change(change, placeholder)
    mark = _MARKS.get(change.action, " ")
    notes = ["forget: stop managing, no call"] if change.action is Action.FORGET else []
    notes += [one_line(change.reason)] if change.reason else []
    head = f"  {mark} {one_line(str(change.address))}"
    head += f" ({'; '.join(notes)})" if notes else ""
    lines = [_paint(mark, head, color=color)]
    if change.action is Action.NOOP:
        lines.append(_paint("#", f"{_INDENT}{_RECORD_NOTE}", color=color))
    if change.replaces is not None:  # a rename or a scope move: the object's old address
        moved = f"{_INDENT}# moved from {one_line(str(change.replaces))}"
        lines.append(_paint("#", moved, color=color))
    if change.replace_paths:
        forced = ", ".join(one_line(p) for p in change.replace_paths)
        lines.append(_paint("#", f"{_INDENT}# forces replacement: {forced}", color=color))
    if change.action is Action.CREATE or (change.action is Action.REPLACE and not change.fields):
        lines += [f"{_INDENT}{line}" for line in _leaves(change.after, ())]
    else:
        lines += [field_line(f, color=color) for f in change.fields]
    lines += [f"{_INDENT}=> {one_line(str(call))}" for call in change.calls]
    return lines


def field_line(field: FieldChange, *, color: bool = False) -> str:
    """`~ path: before -> after`, `+ path: after`, or `- path (cleared)`; values pre-hidden."""
    mark = _FIELD_MARKS[field.kind]
    path = one_line(field.path)
    if field.kind is FieldChangeKind.CLEAR:
        text = f"- {path} (cleared)"
    elif field.kind is FieldChangeKind.ADD:
        text = f"+ {path}: {one_line(value_text(field.after))}"
    else:
        before, after = one_line(value_text(field.before)), one_line(value_text(field.after))
        text = f"~ {path}: {before} -> {after}"
    return _paint(mark, _INDENT + text, color=color)


def drift_section(drifts: Sequence[Drift], *, color: bool = False) -> list[str]:
    """The objects changed or deleted outside the tool, with who and when where known."""
    lines = ["Drift (changed outside runai-reconcile):", ""]
    for drift in drifts:
        lines += drift_lines(drift, color=color)
    return lines


def drift_lines(drift: Drift, *, color: bool = False) -> list[str]:
    drift = hide_drift(drift, placeholder)
    who = []
    if drift.updated_by:
        who.append(f"updated by {one_line(drift.updated_by)}")
    if drift.updated_at:
        who.append(f"at {one_line(drift.updated_at)}")
    if drift.deleted:
        head = f"  ! {one_line(str(drift.address))} (deleted outside runai-reconcile)"
        return [_paint("!", head, color=color)]
    suffix = f" ({' '.join(who)})" if who else ""
    lines = [_paint("~", f"  ~ {one_line(str(drift.address))}{suffix}", color=color)]
    return lines + [field_line(f, color=color) for f in drift.fields]


def violation_lines(violations: Sequence[str], *, color: bool = False) -> list[str]:
    lines = ["Safety budget exceeded (apply needs --force):"]
    return lines + [_paint("!", f"  ! {one_line(v)}", color=color) for v in violations]


def _leaves(value: JSON, where: tuple[str, ...]) -> list[str]:
    """`path: value` for each leaf of a spec; lists and empty objects stay whole."""
    if value is None and not where:
        return []
    if isinstance(value, dict) and (value or not where):
        return [line for key in sorted(value) for line in _leaves(value[key], (*where, key))]
    return [f"{one_line(format_path(where))}: {one_line(value_text(value))}"]


def _paint(mark: str, text: str, *, color: bool) -> str:
    code = _COLORS.get(mark)
    return f"\x1b[{code}m{text}{_RESET}" if color and code else text
