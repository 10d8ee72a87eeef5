"""The stored form of a Workloads V2 workload: its collection, sync clock and workload type.

Shared by the V2 routes (`workloads.py`) and the v1 view (`workloads_v1.py`); no routes here.
"""

from __future__ import annotations

import time
from typing import Any

from reconcile.emulator.framework import ApiProblem, Call
from reconcile.emulator.handlers import org
from reconcile.emulator.store import Store

WORKLOADS = "workloads_v2"
SYNC = "_sync"  # private: {"op": create|update|delete, "since": epoch s, "delay": s}


def sync_status(stored: dict[str, Any], now: float | None = None) -> str:
    """Queued -> Applying -> Synced after a create (half the delay each), Applying -> Synced
    after an update, Deleting -> Deleted -> gone after a delete ("Gone": answer 404)."""
    sync = stored[SYNC]
    elapsed = (time.time() if now is None else now) - sync["since"]
    delay = sync["delay"]
    if sync["op"] == "delete":
        return "Deleting" if elapsed < delay else "Deleted" if elapsed < 2 * delay else "Gone"
    if sync["op"] == "create" and elapsed < delay / 2:
        return "Queued"
    return "Applying" if elapsed < delay else "Synced"


def start_sync(call: Call, stored: dict[str, Any], op: str) -> None:
    delay = max(call.ctx.settings.sync_delay_ms, 0) / 1000
    stored[SYNC] = {"op": op, "since": time.time(), "delay": delay}


def workload_type(store: Store, gvk: dict[str, str]) -> dict[str, Any]:
    group = gvk["group"] or "core"  # the core API group is listed as `core` (seed.yaml)
    for wtype in store.all(org.WORKLOAD_TYPES):
        if wtype["name"] == gvk["kind"] and wtype["group"] == group:
            return wtype
    raise ApiProblem(
        400, f"Bad request - no workload type is registered for {gvk['kind']} ({group})"
    )
