"""`--target`/`--exclude` selection: exact per address part, never a string prefix."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.model import Action, Address, Change
from reconcile.ordering import matches, select

JUPYTER = Address("workspace-template", "project=team-a", "jupyter")
JUPYTER_SMALL = Address("workspace-template", "project=team-a", "jupyter-small")
TEAM_AB = Address("workspace-template", "project=team-ab", "jupyter")
SLASHED = Address("workspace-template", "project=team-a", "a/b")  # e.g. an old state entry
JOB = Address("workload-type", "", "Job")
JOBS = Address("workload-type", "", "JobSet")
EVERY = (JUPYTER, JUPYTER_SMALL, TEAM_AB, SLASHED, JOB, JOBS)


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("workspace-template/project=team-a/jupyter", {JUPYTER}),
        ("workspace-template/project=team-a/jupyter/", {JUPYTER}),
        ("workspace-template/project=team-a", {JUPYTER, JUPYTER_SMALL, SLASHED}),
        ("workspace-template/project=team-a/", {JUPYTER, JUPYTER_SMALL, SLASHED}),
        ("workspace-template/project=team", set()),
        ("workspace-template/project=team-a/a", set()),
        ("workspace-template/project=team-a/a/b", {SLASHED}),
        ("workspace-template", {JUPYTER, JUPYTER_SMALL, TEAM_AB, SLASHED}),
        ("workspace", set()),
        ("workload-type/Job", {JOB}),
        ("workload-type", {JOB, JOBS}),
        ("workload-type/Jo", set()),
        ("", set()),
    ],
)
def test_a_pattern_selects_whole_parts_only(pattern: str, selected: set[Address]) -> None:
    assert {a for a in EVERY if matches(a, pattern)} == selected


def test_select_applies_targets_then_excludes() -> None:
    changes = [Change(a, Action.CREATE) for a in EVERY]
    kept = select(changes, targets=["workspace-template"], excludes=[str(JUPYTER)])
    assert [c.address for c in kept] == [JUPYTER_SMALL, TEAM_AB, SLASHED]
    assert select(changes, targets=[], excludes=[]) == changes


_PART = st.text(st.characters(blacklist_characters="/"), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(kind=_PART, scope=st.one_of(st.just(""), _PART), name=_PART, other=_PART)
def test_an_address_is_matched_by_its_own_parts_and_no_other(
    kind: str, scope: str, name: str, other: str
) -> None:
    address = Address(kind, scope, name)
    assert matches(address, str(address)) and matches(address, kind)
    assert not scope or matches(address, f"{kind}/{scope}")
    assert not matches(address, f"{kind}x")
    assert matches(address, str(Address(kind, scope, other))) == (other == name)
    assert not matches(address, str(address) + "x")
