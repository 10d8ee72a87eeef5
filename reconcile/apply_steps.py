"""One apply step at a time: the calls a planned change makes, with the checks around them.

Journals a `pending-create` intent before every POST, checks that an object did not move since
the plan before changing it (freshness: against a list read made at apply start, or one GET),
retries transient failures (a POST only after checking by name that it did not land), waits
for asynchronous writes, and commits each state change through the journal.
Decides nothing from a change's display-only `reason`; never prints.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from reconcile.client import Params, Response, is_transient
from reconcile.errors import ApiError, ReconcileError
from reconcile.journal import StateJournal
from reconcile.kinds.base import AsyncStatus, Kind
from reconcile.kinds.calls import HttpRequest, Pagination
from reconcile.kinds.lookups import Lookups, planned_in
from reconcile.kinds.registry import BY_SLUG
from reconcile.lifecycle import keeping_live
from reconcile.live_view import fingerprint
from reconcile.model import (
    Action,
    Address,
    Change,
    EntryStatus,
    Resource,
    Spec,
    State,
    StateEntry,
)
from reconcile.planner import request_for
from reconcile.sensitive import redact

T = TypeVar("T")


class ApiCalls(Protocol):
    """What the apply side asks of an API client (`reconcile.client.Client` is one): the
    applier drives calls through this and never imports the HTTP client itself."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        allow: Collection[int] = (),
    ) -> Response: ...

    def list_all(
        self,
        path: str,
        *,
        items_key: str | None,
        params: Params | None = None,
        page_size: int | None = 500,
        count_path: str | None = None,
    ) -> list[Any]: ...

    def concurrently(self, calls: Sequence[Callable[[], T]]) -> list[T]: ...


class StepFailed(Exception):
    """A step did not complete. `unsure`: a POST may have landed, so its intent stays."""

    def __init__(self, message: str, *, unsure: bool = False, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unsure = unsure
        self.conflict = conflict  # the first POST met an object of that name (409)


class StepBlocked(StepFailed):
    """A step that was not started: its request names an object this plan was to create
    first (by a planned id), and that create returned no id (it failed or did not run)."""


def _created_first(address: Address, request: HttpRequest) -> HttpRequest:
    """`request`, unless it still holds a planned id (StepBlocked naming what it waits for)."""
    waiting = sorted(planned_in((request.path, request.body, request.params)))
    if waiting:
        raise StepBlocked(
            f"not started: {address} names {', '.join(waiting)}, which this run did not create"
        )
    return request


@dataclass(frozen=True)
class RetryPolicy:
    """The applier's own retry budget for what the client does not retry: POSTs (each after a
    name look-up shows the last one did not land) and those look-ups' own backoff."""

    attempts: int = 5  # POSTs per create (the client never retries a POST itself)
    backoff_s: float = 0.5
    backoff_max_s: float = 10.0
    retry_after_max_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter (50-100 %), never shorter than `Retry-After`."""
        base = min(self.backoff_max_s, self.backoff_s * 2.0**attempt)
        wait = base * (0.5 + random.random() / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max_s))
        return wait


@dataclass(frozen=True)
class PollPolicy:
    """How long to wait for an asynchronous write (or a read-back) to show, and how often."""

    timeout_s: float = 600.0
    interval_s: float = 2.0
    first_interval_s: float = 0.05  # a fast server is usually done by the first poll


def find_remote_id(client: ApiCalls, kind: Kind, address: Address, lookups: Lookups) -> str | None:
    """The id of the live object at `address`, or None; one narrow list read."""
    request = kind.find_by_name_request(address, lookups)
    paged = request.pagination is not Pagination.SINGLE
    items = client.list_all(
        request.path,
        items_key=request.items_key,
        params=request.query,
        page_size=500 if paged else None,
    )
    for item in items:
        if request.keeps(item):
            found, remote_id = kind.identify(item, lookups)
            if found == address:
                return remote_id
    return None


class StepRunner:
    """Executes single changes; safe to call from several threads at once."""

    def __init__(
        self,
        *,
        client: ApiCalls,
        journal: StateJournal,
        fingerprints: Mapping[str, str],
        lookups: Lookups,
        desired: Mapping[Address, Resource],
        retry: RetryPolicy,
        poll: PollPolicy,
        listed: Mapping[Any, list[Any]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._journal = journal
        self._fingerprints = fingerprints
        self._lookups = lookups
        self._lookups_lock = threading.Lock()
        self._desired = desired
        self._listed = listed or {}
        self._listed_by_id: dict[str, dict[str, Any]] = {}  # slug -> remote id -> list item
        self._listed_lock = threading.Lock()
        self._retry = retry
        self._poll = poll
        self._sleep = sleep

    def run(self, change: Change) -> None:
        """Carry out `change`; raises StepFailed with a human reason."""
        handlers: dict[Action, Callable[[Change], None]] = {
            Action.CREATE: lambda c: self._create(c, self._spec(c), moved_from=c.replaces),
            Action.UPDATE: self._update,
            Action.REPLACE: self._replace,
            Action.DELETE: self._delete,
            Action.FORGET: lambda c: self._commit_without(c.address),
            Action.NOOP: self._record,
        }
        try:
            handlers[change.action](change)
        except ReconcileError as error:  # a request the kind cannot build, a state write
            raise StepFailed(error.message) from error

    # --- actions ---------------------------------------------------------------------------

    def _create(self, change: Change, spec: Spec, *, moved_from: Address | None = None) -> None:
        address, kind = change.address, BY_SLUG[change.address.kind]
        request = _created_first(address, kind.create_request(address, spec, self._lookups))
        earlier = self._journal.state.entries.get(address)
        if earlier is not None and earlier.status is not EntryStatus.PENDING_CREATE:
            earlier = None  # only an unsettled intent of an earlier run matters here
        intent = self._entry(address, "", spec, EntryStatus.PENDING_CREATE)
        # The intent is on disk before the POST leaves: a crash after the server committed
        # still lets the next run find the object by name instead of creating it twice.
        self._journal.commit(
            lambda s: (s.without(moved_from) if moved_from else s).with_entry(intent)
        )
        try:
            remote_id = self._post(kind, address, request)
        except StepFailed as failed:
            if failed.conflict and earlier is not None:
                self._take_earlier(kind, earlier, spec, failed)
                return
            if not failed.unsure and earlier is None:  # refused outright: nothing was created
                self._journal.commit(lambda s: _drop_if_pending(s.entries.get(address), s))
            raise
        entry = self._entry(address, remote_id, spec)
        self._journal.commit(lambda s: s.with_entry(entry))
        self._learn(kind, address, remote_id, spec)
        self._confirm(kind, remote_id)

    def _learn(self, kind: Kind, address: Address, remote_id: str, spec: Spec) -> None:
        """A created project, department, node pool or asset becomes nameable by later steps
        (the plan knew it by a planned id only)."""
        if kind.names_lookup is None:
            return
        with self._lookups_lock:
            record = kind.lookup_record(address, remote_id, self._lookups, spec=spec)
            self._lookups = self._lookups.with_records(kind.names_lookup, [record])

    def _take_earlier(self, kind: Kind, earlier: StateEntry, spec: Spec, cause: StepFailed) -> None:
        """A 409 where an earlier run journaled a create: that create landed after all."""
        error = ApiError(cause.message, status=409)
        found = self._landed(kind, earlier.address, 0, error, patient=True)
        if found is None:
            raise StepFailed(cause.message, unsure=True) from cause
        entry = replace(earlier, remote_id=found, status=EntryStatus.APPLIED)
        self._journal.commit(lambda s: s.with_entry(entry))
        self._learn(kind, earlier.address, found, spec)
        if earlier.last_applied != self._entry(earlier.address, found, spec).last_applied:
            raise StepFailed(
                f"{earlier.address}: an earlier run's create landed (id {found}) with another "
                "spec; plan again to update it"
            )
        self._confirm(kind, found)

    def _update(self, change: Change) -> None:
        kind, spec = BY_SLUG[change.address.kind], self._spec(change)
        remote_id = self._remote_id(change, change.address)
        body = self._fresh(kind, self._seen_at(change), remote_id)
        if body is None:
            raise StepFailed(f"{change.address} changed since plan: deleted on the server")
        spec = self._keeping_ignored(kind, change.address, spec, body)
        request = request_for(kind, replace(change, after=spec, remote_id=remote_id), self._lookups)
        self._call(_created_first(change.address, request))
        entry = self._entry(change.address, remote_id, spec)
        old = change.replaces  # a rename: state follows the object to its new address
        self._journal.commit(lambda s: (s.without(old) if old else s).with_entry(entry))
        self._confirm(kind, remote_id)

    def _keeping_ignored(self, kind: Kind, address: Address, spec: Spec, body: Any) -> Spec:
        """An update leaves the document's `lifecycle.ignoreChanges` paths as the server
        holds them (read just now)."""
        resource = self._desired.get(address)
        if resource is None or not resource.lifecycle.ignore_changes:
            return spec
        _, live, _ = kind.from_live(body, self._lookups)
        return keeping_live(spec, live, resource.lifecycle.ignore_changes)

    def _replace(self, change: Change) -> None:
        spec = self._spec(change)
        old = change.replaces or change.address
        kind = BY_SLUG[old.kind]
        remote_id = self._remote_id(change, old)
        if remote_id and self._fresh(kind, self._seen_at(change), remote_id) is not None:
            self._call(kind.delete_request(remote_id), allow=(404,))
            # The create reuses the name, which a deleting object still holds.
            self._await(kind, remote_id, deleting=True, until_gone=True)
        self._create(change, spec, moved_from=change.replaces)

    def _delete(self, change: Change) -> None:
        kind = BY_SLUG[change.address.kind]
        remote_id = self._remote_id(change, change.address)
        if remote_id and self._fresh(kind, change.address, remote_id) is not None:
            self._call(kind.delete_request(remote_id), allow=(404,))  # 404: already gone
            self._await(kind, remote_id, deleting=True)
        self._commit_without(change.address)

    def _record(self, change: Change) -> None:
        """An object already as desired that state does not own yet (adopted), or whose
        `last_applied` lags behind it (an earlier run died before recording its write), or
        whose entry moves to its new address (`replaces`)."""
        entry = self._entry(change.address, change.remote_id, self._spec(change))
        old = change.replaces
        self._journal.commit(lambda s: (s.without(old) if old else s).with_entry(entry))

    def _commit_without(self, address: Address) -> None:
        self._journal.commit(lambda s: s.without(address))

    # --- helpers ---------------------------------------------------------------------------

    def _spec(self, change: Change) -> Spec:
        """What to send: the desired spec (a saved plan's `after` may hold hashed secrets)."""
        resource = self._desired.get(change.address)
        spec = resource.spec if resource is not None else change.after
        if spec is None:
            raise StepFailed(f"{change.address}: the plan has no desired spec for this step")
        return spec

    def _entry(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        status: EntryStatus = EntryStatus.APPLIED,
    ) -> StateEntry:
        """The state entry for `spec`: secrets as salted hashes, never the values (the salt is
        the state's lineage, so the planner can tell an unchanged secret from a new one)."""
        resource = self._desired.get(address)
        paths = tuple(sorted(resource.sensitive)) if resource is not None else ()
        stored = redact(spec, paths, self._journal.state.lineage)
        protected = resource is not None and resource.lifecycle.protect
        return StateEntry(address, remote_id, stored, status, protected=protected)

    def _seen_at(self, change: Change) -> Address:
        """Where the plan saw the object: under its old address (`replaces`) for a rename
        or a scope move, else (a `movedFrom` whose object the server renamed already, or
        no move at all) at its own."""
        old = change.replaces
        return old if old is not None and self._fingerprints.get(str(old)) else change.address

    def _remote_id(self, change: Change, address: Address) -> str:
        entry = self._journal.state.entries.get(address)
        return change.remote_id or (entry.remote_id if entry is not None else "")

    def _fresh(self, kind: Kind, address: Address, remote_id: str) -> Any:
        """The object as the server holds it now: from the list read made at apply start
        when its kind has one, else one GET (also for an id that read lacks, so that only the
        server's 404 says an object is gone). StepFailed if it moved since the plan; None if
        it is gone."""
        body = self._listed_item(kind, remote_id)
        if body is None:
            answer = self._call(kind.get_request(remote_id), allow=(404,))
            if answer.status == 404:
                return None
            body = answer.body
        expected = self._fingerprints.get(str(address))
        if expected is not None:
            _, spec, meta = kind.from_live(body, self._lookups)  # normalized already
            if fingerprint(spec, meta.updated_at) != expected:
                who = f" (last updated by {meta.updated_by} at {meta.updated_at})"
                raise StepFailed(
                    f"{address} changed since plan{who if meta.updated_by else ''}; "
                    "plan again to see the change"
                )
        return body

    def _listed_item(self, kind: Kind, remote_id: str) -> Any:
        """The item of id `remote_id` in the list read of `kind` made at apply start, or None
        (not read, not there, or a summary-only kind whose items are not the object)."""
        request = kind.list_request()
        items = self._listed.get(request.fetch_key)
        if items is None or kind.detail_request(remote_id) is not None:
            return None
        with self._listed_lock:
            by_id = self._listed_by_id.get(kind.slug)
            if by_id is None:
                by_id = self._listed_by_id[kind.slug] = {}
                for item in items:
                    if request.keeps(item):
                        try:
                            by_id[kind.identify(item, self._lookups)[1]] = item
                        except (ReconcileError, KeyError, TypeError, ValueError):
                            continue  # an item the lookups cannot place: its step GETs it
        return by_id.get(remote_id)

    def _call(self, request: HttpRequest, *, allow: tuple[int, ...] = ()) -> Response:
        """An idempotent call (GET, PUT, PATCH, DELETE). The client already retries these on
        429/5xx and lost connections with backoff and Retry-After, within its own budget;
        retrying again here would multiply the tries and make a dead server slow to fail."""
        try:
            return self._client.request(
                request.method,
                request.path,
                params=request.query or None,
                body=request.body,
                allow=allow,
            )
        except ApiError as error:
            raise StepFailed(str(error)) from error

    def _post(self, kind: Kind, address: Address, request: HttpRequest) -> str:
        """POST, retried only after a name look-up shows the previous one did not land."""
        last: ApiError | None = None
        for attempt in range(self._retry.attempts):
            if last is not None:
                found = self._landed(kind, address, attempt, last, patient=False)
                if found is not None:
                    return found
            try:
                answer = self._client.request("POST", request.path, body=request.body)
            except ApiError as error:
                if is_transient(error):
                    last = error
                    continue
                if error.status == 409 and last is not None:
                    # Our earlier POST landed, but list reads did not show it yet.
                    found = self._landed(kind, address, attempt, error, patient=True)
                    if found is not None:
                        return found
                    raise StepFailed(str(error), unsure=True) from error
                conflict = error.status == 409
                raise StepFailed(_refused(address, error), conflict=conflict) from error
            return self._new_id(kind, address, answer, attempt)
        assert last is not None
        found = self._landed(kind, address, self._retry.attempts, last, patient=False)
        if found is not None:
            return found
        raise StepFailed(f"{last} (gave up after {self._retry.attempts} tries)", unsure=True)

    def _new_id(self, kind: Kind, address: Address, answer: Response, attempt: int) -> str:
        body = answer.body if isinstance(answer.body, Mapping) else {}
        try:
            return kind.remote_id_from_response(body)
        except (KeyError, TypeError, ValueError):
            # Created, but the answer does not say under which id: ask by name.
            error = ApiError("the create response has no id", method="POST")
            found = self._landed(kind, address, attempt, error, patient=True)
            if found is None:
                raise StepFailed(
                    f"{address}: created, but its id is unknown", unsure=True
                ) from None
            return found

    def _landed(
        self, kind: Kind, address: Address, attempt: int, cause: ApiError, *, patient: bool
    ) -> str | None:
        """The id of `address` if a POST of it landed. `patient`: it did, keep looking."""
        retry_after = cause.retry_after
        for tries in range(self._retry.attempts):
            self._sleep(self._retry.delay(attempt + tries, retry_after))
            try:
                found = find_remote_id(self._client, kind, address, self._lookups)
            except ApiError as error:
                if not is_transient(error):
                    raise StepFailed(
                        f"{cause}; checking for it failed: {error}", unsure=True
                    ) from error
                retry_after = error.retry_after
                continue
            if found is not None or not patient:
                return found
        if patient:
            return None
        raise StepFailed(f"{cause}; could not check whether it was created", unsure=True)

    def _confirm(self, kind: Kind, remote_id: str) -> None:
        """Wait for an asynchronous write to sync; read a write back once where its answer
        is not the object (one request per write otherwise: the answer is the read-back)."""
        if kind.is_async or not kind.answers_with_object:
            self._await(kind, remote_id, deleting=False)

    def _await(
        self, kind: Kind, remote_id: str, *, deleting: bool, until_gone: bool = False
    ) -> None:
        """Poll until the write is done (404 after a delete counts), failed, or timed out."""
        if deleting and not kind.is_async:
            return  # a synchronous DELETE's answer is final
        deadline = time.monotonic() + self._poll.timeout_s
        interval = min(self._poll.first_interval_s, self._poll.interval_s)
        while True:
            answer = self._call(kind.get_request(remote_id), allow=(404,))
            if answer.status == 404:
                if deleting:
                    return
                seen = "not found yet"  # list and read replicas may lag behind a write
            else:
                status = kind.async_status(answer.body, deleting=deleting)
                seen = _sync_text(answer.body)
                if status is AsyncStatus.FAILED:
                    raise StepFailed(f"{kind.document_kind} {remote_id}: the server says {seen}")
                if status is AsyncStatus.DONE and not until_gone:
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepFailed(
                    f"{kind.document_kind} {remote_id}: timed out after "
                    f"{self._poll.timeout_s:g} s waiting for the server (last seen: {seen})"
                )
            self._sleep(min(interval, left))
            interval = min(interval * 2, self._poll.interval_s)


def _sync_text(body: Any) -> str:
    info = body.get("syncInfo") if isinstance(body, Mapping) else None
    if not isinstance(info, Mapping):
        return "present"
    status, message = info.get("status"), info.get("message")
    return f"{status} ({message})" if message and message != status else str(status)


def _refused(address: Address, error: ApiError) -> str:
    if error.status == 409:
        return (
            f"{error} ({address} exists on the server but this state does not own it; "
            "plan again, with --adopt to manage it)"
        )
    return str(error)


def _drop_if_pending(entry: StateEntry | None, state: State) -> State:
    if entry is not None and entry.status is EntryStatus.PENDING_CREATE:
        return state.without(entry.address)
    return state
