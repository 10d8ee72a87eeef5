"""`plan --server-dry-run`: each create of a kind whose API can validate without writing
(`Kind.dry_run_param`) is sent so, all at once; the server's refusals come back as messages.

The server validates more than the plan can know (the cluster's own checks of a Workloads V2
manifest). Costs one request per such create; writes nothing. `dryRun` is documented from
Run:ai 2.24 (docs/runai-api.md section 4): an older server may not know the parameter and
create the object, so the dry run is refused, before anything is sent, against a server
without the inference-template family, which came with the same version (one GET of one
item, unless this run read that family already).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace

from reconcile.client import Client
from reconcile.errors import ApiError, PlanError
from reconcile.kinds.calls import HttpRequest
from reconcile.kinds.lookups import Lookups, planned_in
from reconcile.kinds.registry import BY_SLUG
from reconcile.live import serves
from reconcile.model import Action, Address, Change, Plan, Resource
from reconcile.planner import request_for
from reconcile.printable import one_line


def dry_runnable(change: Change) -> bool:
    """A create of a kind with a dry run. Not a replace: its delete has not run, so the
    name is still taken and the dry run would only say so."""
    return change.action is Action.CREATE and BY_SLUG[change.address.kind].dry_run_param is not None


# The family that arrived in the version that documents `dryRun` (see the module).
DRY_RUN_FAMILY = "inference-template"


def server_refusals(
    client: Client,
    plan: Plan,
    desired: Mapping[Address, Resource],
    lookups: Lookups,
    families: frozenset[str] = frozenset(),
) -> list[str]:
    """Each dry-runnable create of `plan`, sent as a dry run; what the server refused, in
    plan order, one line each (its message, as the client redacts it). A create naming an
    object the same plan creates is not sent: the server cannot know that object yet.
    `families`: the collections this run found served. PlanError, before anything is sent,
    when the server is older than the dry run."""
    if any(dry_runnable(change) for change in plan.changes):
        _check_version(client, families)
    calls: list[Callable[[], str]] = []
    for change in plan.changes:
        if not dry_runnable(change):
            continue
        kind = BY_SLUG[change.address.kind]
        request = request_for(kind, change, lookups)
        if planned_in((request.path, request.body, request.params)):
            continue  # apply would not start it either (apply_steps)
        assert kind.dry_run_param is not None
        trial = replace(request, params=(*request.params, (kind.dry_run_param, "true")))
        origin = desired[change.address].origin
        where = f"{origin}: " if origin is not None else ""
        calls.append(functools.partial(_refusal, client, trial, f"{where}{change.address}: "))
    return [refusal for refusal in client.concurrently(calls) if refusal]


def _check_version(client: Client, families: frozenset[str]) -> None:
    family = BY_SLUG[DRY_RUN_FAMILY]
    if family.probe_path in families or serves(client, family.probe_path):
        return
    raise PlanError(
        f"--server-dry-run needs Run:ai {family.since} or later: this server does not offer "
        f"{family.probe_path}, so it may not know the dry run and would create the objects; "
        "nothing was sent",
        hint="plan without --server-dry-run (and server_dry_run: false in the settings)",
    )


def _refusal(client: Client, request: HttpRequest, prefix: str) -> str:
    """The server's refusal of `request` after `prefix`, or "" when it accepted it."""
    try:
        client.request(request.method, request.path, params=request.query, body=request.body)
    except ApiError as error:
        if not 400 <= error.status < 500:
            raise  # not a refusal: the server could not answer
        return prefix + one_line(error.message)
    return ""
