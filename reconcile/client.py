"""HTTP to the Run:ai API: credentials, token refresh, timeouts, retries, pagination, errors.

The only module that imports requests and urllib3. It knows endpoints only as paths its callers
pass, never prints, and never lets a token or secret into a message, log line, repr or error.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import takewhile
from typing import Any, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from reconcile import __version__
from reconcile.credentials import Clock, Credentials, TokenCache, jwt_expiry
from reconcile.errors import ApiError, AuthError

__all__ = [
    "Client",
    "Credentials",
    "Response",
    "is_transient",
    "jwt_expiry",
]

_LOG = logging.getLogger("reconcile.client")
T = TypeVar("T")
Params = Mapping[str, Any]

# 500 too: a passing backend fault often surfaces as a 500, and only
# idempotent calls and token requests are retried here (a POST never; see `is_transient`).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which a caller may retry a POST once it has checked by name that nothing
# landed (0 = no answer at all: the server may or may not have committed).
TRANSIENT_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_TOKEN_PATHS = {1: "/api/v1/token", 2: "/api/v2/token"}
_REDACTED = "(redacted)"
_MAX_GUESSED_PAGES = 8


def is_transient(error: ApiError) -> bool:
    """True when `error` may go away on retry (throttling, a 5xx, or no answer)."""
    return error.status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class Response:
    """A 2xx (or explicitly allowed) answer: status, parsed JSON body (or None), headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


class _Switch:
    """Whether failed calls are retried; one per client, shared by every copy of its Retry."""

    def __init__(self) -> None:
        self.on = True


class _Retry(Retry):
    """urllib3's Retry with jitter from the first retry on, a hook counting retries, and a
    switch that turns retrying off for a while (`Client.retries_off`)."""

    on_retry: Callable[[], None] | None = None
    switch: _Switch | None = None
    pause: Callable[[float], None] = staticmethod(time.sleep)  # the client's Clock.sleep

    def new(self, **kw: Any) -> _Retry:
        copy = super().new(**kw)
        copy.on_retry, copy.switch, copy.pause = self.on_retry, self.switch, self.pause
        return copy

    # urllib3 sleeps with time.sleep itself; these two pause through the client's clock.
    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self.pause(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.pause(backoff)

    def is_exhausted(self) -> bool:
        return (self.switch is not None and not self.switch.on) or super().is_exhausted()

    def increment(self, *args: Any, **kwargs: Any) -> _Retry:
        result = super().increment(*args, **kwargs)
        if self.on_retry is not None:
            self.on_retry()
        return result

    def get_backoff_time(self) -> float:
        # urllib3 retries the first failure at once; a throttled API deserves a pause.
        errors = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if errors == 0:
            return 0.0
        value = self.backoff_factor * 2 ** (errors - 1) + random.random() * self.backoff_jitter
        return float(min(self.backoff_max, value))


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

    Reads and idempotent writes are retried by urllib3 on 429/502/503/504 and connection
    errors, with exponential backoff, jitter and `Retry-After`; a POST is never retried here
    (see `is_transient`). Non-2xx answers raise `ApiError`, a refused token `AuthError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials,
        ca_bundle: str | None = None,
        insecure: bool = False,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 4,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        retry_after_max: int = 30,
        list_concurrency: int = 20,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a Session's.
        self._verify: bool | str = ca_bundle or not insecure
        if insecure:
            # The CLI warns once; urllib3 would warn on every single request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._timeout = timeout
        self._counters = _Counters()
        self._retry = _Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,  # TLS and protocol failures do not heal by themselves
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            backoff_jitter=backoff,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            raise_on_status=False,  # the last answer becomes an ApiError with its body
        )
        self._retry.on_retry = lambda: self._counters.add("retries")
        self._retry.switch = self._retrying = _Switch()
        clock = clock or Clock()
        self._retry.pause = clock.sleep
        self._token = TokenCache(credentials, self._fetch_token, clock=clock)
        self._token_version: int | None = None
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._list_concurrency = max(1, list_concurrency)
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

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
        if answer.status_code == 401 and self._credentials.can_refresh:
            # The token may have been revoked or the clock skewed: re-authenticate once.
            self._counters.add("reauths")
            self._token.invalidate(token)
            answer = self._send(method, path, self._token.current(), params=params, body=body)
        return self._finish(method, path, answer, allow)

    def _send(
        self, method: str, path: str, token: str, *, params: Params | None, body: Any
    ) -> requests.Response:
        self._counters.add("api_calls")
        started = time.monotonic()
        try:
            answer = self._session().request(
                method,
                self.base_url + path,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
                verify=self._verify,
            )
        except requests.RequestException as error:
            raise self._transport_error(method, path, error) from None
        elapsed = (time.monotonic() - started) * 1000
        _LOG.debug("%s %s -> %s (%.0f ms)", method, path, answer.status_code, elapsed)
        return answer

    def _finish(
        self, method: str, path: str, answer: requests.Response, allow: Collection[int]
    ) -> Response:
        body = _json_body(answer)
        if answer.ok or answer.status_code in allow:
            return Response(answer.status_code, body, answer.headers)
        raise self._http_error(method, path, answer, body)

    def _http_error(self, method: str, path: str, answer: requests.Response, body: Any) -> ApiError:
        message, details = _error_text(body, answer.reason)
        status = answer.status_code
        hint = ""
        if status == 401:
            hint = (
                "the server refused a freshly issued token; check the client's permissions"
                if self._credentials.can_refresh
                else "RUNAI_TOKEN was refused; it may have expired"
            )
        return (AuthError if status == 401 else ApiError)(
            self._redact(message),
            status=status,
            method=method,
            path=path,
            details=self._redact(details),
            hint=hint,
            retry_after=_retry_after(answer.headers.get("Retry-After")),
        )

    def _transport_error(self, method: str, path: str, error: Exception) -> ApiError:
        hint = ""
        if isinstance(error, requests.exceptions.SSLError):
            hint = "pass --ca-bundle with the server's CA, or --insecure to skip verification"
        elif method not in _IDEMPOTENT:
            hint = "the request may have reached the server; check before repeating it"
        kind = type(error).__name__
        return ApiError(
            self._redact(f"no answer from {self.base_url} ({kind}: {error})"),
            method=method,
            path=path,
            hint=hint,
        )

    def _redact(self, text: str) -> str:
        secrets = (self._token.peek(), self._credentials.token, self._credentials.client_secret)
        # Stripped too: an exception may quote a value with escapes (`'Bearer abc\\n'`).
        for secret in sorted({v for s in secrets for v in (s, s.strip()) if v}, key=len)[::-1]:
            text = text.replace(secret, _REDACTED)
        return text

    # --- sessions --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        """This thread's Session (requests does not promise a Session is thread-safe)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"runai-reconcile/{__version__}"
            session.headers["Accept"] = "application/json"
            session.mount("http://", self._adapter(_IDEMPOTENT))
            session.mount("https://", self._adapter(_IDEMPOTENT))
            # The token endpoints have no side effects, so their POSTs may be retried.
            for token_path in _TOKEN_PATHS.values():
                session.mount(self.base_url + token_path, self._adapter(_IDEMPOTENT | {"POST"}))
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _adapter(self, methods: Collection[str]) -> HTTPAdapter:
        return HTTPAdapter(max_retries=self._retry.new(allowed_methods=frozenset(methods)))

    # --- tokens ----------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        """A fresh token from /api/v1/token, or /api/v2/token where v1 is refused."""
        versions = (self._token_version,) if self._token_version else (1, 2)
        first_error: ApiError | None = None
        for version in versions:
            answer = self._token_request(version)
            body = _json_body(answer)
            if answer.ok:
                self._token_version = version
                return _token_from(body, method="POST", path=_TOKEN_PATHS[version])
            message, details = _error_text(body, answer.reason)
            status = answer.status_code
            error = (ApiError if status >= 500 or status == 429 else AuthError)(
                f"token request failed: {self._redact(message)}",
                status=answer.status_code,
                method="POST",
                path=_TOKEN_PATHS[version],
                details=self._redact(details),
                hint="check RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET",
            )
            if version == 1 and status in (400, 404, 405) and len(versions) > 1:
                first_error = error  # v1 refused or absent: try the OAuth2 endpoint
                continue
            if first_error is not None and status in (404, 405):
                raise first_error  # no v2 either: v1's answer says more
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_request(self, version: int) -> requests.Response:
        self._counters.add("token_requests")
        path = _TOKEN_PATHS[version]
        creds = self._credentials
        try:
            if version == 1:
                payload = {
                    "grantType": "client_credentials",
                    "clientId": creds.client_id,
                    "clientSecret": creds.client_secret,
                }
                return self._session().post(
                    self.base_url + path, json=payload, timeout=self._timeout, verify=self._verify
                )
            form = {
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            }
            return self._session().post(
                self.base_url + path, data=form, timeout=self._timeout, verify=self._verify
            )
        except requests.RequestException as error:
            raise self._transport_error("POST", path, error) from None

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
        self._retrying.on = False
        try:
            yield
        finally:
            self._retrying.on = True

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
        with self._sessions_lock:
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
        # `{projects, next}`: `next` is present only while there is more.
        return cls(items, body.get("next") is not None)


def _json_body(answer: requests.Response) -> Any:
    if not answer.content:
        return None
    try:
        return answer.json()
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
