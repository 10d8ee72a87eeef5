"""Turns desired, live and state into an ordered, bound plan; and checks a saved plan is fresh.

Classifies every address (create, update, replace, delete, forget, no-op), orders the steps
in dependency waves, records what the plan was computed from, and runs the safety budget. It
makes no calls and writes nothing: the live view and the state are read by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from reconcile import safety
from reconcile.diff import diff_owned, digest, drift
from reconcile.errors import PlanError, Problem
from reconcile.kinds.base import Kind
from reconcile.kinds.calls import HttpRequest
from reconcile.kinds.lookups import Lookups
from reconcile.live import KINDS_BY_SLUG, LiveView
from reconcile.model import (
    Action,
    Address,
    Binding,
    Change,
    Drift,
    EntryStatus,
    LiveResource,
    Plan,
    Resource,
    State,
    StateEntry,
)
from reconcile.schema import sensitive_patterns
from reconcile.sensitive import is_marker, marker_paths, reveal
from reconcile.settings import SafetySettings

ADOPT_HINT = "run `plan --adopt` (or `apply --adopt`) to take these objects under management"


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of this plan beyond the config itself."""

    adopt: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    safety: SafetySettings = field(default_factory=SafetySettings)
    ttl_seconds: int = 24 * 3600


@dataclass(frozen=True)
class BindingSource:
    """Where the plan came from (the binding's non-computed parts)."""

    server_url: str
    config_dir: str = ""


def normalized(desired: Mapping[Address, Resource]) -> dict[Address, Resource]:
    """Each desired resource's spec in its kind's canonical form (defaults filled)."""
    return {
        address: replace(resource, spec=KINDS_BY_SLUG[address.kind].normalize(resource.spec))
        for address, resource in desired.items()
    }


def desired_digest(desired: Mapping[Address, Resource]) -> str:
    """The digest of the (normalized) desired set, over every address, sorted."""
    return digest({str(a): desired[a].spec for a in sorted(desired)})


def make_plan(
    desired: Mapping[Address, Resource],
    live: LiveView,
    state: State,
    *,
    source: BindingSource,
    options: PlanOptions = PlanOptions(),
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Plan:
    """The plan that brings the server to `desired` (already normalized, see `normalized`).

    Raises PlanError listing every unowned live object at a desired address (without
    --adopt) and every name the server cannot resolve.
    """
    problems: list[Problem] = []
    changes: list[Change] = []
    drifts: list[Drift] = []
    # A plain key: the dataclass's own ordering is five times slower on 10,000 addresses.
    for address in sorted(set(desired) | set(state.entries), key=_address_key):
        entry = state.entries.get(address)
        resource = desired.get(address)
        current = live.resources.get(address)
        try:
            if resource is None:
                assert entry is not None
                changes.append(_undesired(entry, current))
            else:
                changes.append(
                    _desired(resource, current, entry, live.lookups, options, problems, state)
                )
        except PlanError as error:
            problems.append(Problem(f"{address}: {error.message}"))
        if entry is not None and entry.status is EntryStatus.APPLIED:
            found = _drift(entry, current, resource, salt=state.lineage)
            if found is not None:
                drifts.append(found)
    for address in live.duplicates:
        if address in desired or address in state.entries:
            problems.append(
                Problem(f"{address}: more than one object on the server has this address")
            )
    if problems:
        hint = ADOPT_HINT if any("--adopt" in p.message for p in problems) else ""
        raise PlanError(_problem_text(problems), hint=hint)
    # Select before pairing: a move deletes its old address, which must be selected too.
    changes = _pair_moves([c for c in changes if _selected(c.address, options)], state)
    ordered = _order(changes)
    violations = safety.check(
        ordered,
        managed_count=len(state.entries),
        max_delete_fraction=options.safety.max_delete_fraction,
        max_update_fraction=options.safety.max_update_fraction,
        min_managed=options.safety.min_managed,
        desired_count=len(desired),
    )
    binding = Binding(
        state_lineage=state.lineage,
        state_serial=state.serial,
        desired_digest=desired_digest(desired),
        live_fingerprints=_fingerprints(ordered, live),
        server_url=source.server_url,
        created_at=now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        ttl_seconds=options.ttl_seconds,
        config_dir=source.config_dir,
    )
    return Plan(tuple(ordered), binding, tuple(drifts), tuple(violations))


def detect_drift(
    desired: Mapping[Address, Resource], live: LiveView, state: State
) -> tuple[Drift, ...]:
    """Drift of every applied state entry, in address order (the plan's drift, alone)."""
    found = []
    for address in sorted(state.entries):
        entry = state.entries[address]
        if entry.status is not EntryStatus.APPLIED:
            continue
        moved = _drift(entry, live.resources.get(address), desired.get(address), salt=state.lineage)
        if moved is not None:
            found.append(moved)
    return tuple(found)


def _address_key(address: Address) -> tuple[str, str, str]:
    return (address.kind, address.scope, address.name)


def _problem_text(problems: Sequence[Problem]) -> str:
    if len(problems) == 1:
        return problems[0].message
    return f"{len(problems)} problems:\n" + "\n".join(f"  {p.message}" for p in problems)


def _desired(
    resource: Resource,
    current: LiveResource | None,
    entry: StateEntry | None,
    lookups: Lookups,
    options: PlanOptions,
    problems: list[Problem],
    state: State,
) -> Change:
    address, kind = resource.address, KINDS_BY_SLUG[resource.address.kind]
    salt = state.lineage  # the state's secrets are hashed with it (reconcile.sensitive)
    base = Change(
        address, Action.NOOP, after=resource.spec, sensitive=tuple(sorted(resource.sensitive))
    )
    if current is None:
        reason = ""
        if entry is not None and entry.status is EntryStatus.APPLIED:
            reason = "deleted outside the tool: re-creating"
        elif entry is not None:
            reason = "an earlier create was not confirmed and the object is not on the server"
        create = kind.create_request(address, resource.spec, lookups)
        return replace(base, action=Action.CREATE, calls=(create.api_call(),), reason=reason)
    # Kinds the tool never deletes (built-in workload types) are adopted without --adopt:
    # managing them cannot destroy anything, and they exist before any config does.
    if entry is None and not options.adopt and kind.can_delete:
        problems.append(
            Problem(
                f"{address} exists on the server (id {current.remote_id}) but this state does "
                "not manage it; pass --adopt to manage it"
            )
        )
        return base
    base = replace(
        base,
        before=current.spec,
        remote_id=current.remote_id,
        reason="adopt" if entry is None else "",
    )
    # Secrets are stored hashed; where desired has the path, its value stands in (only the
    # path's presence matters to the clears the diff finds from last_applied).
    last_applied = (
        reveal(entry.last_applied, resource.spec, salt, verify=False) if entry is not None else None
    )
    fields = diff_owned(resource.spec, current.spec, last_applied, sensitive=resource.sensitive)
    forcing = kind.immutable_paths([f.path for f in fields])
    if forcing and not kind.can_delete:
        raise PlanError(
            f"{', '.join(forcing)} cannot change: a {kind.document_kind} cannot be deleted "
            "and created again"
        )
    if forcing:
        calls = (
            kind.delete_request(current.remote_id).api_call(),
            kind.create_request(address, resource.spec, lookups).api_call(),
        )
        return replace(
            base, action=Action.REPLACE, fields=fields, replace_paths=forcing, calls=calls
        )
    if fields:
        update = kind.update_request(
            address, current.remote_id, resource.spec, fields=fields, lookups=lookups
        )
        return replace(base, action=Action.UPDATE, fields=fields, calls=(update.api_call(),))
    return base


def _undesired(entry: StateEntry, current: LiveResource | None) -> Change:
    """An owned address that left the config: delete it, or forget what cannot be deleted."""
    kind = KINDS_BY_SLUG[entry.address.kind]
    before = current.spec if current is not None else entry.last_applied
    # No desired resource says which values are secret any more: the hashes in state do
    # (values from `${ENV}`), and so does the schema (fields marked sensitive).
    hidden = tuple(
        sorted(set(marker_paths(entry.last_applied)) | set(sensitive_patterns(kind.document_kind)))
    )
    base = Change(entry.address, Action.FORGET, before=before, sensitive=hidden)
    if not kind.can_delete:
        return replace(
            base,
            remote_id=entry.remote_id,
            reason=f"a {kind.document_kind} cannot be deleted: stop managing it, no call",
        )
    if current is None:
        return replace(
            base,
            remote_id=entry.remote_id,
            reason="already gone from the server: drop it from state",
        )
    delete = kind.delete_request(current.remote_id)
    return replace(
        base, action=Action.DELETE, remote_id=current.remote_id, calls=(delete.api_call(),)
    )


def _drift(
    entry: StateEntry,
    current: LiveResource | None,
    resource: Resource | None,
    *,
    salt: str,
) -> Drift | None:
    if current is None:
        return Drift(entry.address, deleted=True)
    sensitive = resource.sensitive if resource is not None else frozenset()
    # An unchanged secret matches its hash and is no drift; a changed one stays a marker.
    applied = reveal(entry.last_applied, current.spec, salt, verify=True)
    moved = tuple(
        replace(f, sensitive=True) if is_marker(f.before) else f
        for f in drift(applied, current.spec, sensitive=sensitive)
    )
    if not moved:
        return None
    return Drift(
        entry.address, fields=moved, updated_by=current.updated_by, updated_at=current.updated_at
    )


def _pair_moves(changes: list[Change], state: State) -> list[Change]:
    """A delete and a create of the same kind and name in another scope are one move.

    Scope is part of the address and cannot be updated (templates take it on create only),
    so a changed scope shows as a replace of the new address that deletes the old one.
    """
    deletes = {(c.address.kind, c.address.name): c for c in changes if c.action is Action.DELETE}
    out: list[Change] = []
    used: set[Address] = set()
    for change in changes:
        key = (change.address.kind, change.address.name)
        old = deletes.get(key)
        if change.action is Action.CREATE and change.address not in state.entries and old:
            used.add(old.address)
            out.append(
                replace(
                    change,
                    action=Action.REPLACE,
                    before=old.before,
                    sensitive=tuple(sorted(set(change.sensitive) | set(old.sensitive))),
                    remote_id=old.remote_id,
                    replaces=old.address,
                    replace_paths=("metadata.scope",),
                    calls=old.calls + change.calls,
                    reason=f"scope changed: moves from {old.address}",
                )
            )
        else:
            out.append(change)
    return [c for c in out if c.address not in used or c.action is not Action.DELETE]


def _selected(address: Address, options: PlanOptions) -> bool:
    if options.targets and not any(address.matches(t) for t in options.targets):
        return False
    return not any(address.matches(e) for e in options.excludes)


def _phase(change: Change) -> tuple[int, int]:
    """(phase, rank) of a step: destroying steps first, dependents before what they use."""
    rank = KINDS_BY_SLUG[change.address.kind].rank
    if change.action in (Action.DELETE, Action.FORGET):
        return (0, -rank)
    return (1, rank)


def _order(changes: list[Change]) -> list[Change]:
    """Deterministic order: by phase and rank, ties by address; waves numbered from 0."""
    # Address fields spelled out: the dataclass's own ordering builds tuples per comparison,
    # and replace() is skipped where the wave is already right (10,000 no-ops: 0.3 s).
    keyed = [((_phase(c), c.address.kind, c.address.scope, c.address.name), c) for c in changes]
    keyed.sort(key=lambda pair: pair[0])
    phases = sorted({key[0] for key, c in keyed if c.action is not Action.NOOP})
    wave_of = {phase: index for index, phase in enumerate(phases)}
    waves = [(wave_of.get(key[0], 0), c) for key, c in keyed]
    return [c if c.wave == wave else replace(c, wave=wave) for wave, c in waves]


def _fingerprints(changes: Sequence[Change], live: LiveView) -> dict[str, str]:
    """Each touched address's live fingerprint ("" = absent): apply refuses if one moved."""
    touched: dict[str, str] = {}
    for change in changes:
        if change.action is Action.NOOP and change.reason != "adopt":
            continue
        for address in filter(None, (change.address, change.replaces)):
            current = live.resources.get(address)
            touched[str(address)] = current.fingerprint if current is not None else ""
    return touched


def request_for(kind: Kind, change: Change, lookups: Lookups) -> HttpRequest:
    """The write a create or update change makes (used by the applier with fresh lookups)."""
    assert change.after is not None
    if change.action is Action.UPDATE:
        return kind.update_request(
            change.address, change.remote_id, change.after, fields=change.fields, lookups=lookups
        )
    return kind.create_request(change.address, change.after, lookups)
