"""Which of a plan's changes run, and in what order: `--target`/`--exclude` selection, scope
moves paired into replaces, and dependency waves (deletes first, dependents before what they
use). Pure functions over changes; no calls, no state writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconcile.kinds.registry import APPLY_RANK
from reconcile.model import Action, Address, Change, State


def pair_moves(changes: list[Change], state: State) -> list[Change]:
    """A delete and a create of the same kind and name in another scope are one move.

    Scope is part of the address and cannot be updated (templates take it on create only),
    so a changed scope shows as a replace of the new address that deletes the old one.
    """
    deletes = {(c.address.kind, c.address.name): c for c in changes if c.action is Action.DELETE}
    if not deletes:
        return changes
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


def select(
    changes: list[Change], *, targets: Sequence[str], excludes: Sequence[str]
) -> list[Change]:
    """The changes `--target` (none: all) and `--exclude` leave in; see `matches`."""
    if not targets and not excludes:
        return changes
    return [c for c in changes if _selected(c.address, targets, excludes)]


def _selected(address: Address, targets: Sequence[str], excludes: Sequence[str]) -> bool:
    if targets and not any(matches(address, t) for t in targets):
        return False
    return not any(matches(address, e) for e in excludes)


def matches(address: Address, pattern: str) -> bool:
    """True when `pattern` names `address`, its kind and scope, or its kind.

    Compared part by part, never as a string prefix: the pattern is cut at "/" into at most
    as many parts as the address has (kind, scope, name; kind, name when unscoped), and each
    part must equal the address's. `workspace-template/project=a` selects every template of
    project `a`, not those of project `ab`; a trailing "/" is ignored.
    """
    named = (address.kind, address.scope, address.name)
    parts = named if address.scope else (address.kind, address.name)
    wanted = pattern.rstrip("/").split("/", len(parts) - 1)
    return tuple(wanted) == parts[: len(wanted)]


def _phase(change: Change) -> tuple[int, int]:
    """(phase, rank) of a step: destroying steps first, dependents before what they use."""
    rank = APPLY_RANK[change.address.kind]
    if change.action in (Action.DELETE, Action.FORGET):
        return (0, -rank)
    return (1, rank)


def in_waves(changes: list[Change]) -> list[Change]:
    """Deterministic order: by phase and rank, ties by address; waves numbered from 0.

    `changes` come in address order (as `planner.make_plan` builds them), so grouping them by phase
    keeps the ties in address order with no sort of 10,000 addresses. Each phase holding a
    step is a wave; a phase of plain no-ops shares wave 0 (they never run).
    """
    groups: dict[tuple[int, int], list[Change]] = {}
    phases_of: dict[tuple[str, Action], tuple[int, int]] = {}  # a few (kind, action) pairs
    for change in changes:
        key = (change.address.kind, change.action)
        phase = phases_of.get(key)
        if phase is None:
            phase = phases_of[key] = _phase(change)
        groups.setdefault(phase, []).append(change)
    phases = sorted(groups)
    stepping = [p for p in phases if any(c.is_step for c in groups[p])]
    wave_of = {phase: index for index, phase in enumerate(stepping)}
    ordered: list[Change] = []
    for phase in phases:
        wave = wave_of.get(phase, 0)
        # replace() only where the wave is not already right: a no-change plan replaces nothing.
        ordered += [c if c.wave == wave else replace(c, wave=wave) for c in groups[phase]]
    return ordered
