"""The read-only v1 view of Workloads V2: `GET /api/v1/workloads`, `/{id}` and `/count`.

Every V2 workload appears under its V2 id with `sourceApi: WorkloadsV2` and the manifest kind
as `type`; phases follow the V2 sync status. Nothing here writes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.handlers import workload_sync as state
from reconcile.emulator.listing import FieldGetter, matching, page
from reconcile.emulator.store import Store

# Every field the spec allows in the v1 workloads filterBy/sortBy (absent ones read as None).
_V1_FIELD_NAMES = (
    "type", "name", "clusterId", "projectId", "projectName", "departmentId", "departmentName",
    "createdAt", "deletedAt", "submittedBy", "phase", "completedAt", "nodepool",
    "distributedFramework", "allocatedGPU", "idleGpus", "idleAllocatedGpus", "phaseUpdatedAt",
    "category", "totalPendingTimeSeconds", "totalRunningTimeSeconds", "priority",
    "priorityClassName", "guaranteedRuntimeEndsAt", "aiApplicationId", "aiApplicationName",
)  # fmt: skip


def _getter(key: str) -> FieldGetter:
    return lambda obj: obj.get(key)


V1_FIELDS: dict[str, FieldGetter] = {name: _getter(name) for name in _V1_FIELD_NAMES}


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- the v1 view -------------------------------------------------------------------------------

_PHASES = {
    "Queued": ("Creating", "Pending"),
    "Applying": ("Creating", "Pending"),
    "Synced": ("Running", "Running"),
    "Deleting": ("Deleting", "Running"),
    "Deleted": ("Deleting", "Terminating"),
    "Gone": ("Deleting", "Terminating"),
}


def _images(node: Any) -> list[str]:
    """Container images anywhere in the manifest (`containers[].image`, init containers too)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c["image"] for c in value if isinstance(c, dict) and "image" in c]
            else:
                found += _images(value)
    elif isinstance(node, list):
        for item in node:
            found += _images(item)
    return found


def v1_view(store: Store, stored: dict[str, Any]) -> dict[str, Any]:
    """A V2 workload as the v1 `Workload` list item (same id; type = the manifest kind)."""
    meta, status = stored["metadata"], state.sync_status(stored)
    wtype = _workload_type_or_none(store, meta["gvk"])
    priority_name = meta.get("priority") or _name_of(store, org.PRIORITIES, wtype, "priorityId")
    priority = org.find_by_name(store, org.PRIORITIES, priority_name) if priority_name else None
    phase, k8s_phase = _PHASES[status]
    if status == "Applying" and stored[state.SYNC]["op"] == "update":
        phase = "Updating"
    since = _iso(stored[state.SYNC]["since"])
    value = priority["value"] if priority else None
    preemptibility = meta.get("preemptibility")
    return {
        "id": meta["id"], "name": meta["name"], "type": meta["gvk"]["kind"],
        "source": "Control-plane", "sourceApi": "WorkloadsV2",
        "priority": value, "priorityClassName": priority_name or "",
        "category": meta.get("category") or _name_of(store, org.CATEGORIES, wtype, "categoryId"),
        "preemptible": preemptibility == "preemptible" if preemptibility else (value or 0) < 100,
        "clusterId": meta["clusterId"], "tenantId": meta["tenantId"],
        "projectId": meta["projectId"], "projectName": meta["projectName"],
        "departmentId": meta["departmentId"], "departmentName": meta["departmentName"],
        "namespace": stored["workloadManifest"]["metadata"]["namespace"],
        "submittedBy": meta["createdBy"], "createdAt": meta["createdAt"],
        "updatedAt": meta["updatedAt"],
        "deletedAt": meta["deletedAt"] if status == "Gone" else None,
        "phase": phase, "phaseUpdatedAt": since, "k8sPhase": k8s_phase, "k8sPhaseUpdatedAt": since,
        "conditions": [], "runningPods": 1 if status == "Synced" else 0,
        "images": _images(stored["rawManifest"]),
    }  # fmt: skip


def _workload_type_or_none(store: Store, gvk: dict[str, str]) -> dict[str, Any] | None:
    try:
        return state.workload_type(store, gvk)
    except ApiProblem:  # a custom type deleted after the workload was created
        return None


def _name_of(store: Store, collection: str, wtype: dict[str, Any] | None, key: str) -> str:
    found = store.get(collection, wtype[key]) if wtype else None
    return str(found["name"]) if found else ""


def _v1_all(call: Call) -> list[dict[str, Any]]:
    """Views of the workloads on the requested side of `deleted` (default: not deleted)."""
    deleted = (call.args.get("deleted") or "false").lower() == "true"
    views = [v1_view(call.ctx.store, stored) for stored in call.ctx.store.all(state.WORKLOADS)]
    return [view for view in views if (view["deletedAt"] is not None) == deleted]


def _v1_list(call: Call) -> Reply:
    items, total = page(_v1_all(call), call.args, fields=V1_FIELDS, default_sort=None)
    offset = int(call.args.get("offset") or 0)
    body: dict[str, Any] = {"workloads": items}
    if offset + len(items) < total:
        body["next"] = offset + len(items)
    return Reply(200, body)


def _v1_count(call: Call) -> Reply:
    return Reply(200, {"count": len(matching(_v1_all(call), call.args, fields=V1_FIELDS))})


def _v1_get(call: Call) -> Reply:
    stored = stored_or_404(
        call.ctx.store, state.WORKLOADS, call.path_params["workloadId"], "Workload"
    )
    return Reply(200, v1_view(call.ctx.store, stored))


def routes() -> list[Route]:
    """Served through `workloads.routes()` (one handler module per API family in app.py)."""
    return [
        Route("/api/v1/workloads", ("GET",), _v1_list),
        Route("/api/v1/workloads/count", ("GET",), _v1_count),
        Route("/api/v1/workloads/<workloadId>", ("GET",), _v1_get,
              response_schema="WorkloadDetailed"),
    ]  # fmt: skip
