"""The applier end to end: real plans, a real client and state store, the emulator over HTTP.

Every test plans with `planner.make_plan` from desired resources in the normalized spec shape,
applies with `applier.apply_plan`, and checks the server (through its API) and the state file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reconcile.applier import (
    ApplyResult,
    EventKind,
    RetryPolicy,
    StepEvent,
    apply_plan,
    settle_pending,
    verify_binding,
)
from reconcile.client import Client, Credentials
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.journal import StateJournal
from reconcile.kinds.registry import BY_SLUG
from reconcile.live import read_lists, read_live
from reconcile.live_view import LiveView
from reconcile.model import (
    Action,
    Address,
    EntryStatus,
    Plan,
    Resource,
    State,
    StateEntry,
)
from reconcile.planner import BindingSource, PlanOptions, desired_digest, make_plan, normalized
from reconcile.state import StateStore
from tests.emulator.helpers import TEAM_A, TEMPLATES, TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api

FAST = RetryPolicy(attempts=6, backoff_s=0.005, backoff_max_s=0.05)
TEAM_B = "43"
WORKLOADS_V2 = "/api/v2/workloads"


# --- desired resources in the normalized spec shape -------------------------------------------


def workspace(name: str, project: str = "team-a", **spec: Any) -> Resource:
    address = Address("workspace-template", f"project={project}", name)
    body = {"image": "python:3.11", **spec}
    return Resource(address, {"metadata": {"description": f"{name} template"}, "spec": body})


def training(name: str, project: str = "team-a") -> Resource:
    address = Address("training-template", f"project={project}", name)
    return Resource(address, {"spec": {"image": "pytorch:2"}})


def inference(name: str, image: str) -> Resource:
    address = Address("inference-template", "project=team-a", name)
    return Resource(address, {"spec": {"image": image}})


def workload(name: str, kind: str = "Deployment", priority: str = "medium") -> Resource:
    address = Address("workload", "project=team-a", name)
    manifest = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": {}}
    return Resource(
        address, {"spec": {"category": "Deploy", "priority": priority, "manifest": manifest}}
    )


def workload_type(name: str, category: str, priority: str) -> Resource:
    address = Address("workload-type", "", name)
    return Resource(address, {"spec": {"category": category, "priority": priority}})


def as_set(*resources: Resource) -> dict[Address, Resource]:
    return {r.address: r for r in resources}


# --- the harness: plan and apply the way the CLI will -----------------------------------------


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    live: LiveView
    state: State
    desired: Mapping[Address, Resource]

    def actions(self) -> dict[Address, Action]:
        return {c.address: c.action for c in self.plan.changes}


@dataclass
class Harness:
    client: Client
    store: StateStore
    api: Api

    def read_live(self, addresses: set[Address]) -> LiveView:
        return read_live(self.client, slugs=set(BY_SLUG), interesting=addresses)

    def plan(
        self, desired: Mapping[Address, Resource], *, adopt: bool = False, settle: bool = True
    ) -> Prepared:
        state = self.store.read()
        live = self.read_live(set(desired) | set(state.entries))
        if settle:
            state = settle_pending(self.client, self.store, state, live.lookups)
        wanted = normalized(desired)
        plan = make_plan(
            wanted,
            live,
            state,
            source=BindingSource(self.api.url),
            options=PlanOptions(adopt=adopt),
        )
        return Prepared(plan, live, state, wanted)

    def apply(self, prepared: Prepared, **options: Any) -> ApplyResult:
        options.setdefault("retry", FAST)
        options.setdefault("poll_interval_s", 0.05)
        options.setdefault("async_timeout_s", 10.0)
        return apply_plan(
            prepared.plan,
            client=self.client,
            store=self.store,
            state=prepared.state,
            desired=prepared.desired,
            lookups=prepared.live.lookups,
            **options,
        )

    def converge(self, desired: Mapping[Address, Resource], **options: Any) -> ApplyResult:
        return self.apply(self.plan(desired), **options)

    def templates(self) -> list[dict[str, Any]]:
        response = self.api.get(TEMPLATES, limit=500)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    def template(self, name: str) -> dict[str, Any] | None:
        found = [t for t in self.templates() if t["meta"]["name"] == name]
        assert len(found) <= 1, f"duplicate templates named {name!r}"
        return found[0] if found else None

    def assert_no_duplicates(self) -> None:
        names = Counter((t["meta"]["scopeId"], t["meta"]["name"]) for t in self.templates())
        assert [key for key, count in names.items() if count > 1] == []

    def assert_state_matches_templates(self) -> None:
        """Every template entry in state names a live template with that name and id."""
        by_id = {t["meta"]["id"]: t for t in self.templates()}
        for address, entry in self.store.read().entries.items():
            assert entry.status is EntryStatus.APPLIED, address
            assert by_id[entry.remote_id]["meta"]["name"] == address.name


@pytest.fixture
def client(emulator: EmbeddedEmulator) -> Iterator[Client]:
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with Client(
        emulator.url, credentials=credentials, max_retries=8, backoff=0.005, backoff_max=0.05
    ) as made:
        yield made


@pytest.fixture
def harness(client: Client, api: Api, tmp_path: Path) -> Harness:
    return Harness(client, StateStore(tmp_path / "state.json"), api)


# --- create, update, delete, replace, forget ---------------------------------------------------


def test_create_update_delete_end_to_end(harness: Harness) -> None:
    one, two = workspace("nb-one"), workspace("nb-two", compute={"gpuDevicesRequest": 1})
    events: list[StepEvent] = []
    result = harness.converge(as_set(one, two), on_event=events.append)

    assert result.ok and result.applied == (one.address, two.address)
    assert Counter(e.kind for e in events) == {EventKind.START: 2, EventKind.APPLIED: 2}
    assert events[-1].completed == events[-1].total == 2
    state = harness.store.read()
    assert state == result.state and state.serial >= 2
    created = harness.template("nb-two")
    assert created is not None and created["spec"]["compute"]["gpuDevicesRequest"] == 1
    assert state.entries[two.address].remote_id == created["meta"]["id"]
    assert state.entries[two.address].last_applied == normalized(as_set(two))[two.address].spec
    assert not harness.plan(as_set(one, two)).plan.has_changes

    changed = workspace("nb-one", image="python:3.12")
    prepared = harness.plan(as_set(changed))
    assert prepared.actions() == {one.address: Action.UPDATE, two.address: Action.DELETE}
    result = harness.apply(prepared)

    assert result.ok and set(result.applied) == {one.address, two.address}
    updated = harness.template("nb-one")
    assert updated is not None and updated["spec"]["image"] == "python:3.12"
    assert harness.template("nb-two") is None
    after = harness.store.read()
    assert set(after.entries) == {one.address} and after.serial > state.serial
    assert after.entries[one.address].last_applied["spec"]["image"] == "python:3.12"
    assert not harness.plan(as_set(changed)).plan.has_changes


def test_live_template_items_leave_out_the_merged_view_nothing_reads(harness: Harness) -> None:
    one = workspace("nb-merged", compute={"gpuDevicesRequest": 1})
    assert harness.converge(as_set(one)).ok
    on_server = harness.template("nb-merged")
    assert on_server is not None and "combinedSpec" in on_server  # the server sends it

    live = harness.read_live({one.address})

    raw = live.resources[one.address].raw
    assert isinstance(raw, dict) and "combinedSpec" not in raw
    assert raw["spec"] == on_server["spec"] and raw["meta"] == on_server["meta"]
    assert all("combinedSpec" not in item for items in live.lists.values() for item in items)


def asset_template(args: str) -> Resource:
    address = Address("asset-template", "project=team-a", "legacy")
    assets = {"environment": "jupyter-lab", "compute": "one-gpu"}
    return Resource(address, {"spec": {"assets": assets, "specificEnv": {"args": args}}})


def distributed(workers: int) -> Resource:
    address = Address("distributed-template", "department=research", "ddp")
    spec = {"distributedFramework": "PyTorch", "numWorkers": workers, "image": "pytorch:2"}
    return Resource(address, {"spec": spec, "masterSpecSameAsWorker": True})


def test_other_template_kinds_create_then_update_through_freshness(harness: Harness) -> None:
    first = as_set(asset_template("--a"), distributed(2))
    assert harness.converge(first).ok
    second = as_set(asset_template("--b"), distributed(3))
    prepared = harness.plan(second)
    assert set(prepared.actions().values()) == {Action.UPDATE}

    result = harness.apply(prepared)  # the re-read before each write matches the plan's view

    assert result.ok, result.failed
    assert not harness.plan(second).plan.has_changes
    entries = harness.store.read().entries
    assert entries[distributed(3).address].last_applied["spec"]["numWorkers"] == 3


def test_scope_move_replaces_and_moves_the_state_entry(harness: Harness) -> None:
    before = workspace("mover", project="team-a")
    assert harness.converge(as_set(before)).ok
    old_id = harness.store.read().entries[before.address].remote_id

    moved = workspace("mover", project="team-b")
    prepared = harness.plan(as_set(moved))
    [change] = prepared.plan.changes
    assert change.action is Action.REPLACE and change.replaces == before.address
    result = harness.apply(prepared)

    assert result.ok and result.applied == (moved.address,)
    live = harness.template("mover")
    assert live is not None and live["meta"]["scopeId"] == TEAM_B and live["meta"]["id"] != old_id
    entries = harness.store.read().entries
    assert (
        set(entries) == {moved.address} and entries[moved.address].remote_id == live["meta"]["id"]
    )


def test_inference_template_change_replaces_in_place(harness: Harness) -> None:
    assert harness.converge(as_set(inference("serve", "vllm:1"))).ok
    old_id = harness.store.read().entries[inference("serve", "x").address].remote_id

    prepared = harness.plan(as_set(inference("serve", "vllm:2")))
    assert [c.action for c in prepared.plan.changes] == [Action.REPLACE]
    assert harness.apply(prepared).ok

    live = harness.template("serve")
    assert live is not None and live["spec"]["image"] == "vllm:2" and live["meta"]["id"] != old_id
    [entry] = harness.store.read().entries.values()
    assert entry.remote_id == live["meta"]["id"] and entry.status is EntryStatus.APPLIED


def test_adopted_workload_types_are_recorded_then_forgotten(harness: Harness, api: Api) -> None:
    # Deployment is seeded as Deploy/very-high: an identical adopt is a no-op that state must
    # still record; PyTorchJob gets a new priority: an adopt update.
    same = workload_type("Deployment", "Deploy", "very-high")
    other = workload_type("PyTorchJob", "Train", "high")
    prepared = harness.plan(as_set(same, other), adopt=True)
    assert prepared.actions() == {same.address: Action.NOOP, other.address: Action.UPDATE}
    result = harness.apply(prepared)
    assert result.ok and set(result.applied) == {same.address, other.address}

    entries = harness.store.read().entries
    types = {t["name"]: t for t in api.get("/api/v1/workload-types").json()["types"]}
    assert entries[same.address].remote_id == types["Deployment"]["id"]
    assert entries[other.address].remote_id == types["PyTorchJob"]["id"]
    assert not harness.plan(as_set(same, other)).plan.has_changes

    prepared = harness.plan(as_set(same))
    assert prepared.actions() == {same.address: Action.NOOP, other.address: Action.FORGET}
    api.clear_log()
    assert harness.apply(prepared).ok
    assert set(harness.store.read().entries) == {same.address}
    writes = [r for r in api.request_log()["requests"] if r["method"] != "GET"]
    assert writes == []  # forgetting makes no call; the type stays on the server
    assert api.get(f"/api/v1/workload-types/{types['PyTorchJob']['id']}").status_code == 200


# --- the intent journal and pending-create settlement ------------------------------------------


def test_post_answer_lost_after_commit_is_found_by_name_not_repeated(
    harness: Harness, api: Api
) -> None:
    desired = as_set(*(workspace(f"lost-{i}") for i in range(4)))
    prepared = harness.plan(desired)
    api.set_faults(commit_then_fail_rate=1.0, seed_random=11)  # every write: 503 or dropped
    api.clear_log()
    result = harness.apply(prepared)
    api.set_faults(commit_then_fail_rate=0.0)

    assert result.ok, result.failed
    log = api.request_log()["requests"]
    posts = [r for r in log if r["method"] == "POST"]
    assert len(posts) == 4 and {r.get("fault") for r in posts} <= {"commit-then-fail-503", "drop"}
    harness.assert_no_duplicates()
    harness.assert_state_matches_templates()
    assert set(harness.store.read().entries) == set(desired)


def test_intent_is_journaled_before_the_post_and_settled_later(harness: Harness, api: Api) -> None:
    nb = workspace("journaled")
    prepared = harness.plan(as_set(nb))
    api.set_faults(error_rate=1.0, seed_random=5)  # nothing answers: the outcome is unknown
    result = harness.apply(prepared)
    api.set_faults(error_rate=0.0)

    assert not result.ok and nb.address in result.failed
    entry = harness.store.read().entries[nb.address]
    assert entry.status is EntryStatus.PENDING_CREATE and entry.remote_id == ""
    assert harness.template("journaled") is None

    result = harness.converge(as_set(nb))  # settles (absent: dropped), then creates once
    assert result.ok
    harness.assert_no_duplicates()
    harness.assert_state_matches_templates()


def test_settle_pending_takes_landed_ids_and_drops_absent_intents(
    harness: Harness, api: Api
) -> None:
    landed, absent = workspace("landed"), workspace("absent")
    wanted = normalized(as_set(landed, absent))
    # As a run killed between the server's commit and the answer leaves it.
    meta = {"name": "landed", "scopeType": "project", "scopeId": TEAM_A}
    body = {"meta": {**meta, "description": "landed template"}, "spec": {"image": "python:3.11"}}
    created = api.post(f"{TEMPLATES}/workspaces", body).json()
    state = harness.store.read()
    for address in wanted:
        state = state.with_entry(
            StateEntry(address, "", wanted[address].spec, EntryStatus.PENDING_CREATE)
        )
    state = harness.store.write(state)

    settled = settle_pending(harness.client, harness.store, state, harness.read_live(set()).lookups)

    assert settled.serial == state.serial + 1 and harness.store.read() == settled
    assert set(settled.entries) == {landed.address}
    entry = settled.entries[landed.address]
    assert entry.status is EntryStatus.APPLIED and entry.remote_id == created["meta"]["id"]
    prepared = harness.plan(as_set(landed, absent))
    assert prepared.actions() == {landed.address: Action.NOOP, absent.address: Action.CREATE}
    assert harness.apply(prepared).ok
    harness.assert_no_duplicates()


def _create_by_hand(api: Api, name: str, description: str) -> str:
    meta = {"name": name, "scopeType": "project", "scopeId": TEAM_A, "description": description}
    response = api.post(f"{TEMPLATES}/workspaces", {"meta": meta, "spec": {"image": "python:3.11"}})
    assert response.status_code == 202, response.text
    remote_id: str = response.json()["meta"]["id"]
    return remote_id


def test_a_name_taken_since_the_plan_fails_without_owning_it(harness: Harness, api: Api) -> None:
    nb = workspace("taken")
    prepared = harness.plan(as_set(nb))
    _create_by_hand(api, "taken", "someone else's")

    result = harness.apply(prepared)

    assert "--adopt" in result.failed[nb.address]
    assert harness.store.read().entries == {}  # neither the intent nor their object
    template = harness.template("taken")
    assert template is not None and template["meta"]["description"] == "someone else's"


def test_a_saved_plan_over_an_unsettled_intent_takes_the_landed_object(
    harness: Harness, api: Api
) -> None:
    nb = workspace("late")
    spec = normalized(as_set(nb))[nb.address].spec
    intent = StateEntry(nb.address, "", spec, EntryStatus.PENDING_CREATE)
    harness.store.write(harness.store.read().with_entry(intent))
    prepared = harness.plan(as_set(nb), settle=False)  # `plan` itself never writes state
    assert prepared.actions() == {nb.address: Action.CREATE}
    # The earlier run's POST shows up on the server only after the plan read it.
    remote_id = _create_by_hand(api, "late", "late template")

    result = harness.apply(prepared)

    assert result.ok, result.failed
    entry = harness.store.read().entries[nb.address]
    assert entry.status is EntryStatus.APPLIED and entry.remote_id == remote_id
    harness.assert_no_duplicates()


def test_transient_faults_converge_without_duplicates(harness: Harness, api: Api) -> None:
    desired = as_set(*(workspace(f"storm-{i:02d}") for i in range(30)))
    injected: Counter[str] = Counter()
    for attempt in range(3):  # a second apply may finish the job
        prepared = harness.plan(desired)  # live reads are the live reader's business
        api.set_faults(
            error_rate=0.2,
            throttle_rate=0.1,
            commit_then_fail_rate=0.25,
            retry_after_s=0,
            seed_random=3 + attempt,
        )
        api.clear_log()
        result = harness.apply(prepared, parallelism=8)
        api.set_faults(error_rate=0.0, throttle_rate=0.0, commit_then_fail_rate=0.0)
        log = api.request_log()["requests"]
        injected.update(f"{r['method']} {r['fault']}" for r in log if r.get("fault"))
        if result.ok:
            break

    # Seeded, yet which call draws which fault depends on thread timing: assert the classes.
    assert sum(n for fault, n in injected.items() if "injected-" in fault) > 0
    assert injected["POST commit-then-fail-503"] + injected["POST drop"] > 0
    assert not harness.plan(desired).plan.has_changes
    harness.assert_no_duplicates()
    harness.assert_state_matches_templates()
    assert {t["meta"]["name"] for t in harness.templates()} >= {a.name for a in desired}


# --- freshness and failure handling ------------------------------------------------------------


def _hand_edit(api: Api, harness: Harness, name: str) -> None:
    template = harness.template(name)
    assert template is not None
    path = f"{TEMPLATES}/workspaces/{template['meta']['id']}"
    response = api.patch(path, {"meta": {"name": name, "description": "edited by hand"}})
    assert response.status_code == 200, response.text


# Freshness is checked against a list read made at apply start, or with one GET per step.
FRESHNESS = ("list read", "get")


def _listed(harness: Harness, how: str) -> dict[Any, list[Any]] | None:
    return read_lists(harness.client, {"workspace-template"}) if how == "list read" else None


def _keep_changed_drop_removed(harness: Harness) -> tuple[Resource, Resource, Prepared]:
    """Templates `keep` and `drop` applied, then a plan that updates one, deletes the other."""
    keep, drop = workspace("keep"), workspace("drop")
    assert harness.converge(as_set(keep, drop)).ok
    return keep, drop, harness.plan(as_set(workspace("keep", image="python:3.12")))


@pytest.mark.parametrize("how", FRESHNESS)
def test_objects_edited_since_the_plan_are_not_touched(
    harness: Harness, api: Api, how: str
) -> None:
    keep, drop, prepared = _keep_changed_drop_removed(harness)
    before = harness.store.read()
    _hand_edit(api, harness, "keep")
    _hand_edit(api, harness, "drop")

    result = harness.apply(prepared, keep_going=True, listed=_listed(harness, how))

    assert result.applied == () and set(result.failed) == {keep.address, drop.address}
    assert all("changed since plan" in text for text in result.failed.values())
    assert harness.store.read().entries == before.entries
    kept = harness.template("keep")
    assert kept is not None and kept["spec"]["image"] == "python:3.11"
    assert harness.template("drop") is not None


@pytest.mark.parametrize("how", FRESHNESS)
def test_objects_deleted_since_the_plan_fail_an_update_and_settle_a_delete(
    harness: Harness, api: Api, how: str
) -> None:
    keep, drop, prepared = _keep_changed_drop_removed(harness)
    for name in ("keep", "drop"):
        template = harness.template(name)
        assert template is not None
        assert api.delete(f"{TEMPLATES}/workspaces/{template['meta']['id']}").status_code < 300

    result = harness.apply(prepared, keep_going=True, listed=_listed(harness, how))

    assert result.applied == (drop.address,)
    assert "deleted on the server" in result.failed[keep.address]
    assert drop.address not in harness.store.read().entries


@pytest.mark.parametrize("how", FRESHNESS)
def test_unmoved_objects_are_updated_and_deleted(harness: Harness, how: str) -> None:
    keep, drop, prepared = _keep_changed_drop_removed(harness)

    result = harness.apply(prepared, listed=_listed(harness, how))

    assert result.ok and set(result.applied) == {keep.address, drop.address}
    updated = harness.template("keep")
    assert updated is not None and updated["spec"]["image"] == "python:3.12"
    assert harness.template("drop") is None


@pytest.mark.parametrize("keep_going", [False, True])
def test_failure_stops_later_steps_unless_keep_going(
    harness: Harness, api: Api, keep_going: bool
) -> None:
    x, y = workspace("x"), workspace("y")
    assert harness.converge(as_set(x, y)).ok
    same_name, independent = training("x"), workspace("z")
    prepared = harness.plan(as_set(same_name, independent))
    assert [(c.wave, c.action) for c in prepared.plan.changes] == [
        (0, Action.DELETE),
        (0, Action.DELETE),
        (1, Action.CREATE),
        (1, Action.CREATE),
    ]
    _hand_edit(api, harness, "x")  # its delete (the first step) will fail

    events: list[StepEvent] = []
    result = harness.apply(prepared, parallelism=1, keep_going=keep_going, on_event=events.append)

    assert list(result.failed) == [x.address]
    if keep_going:
        assert result.applied == (y.address, independent.address)
        assert result.not_run == (same_name.address,)  # it needs the name x's delete frees
        assert harness.template("z") is not None
    else:
        assert result.applied == ()
        assert result.not_run == (y.address, same_name.address, independent.address)
        assert harness.template("z") is None and harness.template("y") is not None
    assert Counter(e.kind for e in events)[EventKind.NOT_RUN] == len(result.not_run)
    assert events[-1].completed == events[-1].total == 4
    assert set(harness.store.read().entries) == {x.address} | (
        {independent.address} if keep_going else {y.address}
    )


# --- asynchronous writes (Workloads V2) --------------------------------------------------------


def _sync_status(api: Api, remote_id: str) -> str | None:
    response = api.get(f"{WORKLOADS_V2}/{remote_id}")
    if response.status_code == 404:
        return None
    status: str = response.json()["syncInfo"]["status"]
    return status


def test_workload_writes_wait_for_the_server_to_sync(harness: Harness, api: Api) -> None:
    api.set_settings(sync_delay_ms=300)
    web = workload("web")
    api.clear_log()
    result = harness.converge(as_set(web))
    assert result.ok, result.failed
    remote_id = harness.store.read().entries[web.address].remote_id
    assert _sync_status(api, remote_id) == "Synced"
    polls = [r for r in api.request_log()["requests"] if r["path"] == f"{WORKLOADS_V2}/{remote_id}"]
    assert len(polls) >= 2  # it did not stop at the first Queued/Applying answer

    result = harness.converge(as_set(workload("web", priority="high")))
    assert result.ok and _sync_status(api, remote_id) == "Synced"

    result = harness.converge({})
    assert result.ok and harness.store.read().entries == {}
    assert _sync_status(api, remote_id) in (None, "Deleted")


def test_workload_replace_waits_until_the_old_one_is_gone(harness: Harness, api: Api) -> None:
    api.set_settings(sync_delay_ms=100)
    assert harness.converge(as_set(workload("db"))).ok
    old_id = harness.store.read().entries[workload("db").address].remote_id

    prepared = harness.plan(as_set(workload("db", kind="StatefulSet")))
    assert [c.action for c in prepared.plan.changes] == [Action.REPLACE]
    result = harness.apply(prepared)

    assert result.ok, result.failed
    new_id = harness.store.read().entries[workload("db").address].remote_id
    assert new_id != old_id and _sync_status(api, old_id) is None
    assert _sync_status(api, new_id) == "Synced"


def test_async_timeout_fails_the_step_but_keeps_the_object_in_state(
    harness: Harness, api: Api
) -> None:
    api.set_settings(sync_delay_ms=5000)
    web = workload("slow")
    result = harness.converge(as_set(web), async_timeout_s=0.2)

    assert "timed out" in result.failed[web.address]
    entry = harness.store.read().entries[web.address]  # the object exists: state owns it
    assert entry.status is EntryStatus.APPLIED and _sync_status(api, entry.remote_id) in (
        "Queued",
        "Applying",
    )


# --- the journal's concurrency ------------------------------------------------------------------


def test_journal_commits_every_change_from_many_threads(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    journal = StateJournal(store, store.write(store.read()))
    start = journal.state.serial
    addresses = [Address("workspace-template", "tenant", f"t{i}") for i in range(60)]

    def commit(address: Address) -> None:
        entry = StateEntry(address, f"id-{address.name}", {"spec": {}})
        after = journal.commit(lambda s: s.with_entry(entry))
        assert after.entries[address] == entry  # durable when commit returns

    threads = [threading.Thread(target=commit, args=(a,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    on_disk = store.read()
    assert set(on_disk.entries) == set(addresses)
    assert on_disk.serial == start + journal.writes and 1 <= journal.writes <= 60


# --- saved plans: what moved since -------------------------------------------------------------


def test_verify_binding_names_what_moved(harness: Harness, api: Api) -> None:
    edited, fresh = workspace("edited"), workspace("fresh")
    assert harness.converge(as_set(edited)).ok
    desired = as_set(workspace("edited", image="python:3.12"), fresh)
    prepared = harness.plan(desired)
    plan, url = prepared.plan, api.url
    digest = desired_digest(prepared.desired)
    made = datetime.strptime(plan.binding.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc
    )

    def check(**changes: Any) -> list[str]:
        arguments: dict[str, Any] = {
            "state": prepared.state,
            "desired_digest": digest,
            "live": harness.read_live(set(desired)),
            "server_url": url,
            "now": made + timedelta(minutes=5),
        }
        return verify_binding(plan, **{**arguments, **changes})

    assert check() == []
    assert check(server_url="https://other.run.ai") == [
        f"the plan was made for {url}, not https://other.run.ai"
    ]
    assert check(now=made + timedelta(hours=25)) == ["plan is 25 h old (ttl 24 h)"]
    assert check(desired_digest="0" * 64) == ["the configuration changed since the plan"]
    moved_state = harness.store.write(prepared.state)
    assert check(state=moved_state) == [
        f"state serial moved from {prepared.state.serial} to {moved_state.serial}"
    ]
    assert "another lineage" in check(state=replace(moved_state, lineage="x"))[0]

    _hand_edit(api, harness, "edited")
    meta = {"name": "fresh", "scopeType": "project", "scopeId": TEAM_A}
    assert api.post(f"{TEMPLATES}/workspaces", {"meta": meta, "spec": {}}).status_code == 202
    assert check() == [
        f"{edited.address} changed on the server since the plan (by {TEST_CLIENT_ID})",
        f"{fresh.address} was created on the server since the plan",
    ]
    remote_id = harness.store.read().entries[edited.address].remote_id
    assert api.delete(f"{TEMPLATES}/workspaces/{remote_id}").status_code == 204
    assert f"{edited.address} was deleted on the server since the plan" in check()
