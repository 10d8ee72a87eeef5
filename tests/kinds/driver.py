"""Executes what the kinds describe (HttpRequest, ListRequest) against the emulator over HTTP.

This is the read and write loop the live reader and the applier run through the client,
reduced to what the kind tests need, so a kind can be checked against the real emulator.
"""

from __future__ import annotations

from typing import Any

from reconcile.kinds.base import Kind, LiveMeta
from reconcile.kinds.calls import HttpRequest, ListRequest, Pagination
from reconcile.kinds.lookups import LOOKUP_REQUESTS, Lookups
from reconcile.model import Spec
from tests.emulator.helpers import Api


class KindDriver:
    """Runs kind-described calls; any answer of 300 or more fails the test with its body."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def call(self, request: HttpRequest) -> Any:
        answer = self.api.call(
            request.method, request.path, params=request.query or None, json=request.body
        )
        assert answer.status_code < 300, f"{request.method} {request.path}: {answer.text}"
        return answer.json() if answer.content else None

    def status(self, request: HttpRequest) -> int:
        return self.api.call(request.method, request.path, params=request.query or None).status_code

    def list_all(self, request: ListRequest) -> list[dict[str, Any]]:
        """Every page of a list read, then the client-side filter."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            query = request.query
            if request.pagination is not Pagination.SINGLE:
                query["offset"] = str(offset)
            answer = self.call(HttpRequest("GET", request.path, params=tuple(query.items())))
            page = answer if request.items_key is None else answer[request.items_key]
            items.extend(page)
            if request.pagination is Pagination.SINGLE:
                break
            if request.pagination is Pagination.OFFSET:
                following = (answer.get("pagination") or {}).get("nextOffset")
            else:
                following = answer.get("next")
            if not page or following is None or int(following) <= offset:
                break
            offset = int(following)
        return [item for item in items if request.keeps(item)]

    def lookups(self) -> Lookups:
        return Lookups.from_api({k: self.list_all(r) for k, r in LOOKUP_REQUESTS.items()})

    def live(self, kind: Kind, lookups: Lookups) -> dict[str, tuple[Spec, LiveMeta]]:
        """Address text -> (normalized spec, live meta) of every live object of `kind`."""
        found: dict[str, tuple[Spec, LiveMeta]] = {}
        for item in self.list_all(kind.list_request()):
            _, remote_id = kind.identify(item, lookups)
            detail = kind.detail_request(remote_id)
            obj = item if detail is None else self.call(detail)
            address, spec, meta = kind.from_live(obj, lookups)
            found[str(address)] = (spec, meta)
        return found

    def find(self, kind: Kind, address: Any, lookups: Lookups) -> list[str]:
        """Remote ids of the objects at `address` (the pending-create settling read)."""
        request = kind.find_by_name_request(address, lookups)
        matches = [kind.identify(item, lookups) for item in self.list_all(request)]
        return [remote_id for found, remote_id in matches if found == address]
