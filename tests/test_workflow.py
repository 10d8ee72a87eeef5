"""The read side shared by plan, apply and drift (reconcile/workflow.py), against the
emulator over loopback HTTP with a real client and a state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.applier import apply_plan
from reconcile.client import Client, Credentials
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.model import Action, Address, EntryStatus, Resource, StateEntry
from reconcile.planner import BindingSource, PlanOptions, normalized
from reconcile.state import StateStore
from reconcile.workflow import (
    PlanResult,
    drift_run,
    plan_for_apply,
    plan_run,
    read_for,
    read_owned,
    saved_plan_check,
)
from tests.emulator.helpers import (
    TEMPLATES,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    Api,
    create_template,
)

ONE = Address("workspace-template", "project=team-a", "wf-one")


def desired(image: str = "python:3.11") -> dict[Address, Resource]:
    return normalized({ONE: Resource(ONE, {"spec": {"image": image}})})


@pytest.fixture
def client(emulator: EmbeddedEmulator) -> Iterator[Client]:
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with Client(emulator.url, credentials=credentials, backoff=0.005) as made:
        yield made


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.json")


def _plan(client: Client, store: StateStore, api: Api) -> PlanResult:
    return plan_run(
        client, desired(), store.read(), source=BindingSource(api.url), options=PlanOptions()
    )


def _applied(client: Client, store: StateStore, api: Api) -> PlanResult:
    """Plan and apply `desired()`; the fresh read afterwards."""
    first = _plan(client, store, api)
    result = apply_plan(
        first.plan,
        client=client,
        store=store,
        state=first.state,
        desired=first.desired,
        lookups=first.live.lookups,
    )
    assert result.ok
    return _plan(client, store, api)


def test_plan_run_reads_the_desired_kinds_and_plans_against_them(
    client: Client, store: StateStore, api: Api
) -> None:
    result = _plan(client, store, api)
    assert [(c.address, c.action) for c in result.plan.changes] == [(ONE, Action.CREATE)]
    assert result.live.kinds_read == {"workspace-template"}
    assert result.plan.binding.server_url == api.url
    again = _applied(client, store, api)
    assert not again.plan.has_changes
    assert again.live.resources[ONE].remote_id == again.state.entries[ONE].remote_id


def test_read_owned_reads_only_what_state_owns_and_read_for_keeps_it(
    client: Client, store: StateStore, api: Api
) -> None:
    state = _applied(client, store, api).state
    owned = read_owned(client, state)
    assert owned.kinds_read == {"workspace-template"}
    assert set(owned.resources) == {ONE}
    api.clear_log()
    later = read_for(client, desired(), state, known=owned)
    assert api.request_log()["requests"] == []  # everything it needs was read already
    assert later.resources == owned.resources


def test_drift_run_shows_a_change_made_on_the_server(
    client: Client, store: StateStore, api: Api
) -> None:
    result = _applied(client, store, api)
    assert drift_run(client, desired(), result.state) == ()
    remote_id = result.state.entries[ONE].remote_id
    moved = api.patch(f"{TEMPLATES}/workspaces/{remote_id}", {"spec": {"image": "other:1"}})
    assert moved.status_code == 200, moved.text
    drifts = drift_run(client, desired(), store.read())
    assert [(d.address, [f.path for f in d.fields]) for d in drifts] == [(ONE, ["spec.image"])]


def test_plan_for_apply_settles_an_intent_the_server_confirms(
    client: Client, store: StateStore, api: Api
) -> None:
    """A create journaled but never confirmed (the run was killed after its POST landed)."""
    state = store.read()
    pending = StateEntry(ONE, "", desired()[ONE].spec, EntryStatus.PENDING_CREATE)
    store.write(state.with_entry(pending))
    created = create_template(api, "workspaces", "wf-one")
    result = plan_for_apply(
        client, store, desired(), source=BindingSource(api.url), options=PlanOptions()
    )
    entry = result.state.entries[ONE]
    assert (entry.status, entry.remote_id) == (EntryStatus.APPLIED, created["meta"]["id"])
    assert store.read().entries[ONE] == entry
    assert [c.action for c in result.plan.changes] == [Action.NOOP]


def test_saved_plan_check_names_what_moved_since_the_plan(
    client: Client, store: StateStore, api: Api
) -> None:
    result = _plan(client, store, api)
    check = {"server_url": api.url, "options": PlanOptions()}
    fresh, reasons = saved_plan_check(client, store, result.plan, desired(), **check)
    assert reasons == []
    assert fresh.plan.changes == result.plan.changes  # made again from the same reads
    create_template(api, "workspaces", "wf-one")  # someone else took the name meanwhile
    _, reasons = saved_plan_check(client, store, result.plan, desired(), **check)
    assert any(str(ONE) in reason for reason in reasons), reasons
    _, reasons = saved_plan_check(client, store, result.plan, desired("python:3.12"), **check)
    assert any("config" in reason for reason in reasons), reasons
