"""Planner rules that the server cannot be made to show through the API (the CLI tests in
tests/cli/ cover the rest end to end)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest

from reconcile.errors import PlanError
from reconcile.kinds.lookups import Lookups
from reconcile.live_view import LiveView, fingerprint
from reconcile.model import (
    Action,
    Address,
    Change,
    EntryStatus,
    LiveResource,
    Plan,
    Resource,
    Spec,
    State,
    StateEntry,
)
from reconcile.planner import BindingSource, PlanOptions, make_plan
from reconcile.sensitive import redact

ADDRESS = Address("workspace-template", "tenant", "jupyter")
SPEC = {"spec": {"image": "jupyter/base-notebook"}}


def test_an_address_held_by_two_live_objects_is_refused() -> None:
    """The emulator answers 409 to a duplicate, but a real server or an id the lookups
    cannot resolve could still show two objects at one address: never pick one blindly."""
    live = LiveView(
        resources={ADDRESS: LiveResource(ADDRESS, SPEC, remote_id="a")},
        lookups=Lookups(),
        duplicates=(ADDRESS,),
    )
    with pytest.raises(PlanError, match="more than one object on the server"):
        make_plan(
            {ADDRESS: Resource(ADDRESS, SPEC)},
            live,
            State(lineage="l"),
            source=BindingSource("http://127.0.0.1"),
        )


# --- no-ops that apply records in state ------------------------------------------------------

LINEAGE = "lineage-1"
SECRET_PATH = "spec.environmentVariables[*].value"
WITH_SECRET = {"spec": {"image": "x", "environmentVariables": [{"name": "K", "value": "s3cret"}]}}


def _plan(
    desired: Spec,
    live: Spec,
    entry: StateEntry | None,
    *,
    adopt: bool = False,
    sensitive: frozenset[str] = frozenset(),
) -> Plan:
    state = State(LINEAGE, serial=3, entries={ADDRESS: entry} if entry is not None else {})
    view = LiveView(
        resources={ADDRESS: LiveResource(ADDRESS, live, remote_id="id-1", updated_by="bob")},
        lookups=Lookups(),
    )
    plan = make_plan(
        {ADDRESS: Resource(ADDRESS, desired, sensitive=sensitive)},
        view,
        state,
        source=BindingSource("http://127.0.0.1"),
        options=PlanOptions(adopt=adopt),
    )
    return plan


def _owned(last_applied: Spec, **changes: Any) -> StateEntry:
    return replace(StateEntry(ADDRESS, "id-1", last_applied), **changes)


def _only(plan: Plan) -> Change:
    [change] = plan.changes
    return change


def test_an_identical_owned_object_is_a_plain_no_op() -> None:
    plan = _plan(SPEC, copy.deepcopy(SPEC), _owned(copy.deepcopy(SPEC)))
    change = _only(plan)
    assert (change.action, change.records_state, change.reason) == (Action.NOOP, False, "")
    assert (change.before, change.after, change.remote_id) == (SPEC, SPEC, "id-1")
    assert not plan.has_changes and not change.is_step and plan.drift == ()
    assert plan.binding.live_fingerprints == {}
    assert plan.summary()["record"] == 0


OLDER = {"spec": {"image": "jupyter/base-notebook:old"}}


@pytest.mark.parametrize(
    ("entry", "adopt", "reason"),
    [
        (None, True, "adopt"),
        (
            _owned(SPEC, status=EntryStatus.PENDING_CREATE, remote_id=""),
            False,
            "an earlier create landed but was not confirmed: record it in state",
        ),
        (_owned(SPEC, remote_id="id-0"), False, "state holds id id-0, the server id-1"),
        (_owned(OLDER), False, "state holds an older spec than the server: record it"),
    ],
    ids=["adopted", "pending-create", "other-id", "older-last-applied"],
)
def test_a_no_op_whose_state_lags_is_recorded(
    entry: StateEntry | None, adopt: bool, reason: str
) -> None:
    plan = _plan(SPEC, copy.deepcopy(SPEC), entry, adopt=adopt)
    change = _only(plan)
    assert (change.action, change.records_state, change.calls) == (Action.NOOP, True, ())
    assert change.reason.startswith(reason)
    assert plan.has_changes and change.is_step and plan.steps() == (change,)
    assert plan.summary()["record"] == 1
    # Bound like any step: apply refuses it if the object moves in between.
    assert plan.binding.live_fingerprints == {str(ADDRESS): fingerprint(SPEC, None)}
    restored = Change.from_dict(json.loads(json.dumps(change.to_dict())))
    assert restored == change


def test_an_older_last_applied_is_also_drift() -> None:
    plan = _plan(SPEC, copy.deepcopy(SPEC), _owned(OLDER))
    [drift] = plan.drift
    assert [(f.path, f.before, f.after) for f in drift.fields] == [
        ("spec.image", "jupyter/base-notebook:old", "jupyter/base-notebook")
    ]


def test_json_number_types_keep_their_old_meaning() -> None:
    """`True == 1` and `1 == 1.0` in Python: the identical-spec shortcut must not change
    what the full diff says. A bool against a number is a change (or drift); an int against
    an integral float is the same JSON number, and `last_applied` lags only where it
    differs as Python values (as before)."""
    flag = {"spec": {"image": "x", "allowOverQuota": True}}
    number = {"spec": {"image": "x", "allowOverQuota": 1}}
    plan = _plan(flag, number, _owned(flag))
    change = _only(plan)
    assert change.action is Action.UPDATE
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("spec.allowOverQuota", 1, True)
    ]

    plan = _plan(number, copy.deepcopy(number), _owned(flag))
    assert not _only(plan).records_state
    [drift] = plan.drift
    assert [(f.path, f.before, f.after) for f in drift.fields] == [("spec.allowOverQuota", True, 1)]

    floats = {"spec": {"image": "x", "allowOverQuota": 1.0}}
    plan = _plan(number, copy.deepcopy(number), _owned(floats))
    assert not plan.has_changes and plan.drift == ()


def test_key_order_alone_plans_the_same_no_op() -> None:
    reordered = {"spec": {"image": SPEC["spec"]["image"]}, "metadata": {"description": "d"}}
    desired = {"metadata": {"description": "d"}, "spec": {"image": SPEC["spec"]["image"]}}
    same = _plan(desired, copy.deepcopy(desired), _owned(copy.deepcopy(desired)))
    shuffled = _plan(desired, reordered, _owned(copy.deepcopy(reordered)))
    assert shuffled.changes == same.changes and shuffled.drift == same.drift == ()
    assert not shuffled.has_changes


def test_a_secret_is_recorded_only_while_state_holds_it_in_the_clear() -> None:
    paths = frozenset({SECRET_PATH})
    hashed = redact(WITH_SECRET, (SECRET_PATH,), LINEAGE)
    plan = _plan(WITH_SECRET, copy.deepcopy(WITH_SECRET), _owned(hashed), sensitive=paths)
    assert not plan.has_changes and plan.drift == ()
    # A state written before the path was marked sensitive holds the value itself.
    clear = copy.deepcopy(WITH_SECRET)
    plan = _plan(WITH_SECRET, copy.deepcopy(WITH_SECRET), _owned(clear), sensitive=paths)
    change = _only(plan)
    assert change.records_state and change.sensitive == (SECRET_PATH,)


def test_a_record_step_gets_a_wave_of_its_own() -> None:
    # A built-in workload type is adopted without --adopt: it can never be deleted.
    builtin = Address("workload-type", "", "Notebook")
    spec = {"spec": {"category": "Build", "priority": "medium"}}
    view = LiveView(
        resources={builtin: LiveResource(builtin, spec, remote_id="nb-id")}, lookups=Lookups()
    )
    desired = {ADDRESS: Resource(ADDRESS, SPEC), builtin: Resource(builtin, copy.deepcopy(spec))}
    plan = make_plan(desired, view, State(LINEAGE), source=BindingSource("http://127.0.0.1"))
    assert [(c.address, c.action, c.records_state, c.wave) for c in plan.changes] == [
        (builtin, Action.NOOP, True, 0),
        (ADDRESS, Action.CREATE, False, 1),
    ]
