"""The blast-radius budget: which planned changes are too big to apply without `--force`.

Pure functions over planned changes; no I/O, no printing. The CLI decides what a violation
costs (`plan` exits 3, `apply` refuses unless `--force`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from reconcile.kinds.registry import BY_SLUG
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.model import Action, Address, Change

# A replace deletes the object before re-creating it (new id, running work stopped), so it
# counts against the delete budget, not the update budget.
_DESTROYING = (Action.DELETE, Action.REPLACE)
_KEEPING = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP)
_SHOWN = 5  # objects named in a message; the rest are counted


def check(
    plan_changes: Sequence[Change],
    *,
    managed_count: int,
    max_delete_fraction: float = 0.3,
    max_update_fraction: float = 0.3,
    min_managed: int = 10,
    desired_count: int | None = None,
    unmanaged: Collection[Address] = (),
    users: Mapping[Address, Sequence[Address]] | None = None,
) -> tuple[str, ...]:
    """Every budget violation of `plan_changes`, in a fixed order; empty when within budget.

    `managed_count` is how many objects state owns. `desired_count` is the size of the
    desired set; when None it is inferred from the plan (no create, update, replace or no-op
    means an empty desired set), so pass it when the plan is filtered by `--target`.
    `unmanaged` are live objects outside the plan (not desired, not owned): a project or
    department destroyed while one of them lives in it is a violation too. `users`: per
    asset the plan destroys, the objects that stay and name it (`asset_use.users`).
    """
    destroys = [c for c in plan_changes if c.action in _DESTROYING]
    deletes = [c for c in destroys if c.action is Action.DELETE]
    updates = [c for c in plan_changes if c.action is Action.UPDATE]
    if desired_count is None:
        desired_count = sum(1 for c in plan_changes if c.action in _KEEPING)
    violations: list[str] = []
    if desired_count == 0 and deletes:
        violations.append(
            f"the desired set is empty but the plan deletes {_objects(len(deletes))}: an empty "
            "configuration never deletes anything (check the config directory)"
        )
    if managed_count >= min_managed:
        violations.extend(
            _over(
                "destroy", len(destroys), managed_count, max_delete_fraction, "deletes and replaces"
            ),
        )
        violations.extend(
            _over("change", len(updates), managed_count, max_update_fraction, "updates")
        )
    violations.extend(
        f"{c.address} will be {_destroyed(c)}: this stops its running work and needs confirmation"
        for c in destroys
        if BY_SLUG[c.address.kind].destroy_stops_work
    )
    violations.extend(_holding(destroys, plan_changes, unmanaged))
    violations.extend(
        f"{c.address} will be {_destroyed(c)} while {_listed(users[c.address])} "
        f"{'uses' if len(users[c.address]) == 1 else 'use'} it: it needs confirmation"
        for c in destroys
        if users and users.get(c.address)
    )
    return tuple(violations)


def _holding(
    destroys: Sequence[Change], plan_changes: Sequence[Change], unmanaged: Collection[Address]
) -> list[str]:
    """A project or department destroyed while objects the plan keeps, or objects it does
    not manage, live in it (their scope names it): the server would take them along."""
    units = [c for c in destroys if BY_SLUG[c.address.kind].names_lookup in SCOPE_TYPES]
    if not units:  # nothing destroyed holds objects: no need to gather what stays
        return []
    kept: dict[str, list[str]] = {}
    staying = [c.address for c in plan_changes if c.action is not Action.DELETE]
    for address in sorted({*staying, *unmanaged}):
        if address.scope:
            kept.setdefault(address.scope, []).append(str(address))
    found = []
    for change in units:
        scope_type = BY_SLUG[change.address.kind].names_lookup
        held = kept.get(f"{scope_type}={change.address.name}", [])
        if held:
            found.append(
                f"{change.address} will be {_destroyed(change)} while it holds "
                f"{_listed(held)}: it needs confirmation"
            )
    return found


def _listed(addresses: Sequence[object]) -> str:
    """The first few addresses, and how many more."""
    shown = ", ".join(str(a) for a in addresses[:_SHOWN])
    return shown + f" and {len(addresses) - _SHOWN} more" * (len(addresses) > _SHOWN)


def _destroyed(change: Change) -> str:
    return "deleted" if change.action is Action.DELETE else "replaced"


def _over(verb: str, count: int, managed: int, fraction: float, what: str) -> list[str]:
    if count <= managed * fraction:
        return []
    share = round(100 * count / managed)
    return [
        f"the plan would {verb} {count} of {managed} managed objects ({share}%), over the "
        f"{round(100 * fraction)}% budget for {what}"
    ]


def _objects(count: int) -> str:
    return f"{count} managed object" + ("" if count == 1 else "s")
