"""The call descriptions kinds hand to the client: one HTTP request, or a whole list read.

Plain frozen data (hashable, comparable), so the planner can show calls and the live reader
can share identical list reads between kinds. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from reconcile.model import JSON, ApiCall

Params = tuple[tuple[str, str], ...]
"""Query parameters as sorted (name, value) pairs: hashable, so equal requests compare equal."""

LIST_LIMIT = "500"  # the API's maximum page size; live reads never page by 50


def params(**values: str | int | None) -> Params:
    """Query parameters from keywords, dropping None; ints become decimal strings."""
    return tuple(sorted((k, str(v)) for k, v in values.items() if v is not None))


@dataclass(frozen=True)
class HttpRequest:
    """One call a kind wants made. `body` is JSON (None = no body)."""

    method: str
    path: str
    body: JSON = None
    params: Params = ()

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params)

    def api_call(self) -> ApiCall:
        """The plan's display form: method and path only (bodies may hold secrets)."""
        return ApiCall(self.method, self.path)


class Pagination(str, Enum):
    """How a list endpoint pages (docs/runai-api.md section 1.6); the client loops accordingly.

    Paged requests carry `limit` in their params; the client adds `offset` per page and stops
    when the next offset is missing or a page is shorter than the limit.
    """

    # `{items_key: [...], "pagination": {"nextOffset": n}}` with offset/limit: templates.
    OFFSET = "offset"
    # `{items_key: [...], "next": n}` with offset/limit: workloads, projects, departments;
    # access rules answer `totalRecords` instead of `next` (read until a page is short).
    NEXT = "next"
    # One response, no paging parameters: legacy assets, workload types, categories,
    # priorities, clusters (a bare array when items_key is None).
    SINGLE = "single"


@dataclass(frozen=True)
class ListRequest:
    """A list endpoint to read completely, plus the client-side filter to apply to its items.

    Two kinds whose requests have the same `fetch_key` can share one read (the four template
    kinds list `/api/v1/workload-templates` once and split it on `meta.workloadType`).
    `keep` holds (dotted field, value) pairs an item must all match; used where the API has
    no server-side filter (`sourceApi` is not a `filterBy` field on `/api/v1/workloads`).
    `unread` names top-level fields of an item that nothing reads: they are dropped as the
    list is read, so a big list does not hold them for the whole run.
    """

    path: str
    items_key: str | None  # None: the response is a bare JSON array
    pagination: Pagination
    params: Params = ()
    keep: tuple[tuple[str, str], ...] = ()
    unread: tuple[str, ...] = ()

    @property
    def fetch_key(self) -> tuple[str, str | None, Pagination, Params, tuple[str, ...]]:
        return (self.path, self.items_key, self.pagination, self.params, self.unread)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params)

    def keeps(self, item: Mapping[str, Any]) -> bool:
        """True when `item` passes every client-side filter."""
        return self.kept_values(item) == self.wanted

    @property
    def wanted(self) -> tuple[str, ...]:
        """The values the `keep` fields must hold."""
        return tuple(wanted for _, wanted in self.keep)

    def kept_values(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of `item` at the `keep` fields (None where absent), in their order."""
        return _values_at(item, _split_keep(self.keep))

    def split_kept(self, items: Iterable[Any]) -> dict[tuple[Any, ...], list[Any]]:
        """`items` grouped by their `kept_values`, each group in the list's order: the items
        a request with the same `keep` fields keeps are the group of its `wanted` (kinds
        sharing one list take their groups of one pass). An item whose values cannot be a
        key (a list or an object where a string is wanted) is in no group: no such value
        equals a wanted string, so no request keeps it."""
        paths = _split_keep(self.keep)
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for item in items:
            values = _values_at(item, paths)
            try:
                group = groups.setdefault(values, [])
            except TypeError:  # unhashable
                continue
            group.append(item)
        return groups


def _values_at(item: Any, paths: tuple[tuple[str, ...], ...]) -> tuple[Any, ...]:
    values = []
    for keys in paths:
        value: Any = item
        for key in keys:
            # A dict's exact type first: the Mapping check is slow, and a list read asks it
            # of every item.
            value = value.get(key) if type(value) is dict or isinstance(value, Mapping) else None
        values.append(value)
    return tuple(values)


@lru_cache(maxsize=64)  # a handful of filters, asked for every item of a list read
def _split_keep(keep: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], ...]:
    """The keys of each `keep` field's dotted path."""
    return tuple(tuple(dotted.split(".")) for dotted, _ in keep)
