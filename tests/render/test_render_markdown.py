"""The Markdown view: golden output, summary first, and the comment size budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from reconcile.model import Action, Address, ApiCall, Change, Plan
from reconcile.render import markdown

SECRET = "hunter2-do-not-show"  # the value tests/render/conftest.py plants in the plans

Golden = Callable[[str, str], None]


def many_creates(count: int) -> tuple[Change, ...]:
    return tuple(
        Change(
            Address("training-template", "project=team-a", f"train-{i:05d}"),
            Action.CREATE,
            after={"spec": {"image": f"nvcr.io/nvidia/pytorch:24.05-py3-{i}", "args": "x" * 80}},
            calls=(ApiCall("POST", "/api/v1/workload-templates/trainings"),),
        )
        for i in range(count)
    )


def test_full_plan_matches_golden(full_plan: Plan, golden: Golden) -> None:
    golden("plan.md", markdown.render(full_plan))


def test_no_changes(empty_plan: Plan, golden: Golden) -> None:
    golden("plan-empty.md", markdown.render(empty_plan))


def test_summary_comes_before_details(full_plan: Plan) -> None:
    out = markdown.render(full_plan)
    summary = out.index("**Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to forget.**")
    assert summary < out.index("[!WARNING]") < out.index("<details>")
    assert SECRET not in out


def test_a_huge_plan_is_cut_to_the_budget_with_a_note(empty_plan: Plan) -> None:
    plan = replace(empty_plan, changes=many_creates(3000))
    out = markdown.render(plan)
    assert len(out) <= markdown.MAX_CHARS
    assert out.startswith("### runai-reconcile plan\n\n**Plan: 3000 to add,")
    assert "**Truncated** to fit a comment" in out
    assert out.count("<details>") == out.count("</details>") == 1
    assert out.count("```") == 2  # the cut block is still closed


def test_the_budget_is_a_parameter(full_plan: Plan) -> None:
    out = markdown.render(full_plan, max_chars=1500)
    assert len(out) <= 1500
    assert "**Truncated**" in out
    assert out.count("<details>") == out.count("</details>")


def test_a_plan_within_budget_is_not_cut(empty_plan: Plan) -> None:
    out = markdown.render(replace(empty_plan, changes=many_creates(50)))
    assert "Truncated" not in out
    assert out.count("train-0") == 50


def test_values_cannot_close_the_code_fence(empty_plan: Plan) -> None:
    change = Change(
        Address("workspace-template", "tenant", "t"),
        Action.CREATE,
        after={"spec": {"args": "```\n</details>"}},
    )
    out = markdown.render(replace(empty_plan, changes=(change,)))
    assert "\n````diff\n" in out and "\n````\n" in out


def test_drift_comment(full_plan: Plan, golden: Golden) -> None:
    golden("drift.md", markdown.render_drift(full_plan.drift))
    assert "No drift." in markdown.render_drift(())


def test_no_ops_that_record_state_are_in_the_comment(record_plan: Plan, golden: Golden) -> None:
    out = markdown.render(record_plan)
    golden("plan-record.md", out)
    assert "2 to record in state.**" in out and "<summary>Changes (4)</summary>" in out
    assert SECRET not in out
