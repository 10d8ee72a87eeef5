"""What one run read from the server (`LiveView`), and the fingerprints that bind a plan to
it. Pure data: the planner and applier use it without importing the reader (live.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcile.diff import digest
from reconcile.kinds.lookups import Lookups
from reconcile.model import Address, LiveResource


@dataclass(frozen=True)
class LiveView:
    """The live resource set of the kinds read, and the lookups the run resolved."""

    resources: Mapping[Address, LiveResource]
    lookups: Lookups
    kinds_read: frozenset[str] = frozenset()  # slugs whose live objects were listed
    duplicates: tuple[Address, ...] = field(default=())  # addresses held by >1 live object
    # Listed objects of summary-only kinds (Workloads V2) whose detail was not read, as
    # (slug, remote id) per address: a later `read_live(known=...)` may still need them.
    unread: Mapping[Address, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # Every list read, as the server gave it, by fetch key: kinds that share a list endpoint
    # (the four template kinds) are split from one read, even across `read_live(known=...)`.
    lists: Mapping[Any, list[Any]] = field(default_factory=dict)
    # The kinds' probe paths (and list paths) this run found served: never asked again.
    families: frozenset[str] = frozenset()


def fingerprint(resource_spec: Any, updated_at: str | None) -> str:
    """What must not move between plan and apply: the owned view and the server's stamp.

    Volatile progress fields (V2 `syncInfo`) stay out, so a workload still syncing does not
    make a fresh plan stale.
    """
    return digest({"spec": resource_spec, "updatedAt": updated_at})


def fingerprint_of(live: LiveResource) -> str:
    """`fingerprint` of a live resource; computed on demand, for the objects a plan touches
    only (a no-change plan over 10,000 objects needs none)."""
    return fingerprint(live.spec, live.updated_at)
