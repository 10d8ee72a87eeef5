"""The text view against golden files, plus colour, secrets and terminal-escape safety."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from reconcile.model import Action, Address, Change, Drift, FieldChange, FieldChangeKind, Plan
from reconcile.render import text

SECRET = "hunter2-do-not-show"  # the value tests/render/conftest.py plants in the plans

Golden = Callable[[str, str], None]


def test_full_plan_matches_golden(full_plan: Plan, golden: Golden) -> None:
    golden("plan.txt", text.render(full_plan))


def test_full_plan_in_colour_matches_golden(full_plan: Plan, golden: Golden) -> None:
    golden("plan.color.txt", text.render(full_plan, color=True))


def test_no_changes(empty_plan: Plan) -> None:
    assert text.render(empty_plan) == "No changes.\n"


def test_summary_counts_every_action(full_plan: Plan) -> None:
    last = text.render(full_plan).splitlines()[-1]
    assert last == "Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to forget."


def test_forget_count_appears_only_when_there_is_one(full_plan: Plan) -> None:
    without = replace(
        full_plan, changes=tuple(c for c in full_plan.changes if c.action is not Action.FORGET)
    )
    assert text.render(without).splitlines()[-1] == (
        "Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy."
    )


def test_changes_keep_the_plan_order(full_plan: Plan) -> None:
    out = text.render(full_plan)
    positions = [out.index(f" {c.address}") for c in full_plan.actionable()]
    assert positions == sorted(positions)
    assert "workload-type/Notebook" not in out  # no-ops are not listed


def test_colour_only_when_asked(full_plan: Plan) -> None:
    assert "\x1b[" not in text.render(full_plan)
    coloured = text.render(full_plan, color=True)
    assert "\x1b[32m  + workspace-template/project=team-a/jupyter-small" in coloured
    assert "\x1b[31m  - workload/project=team-a/web" in coloured


def test_sensitive_values_never_show(full_plan: Plan) -> None:
    for out in (text.render(full_plan), text.render(full_plan, color=True)):
        assert SECRET not in out
        assert '{"name": "TOKEN", "value": "(sensitive)"}' in out
        assert "spec.environmentVariables[name=TOKEN].value: (sensitive) -> (sensitive)" in out


def test_flagged_field_values_are_hidden_even_without_change_paths(empty_plan: Plan) -> None:
    field = FieldChange(
        "spec.token", FieldChangeKind.CHANGE, "old-" + SECRET, SECRET, sensitive=True
    )
    change = Change(
        Address("workspace-template", "tenant", "t"),
        Action.UPDATE,
        before={"spec": {"token": "old-" + SECRET}},
        after={"spec": {"token": SECRET}},
        fields=(field,),
    )
    out = text.render(replace(empty_plan, changes=(change,)))
    assert SECRET not in out
    assert "~ spec.token: (sensitive) -> (sensitive)" in out


def test_server_text_cannot_inject_terminal_escapes(empty_plan: Plan) -> None:
    drift = Drift(
        Address("workspace-template", "tenant", "t"),
        fields=(FieldChange("spec.image", FieldChangeKind.CHANGE, "a", "b\x1b[2J"),),
        updated_by="mallory\x1b]0;owned\x07",
    )
    out = text.render(replace(empty_plan, drift=(drift,)), color=True)
    assert "\x1b[2J" not in out and "\x1b]0" not in out and "\x07" not in out
    assert "mallory\\x1b]0;owned\\x07" in out


def test_drift_view(full_plan: Plan, golden: Golden) -> None:
    golden("drift.txt", text.render_drift(full_plan.drift))
    assert text.render_drift(()) == "No drift.\n"


def test_no_ops_that_record_state_are_listed_and_counted(record_plan: Plan, golden: Golden) -> None:
    out = text.render(record_plan)
    golden("plan-record.txt", out)
    assert out.splitlines()[-1] == (
        "Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy, 1 to forget, "
        "2 to record in state."
    )
    assert "  = workload-type/Deployment (adopt)\n      # already as desired" in out
    assert "workload-type/Notebook" not in out  # a plain no-op is still not listed
    assert SECRET not in out and SECRET not in text.render(record_plan, color=True)
    assert "\x1b[36m  = workload-type/Deployment (adopt)" in text.render(record_plan, color=True)


def test_a_plan_that_only_records_state_is_not_no_changes(record_plan: Plan) -> None:
    only = replace(record_plan, changes=tuple(c for c in record_plan.changes if c.records_state))
    assert only.has_changes and only.steps() == only.changes and only.actionable() == ()
    assert text.render(only).splitlines()[-1] == (
        "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 2 to record in state."
    )
