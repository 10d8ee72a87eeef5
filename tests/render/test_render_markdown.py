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
    golden("plan.md", markdown.render(full_plan, environment="production"))


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
    assert out.startswith("<!-- runai-reconcile plan -->\n### runai-reconcile plan\n\n")
    assert "**Plan: 3000 to add," in out
    assert "**Truncated** to fit a comment" in out
    assert out.count("<details") == out.count("</details>") == 2  # addresses, then details
    assert out.count("```") == 4  # the cut block is still closed


def test_the_budget_is_a_parameter(full_plan: Plan) -> None:
    out = markdown.render(full_plan, max_chars=1500)
    assert len(out) <= 1500
    assert "**Truncated**" in out
    assert out.count("<details") == out.count("</details>")


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
    golden(
        "drift.md",
        markdown.render_drift(full_plan.drift, server="https://acme.run.ai", environment="prod"),
    )
    assert "No drift." in markdown.render_drift(())


def test_no_ops_that_record_state_are_in_the_comment(record_plan: Plan, golden: Golden) -> None:
    out = markdown.render(record_plan)
    golden("plan-record.md", out)
    assert "2 to record in state.**" in out and "<summary>Changes (4)</summary>" in out
    assert SECRET not in out


def in_waves(changes: tuple[Change, ...], size: int) -> tuple[Change, ...]:
    return tuple(replace(c, wave=i // size) for i, c in enumerate(changes))


def test_the_first_line_is_a_stable_marker_per_environment(full_plan: Plan) -> None:
    first = markdown.render(full_plan, environment="prod").splitlines()[0]
    assert (
        first == markdown.marker("plan", "prod") == "<!-- runai-reconcile plan environment=prod -->"
    )
    other = replace(full_plan, changes=many_creates(3))
    assert markdown.render(other, environment="prod").splitlines()[0] == first
    assert markdown.render(full_plan, environment="staging").splitlines()[0] != first
    drift = markdown.render_drift((), environment="prod").splitlines()[0]
    assert drift == "<!-- runai-reconcile drift environment=prod -->"


def test_the_marker_cannot_be_closed_by_an_environment_name() -> None:
    first = markdown.marker("plan", "a-->b <x>")
    body = first.removeprefix("<!--").removesuffix("-->")
    assert first.startswith("<!-- runai-reconcile plan environment=a") and first.endswith(" -->")
    assert "--" not in body and ">" not in body


def test_names_the_server_host_and_environment(full_plan: Plan) -> None:
    out = markdown.render(full_plan, environment="production")
    assert "Server: `127.0.0.1` · environment: `production`" in out
    assert "http://" not in out  # the host only, not the URL
    embedded = replace(full_plan.binding, server_url="embedded:/x/state/default.emulator.sqlite3")
    out = markdown.render(replace(full_plan, binding=embedded))
    assert "Server: `embedded emulator`" in out and "sqlite3" not in out


def test_the_apply_order_is_a_mermaid_graph_of_waves(empty_plan: Plan, golden: Golden) -> None:
    plan = replace(empty_plan, changes=in_waves(many_creates(5), 2))
    out = markdown.render(plan, environment="default")
    golden("plan-waves.md", out)
    graph = out[out.index("```mermaid") : out.index("```", out.index("```mermaid") + 3)]
    assert graph.count("subgraph") == 3 and graph.count("  end") == 3
    assert "w0 --> w1" in graph and "w1 --> w2" in graph
    # Each change sits in its wave's box, in plan order.
    boxes = graph.split("subgraph")[1:]
    assert "train-00000" in boxes[0] and "train-00002" in boxes[1] and "train-00004" in boxes[2]


def test_no_graph_for_one_wave_or_a_big_plan(empty_plan: Plan, full_plan: Plan) -> None:
    assert "mermaid" not in markdown.render(full_plan)  # one wave: no order to show
    big = replace(empty_plan, changes=in_waves(many_creates(markdown.MAX_GRAPH_STEPS + 1), 10))
    assert "mermaid" not in markdown.render(big)


def test_mermaid_labels_cannot_break_the_graph(empty_plan: Plan) -> None:
    changes = (
        Change(Address("workload-type", "", 'a"]-->x["b'), Action.CREATE, after={}),
        Change(Address("workload", "project=p", "<w>"), Action.CREATE, after={}, wave=1),
    )
    out = markdown.render(replace(empty_plan, changes=changes))
    assert 'c0["+ workload-type/a#quot;]--#gt;x[#quot;b"]' in out
    assert "#lt;w#gt;" in out


def test_every_address_is_listed_when_details_are_cut(empty_plan: Plan) -> None:
    plan = replace(empty_plan, changes=many_creates(600))
    out = markdown.render(plan)
    assert len(out) <= markdown.MAX_CHARS and "**Truncated**" in out
    listed = out[out.index("Every address (600)") : out.index("</details>")]
    assert all(f"+   training-template/project=team-a/train-{i:05d}" in listed for i in range(600))
    assert "not listed" not in out


def test_ten_thousand_changes_stay_within_a_comment(empty_plan: Plan) -> None:
    changes = many_creates(9_000) + tuple(
        Change(Address("workload", "project=team-b", f"job-{i:04d}"), Action.DELETE, wave=1)
        for i in range(1_000)
    )
    out = markdown.render(replace(empty_plan, changes=changes), environment="production")
    assert len(out) <= markdown.MAX_CHARS < 65_536
    assert out.splitlines()[0] == markdown.marker("plan", "production")
    assert "**Plan: 9000 to add, 0 to change, 0 to replace, 1000 to destroy.**" in out
    assert "**Truncated** to fit a comment" in out
    assert "mermaid" not in out
    # The addresses that fit are listed; the rest are counted per kind and action.
    index = out[out.index("Every address (10000)") :]
    index = index[: index.index("</details>")]
    listed = index.count("\n+   training-template/project=team-a/train-")
    assert index.count("\n-   workload/project=team-b/") == 0  # the creates come first
    tail = out[out.index(" more not listed: ") :].split(".\n", 1)[0]
    counted = {
        part.rsplit(" (", 1)[0].split(" ", 1)[1]: int(part.split(" ", 1)[0])
        for part in tail.removeprefix(" more not listed: ").split(", ")
    }
    assert counted["training-template"] + listed == 9_000
    assert counted["workload"] == 1_000
    assert out.count("<details") == out.count("</details>")
