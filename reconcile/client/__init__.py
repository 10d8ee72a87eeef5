"""HTTP to the Run:ai API: credentials, token refresh, retries, pagination, errors.

With `transport` (one exchange with an untrusted server) the only code that imports requests
and urllib3. It knows endpoints only as paths its callers pass, never prints, and never lets a
token or secret into a message, log line, repr or error.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from reconcile.client.transport import RETRY_STATUSES, TOKEN_PATHS, Answer, Limits, Transport
from reconcile.credentials import Clock, Credentials, TokenCache, jwt_expiry
from reconcile.errors import ApiError, AuthError, UnreachableError
from reconcile.wire import MiB, Redactor

__all__ = [
    "RETRY_STATUSES",
    "Client",
    "Credentials",
    "Response",
    "is_transient",
    "jwt_expiry",
]

_LOG = logging.getLogger("reconcile.client")


@dataclass(frozen=True)
class TokenGrant:
    """One way to trade the client id and secret for a token."""

    version: int  # of the token endpoint: TOKEN_PATHS
    name: str  # grantType (v1) or grant_type (v2)
    id_key: str
    secret_key: str


# In the order tried (docs/runai-api.md section 5): v1 `client_credentials` (2.20+), v1
# `app_token` (2.18 and 2.19 take only that for application credentials), then the OAuth2
# endpoint (2.24+) for a server that refuses v1.
TOKEN_GRANTS = (
    TokenGrant(1, "client_credentials", "clientId", "clientSecret"),
    TokenGrant(1, "app_token", "appID", "appSecret"),
    TokenGrant(2, "client_credentials", "client_id", "client_secret"),
)
T = TypeVar("T")
Params = Mapping[str, Any]

# Statuses after which a caller may retry a POST once it has checked by name that nothing
# landed (0 = no answer at all: the server may or may not have committed).
TRANSIENT_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
_MAX_GUESSED_PAGES = 8


def is_transient(error: ApiError) -> bool:
    """True when `error` may go away on retry (throttling, a 5xx, or no answer); never for a
    server that cannot be reached at all or a run out of time."""
    if isinstance(error, UnreachableError) or getattr(error, "whole_run", False):
        return False
    return error.status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class Response:
    """A 2xx (or explicitly allowed) answer: status, parsed JSON body (or None), headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


class _Counters:
    """Per-client request counters for diagnostics (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {"api_calls": 0, "token_requests": 0, "retries": 0, "reauths": 0}

    def add(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        counts["requests"] = counts["api_calls"] + counts["token_requests"] + counts["retries"]
        return counts


class Client:
    """One Run:ai server: authenticated JSON calls with retries, and paginated listing.

    Reads and idempotent writes are retried by urllib3 on 429/5xx and connection errors, with
    exponential backoff, jitter and `Retry-After`; a POST is never retried here (see
    `is_transient`). Non-2xx answers raise `ApiError`, a refused token `AuthError`.
    Each call must finish (connect to the end of its body) within `request_timeout` seconds
    and before the run's `run_timeout` (from the client's creation); answers longer than
    `max_response_bytes` are refused unread. Redirects are followed only within the
    server's origin.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials,
        ca_bundle: str | None = None,
        insecure: bool = False,
        timeout: tuple[float, float] = (5.0, 30.0),
        request_timeout: float | None = 120.0,
        run_timeout: float | None = None,
        max_response_bytes: int = 64 * MiB,
        max_retries: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        retry_after_max: int = 30,
        list_concurrency: int = 20,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._counters = _Counters()
        clock = clock or Clock()
        # Every secret known before any request carrying it is sent (tokens join as fetched).
        self._redact = Redactor((credentials.token, credentials.client_secret))
        limits = Limits(
            timeout=timeout,
            request_timeout=request_timeout,
            run_timeout=run_timeout,
            max_response_bytes=max_response_bytes,
            max_retries=max_retries,
            backoff=backoff,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
        )
        self._transport = Transport(
            self.base_url,
            limits=limits,
            redact=self._redact,
            verify=ca_bundle or not insecure,
            on_retry=lambda: self._counters.add("retries"),
            clock=clock,
        )
        self._token = TokenCache(credentials, self._fetch_token, clock=clock)
        self._token_grant: TokenGrant | None = None  # the first that worked, kept
        self._pools_lock = threading.Lock()
        self._list_concurrency = max(1, list_concurrency)
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait for the calls in flight, then let go of pools and connections. Safe while
        other threads still start calls (a pool they create meanwhile is shut down too), and
        never raises: an error the caller is handling must stay the one reported."""
        while True:
            with self._pools_lock:
                pools = list(self._pools.values())
                self._pools.clear()
            if not pools:
                break
            for pool in pools:
                pool.shutdown(wait=True)
        self._transport.close()

    def counters(self) -> dict[str, int]:
        """Requests made so far: `requests` = `api_calls` + `token_requests` + `retries`."""
        return self._counters.snapshot()

    # --- HTTP verbs ------------------------------------------------------------------------

    def get(
        self, path: str, params: Params | None = None, *, allow: Collection[int] = ()
    ) -> Response:
        return self.request("GET", path, params=params, allow=allow)

    def post(self, path: str, body: Any = None, *, allow: Collection[int] = ()) -> Response:
        return self.request("POST", path, body=body, allow=allow)

    def put(self, path: str, body: Any = None, *, allow: Collection[int] = ()) -> Response:
        return self.request("PUT", path, body=body, allow=allow)

    def patch(self, path: str, body: Any = None, *, allow: Collection[int] = ()) -> Response:
        return self.request("PATCH", path, body=body, allow=allow)

    def delete(self, path: str, *, allow: Collection[int] = ()) -> Response:
        return self.request("DELETE", path, allow=allow)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        allow: Collection[int] = (),
    ) -> Response:
        """One API call; statuses in `allow` come back as a Response instead of an ApiError."""
        method = method.upper()
        token = self._token.current()
        answer = self._send(method, path, token, params=params, body=body)
        if answer.status == 401 and self._credentials.can_refresh:
            # The token may have been revoked or the clock skewed: re-authenticate once.
            self._counters.add("reauths")
            self._token.invalidate(token)
            answer = self._send(method, path, self._token.current(), params=params, body=body)
        return self._finish(method, path, answer, allow)

    def _send(
        self, method: str, path: str, token: str, *, params: Params | None, body: Any
    ) -> Answer:
        self._counters.add("api_calls")
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        answer = self._transport.exchange(method, path, params=params, json=body, headers=headers)
        elapsed = (time.monotonic() - started) * 1000
        _LOG.debug("%s %s -> %s (%.0f ms)", method, path, answer.status, elapsed)
        return answer

    def _finish(self, method: str, path: str, answer: Answer, allow: Collection[int]) -> Response:
        body = _json_body(answer)
        if answer.ok or answer.status in allow:
            return Response(answer.status, body, answer.headers)
        raise self._http_error(method, path, answer, body)

    def _http_error(self, method: str, path: str, answer: Answer, body: Any) -> ApiError:
        message, details = _error_text(body, answer.reason)
        status = answer.status
        hint = ""
        if status == 401:
            hint = (
                "the server refused a freshly issued token; check the client's permissions"
                if self._credentials.can_refresh
                else "RUNAI_TOKEN was refused; it may have expired"
            )
        return (AuthError if status == 401 else ApiError)(
            self._transport.shown(message),
            status=status,
            method=method,
            path=path,
            details=self._transport.shown(details),
            hint=hint,
            retry_after=_retry_after(answer.headers.get("Retry-After")),
        )

    # --- tokens ----------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        """A fresh token from the first grant in TOKEN_GRANTS the server takes; later fetches
        go straight to that one."""
        grants = (self._token_grant,) if self._token_grant else TOKEN_GRANTS
        first_error: ApiError | None = None
        absent: set[int] = set()  # token endpoints answered 404/405: no other grant there
        for grant in grants:
            if grant.version in absent:
                continue
            answer = self._token_request(grant)
            body = _json_body(answer)
            path = TOKEN_PATHS[grant.version]
            if answer.ok:
                self._token_grant = grant
                token, lifetime = _token_from(body, method="POST", path=path)
                self._redact.add(token)  # known before any request carries it
                return token, lifetime
            message, details = _error_text(body, answer.reason)
            status = answer.status
            error = (ApiError if status >= 500 or status == 429 else AuthError)(
                f"token request failed: {self._transport.shown(message)}",
                status=answer.status,
                method="POST",
                path=path,
                details=self._transport.shown(details),
                hint="check RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET",
            )
            if status in (404, 405):
                absent.add(grant.version)
            if grant is not grants[-1] and status in (400, 404, 405):
                # This grant or endpoint is refused or absent: try the next; the first
                # refusal says most when none works.
                first_error = first_error or error
                continue
            if first_error is not None and status in (400, 404, 405):
                raise first_error
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_request(self, grant: TokenGrant) -> Answer:
        self._counters.add("token_requests")
        path = TOKEN_PATHS[grant.version]
        creds = self._credentials
        secrets = {grant.id_key: creds.client_id, grant.secret_key: creds.client_secret}
        if grant.version == 1:  # JSON
            return self._transport.exchange("POST", path, json={"grantType": grant.name, **secrets})
        return self._transport.exchange("POST", path, data={"grant_type": grant.name, **secrets})

    # --- listing ---------------------------------------------------------------------------

    def list_all(
        self,
        path: str,
        *,
        items_key: str | None,
        params: Params | None = None,
        page_size: int | None = 500,
        count_path: str | None = None,
    ) -> list[Any]:
        """Every item of a list endpoint, in server order.

        Handles `{entries, pagination}`, `{<items_key>, next}`, `{<items_key>}` and bare
        arrays. `page_size=None` sends no offset/limit (for endpoints without them). Pages
        after the first are fetched concurrently: all at once when `count_path` (e.g.
        `/api/v1/workload-templates/count`) gives the total, else in growing windows.
        """
        base = {k: v for k, v in (params or {}).items() if k not in ("offset", "limit")}
        if page_size is None:
            return _Page.parse(self.get(path, base).body, items_key, path, None).items
        counted: Future[int | None] | None = None
        if count_path is not None:  # asked beside the first page: no extra round trip
            counted = self._pool("pages").submit(self._count, count_path, base)
        first = self._page(path, base, items_key, 0, size=page_size)
        total = counted.result() if counted is not None else None
        items, offset, more = list(first.items), len(first.items), first.more
        # With a count, every remaining page at once; without, windows of 1, 2, 4... pages.
        window = 1 if total is None else max(1, -(-(total - offset) // page_size))
        while more:
            offsets = [offset + i * page_size for i in range(window)]
            fetch = functools.partial(self._page, path, base, items_key, size=page_size)
            for page in self._pool("pages").map(fetch, offsets):
                items.extend(page.items)
                # The pages decide, not the count: a list that grew meanwhile is read to its end.
                more = page.more
                if not more:
                    break
            offset += window * page_size
            # Growing guesses waste at most a window of empty pages past the end.
            window = min(window * 2, _MAX_GUESSED_PAGES)
        return items

    def _page(self, path: str, base: Params, key: str | None, offset: int, *, size: int) -> _Page:
        body = self.get(path, {**base, "offset": offset, "limit": size}).body
        return _Page.parse(body, key, path, size)

    def _count(self, path: str, base: Params) -> int | None:
        """The list's total from its count endpoint; None (guess pages) if it has none."""
        params = {k: v for k, v in base.items() if k in ("filterBy", "search", "deleted")}
        body = self.get(path, params, allow=(404, 405)).body
        count = body.get("count") if isinstance(body, dict) else None
        if isinstance(count, int) and not isinstance(count, bool):
            return count
        _LOG.debug("GET %s gave no count; pages will be guessed", path)
        return None

    @contextmanager
    def retries_off(self) -> Iterator[None]:
        """Inside, a failed call fails at once: no retry, no backoff. For speculative reads
        whose failure the caller meets again, retried, when it reads for real. Not for use
        while other calls of this client are in flight."""
        self._transport.retrying.on = False
        try:
            yield
        finally:
            self._transport.retrying.on = True

    def concurrently(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Run independent calls (e.g. several list_all) at once; results in call order.

        The token is fetched first: a fetch that fails then fails once, before the fan-out,
        instead of once per call that started after it had failed."""
        if calls:
            self._token.current()
        futures = [self._pool("gather").submit(call) for call in calls]
        return [future.result() for future in futures]

    def _pool(self, name: str) -> ThreadPoolExecutor:
        # Separate pools: a gathered list_all waiting on its pages never starves them.
        with self._pools_lock:
            pool = self._pools.get(name)
            if pool is None:
                pool = ThreadPoolExecutor(self._list_concurrency, thread_name_prefix=name)
                self._pools[name] = pool
            return pool


@dataclass(frozen=True)
class _Page:
    items: list[Any]
    more: bool

    @classmethod
    def parse(cls, body: Any, key: str | None, path: str, size: int | None) -> _Page:
        if isinstance(body, list):
            return cls(body, False)
        items = body.get(key) if isinstance(body, dict) and key else None
        if not isinstance(items, list):
            raise ApiError(f"unexpected list response: no {key!r} array", method="GET", path=path)
        if size is None or len(items) < size:
            return cls(items, False)
        if "pagination" in body:
            return cls(items, (body["pagination"] or {}).get("nextOffset") is not None)
        if "totalRecords" in body:
            # `{accessRules, totalRecords}` says no offset: a full page may have a next one.
            return cls(items, True)
        # `{projects, next}`: `next` is present only while there is more.
        return cls(items, body.get("next") is not None)


def _json_body(answer: Answer) -> Any:
    if not answer.content:
        return None
    try:
        return json.loads(answer.content)
    except ValueError:
        return None  # an HTML error page from a proxy, say: the status and reason tell enough


def _error_text(body: Any, reason: str | None) -> tuple[str, str]:
    """(message, details) from a Run:ai `Error` body or an RFC 6749 token error body."""
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
        details = body.get("details") or ""
        if message:
            return str(message), str(details)
    return (reason or "HTTP error"), ""


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds (HTTP dates are rare; ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _token_from(body: Any, *, method: str, path: str) -> tuple[str, float]:
    """(token, lifetime) from a v1 `{accessToken, expiresIn}` or v2 `{access_token, ...}`."""
    data = body if isinstance(body, dict) else {}
    token = data.get("accessToken") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError("the token response has no access token", method=method, path=path)
    lifetime = data.get("expiresIn", data.get("expires_in"))
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)):
        lifetime = 0
    return token, float(lifetime)
