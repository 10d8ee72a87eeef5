"""No value in a plan can forge output: names, reasons, keys and values full of line breaks,
terminal escapes and Markdown metacharacters, against golden files and a Hypothesis
property over any string.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconcile.model import Action, Address, ApiCall, Change, Drift, FieldChange, Plan
from reconcile.model import FieldChangeKind as Field
from reconcile.render import markdown, text
from tests.render.conftest import BINDING

Golden = Callable[[str, str], None]
# Lines a forged change would start with: a change mark, in the text view and in the diff
# block of the Markdown view (where the mark moves to column 0).
TEXT_HEAD = re.compile(r"^  (\+|~|-/\+|-|\.|=|!) \S")
MD_HEAD = re.compile(r"^(\+|~|-/\+|-|\.|=|!)   \S")
HOSTILE = (
    "x\n  - workload/project=team-a/prod (deleted)\n"
    "\x1b[2K\x1b[1A\r  + forged\u2028- also forged\u2029\x85\x0b\x0c\x1c"
    "\u202eevil\u2066 ``` ~~~ </details> <b>|*_[x](y)#</b>"
)


def _plan(value: str, *, name: str = "t") -> Plan:
    """One change of each kind that prints text, each carrying `value` everywhere it can."""
    create = Change(
        Address("workspace-template", "project=team-a", name),
        Action.CREATE,
        after={
            "metadata": {"description": value},
            "spec": {"args": value, "labels": [{"name": value, "value": value}], value: value},
        },
        reason=value,
        calls=(ApiCall("POST", "/api/v1/workload-templates/workspaces"),),
    )
    update = Change(
        Address("workload", "project=team-a", name),
        Action.UPDATE,
        before={"spec": {"category": "Train"}},
        after={"spec": {"category": value}},
        fields=(
            FieldChange("spec.category", Field.CHANGE, "Train", value),
            FieldChange(f"spec.manifest.metadata.labels.{value}", Field.ADD, None, 1),
            FieldChange(f"spec.{value}", Field.CLEAR, value, None),
        ),
        replace_paths=(value,),
        calls=(ApiCall("PATCH", f"/api/v2/workloads/{value}"),),
    )
    delete = Change(
        Address("asset-template", "tenant", name),
        Action.DELETE,
        before={"spec": {"assets": {"environment": value}}},
        reason=value,
    )
    drift = Drift(
        Address("workload-type", "", name),
        fields=(FieldChange("spec.priority", Field.CHANGE, value, value),),
        updated_by=value,
        updated_at=value,
    )
    return Plan(
        changes=(create, update, delete),
        binding=BINDING,
        drift=(drift,),
        safety_violations=(f"would delete {value}",),
    )


def test_hostile_text_plan_matches_golden(golden: Golden) -> None:
    out = text.render(_plan(HOSTILE, name=HOSTILE))
    golden("plan-hostile.txt", out)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e\u2066]", out)


def test_hostile_markdown_plan_matches_golden(golden: Golden) -> None:
    out = markdown.render(_plan(HOSTILE, name=HOSTILE))
    golden("plan-hostile.md", out)
    assert "<b>" not in out.split("```", 1)[0]  # HTML escaped outside the code block


def _shape(out: str, head: re.Pattern[str]) -> tuple[int, int]:
    lines = out.split("\n")
    return len(lines), sum(1 for line in lines if head.match(line))


@settings(max_examples=150, deadline=None)
@given(value=st.text(max_size=40), name=st.text(min_size=1, max_size=20))
def test_no_string_in_a_plan_can_add_or_forge_a_line(value: str, name: str) -> None:
    assume(value not in ("args", "labels"))  # as a spec key it would merge with _plan's own
    plain = _plan("v")
    hostile = _plan(value, name=name)
    # Each step is one change-mark line; nothing else adds a line or starts like one.
    lines, heads = _shape(text.render(hostile), TEXT_HEAD)
    assert heads == len(hostile.steps()) + len(hostile.drift) + len(hostile.safety_violations)
    assert (lines, heads) == _shape(text.render(plain), TEXT_HEAD)
    assert len(text.render(hostile).splitlines()) == lines - 1  # no other line breaks
    md = markdown.render(hostile)
    assert _shape(md, MD_HEAD) == _shape(markdown.render(plain), MD_HEAD)
    fence = re.findall(r"^(`{3,})diff$", md, flags=re.MULTILINE)
    assert len(fence) == 2 and md.count(f"\n{fence[0]}\n") == 2  # two blocks, each closed once
