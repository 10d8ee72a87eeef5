"""Which of a plan's changes run and in what order (reconcile/ordering.py): selection, scope
moves and dependency waves, on changes built directly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.kinds.registry import APPLY_RANK
from reconcile.model import Action, Address, Change, State, StateEntry
from reconcile.ordering import in_waves, matches, pair_moves, select

TYPE = Address("workload-type", "", "Notebook")
WS_A = Address("workspace-template", "project=a", "nb")
WS_B = Address("workspace-template", "project=b", "nb")
ASSET = Address("asset-template", "project=a", "legacy")
WORK = Address("workload", "project=a", "web")


def _order(changes: list[Change]) -> list[tuple[int, str, str]]:
    return [(c.wave, c.action.value, str(c.address)) for c in in_waves(changes)]


def test_creates_follow_the_kinds_they_use_and_deletes_go_first_in_reverse() -> None:
    changes = sorted(
        [
            Change(TYPE, Action.UPDATE),
            Change(WS_A, Action.CREATE),
            Change(ASSET, Action.CREATE),
            Change(WORK, Action.CREATE),
            Change(WS_B, Action.DELETE),
            Change(Address("workload", "project=a", "old"), Action.DELETE),
        ],
        key=lambda c: c.address,
    )
    assert _order(changes) == [
        (0, "delete", "workload/project=a/old"),  # dependents are deleted first
        (1, "delete", "workspace-template/project=b/nb"),
        (2, "update", "workload-type/Notebook"),  # then what is used is written first
        (3, "create", "workspace-template/project=a/nb"),
        (4, "create", "asset-template/project=a/legacy"),  # after the assets it names
        (5, "create", "workload/project=a/web"),
    ]
    assert APPLY_RANK["workload"] > APPLY_RANK["workspace-template"] > APPLY_RANK["workload-type"]


def test_no_ops_do_not_take_a_wave_of_their_own() -> None:
    changes = [
        Change(TYPE, Action.NOOP),
        Change(WS_A, Action.NOOP),
        Change(WORK, Action.CREATE),
    ]
    assert _order(changes) == [
        (0, "no-op", "workload-type/Notebook"),
        (0, "no-op", "workspace-template/project=a/nb"),
        (0, "create", "workload/project=a/web"),
    ]


def test_a_scope_move_is_one_replace_of_the_new_address() -> None:
    old = Change(WS_A, Action.DELETE, before={"spec": {"image": "a"}}, remote_id="7")
    new = Change(WS_B, Action.CREATE, after={"spec": {"image": "a"}})
    state = State("lineage", entries={WS_A: StateEntry(WS_A, "7", {})})
    moved = pair_moves([old, new], state)
    assert len(moved) == 1
    replace = moved[0]
    assert (replace.address, replace.action, replace.replaces) == (WS_B, Action.REPLACE, WS_A)
    assert (replace.remote_id, replace.before) == ("7", {"spec": {"image": "a"}})
    assert replace.replace_paths == ("metadata.scope",)
    assert replace.reason == f"scope changed: moves from {WS_A}"


def test_a_create_at_an_owned_address_is_not_a_move() -> None:
    old = Change(WS_A, Action.DELETE)
    new = Change(WS_B, Action.CREATE)
    state = State("lineage", entries={WS_B: StateEntry(WS_B, "8", {})})
    assert pair_moves([old, new], state) == [old, new]
    other_name = Change(Address("workspace-template", "project=b", "other"), Action.CREATE)
    assert pair_moves([old, other_name], State("lineage")) == [old, other_name]


def test_select_by_target_and_exclude_prefixes() -> None:
    changes = [Change(a, Action.CREATE) for a in (TYPE, WS_A, WS_B, WORK)]
    assert select(changes, targets=(), excludes=()) is changes
    picked = select(changes, targets=("workspace-template",), excludes=())
    assert [c.address for c in picked] == [WS_A, WS_B]
    picked = select(changes, targets=("workspace-template",), excludes=(str(WS_B),))
    assert [c.address for c in picked] == [WS_A]
    assert select(changes, targets=(), excludes=("workload",)) == [
        c for c in changes if c.address.kind != "workload"
    ]


# Address parts: exact per part, never a string prefix.
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
