"""What a document's `lifecycle:` does to a plan: renames declared by `movedFrom`, protected
objects, ignored fields, and replacements asked for with `--replace`.

The rules live here and the planner, the applier and the config reader call them. Pure: no
calls, no I/O, nothing printed.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from reconcile.errors import PlanError, Problem
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Action, Address, Change, Resource, Spec, State, StateEntry
from reconcile.paths import delete, lookup, set_value

REPLACE_REASON = "replacement requested (--replace)"
_Live = TypeVar("_Live", bound=Resource)


# --- movedFrom -----------------------------------------------------------------------------


def moved_conflicts(resources: Mapping[Address, Resource]) -> list[Problem]:
    """Every `movedFrom` that cannot hold: an old address claimed by two documents, one that
    is itself desired (a chain or a cycle of moves: name the oldest address instead), the
    document's own address, or another kind. Each names the document's file:line."""
    claimed: dict[Address, Resource] = {}
    problems = []
    for address, resource in resources.items():
        for old in resource.lifecycle.moved_from:
            why = ""
            if old == address:
                why = "names the document's own address"
            elif old.kind != address.kind:
                why = f"is a {old.kind}, not a {address.kind}: a move keeps the kind"
            elif old in resources:
                why = (
                    "is also a desired address (a chain or cycle of moves): point movedFrom "
                    "at the address state knows, and keep one document per object"
                )
            elif old in claimed:
                why = f"is claimed by {claimed[old].address} too (at {claimed[old].origin})"
            else:
                claimed[old] = resource
            if why:
                problems.append(_problem(resource, f"lifecycle.movedFrom {old} {why}"))
    return problems


def _problem(resource: Resource, message: str) -> Problem:
    origin = resource.origin
    if origin is None:
        return Problem(f"{resource.address}: {message}")
    return Problem(message, origin.file, origin.line, origin.col, json_path="$.lifecycle.movedFrom")


def moves(desired: Mapping[Address, Resource], state: State) -> dict[Address, Address]:
    """New address -> old, for each document whose `movedFrom` names an address state holds
    (the first such, in the document's order) while state holds nothing at its own yet."""
    found: dict[Address, Address] = {}
    for address, resource in desired.items():
        if not resource.lifecycle.moved_from or address in state.entries:
            continue
        for old in resource.lifecycle.moved_from:
            if old in state.entries and old not in desired:
                found[address] = old
                break
    return found


def moved(state: State, found: Mapping[Address, Address]) -> State:
    """State as if each of the `moves` were a `state mv`: the entry at the old address now
    at the new one.

    The planner then acts on the object that entry points to as on any entry whose object
    the server holds under another name: it renames it in place where the kind's update can,
    else replaces it, and never creates beside it. Once applied, state holds the new address
    and the declaration changes nothing, so it may stay in the config."""
    if not found:
        return state
    entries = dict(state.entries)
    for new, old in found.items():
        entries[new] = replace(entries.pop(old), address=new)
    return replace(state, entries=entries)


def following(change: Change, found: Mapping[Address, Address]) -> Change:
    """`change`, naming the old address its state entry moves from (`replaces`), so that
    apply moves the entry too, even where the object itself needs no rename (renamed on the
    server already: then a no-op still records the move in state)."""
    old = found.get(change.address)
    if old is None or change.replaces is not None or change.action is Action.FORGET:
        return change
    if change.action is Action.NOOP:
        reason = f"state knows it as {old}: record it at its new address"
        return replace(change, replaces=old, records_state=True, reason=reason)
    return replace(change, replaces=old)


# --- protect -------------------------------------------------------------------------------


def is_protected(
    address: Address, desired: Mapping[Address, Resource], entries: Mapping[Address, StateEntry]
) -> bool:
    """The document decides while it exists; once it is removed, the flag its state entry
    recorded when last applied does (so removing a protected document deletes nothing)."""
    resource = desired.get(address)
    if resource is not None:
        return resource.lifecycle.protect
    entry = entries.get(address)
    return entry is not None and entry.protected


def check_protected(
    changes: Iterable[Change], desired: Mapping[Address, Resource], state: State
) -> None:
    """PlanError naming every protected object a change would delete or replace (with or
    without --force: this is no budget, it is a declaration)."""
    blocked = [
        f"{c.address} ({'delete' if c.action is Action.DELETE else 'replace'})"
        for c in changes
        if c.action in (Action.DELETE, Action.REPLACE)
        and is_protected(c.address, desired, state.entries)
    ]
    if blocked:
        raise PlanError(
            "the plan would destroy protected objects (lifecycle.protect): " + ", ".join(blocked),
            hint="remove `protect: true` from the document and apply that change first "
            "(for a removed document: restore it without `protect`, apply, then remove it)",
        )


# --- ignoreChanges -------------------------------------------------------------------------


def without_ignored(spec: Spec, paths: Sequence[str]) -> Spec:
    """`spec` without the values at `paths`: what the diff and the drift compare."""
    kept = copy.deepcopy(spec)
    for path in paths:
        delete(kept, path)
    return kept


def ignoring(
    resource: Resource, current: _Live | None, entry: StateEntry | None
) -> tuple[Resource, _Live | None, StateEntry | None]:
    """Desired, live and last applied, each without the document's ignored paths: their
    differences there are neither changes nor drift."""
    paths = resource.lifecycle.ignore_changes
    resource = replace(resource, spec=without_ignored(resource.spec, paths))
    if current is not None:
        current = replace(current, spec=without_ignored(current.spec, paths))
    if entry is not None:
        entry = replace(entry, last_applied=without_ignored(entry.last_applied, paths))
    return resource, current, entry


def keeping_live(spec: Spec, live: Spec, paths: Sequence[str]) -> Spec:
    """What an update sends: `spec` with the server's own values at the ignored `paths` (a
    create sends the document's values; an update leaves them as the server holds them)."""
    if not paths:
        return spec
    sent = copy.deepcopy(spec)
    for path in paths:
        found, value = lookup(live, path)
        if found:
            set_value(sent, path, copy.deepcopy(value))
        else:
            delete(sent, path)
    return sent


# --- --replace -----------------------------------------------------------------------------


def unknown_replacements(
    requested: Collection[str], desired: Collection[Address], owned: Collection[Address]
) -> list[Problem]:
    """A problem for each `--replace` address that names neither a desired nor an owned
    object."""
    known = {str(a) for a in (*desired, *owned)}
    return [
        Problem(f"--replace {a}: no such address in the config or the state")
        for a in sorted(set(requested) - known)
    ]


def forced(change: Change, resource: Resource, lookups: Lookups) -> Change:
    """`change` as a replacement (delete + create) of an existing object, though nothing may
    differ. A change that already creates or replaces it stays as it is."""
    if change.action not in (Action.NOOP, Action.UPDATE) or not change.remote_id:
        return change
    kind = BY_SLUG[resource.address.kind]
    if not kind.can_delete:
        raise PlanError(f"a {kind.document_kind} cannot be deleted, so it cannot be replaced")
    calls = (
        kind.delete_request(change.remote_id).api_call(),
        kind.create_request(resource.address, resource.spec, lookups).api_call(),
    )
    reason = f"{change.reason}; {REPLACE_REASON}" if change.reason else REPLACE_REASON
    return replace(change, action=Action.REPLACE, calls=calls, reason=reason, records_state=False)
