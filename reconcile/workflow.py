"""The read side of a run, shared by `plan`, `apply`, `drift` and `apply PLANFILE`.

Reads the live objects that matter for the desired set (normalized, as the config gives it)
and hands both with the state to the planner. Talks to the server only through the client it
is given and never prints. The applier is imported by the functions that apply only: `plan`
and `drift` start without its modules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.client import Client
from reconcile.dry_run import server_refusals
from reconcile.errors import PlanError
from reconcile.kinds.registry import BY_SLUG
from reconcile.live import list_cost, read_lists, read_live
from reconcile.live_view import LiveView
from reconcile.model import Action, Address, Drift, EntryStatus, Plan, Resource, State
from reconcile.planner import (
    BindingSource,
    PlanOptions,
    desired_digest,
    detect_drift,
    make_plan,
    with_planned,
)
from reconcile.state import StateBackend


@dataclass(frozen=True)
class PlanResult:
    """A plan and everything it was computed from (the applier needs all of it)."""

    plan: Plan
    desired: Mapping[Address, Resource]  # normalized
    live: LiveView
    state: State


def read_owned(client: Client, state: State) -> LiveView:
    """The live view of every kind the state owns, with detail reads for its entries: what a
    plan needs when the config did not change (read before the config is ready)."""
    owned = state.entries.keys()
    return read_live(client, slugs={a.kind for a in owned}, interesting=owned)


def read_for(
    client: Client,
    desired: Mapping[Address, Resource],
    state: State,
    *,
    known: LiveView | None = None,
) -> LiveView:
    """The live view of every kind that is desired or owned, with detail reads for those;
    what `known` (read earlier in this run) already holds is not read again."""
    interesting = set(desired) | set(state.entries)
    slugs = {a.kind for a in interesting}
    return read_live(client, slugs=slugs, interesting=interesting, known=known)


def plan_run(
    client: Client,
    desired: Mapping[Address, Resource],
    state: State,
    *,
    source: BindingSource,
    options: PlanOptions,
    known: LiveView | None = None,
    server_dry_run: bool = False,
) -> PlanResult:
    """Read the server and plan `desired` (the config's resources) against `state`.

    `known`: live objects read earlier in this run (see `read_owned`). `server_dry_run`:
    also send the plan's creates that the API can validate as dry runs (`dry_run.py`);
    PlanError listing every refusal."""
    live = read_for(client, desired, state, known=known)
    plan = make_plan(desired, live, state, source=source, options=options)
    if server_dry_run:
        lookups = with_planned(live.lookups, desired, live.resources)
        refusals = server_refusals(client, plan, desired, lookups, live.families)
        if refusals:
            raise PlanError(
                f"the server refuses {len(refusals)} of the plan's creates (dry run):\n"
                + "\n".join(f"  {refusal}" for refusal in refusals)
            )
    return PlanResult(plan=plan, desired=desired, live=live, state=state)


def drift_run(
    client: Client,
    desired: Mapping[Address, Resource],
    state: State,
    *,
    known: LiveView | None = None,
) -> tuple[Drift, ...]:
    """Owned objects whose live values moved away from what we last applied."""
    owned = {a for a, e in state.entries.items() if e.status is EntryStatus.APPLIED}
    # The config's kinds are listed too, so that one the server lacks fails as in a plan.
    slugs = {a.kind for a in owned} | {a.kind for a in desired}
    live = read_live(client, slugs=slugs, interesting=owned, known=known)
    return detect_drift(desired, live, state)


def plan_for_apply(
    client: Client,
    store: StateBackend,
    desired: Mapping[Address, Resource],
    *,
    source: BindingSource,
    options: PlanOptions,
) -> PlanResult:
    """Like `plan_run`, but first settles the intents an interrupted run left in state.

    The caller holds the state lock: settling writes state when an intent is resolved.
    """
    from reconcile.applier import settle_pending  # loaded only by runs that apply

    state = store.read()
    live = read_for(client, desired, state)
    state = settle_pending(client, store, state, live.lookups)
    plan = make_plan(desired, live, state, source=source, options=options)
    return PlanResult(plan=plan, desired=desired, live=live, state=state)


def saved_plan_check(
    client: Client,
    store: StateBackend,
    plan: Plan,
    desired: Mapping[Address, Resource],
    *,
    server_url: str,
    options: PlanOptions,
) -> tuple[PlanResult, list[str]]:
    """What moved since `plan` was saved (empty when it may be applied), and the plan made
    again from the same reads: what apply carries out once it is shown to equal `plan`.

    Reads the live objects the plan touches (with their detail reads), the state as it is
    now, and compares them with the plan's binding. Nothing is settled before the check: a
    settlement would move the serial the plan was bound to. `options` must hold the plan's
    own selection (`Binding.selection`). While anything moved, the result holds `plan`.
    """
    from reconcile.applier import verify_binding  # loaded only by runs that apply

    # A plan made while no state file existed bound a lineage that lived only in memory.
    first = plan.binding.state_serial == 0
    state = store.read(new_lineage=plan.binding.state_lineage if first else None)
    touched = {Address.parse(a) for a in plan.binding.live_fingerprints}
    interesting = set(desired) | set(state.entries) | touched
    live = read_live(client, slugs={a.kind for a in interesting}, interesting=interesting)
    reasons = verify_binding(
        plan,
        state=state,
        desired_digest=desired_digest(desired),
        live=live,
        server_url=server_url,
    )
    if not reasons:
        source = BindingSource(plan.binding.server_url, plan.binding.config_dir)
        plan = make_plan(desired, live, state, source=source, options=options)
    return PlanResult(plan=plan, desired=desired, live=live, state=state), reasons


def lists_for_apply(client: Client, plan: Plan, live: LiveView) -> dict[Any, list[Any]]:
    """The list reads an apply checks its updates, replaces and deletes against, made again
    now (after the plan was shown and accepted): one read per kind whose steps outnumber the
    requests of its list read, the cheaper of a GET per step and one list; the other kinds'
    steps keep their GET. Kinds listed as summaries (read in detail per object) keep theirs."""
    steps: Counter[Any] = Counter()  # by list read: the four template kinds share one
    slugs: dict[Any, str] = {}
    for change in plan.steps():
        kind = BY_SLUG[(change.replaces or change.address).kind]
        writes = change.action in (Action.UPDATE, Action.REPLACE, Action.DELETE)
        if writes and kind.detail_request("") is None:
            key = kind.list_request().fetch_key
            steps[key] += 1
            slugs[key] = kind.slug
    again = {
        slugs[key]
        for key, count in steps.items()
        if key in live.lists and count > list_cost(slugs[key], len(live.lists[key]))
    }
    return read_lists(client, again) if again else {}
