"""Turns desired, live and state into an ordered, bound plan; and checks a saved plan is fresh.

Classifies every address (create, update, replace, delete, forget, no-op, marking the no-ops
apply must still record in state), orders the steps in dependency waves, records what the
plan was computed from, and runs the safety budget. It makes no calls and writes nothing:
the live view and the state are read by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import cast

from reconcile import asset_use, lifecycle, safety
from reconcile.diff import diff_owned, digest, drift, identical
from reconcile.errors import PlanError, Problem
from reconcile.kinds.base import Kind, deletable
from reconcile.kinds.calls import HttpRequest
from reconcile.kinds.lookups import PLANNED_PREFIX, Lookups
from reconcile.kinds.registry import APPLY_RANK, BY_SLUG, REGISTERED
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.kinds.workload_types import WORKLOAD_TYPE, planned_type
from reconcile.live_view import LiveView, fingerprint_of
from reconcile.model import (
    Action,
    Address,
    AddressKey,
    Binding,
    Change,
    Drift,
    EntryStatus,
    FieldChange,
    FieldChangeKind,
    LiveResource,
    Plan,
    Resource,
    Selection,
    Spec,
    State,
    StateEntry,
    address_key,
)
from reconcile.ordering import in_waves, pair_moves, select
from reconcile.paths import lookup
from reconcile.quotas import over_quota
from reconcile.refusals import refused_deletes
from reconcile.schema import sensitive_patterns
from reconcile.sensitive import as_applied, is_marker, marker_paths, redact, reveal
from reconcile.settings import SafetySettings

# Kinds whose objects other objects live in (their scope names them): projects, departments.
_ORG_UNITS = frozenset(k.slug for k in REGISTERED if k.names_lookup in SCOPE_TYPES)
ADOPT_HINT = "run `plan --adopt` (or `apply --adopt`) to take these objects under management"


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of this plan beyond the config itself."""

    adopt: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    replacements: tuple[str, ...] = ()  # addresses replaced even when nothing differs
    safety: SafetySettings = field(default_factory=SafetySettings)
    ttl_seconds: int = 24 * 3600


@dataclass(frozen=True)
class BindingSource:
    """Where the plan came from (the binding's non-computed parts)."""

    server_url: str
    config_dir: str = ""


def normalized(desired: Mapping[Address, Resource]) -> dict[Address, Resource]:
    """Each desired resource's spec in its kind's canonical form (defaults filled), for
    resources built by hand; a config's resources come normalized already."""
    return {
        address: replace(resource, spec=BY_SLUG[address.kind].normalize(resource.spec))
        for address, resource in desired.items()
    }


def desired_digest(desired: Mapping[Address, Resource]) -> str:
    """The digest of the (normalized) desired set, over every address, sorted."""
    # Canonical JSON sorts the address keys itself: sorting Address objects first only cost
    # time (a third of this on 10,000 addresses).
    # A document's `lifecycle` changes what a plan does without changing its spec.
    return digest(
        {
            str(a): {**r.spec, "lifecycle": r.lifecycle.to_dict()}
            if r.lifecycle.declared
            else r.spec
            for a, r in desired.items()
        }
    )


def make_plan(
    desired: Mapping[Address, Resource],
    live: LiveView,
    state: State,
    *,
    source: BindingSource,
    options: PlanOptions = PlanOptions(),
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Plan:
    """The plan that brings the server to `desired` (normalized: as a config gives it, or
    see `normalized`).

    Raises PlanError listing every unowned live object at a desired address (without
    --adopt) and every name the server cannot resolve, naming every protected object the
    plan would destroy, or listing every delete the server would refuse.
    """
    moves = lifecycle.moves(desired, state)
    state = lifecycle.moved(state, moves)  # `movedFrom`: the entry at its new address
    changes, drifts = _classify(desired, live, state, options, moves)
    changes = [lifecycle.following(c, moves) for c in changes] if moves else changes
    # Select before pairing: a move deletes its old address, which must be selected too.
    selected = select(changes, targets=options.targets, excludes=options.excludes)
    ordered = in_waves(pair_moves(selected, state))
    lifecycle.check_protected(ordered, desired, state)
    refused = refused_deletes(ordered, desired, live)
    if refused:
        raise PlanError(_problem_text([Problem(m) for m in refused]))
    violations = safety.check(
        ordered,
        managed_count=len(state.entries),
        max_delete_fraction=options.safety.max_delete_fraction,
        max_update_fraction=options.safety.max_update_fraction,
        min_managed=options.safety.min_managed,
        desired_count=len(desired),
        unmanaged=_unmanaged(ordered, desired, live, state),
        users=_asset_users(ordered, desired, live, state),
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
        selection=Selection(options.targets, options.excludes, options.adopt, options.replacements),
    )
    return Plan(tuple(ordered), binding, tuple(drifts), tuple(violations))


def detect_drift(
    desired: Mapping[Address, Resource], live: LiveView, state: State
) -> tuple[Drift, ...]:
    """Drift of every applied state entry, in address order (the plan's drift, alone)."""
    found = []
    moves = lifecycle.moves(desired, state)
    state = lifecycle.moved(state, moves)
    named: _Named | None = None
    for address in sorted(state.entries, key=address_key):
        entry = state.entries[address]
        if entry.status is not EntryStatus.APPLIED:
            continue
        resource, current = desired.get(address), live.resources.get(address)
        if current is None:  # deleted, or held under another name (renamed on the server)
            if named is None:
                _, wanted, owned, _ = _keyed(desired, state.entries, {})
                named = _Named(live.resources, wanted, owned)
            current = named.elsewhere(entry)
        current = _with_write_only(current, entry, resource, state.lineage)
        if resource is not None and resource.lifecycle.ignore_changes:
            resource, current, ignored = lifecycle.ignoring(resource, current, entry)
            entry = ignored or entry
        # A `movedFrom` not applied yet: the server still holds the object at the old address.
        seen_at = moves.get(address, address)
        moved = _drift(entry, current, resource, salt=state.lineage, seen_at=seen_at)
        if moved is not None:
            found.append(moved)
    return tuple(found)


def _classify(
    desired: Mapping[Address, Resource],
    live: LiveView,
    state: State,
    options: PlanOptions,
    moves: Mapping[Address, Address],
) -> tuple[list[Change], list[Drift]]:
    """One change per desired or owned address and the drift of the owned ones, both in
    address order; PlanError naming every problem found. `moves`: the `movedFrom` entries
    `state` holds at their new address already (lifecycle.moves)."""
    problems: list[Problem] = []
    changes: list[Change] = []
    drifts: list[Drift] = []
    keys, wanted, owned, held = _keyed(desired, state.entries, live.resources)
    named = _Named(live.resources, wanted, owned)
    # Every name the writes use that the server does not know is collected per address
    # rather than raised at the first, so one plan reports them all.
    lookups = with_planned(live.lookups, desired, live.resources).collecting()
    misses = lookups.misses
    assert misses is not None
    replacements = frozenset(options.replacements)
    if replacements:  # naming every address costs time on a big tenant: only when asked
        problems.extend(lifecycle.unknown_replacements(replacements, desired, state.entries))
    for key in keys:
        misses.current = key
        resource, entry, current = wanted.get(key), owned.get(key), held.get(key)
        elsewhere = named.elsewhere(entry) if current is None and entry is not None else None
        current = _with_write_only(elsewhere or current, entry, resource, state.lineage)
        # Compared without the ignored paths; a create shows (and sends) the whole document.
        if resource is not None and current is not None and resource.lifecycle.ignore_changes:
            resource, current, entry = lifecycle.ignoring(resource, current, entry)
        if elsewhere is not None:  # the entry's object under another name: act on it
            assert current is not None and entry is not None
            try:
                change = _renamed(resource, current, entry, lookups, options, problems, state)
                changes.append(_forced(change, resource, replacements, lookups))
            except PlanError as error:
                problems.append(Problem(f"{Address(*key)}: {error.message}"))
            seen_at = moves.get(entry.address, entry.address)
            found = _drift(entry, current, resource, salt=state.lineage, seen_at=seen_at)
            if found is not None and entry.status is EntryStatus.APPLIED:
                drifts.append(found)
            continue
        # The common case at scale: live is the desired spec and last applied is that spec
        # as state stores it, so there is nothing to diff and no drift; only state may lag.
        try:
            if (
                resource is not None
                and current is not None
                and entry is not None
                and _unchanged(resource, current, entry, state.lineage)
            ):
                change = _settled(resource, current, entry, state.lineage)
                changes.append(_forced(change, resource, replacements, lookups))
                continue
            if resource is None:
                assert entry is not None
                changes.append(_undesired(entry, current))
            else:
                change = _desired(resource, current, entry, lookups, options, problems, state)
                changes.append(_forced(change, resource, replacements, lookups))
        except PlanError as error:
            problems.append(Problem(f"{Address(*key)}: {error.message}"))
        if entry is not None and entry.status is EntryStatus.APPLIED:
            found = _drift(entry, current, resource, salt=state.lineage)
            if found is not None:
                drifts.append(found)
    for met, messages in misses.found.items():  # in address order, as met
        problems.extend(_unknown(wanted[cast(AddressKey, met)], message) for message in messages)
    problems.extend(Problem(m) for m in over_quota(_org_units(desired, live, state)))
    for address in live.duplicates:
        if address in desired or address in state.entries:
            problems.append(
                Problem(f"{address}: more than one object on the server has this address")
            )
    if problems:
        hint = ADOPT_HINT if any("--adopt" in p.message for p in problems) else ""
        raise PlanError(_problem_text(problems), hint=hint)
    return changes, drifts


def _unknown(resource: Resource, message: str) -> Problem:
    """A name a write of `resource` uses that the server does not know, at its document."""
    where = f"{resource.origin}: " if resource.origin is not None else ""
    return Problem(f"{where}{resource.address}: {message}")


def _with_write_only(
    current: LiveResource | None, entry: StateEntry | None, resource: Resource | None, salt: str
) -> LiveResource | None:
    """`current` with what state says was applied at its kind's write-only paths (secrets the
    server keeps to itself): an unchanged secret then compares equal, a rotated one differs;
    one state knows nothing of (adopted, imported) is taken as desired."""
    if current is None:
        return current
    paths = BY_SLUG[current.address.kind].write_only_paths
    if not paths:
        return current
    desired = resource.spec if resource is not None else None
    stored = entry.last_applied if entry is not None else {}
    spec = as_applied(current.spec, paths, stored, desired, salt)
    return replace(current, spec=spec)


def _forced(
    change: Change, resource: Resource | None, replacements: frozenset[str], lookups: Lookups
) -> Change:
    """`change`, replaced instead where `--replace` names its address."""
    if resource is None or not replacements or str(change.address) not in replacements:
        return change
    return lifecycle.forced(change, resource, lookups)


class _Named:
    """Live objects by remote id, for state entries whose object is not at their address
    (renamed in config and moved in state with `state mv`, or renamed on the server)."""

    def __init__(
        self,
        resources: Mapping[Address, LiveResource],
        wanted: Mapping[AddressKey, Resource],
        owned: Mapping[AddressKey, StateEntry],
    ) -> None:
        self._resources, self._wanted, self._owned = resources, wanted, owned
        self._by_id: dict[tuple[str, str], LiveResource] | None = None

    def elsewhere(self, entry: StateEntry) -> LiveResource | None:
        """The live object `entry` points to, at an address no desired or owned entry holds."""
        if entry.status is not EntryStatus.APPLIED or not entry.remote_id:
            return None
        if self._by_id is None:  # built once, and only when an owned object is missing
            self._by_id = {(a.kind, r.remote_id): r for a, r in self._resources.items()}
        found = self._by_id.get((entry.address.kind, entry.remote_id))
        if found is None:
            return None
        key = address_key(found.address)
        return None if key in self._wanted or key in self._owned else found


def _renamed(
    resource: Resource | None,
    current: LiveResource,
    entry: StateEntry,
    lookups: Lookups,
    options: PlanOptions,
    problems: list[Problem],
    state: State,
) -> Change:
    """The change for an owned object that the server holds under another name: rename it
    where the kind's update can, else replace it (delete + create); never create beside it.
    An entry no longer desired deletes the object by its id."""
    if resource is None:
        return _undesired(entry, current)
    kind = BY_SLUG[resource.address.kind]
    reason = f"the server holds it as {current.address} (id {current.remote_id})"
    change = _desired(resource, current, entry, lookups, options, problems, state)
    change = replace(change, replaces=current.address, records_state=False)
    if kind.renames_in_place and change.action is not Action.REPLACE:
        fields = change.fields
        update = kind.update_request(
            resource.address, current.remote_id, resource.spec, fields=fields, lookups=lookups
        )
        return replace(
            change,
            action=Action.UPDATE,
            calls=(update.api_call(),),
            reason=f"{reason}: rename it in place",
        )
    if not kind.can_delete:
        raise PlanError(f"{reason}; a {kind.document_kind} can be neither renamed nor replaced")
    calls = (
        kind.delete_request(current.remote_id).api_call(),
        kind.create_request(resource.address, resource.spec, lookups).api_call(),
    )
    return replace(
        change,
        action=Action.REPLACE,
        calls=calls,
        replace_paths=change.replace_paths or ("metadata.name",),
        reason=f"{reason}: the name cannot change, replace it",
    )


def _keyed(
    desired: Mapping[Address, Resource],
    entries: Mapping[Address, StateEntry],
    resources: Mapping[Address, LiveResource],
) -> tuple[
    list[AddressKey],
    dict[AddressKey, Resource],
    dict[AddressKey, StateEntry],
    dict[AddressKey, LiveResource],
]:
    """Every desired or owned address in address order, and the three sets by address.

    Keyed by plain tuples: an Address hashes, compares and orders in Python (its dataclass
    methods), which took a tenth of a no-change plan over 10,000 addresses. The desired set
    usually comes in address order already, which the sort then only has to confirm.
    """
    wanted = {address_key(a): r for a, r in desired.items()}
    owned = {address_key(a): e for a, e in entries.items()}
    held = {address_key(a): r for a, r in resources.items()}
    return sorted([*wanted, *(owned.keys() - wanted.keys())]), wanted, owned, held


def _sorted_paths(paths: frozenset[str]) -> tuple[str, ...]:
    """A resource's sensitive paths as a change holds them (a few distinct sets per run)."""
    found = _SORTED.get(paths)
    if found is None:
        if len(_SORTED) >= 1024:
            _SORTED.clear()
        found = _SORTED[paths] = tuple(sorted(paths))
    return found


_SORTED: dict[frozenset[str], tuple[str, ...]] = {}  # a dict: lru_cache's key cost as much


def _unchanged(resource: Resource, current: LiveResource, entry: StateEntry, salt: str) -> bool:
    """True when live is the very desired spec and last applied is that spec as state stores
    it (secrets as salted hashes, `redact`): an unchanged secret compares by its hash, never
    revealed. Then `_desired` finds no field to change and `_drift` nothing moved (a
    property test holds the two paths equal)."""
    stored = redact(resource.spec, _sorted_paths(resource.sensitive), salt)
    if stored is resource.spec:  # nothing to hash (the usual case): one walk of the spec
        return identical(resource.spec, current.spec, entry.last_applied)
    return identical(resource.spec, current.spec) and identical(entry.last_applied, stored)


def _records_state(
    entry: StateEntry | None,
    remote_id: str,
    resource: Resource,
    salt: str,
    *,
    settled: bool = False,
) -> bool:
    """Whether apply must write a no-op to state: state does not own the object yet (an
    adopt), or its entry lags what the server holds (a run died after its write landed and
    before the state write recording it, or the object was edited to what is desired), or
    the document's `lifecycle.protect` is not the one state recorded.

    `settled`: last_applied is known to be the desired spec as state stores it (`_unchanged`),
    so only the entry's status and id may lag."""
    if not remote_id:
        return False
    if entry is None or entry.status is not EntryStatus.APPLIED or entry.remote_id != remote_id:
        return True
    if entry.protected is not resource.lifecycle.protect:
        return True
    if settled:
        return False
    paths = _sorted_paths(resource.sensitive)
    return bool(entry.last_applied != redact(resource.spec, paths, salt))


def _record_reason(entry: StateEntry | None, remote_id: str, resource: Resource) -> str:
    """Why a no-op is recorded in state (display only)."""
    if entry is None:
        return "adopt"
    if entry.status is not EntryStatus.APPLIED:
        return "an earlier create landed but was not confirmed: record it in state"
    if entry.remote_id != remote_id:
        return f"state holds id {entry.remote_id}, the server {remote_id}: record the server's"
    if entry.protected is not resource.lifecycle.protect:
        return f"lifecycle.protect is now {str(resource.lifecycle.protect).lower()}: record it"
    unknown = [
        path
        for path in BY_SLUG[resource.address.kind].write_only_paths
        if lookup(resource.spec, path)[0] and not lookup(entry.last_applied, path)[0]
    ]
    if unknown:
        return (
            f"state holds no hash of {', '.join(unknown)} (the server never shows it): "
            "record the configured value's; --replace sends it"
        )
    return "state holds an older spec than the server: record it"


def _settled(resource: Resource, current: LiveResource, entry: StateEntry, salt: str) -> Change:
    """The no-op of an owned object that is `_unchanged`: `_desired` would find no field to
    change and `_drift` nothing moved."""
    paths = _sorted_paths(resource.sensitive)
    records = _records_state(entry, current.remote_id, resource, salt, settled=True)
    return Change(
        resource.address,
        Action.NOOP,
        before=current.spec,
        after=resource.spec,
        remote_id=current.remote_id,
        sensitive=paths,
        reason=_record_reason(entry, current.remote_id, resource) if records else "",
        records_state=records,
    )


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
    address, kind = resource.address, BY_SLUG[resource.address.kind]
    salt = state.lineage  # the state's secrets are hashed with it (reconcile.sensitive)
    base = Change(
        address, Action.NOOP, after=resource.spec, sensitive=_sorted_paths(resource.sensitive)
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
    if entry is None and not options.adopt and deletable(kind, address):
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
    if not fields:
        if not _records_state(entry, current.remote_id, resource, salt):
            return base
        reason = _record_reason(entry, current.remote_id, resource)
        return replace(base, reason=reason, records_state=True)
    forcing = kind.immutable_paths([f.path for f in fields])
    if forcing and not deletable(kind, address):
        raise PlanError(
            f"{', '.join(forcing)} cannot change: {_undeletable(kind)} cannot be deleted "
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
    update = kind.update_request(
        address, current.remote_id, resource.spec, fields=fields, lookups=lookups
    )
    return replace(base, action=Action.UPDATE, fields=fields, calls=(update.api_call(),))


def _undesired(entry: StateEntry, current: LiveResource | None) -> Change:
    """An owned address that left the config: delete it, or forget what cannot be deleted."""
    kind = BY_SLUG[entry.address.kind]
    before = current.spec if current is not None else entry.last_applied
    # No desired resource says which values are secret any more: the hashes in state do
    # (values from `${ENV}`), and so does the schema (fields marked sensitive).
    hidden = tuple(
        sorted(set(marker_paths(entry.last_applied)) | set(sensitive_patterns(kind.document_kind)))
    )
    base = Change(entry.address, Action.FORGET, before=before, sensitive=hidden)
    if not deletable(kind, entry.address):
        return replace(
            base,
            remote_id=entry.remote_id,
            reason=f"{_undeletable(kind)} cannot be deleted: stop managing it, no call",
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


def _unmanaged(
    changes: Sequence[Change], desired: Mapping[Address, Resource], live: LiveView, state: State
) -> list[Address]:
    """Live objects outside the plan, when the plan destroys an org unit they may live in
    (safety names them); none otherwise, as the walk costs time on a big tenant."""
    if not any(
        c.action in (Action.DELETE, Action.REPLACE) and c.address.kind in _ORG_UNITS
        for c in changes
    ):
        return []
    return [a for a in live.resources if a not in desired and a not in state.entries]


def _asset_users(
    changes: Sequence[Change], desired: Mapping[Address, Resource], live: LiveView, state: State
) -> dict[Address, list[Address]]:
    """Per asset the plan destroys, the objects that stay and name it: desired ones, and live
    ones the plan does not manage (none looked for when no asset is destroyed)."""
    if not any(
        c.action in (Action.DELETE, Action.REPLACE) and c.address.kind in asset_use.ASSET_KINDS
        for c in changes
    ):
        return {}
    holders = {a: r.spec for a, r in desired.items()}
    for address, current in live.resources.items():
        if address not in holders and address not in state.entries:
            holders[address] = current.spec
    lookups = with_planned(live.lookups, desired, live.resources)
    return asset_use.users(changes, holders, lookups)


def _org_units(
    desired: Mapping[Address, Resource], live: LiveView, state: State
) -> dict[Address, Spec]:
    """The departments and projects the plan leaves in place: desired ones as desired, and
    live ones the state does not own (owned ones out of config are deleted)."""
    units: dict[Address, Spec] = {
        address: resource.spec
        for address, resource in desired.items()
        if address.kind in _ORG_UNITS
    }
    for address, current in live.resources.items():
        if address.kind in _ORG_UNITS and address not in units and address not in state.entries:
            units[address] = current.spec
    return units


def _undeletable(kind: Kind) -> str:
    if kind.can_delete:  # one of the objects the server makes itself
        return f"a {kind.document_kind} made by Run:ai"
    return f"a {kind.document_kind}"


def with_planned(
    lookups: Lookups, desired: Mapping[Address, Resource], existing: Collection[Address]
) -> Lookups:
    """`lookups` that also know the projects, departments, node pools, assets and workload
    types the plan creates, under planned ids, so documents naming them plan in the same run
    (their creates wait for these: kinds use what they name). An object whose own names do
    not resolve is left out: its create reports that. `existing`: the addresses the server
    holds already."""
    for kind in sorted(REGISTERED, key=lambda k: APPLY_RANK[k.slug]):
        if kind.names_lookup is None:
            continue
        records = []
        for address in desired:
            if address.kind == kind.slug and address not in existing:
                try:
                    planned = f"{PLANNED_PREFIX}{address}"
                    spec = desired[address].spec
                    records.append(kind.lookup_record(address, planned, lookups, spec=spec))
                except PlanError:
                    continue
        if records:
            lookups = lookups.with_records(kind.names_lookup, records)
    types = [
        planned_type(address, resource.spec, f"{PLANNED_PREFIX}{address}")
        for address, resource in desired.items()
        if address.kind == WORKLOAD_TYPE.slug and address not in existing
    ]
    return lookups.with_records("workloadtype", [t for t in types if t is not None])


def _drift(
    entry: StateEntry,
    current: LiveResource | None,
    resource: Resource | None,
    *,
    salt: str,
    seen_at: Address | None = None,
) -> Drift | None:
    """How `current` moved from what `entry` last applied; `seen_at`: where state expects
    the server to hold it (its own address unless a move is pending)."""
    if current is None:
        return Drift(entry.address, deleted=True)
    sensitive = resource.sensitive if resource is not None else frozenset()
    # An unchanged secret matches its hash and is no drift; a changed one stays a marker.
    applied = reveal(entry.last_applied, current.spec, salt, verify=True)
    moved = _relocated(seen_at or entry.address, current.address) + tuple(
        replace(f, sensitive=True) if is_marker(f.before) else f
        for f in drift(applied, current.spec, sensitive=sensitive)
    )
    if not moved:
        return None
    return Drift(
        entry.address, fields=moved, updated_by=current.updated_by, updated_at=current.updated_at
    )


def _relocated(expected: Address, held: Address) -> tuple[FieldChange, ...]:
    """The name or scope the server gave an owned object behind the tool's back."""
    moved = []
    if held.scope != expected.scope:
        moved.append(
            FieldChange("metadata.scope", FieldChangeKind.CHANGE, expected.scope, held.scope)
        )
    if held.name != expected.name:
        moved.append(FieldChange("metadata.name", FieldChangeKind.CHANGE, expected.name, held.name))
    return tuple(moved)


def _fingerprints(changes: Sequence[Change], live: LiveView) -> dict[str, str]:
    """Each touched address's live fingerprint ("" = absent): apply refuses if one moved."""
    touched: dict[str, str] = {}
    for change in changes:
        if not change.is_step:
            continue
        for address in filter(None, (change.address, change.replaces)):
            current = live.resources.get(address)
            touched[str(address)] = fingerprint_of(current) if current is not None else ""
    return touched


def request_for(kind: Kind, change: Change, lookups: Lookups) -> HttpRequest:
    """The write a create or update change makes (used by the applier with fresh lookups)."""
    assert change.after is not None
    if change.action is Action.UPDATE:
        return kind.update_request(
            change.address, change.remote_id, change.after, fields=change.fields, lookups=lookups
        )
    return kind.create_request(change.address, change.after, lookups)
