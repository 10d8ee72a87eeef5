"""Reads what the server holds, per kind, into the live resource set and the name lookups.

List endpoints only (limit=500, all reads of one run issued concurrently); one GET per object
only for kinds whose list items are summaries (Workloads V2), and then only for objects we own
or desire. Never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from reconcile.client import Client
from reconcile.errors import ApiError, PlanError
from reconcile.kinds.base import Kind
from reconcile.kinds.calls import ListRequest, Pagination
from reconcile.kinds.lookups import LOOKUP_REQUESTS, Lookups
from reconcile.kinds.registry import BY_SLUG, needs_newer
from reconcile.live_view import LiveView
from reconcile.model import Address, LiveResource

PAGE_SIZE = 500  # items per page of an offset-paged list read

# Offset-paged lists that have a /count sibling: asked beside the first page, so every other
# page can be fetched at once.
_COUNT_PATHS = {
    "/api/v1/workload-templates": "/api/v1/workload-templates/count",
    "/api/v1/workloads": "/api/v1/workloads/count",
}


def read_live(
    client: Client,
    *,
    slugs: Collection[str],
    interesting: Collection[Address],
    known: LiveView | None = None,
    lookups: Collection[str] = (),
) -> LiveView:
    """Read the lookups and every live object of the kinds named by `slugs`.

    `interesting` are the addresses in desired or state: only those get a detail read.
    `known`: a view read earlier in the same run (a plan reads the server while its config is
    still being checked); its lookups, lists and detail reads are kept, and only the kinds
    and details it lacks are read now. `lookups`: keys of LOOKUP_REQUESTS to read besides
    those the kinds need (`get` lists them).
    """
    kinds = [BY_SLUG[s] for s in sorted(slugs) if known is None or s not in known.kinds_read]
    fetched = dict(known.lists) if known is not None else {}
    # Only the lookups the kinds read need: an older server lacks some lookup lists too.
    read_slugs = set(slugs) | (known.kinds_read if known is not None else set())
    needed = {name for slug in read_slugs for name in BY_SLUG[slug].lookups_needed}
    names = sorted(needed | set(lookups))
    wanted_lists = [LOOKUP_REQUESTS[name] for name in names] + [k.list_request() for k in kinds]
    new_lists = [r for r in wanted_lists if r.fetch_key not in fetched]
    new_lookups = any(LOOKUP_REQUESTS[name].fetch_key not in fetched for name in names)
    served = (known.families if known is not None else frozenset()) | {key[0] for key in fetched}
    fetched.update(_lists(client, new_lists, kinds, served))
    resolved = known.lookups if known is not None and not new_lookups else _lookups(fetched, names)
    resources = dict(known.resources) if known is not None else {}
    duplicates = set(known.duplicates) if known is not None else set()
    unread = {a: list(ids) for a, ids in known.unread.items()} if known is not None else {}
    seen: dict[Any, dict[tuple[Any, ...], list[Any]]] = {}
    for kind in kinds:
        items = _kept(kind.list_request(), fetched, seen)
        if kind.detail_request("") is None:  # list items are whole objects: translate them
            for item in items:
                _add(resources, duplicates, _live(kind, item, resolved))
            continue
        for item in items:  # summaries: each object is read in detail, where it matters
            address, remote_id = kind.identify(item, resolved)
            unread.setdefault(address, []).append((kind.slug, remote_id))
    wanted = [a for a in sorted(unread) if a in interesting]
    details = [item for address in wanted for item in unread.pop(address)]
    objects = client.concurrently([_detail(client, slug, rid) for slug, rid in details])
    for (slug, _), obj in zip(details, objects, strict=True):
        if obj is not None:
            _add(resources, duplicates, _live(BY_SLUG[slug], obj, resolved))
    return LiveView(
        resources=resources,
        lookups=resolved,
        kinds_read=frozenset(k.slug for k in kinds) | (known.kinds_read if known else set()),
        families=served | {k.probe_path for k in kinds},
        duplicates=tuple(sorted(duplicates)),
        unread={a: tuple(ids) for a, ids in unread.items()},
        lists=fetched,
    )


def read_lists(client: Client, slugs: Collection[str]) -> dict[Any, list[Any]]:
    """The list reads of the kinds named by `slugs` again (all pages, at once), by fetch key,
    and nothing else: what `apply` checks its updates and deletes against."""
    unique = {r.fetch_key: r for r in (BY_SLUG[s].list_request() for s in sorted(slugs))}
    results = client.concurrently([_reader(client, request) for request in unique.values()])
    lists: dict[Any, list[Any]] = {}
    for key, result in zip(unique, results, strict=True):
        if isinstance(result, ApiError):  # the family was there at plan time: as it answered
            raise result
        lists[key] = result
    return lists


def list_cost(slug: str, items: int) -> int:
    """The requests a list read of `slug` makes for `items` items: every page, and the count
    asked beside the first."""
    request = BY_SLUG[slug].list_request()
    if request.pagination is Pagination.SINGLE:
        return 1
    counted = 1 if request.path in _COUNT_PATHS else 0
    return items // PAGE_SIZE + 1 + counted


def _lists(
    client: Client, requests: list[ListRequest], kinds: list[Kind], served: Collection[str]
) -> dict[Any, list[Any]]:
    """The list reads, at once, by fetch key; PlanError naming every kind whose API family the
    server lacks (its probe path answered 404), before anything else is looked at.

    A probe path is asked once per run: not when it is one of these lists, nor when `served`
    (the paths this run already read) holds it."""
    unique = {request.fetch_key: request for request in requests}
    keys = list(unique)
    listed = [unique[key].path for key in keys]
    probes = sorted({k.probe_path for k in kinds} - set(listed) - set(served))
    calls = [_reader(client, unique[key]) for key in keys] + [_probe(client, p) for p in probes]
    results = client.concurrently(calls)
    absent = {
        path
        for path, result in zip(listed + probes, results, strict=True)
        if isinstance(result, ApiError)
    }
    # A kind also lacks its family where a lookup it needs is absent (Workloads V2 on a
    # server older than workload types): its writes could not be checked, nor made.
    lacking = [
        k
        for k in kinds
        if k.probe_path in absent
        or any(LOOKUP_REQUESTS[name].path in absent for name in k.lookups_needed)
    ]
    if lacking:
        raise PlanError("\n".join(needs_newer(kind, "this server") for kind in lacking))
    lists: dict[Any, list[Any]] = {}
    for key, result in zip(keys, results[: len(keys)], strict=True):
        if isinstance(result, ApiError):  # a lookup list the server lacks: as it answered
            raise result
        lists[key] = result
    return lists


def _kept(
    request: ListRequest,
    fetched: Mapping[Any, list[Any]],
    seen: dict[Any, dict[tuple[Any, ...], list[Any]]],
) -> list[Any]:
    """The items of `request`'s list that pass its client-side filter (`keeps`). Kinds that
    share one list (the four template kinds) split its items on the filter fields once, into
    `seen`, rather than each walking every item."""
    items = fetched[request.fetch_key]
    if not request.keep:
        return items
    key = (request.fetch_key, tuple(dotted for dotted, _ in request.keep))
    groups = seen.get(key)
    if groups is None:
        groups = seen[key] = request.split_kept(items)
    return groups.get(request.wanted, [])


def _lookups(fetched: Mapping[Any, list[Any]], names: list[str]) -> Lookups:
    return Lookups.from_api({n: fetched[LOOKUP_REQUESTS[n].fetch_key] for n in names})


def serves(client: Client, path: str) -> bool:
    """Whether the server serves the collection at `path`: one cheap GET (one item), which
    a server without it answers 404. A 403 means it has it: the question is whether the path
    is served, not whether this token may read it (a role that manages workloads need not
    read the workload-template list)."""
    return client.get(path, {"limit": "1"}, allow=(403, 404)).status != 404


def _probe(client: Client, path: str) -> Callable[[], list[Any] | ApiError]:
    def read() -> list[Any] | ApiError:
        if serves(client, path):
            return []
        return ApiError("not found", status=404, method="GET", path=path)

    return read


def _reader(client: Client, request: ListRequest) -> Callable[[], list[Any] | ApiError]:
    def read() -> list[Any] | ApiError:
        paged = request.pagination is not Pagination.SINGLE
        try:
            items = client.list_all(
                request.path,
                items_key=request.items_key,
                params=dict(request.params),
                page_size=PAGE_SIZE if paged else None,
                count_path=_COUNT_PATHS.get(request.path) if paged else None,
            )
        except ApiError as error:
            if error.status != 404:
                raise
            return error  # the caller tells a missing API family from a missing lookup
        if request.unread:
            for item in items:
                if isinstance(item, dict):
                    for field in request.unread:
                        item.pop(field, None)
        return items

    return read


def _detail(client: Client, slug: str, remote_id: str) -> Callable[[], Any]:
    def read() -> Any:
        request = BY_SLUG[slug].detail_request(remote_id)
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
        updated_by=meta.updated_by,
        updated_at=meta.updated_at,
        raw=obj,
    )


def _add(
    resources: dict[Address, LiveResource], duplicates: set[Address], live: LiveResource
) -> None:
    # Names are unique per scope on the server, so a second object at one address means an
    # id we could not resolve or a server bug: keep the first and report the address.
    if resources.setdefault(live.address, live) is not live:
        duplicates.add(live.address)
