"""Deletes the server would refuse, known from what the plan read: a department that still
has projects, a node pool that still holds a department's or project's quota.

The units that stay are the desired ones (as desired) and the live ones the plan does not
delete (as live). Pure: the planner calls it with its ordered changes; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconcile.kinds.node_pools import NODE_POOL
from reconcile.kinds.org_units import DEPARTMENT, PROJECT
from reconcile.kinds.scopes import parse_scope
from reconcile.live_view import LiveView
from reconcile.model import Action, Address, Change, Resource, Spec

_DESTROYING = (Action.DELETE, Action.REPLACE)  # a replace deletes first
_UNITS = (DEPARTMENT.slug, PROJECT.slug)


def refused_deletes(
    changes: Sequence[Change], desired: Mapping[Address, Resource], live: LiveView
) -> list[str]:
    """Every delete (or replace) in `changes` the server would refuse, in plan order."""
    gone = {c.address for c in changes if c.action is Action.DELETE}
    staying: dict[Address, Spec] = {
        a: r.spec for a, r in live.resources.items() if a.kind in _UNITS and a not in gone
    }
    staying.update({a: r.spec for a, r in desired.items() if a.kind in _UNITS})
    clusters = {a.name: parse_scope(a.scope)[1] for a in staying if a.kind == DEPARTMENT.slug}
    found = []
    for change in changes:
        if change.action not in _DESTROYING:
            continue
        address = change.address
        if address.kind == DEPARTMENT.slug:
            scope = f"department={address.name}"
            held = [a.name for a in staying if a.kind == PROJECT.slug and a.scope == scope]
            if held:
                found.append(
                    f"{address}: the server refuses to delete it: department "
                    f"{address.name!r} still has projects ({', '.join(sorted(held))})"
                )
        elif address.kind == NODE_POOL.slug:
            cluster = parse_scope(address.scope)[1]
            held = [
                a.name
                for a, spec in staying.items()
                if _cluster_of(a, clusters) == cluster and address.name in _pools(spec)
            ]
            if held:
                found.append(
                    f"{address}: the server refuses to delete it: node pool "
                    f"{address.name!r} holds quota of {', '.join(sorted(held))}"
                )
    return found


def _cluster_of(unit: Address, clusters: Mapping[str, str]) -> str:
    """A department's cluster is its scope; a project's is its department's."""
    scope_type, name = parse_scope(unit.scope)
    return name if scope_type == "cluster" else clusters.get(name, "")


def _pools(spec: Spec) -> Sequence[str]:
    resources = (spec.get("spec") or {}).get("resources") or {}
    return list(resources) if isinstance(resources, Mapping) else []
