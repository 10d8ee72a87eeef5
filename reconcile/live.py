"""Reads what the server holds, per kind, into the live resource set and the name lookups.

List endpoints only (limit=500, all reads of one run issued concurrently); one GET per object
only for kinds whose list items are summaries (Workloads V2), and then only for objects we own
or desire. Never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcile.client import Client
from reconcile.diff import digest
from reconcile.kinds import KINDS
from reconcile.kinds.base import Kind
from reconcile.kinds.calls import ListRequest, Pagination
from reconcile.kinds.lookups import LOOKUP_REQUESTS, Lookups
from reconcile.model import Address, LiveResource

KINDS_BY_SLUG: dict[str, Kind] = {kind.slug: kind for kind in KINDS.values()}

# Offset-paged lists that have a /count sibling: asked beside the first page, so every other
# page can be fetched at once.
_COUNT_PATHS = {
    "/api/v1/workload-templates": "/api/v1/workload-templates/count",
    "/api/v1/workloads": "/api/v1/workloads/count",
}


@dataclass(frozen=True)
class LiveView:
    """The live resource set of the kinds read, and the lookups the run resolved."""

    resources: Mapping[Address, LiveResource]
    lookups: Lookups
    kinds_read: frozenset[str] = frozenset()  # slugs whose live objects were listed
    duplicates: tuple[Address, ...] = field(default=())  # addresses held by >1 live object


def fingerprint(resource_spec: Any, updated_at: str | None) -> str:
    """What must not move between plan and apply: the owned view and the server's stamp.

    Volatile progress fields (V2 `syncInfo`) stay out, so a workload still syncing does not
    make a fresh plan stale.
    """
    return digest({"spec": resource_spec, "updatedAt": updated_at})


def read_live(
    client: Client,
    *,
    slugs: Collection[str],
    interesting: Collection[Address],
) -> LiveView:
    """Read the lookups and every live object of the kinds named by `slugs`.

    `interesting` are the addresses in desired or state: only those get a detail read.
    """
    kinds = [KINDS_BY_SLUG[s] for s in sorted(slugs)]
    needed = sorted({name for kind in KINDS.values() for name in kind.lookups_needed})
    requests: dict[Any, ListRequest] = {}
    for name in needed:
        requests.setdefault(LOOKUP_REQUESTS[name].fetch_key, LOOKUP_REQUESTS[name])
    for kind in kinds:
        request = kind.list_request()
        requests.setdefault(request.fetch_key, request)
    keys = list(requests)
    results = client.concurrently([_reader(client, requests[k]) for k in keys])
    fetched = dict(zip(keys, results, strict=True))
    lookups = Lookups.from_api({n: fetched[LOOKUP_REQUESTS[n].fetch_key] for n in needed})

    resources: dict[Address, LiveResource] = {}
    duplicates: set[Address] = set()
    details: list[tuple[Kind, str]] = []
    for kind in kinds:
        request = kind.list_request()
        for item in fetched[request.fetch_key]:
            if not request.keeps(item):
                continue
            address, remote_id = kind.identify(item, lookups)
            if kind.detail_request(remote_id) is not None:
                if address in interesting:
                    details.append((kind, remote_id))
                continue
            _add(resources, duplicates, _live(kind, item, lookups))
    objects = client.concurrently([_detail(client, kind, rid) for kind, rid in details])
    for (kind, _), obj in zip(details, objects, strict=True):
        if obj is not None:
            _add(resources, duplicates, _live(kind, obj, lookups))
    return LiveView(
        resources=resources,
        lookups=lookups,
        kinds_read=frozenset(k.slug for k in kinds),
        duplicates=tuple(sorted(duplicates)),
    )


def _reader(client: Client, request: ListRequest) -> Callable[[], list[Any]]:
    def read() -> list[Any]:
        paged = request.pagination is not Pagination.SINGLE
        return client.list_all(
            request.path,
            items_key=request.items_key,
            params=dict(request.params),
            page_size=500 if paged else None,
            count_path=_COUNT_PATHS.get(request.path) if paged else None,
        )

    return read


def _detail(client: Client, kind: Kind, remote_id: str) -> Callable[[], Any]:
    def read() -> Any:
        request = kind.detail_request(remote_id)
        assert request is not None
        # A workload deleted between the list and this read is simply not live any more.
        answer = client.get(request.path, dict(request.params), allow=(404,))
        return None if answer.status == 404 else answer.body

    return read


def _live(kind: Kind, obj: Mapping[str, Any], lookups: Lookups) -> LiveResource:
    # from_live already returns the normalized spec (Kind protocol); normalizing it again
    # cost a third of a 10,000-template plan.
    address, normalized, meta = kind.from_live(obj, lookups)
    return LiveResource(
        address=address,
        spec=normalized,
        remote_id=meta.remote_id,
        fingerprint=fingerprint(normalized, meta.updated_at),
        updated_by=meta.updated_by,
        updated_at=meta.updated_at,
        raw=obj,
    )


def _add(
    resources: dict[Address, LiveResource], duplicates: set[Address], live: LiveResource
) -> None:
    # Names are unique per scope on the server, so a second object at one address means an
    # id we could not resolve or a server bug: keep the first and report the address.
    if live.address in resources:
        duplicates.add(live.address)
        return
    resources[live.address] = live
