"""The one rule across org units: a department's projects may not be promised more than it has.

Run:ai accepts projects whose deserved quotas add up to more than their department's (a
department's quota supersedes the total of its projects', so the excess is simply never
given: docs/runai-api.md section 10.1). The tool refuses such a plan before any write, as it
is a promise the cluster will not keep. Pure: the planner passes what it compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.model import Address, Spec

RESOURCES = ("gpu", "cpu", "memory")
# Memory quotas may be written in any of the API's units; compared in MiB.
_MIB = {"Mib": 1.0, "MB": 1e6 / 2**20, "GB": 1e9 / 2**20}


def over_quota(units: Mapping[Address, Spec]) -> list[str]:
    """Each (department, node pool, resource) whose projects' deserved quotas add up to more
    than its own deserved quota, as a message naming them. `units` holds the specs of the
    departments and projects the plan leaves in place (desired, else live)."""
    departments: dict[str, Spec] = {}
    projects: dict[str, list[tuple[str, Spec]]] = {}
    for address in sorted(units):
        spec = units[address]
        if address.kind == "department":
            departments[address.name] = spec
        elif address.kind == "project":
            parent = address.scope.partition("=")[2]
            projects.setdefault(parent, []).append((address.name, spec))
    problems: list[str] = []
    for name, spec in sorted(departments.items()):
        for pool, quota in sorted(_quotas(spec).items()):
            for resource in RESOURCES:
                allowed = _deserved(quota, resource)
                if allowed is None:
                    continue
                given = [
                    (project, amount)
                    for project, project_spec in projects.get(name, [])
                    if (amount := _deserved(_quotas(project_spec).get(pool, {}), resource))
                ]
                total = sum(amount for _, amount in given)
                if total > allowed:
                    shares = ", ".join(f"{p} {_number(a)}" for p, a in given)
                    problems.append(
                        f"department {name}: its projects' deserved {resource} in node pool "
                        f"{pool} adds up to {_number(total)} ({shares}), over the department's "
                        f"{_number(allowed)}"
                    )
    return problems


def _quotas(spec: Spec) -> dict[str, Any]:
    quotas = spec.get("spec", {}).get("resources") or {}
    return dict(quotas)


def _deserved(quota: Mapping[str, Any], resource: str) -> float | None:
    """The deserved amount (memory in MiB); None when not a limit (unset or negative)."""
    part = quota.get(resource) or {}
    value = part.get("deserved")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        return None
    return float(value) * _MIB.get(str(part.get("units") or "Mib"), 1.0)


def _number(value: float) -> str:
    return f"{value:g}"
