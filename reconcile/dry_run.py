"""`plan --server-dry-run`: each create of a kind whose API can validate without writing
(`Kind.dry_run_param`) is sent so, all at once; the server's refusals come back as messages.

The server validates more than the plan can know (the cluster's own checks of a Workloads V2
manifest). Costs one request per such create; writes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reconcile.client import Client
from reconcile.errors import ApiError
from reconcile.kinds.calls import HttpRequest
from reconcile.kinds.lookups import PLANNED_PREFIX, Lookups
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Action, Address, Change, Plan, Resource
from reconcile.planner import request_for
from reconcile.printable import one_line


def dry_runnable(change: Change) -> bool:
    """A create of a kind with a dry run. Not a replace: its delete has not run, so the
    name is still taken and the dry run would only say so."""
    return change.action is Action.CREATE and BY_SLUG[change.address.kind].dry_run_param is not None


def server_refusals(
    client: Client, plan: Plan, desired: Mapping[Address, Resource], lookups: Lookups
) -> list[str]:
    """Each dry-runnable create of `plan`, sent as a dry run; what the server refused, in
    plan order, one line each (its message, as the client redacts it). A create naming an
    object the same plan creates is not sent: the server cannot know that object yet."""
    calls: list[Callable[[], str]] = []
    for change in plan.changes:
        if not dry_runnable(change):
            continue
        kind = BY_SLUG[change.address.kind]
        request = request_for(kind, change, lookups)
        if _names_planned(request.body):
            continue
        assert kind.dry_run_param is not None
        trial = replace(request, params=(*request.params, (kind.dry_run_param, "true")))
        origin = desired[change.address].origin
        where = f"{origin}: " if origin is not None else ""
        calls.append(functools.partial(_refusal, client, trial, f"{where}{change.address}: "))
    return [refusal for refusal in client.concurrently(calls) if refusal]


def _refusal(client: Client, request: HttpRequest, prefix: str) -> str:
    """The server's refusal of `request` after `prefix`, or "" when it accepted it."""
    try:
        client.request(request.method, request.path, params=request.query, body=request.body)
    except ApiError as error:
        if not 400 <= error.status < 500:
            raise  # not a refusal: the server could not answer
        return prefix + one_line(error.message)
    return ""


def _names_planned(value: Any) -> bool:
    """True when a request body holds a planned id anywhere."""
    if isinstance(value, str):
        return value.startswith(PLANNED_PREFIX)
    if isinstance(value, dict):
        return any(_names_planned(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_planned(v) for v in value)
    return False
