"""One HTTP exchange with a server that is not trusted: redirects kept within its origin,
answers read up to a size cap and within deadlines, urllib3's retries (short for servers that
cannot be reached), and failures turned into `ApiError`s that say what happened.

With `reconcile.client` (which owns tokens, pagination and concurrency) the only code that
imports requests and urllib3; the rules it applies live in `reconcile.wire`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from reconcile import __version__
from reconcile.client.guard import CALL, GuardedAdapter, current_deadline
from reconcile.credentials import Clock
from reconcile.errors import (
    ApiError,
    DeadlineError,
    RedirectRefusedError,
    ResponseTooLargeError,
    UnreachableError,
)
from reconcile.printable import one_line
from reconcile.wire import Deadline, MiB, Now, Redactor, origin, trim, without_query

# 500 too: a passing backend fault often surfaces as a 500, and only idempotent calls and
# token requests are retried here (a POST never; see `reconcile.client.is_transient`).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TOKEN_PATHS = {1: "/api/v1/token", 2: "/api/v2/token"}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
# A refused connection is retried only this long (seconds from the first refusal), so that an
# address nobody listens on fails in under 3 s; a name that does not resolve is not retried.
REFUSED_RETRY_BUDGET = 2.0
# All answers being read at once hold at most this many times the response size cap.
_HELD_PER_CAP = 4

# Failures before a connection exists (nothing was sent), the more specific first: a name
# that does not resolve is a NewConnectionError too.
_UNREACHABLE = (
    (
        NameResolutionError,
        "cannot resolve the host name of {host}",
        "check the server URL (RUNAI_URL or `server:` in the settings)",
    ),
    (
        NewConnectionError,
        "cannot connect to {host} (connection refused)",
        "check that the server is up and the URL's port is right",
    ),
)


@dataclass(frozen=True)
class Limits:
    """What the client grants a server: socket timeouts (connect, read), one call's whole
    time and the run's (seconds; None = no limit), the largest answer, and retries. The
    defaults are `Client`'s."""

    timeout: tuple[float, float]
    request_timeout: float | None
    run_timeout: float | None
    max_response_bytes: int
    max_retries: int
    backoff: float
    backoff_max: float
    retry_after_max: int


@dataclass(frozen=True)
class Answer:
    """A server's answer read whole (within the size cap and the deadline)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes | bytearray

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _Switch:
    """Whether failed calls are retried; one per client, shared by every copy of its Retry."""

    def __init__(self) -> None:
        self.on = True


class _Retry(Retry):
    """urllib3's Retry with jitter from the first retry on, a hook counting retries, a switch
    that turns retrying off for a while (`Client.retries_off`), and short shrift for servers
    that cannot be reached: no retry for a name that does not resolve, and retries of a
    refused connection only within `REFUSED_RETRY_BUDGET`."""

    on_retry: Callable[[], None] | None = None
    switch: _Switch | None = None
    first_refusal: float | None = None
    planned: float | None = None  # the pause decided by the `increment` that made this copy
    clock: Now = staticmethod(time.monotonic)  # the client's Clock.monotonic
    pause: Callable[[float], None] = staticmethod(time.sleep)  # the client's Clock.sleep

    def new(self, **kw: Any) -> _Retry:
        copy = super().new(**kw)
        copy.on_retry, copy.switch = self.on_retry, self.switch
        copy.first_refusal, copy.clock, copy.pause = self.first_refusal, self.clock, self.pause
        return copy

    def is_exhausted(self) -> bool:
        if self.switch is not None and not self.switch.on:
            return True
        deadline = current_deadline()
        return (deadline is not None and deadline.passed()) or super().is_exhausted()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _Retry:
        if isinstance(error, NameResolutionError):
            raise MaxRetryError(_pool, url or "", error)  # it will not resolve a moment later
        result = super().increment(method, url, response, error, _pool, _stacktrace)
        if isinstance(error, NewConnectionError):  # refused: nobody listens (yet)
            now = self.clock()
            result.first_refusal = self.first_refusal if self.first_refusal is not None else now
            if now - result.first_refusal >= REFUSED_RETRY_BUDGET:
                raise MaxRetryError(_pool, url or "", error)
        result.planned = result.pause_before_retry(response)
        deadline = current_deadline()
        left = deadline.remaining() if deadline is not None else None
        if left is not None and result.planned >= left:
            # The retry would start past the call's deadline: the last answer or error stands.
            raise MaxRetryError(_pool, url or "", error)
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

    def pause_before_retry(self, response: Any) -> float:
        """`Retry-After`, else the backoff; never past the budget for refused connections."""
        retry_after = self.get_retry_after(response) if response is not None else None
        pause = retry_after or self.get_backoff_time()
        if self.first_refusal is not None:
            pause = min(pause, self.first_refusal + REFUSED_RETRY_BUDGET - self.clock())
        return max(0.0, pause)

    def sleep(self, response: Any = None) -> None:
        # The pause `increment` decided on (with its jitter) is the one checked against the
        # deadline, so it is the one slept.
        # urllib3 sleeps with time.sleep itself; this pauses through the client's clock.
        planned = self.planned if self.planned is not None else self.pause_before_retry(response)
        if planned > 0:
            self.pause(planned)


class _Held:
    """Bytes held by the answers being read right now, across threads: answers read at once
    (up to list_concurrency of them) must not hold many times the cap together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._total = 0

    def take(self, size: int) -> bool:
        """Count `size` more bytes held; False when all answers together are over the limit."""
        with self._lock:
            self._total += size
            return self._total <= self.limit

    def give(self, size: int) -> None:
        with self._lock:
            self._total -= size


class Transport:
    """Requests to one server's origin, one Session per thread (requests does not promise a
    Session is thread-safe). `exchange` sends a request and returns its whole answer."""

    def __init__(
        self,
        base_url: str,
        *,
        limits: Limits,
        redact: Redactor,
        verify: bool | str,
        on_retry: Callable[[], None],
        clock: Clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = origin(self.base_url)
        self._limits = limits
        self._redact = redact
        # The environment's proxies (HTTPS_PROXY, NO_PROXY) and CA bundle (REQUESTS_CA_BUNDLE),
        # as requests resolves them for this origin, once: requests would read all of the
        # environment again for every request (a tenth of an apply's CPU), and every request
        # goes to this one origin. Sessions then ignore the environment, and with it ~/.netrc,
        # whose Basic credentials requests would put in place of the bearer token.
        found = requests.Session().merge_environment_settings(self.base_url, {}, None, verify, None)
        self._proxies: dict[str, str] = dict(found["proxies"])
        self._verify: bool | str = found["verify"] if found["verify"] is not None else verify
        if verify is False:
            # The CLI warns once; urllib3 would warn on every single request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._held = _Held(_HELD_PER_CAP * limits.max_response_bytes)
        self._now = clock.monotonic
        self._run_deadline = Deadline.after(limits.run_timeout, clock=self._now)
        retries = limits.max_retries
        self._retry = _Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,  # TLS and protocol failures do not heal by themselves
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=limits.backoff,
            backoff_jitter=limits.backoff,
            backoff_max=limits.backoff_max,
            retry_after_max=limits.retry_after_max,
            raise_on_status=False,  # the last answer becomes an ApiError with its body
        )
        self._retry.on_retry = on_retry
        self._retry.switch = self.retrying = _Switch()
        self._retry.clock, self._retry.pause = clock.monotonic, clock.sleep
        # A Session's own headers (User-Agent, Accept-Encoding...), ours over requests'.
        self._headers = {
            **requests.utils.default_headers(),
            "User-Agent": f"runai-reconcile/{__version__}",
            "Accept": "application/json",
        }
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions)
            self._sessions.clear()
        for session in sessions:
            session.close()

    def shown(self, text: str) -> str:
        """A server's text as it may be shown: secrets redacted first (a cut must not leave
        half a token behind), on one line (a terminal control sequence or a line break from a
        hostile server cannot move the cursor or forge a line), then trimmed."""
        return trim(one_line(self._redact(text)))

    def exchange(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **send: Any
    ) -> Answer:
        """Send one request and read its whole answer, following redirects only within the
        server's origin: a redirect elsewhere would carry the token or the client secret
        to a host nobody configured."""
        deadline = self._deadline(method, path)
        url = self.base_url + path
        for _ in range(_MAX_REDIRECTS + 1):
            answer = self._start(method, path, url, deadline, params=params, **send)
            try:
                if not answer.is_redirect:
                    return self._read(method, path, answer, deadline)
                target = urljoin(answer.url, answer.headers["Location"])
            finally:
                answer.close()
            if origin(target) != self._origin:
                raise RedirectRefusedError(
                    f"redirect from {self._origin} to another origin, {origin(target)}, "
                    "not followed",
                    status=answer.status_code,
                    method=method,
                    path=path,
                    hint="point the server URL at the API's own address",
                )
            if answer.status_code not in (307, 308) and method != "GET":
                # 301/302/303 would turn the call into a GET: not what was asked for.
                return Answer(answer.status_code, answer.reason or "redirect", {}, b"")
            url, params = target, None  # the target carries the query
        raise ApiError(f"more than {_MAX_REDIRECTS} redirects", method=method, path=path)

    def _deadline(self, method: str, path: str) -> Deadline:
        if self._run_deadline.passed():
            raise DeadlineError(
                f"the run's time limit of {self._limits.run_timeout:g} s was reached; "
                "nothing was sent",
                whole_run=True,
                method=method,
                path=path,
                hint="raise run_timeout_seconds in the settings, or --run-timeout",
            )
        return Deadline.after(self._limits.request_timeout, clock=self._now).earliest(
            self._run_deadline
        )

    def _prepare(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> requests.PreparedRequest:
        """The request as requests' Session would prepare it with `trust_env` off, an empty
        cookie jar and no redirects to follow, made straight from its parts: the Session's
        merging of settings per call (a third of a call's CPU) has nothing to merge here.
        Cookies are neither kept nor sent: the API authenticates with the bearer token."""
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        if params:
            prepared.prepare_url(url, params)
        else:  # most calls: a path of a few, sent again and again
            prepared.url = _prepared_url(url)
        prepared.prepare_headers({**self._headers, **(headers or {})})
        prepared.prepare_body(data, None, json)
        prepared.prepare_auth(None, url)  # credentials in the URL, as a Session sends them
        return prepared

    def _start(
        self, method: str, path: str, url: str, deadline: Deadline, **send: Any
    ) -> requests.Response:
        """Send, and read the status and headers; the body is left for `_read`."""
        connect, read = self._limits.timeout
        left = deadline.remaining()
        if left is not None:  # no single wait may outlast the deadline
            connect, read = min(connect, max(left, 0.001)), min(read, max(left, 0.001))
        CALL.deadline = deadline  # for urllib3 in this thread: retries and header waits
        try:
            prepared = self._prepare(method, url, **send)
            return (
                self._session()
                .get_adapter(url)
                .send(
                    prepared,
                    stream=True,
                    timeout=(connect, read),
                    verify=self._verify,
                    cert=None,
                    proxies=self._proxies,
                )
            )
        except requests.RequestException as error:
            raise self._transport_error(method, path, error, deadline) from None
        finally:
            CALL.deadline = None

    def _read(
        self, method: str, path: str, answer: requests.Response, deadline: Deadline
    ) -> Answer:
        """The whole body, read as it arrives: stopped at the size cap and at the deadline
        (a server trickling a byte a second never times out a single read)."""
        limit = self._limits.max_response_bytes
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(method, path, answer, limit)
        content = bytearray()  # json.loads reads it as it is: no copy of a big answer
        try:
            while chunk := answer.raw.read1(_CHUNK, decode_content=True):
                content += chunk
                within = self._held.take(len(chunk))  # given back whole in `finally`
                if len(content) > limit:
                    raise self._too_large(method, path, answer, limit)
                if not within:
                    raise self._too_large(method, path, answer, self._held.limit, together=True)
                # An answer already whole (its announced length read) is not late.
                if deadline.passed() and answer.raw.length_remaining != 0:
                    raise self._too_slow(method, path, deadline)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise self._transport_error(method, path, error, deadline) from None
        finally:
            self._held.give(len(content))
        return Answer(answer.status_code, answer.reason or "", answer.headers, content)

    def _too_large(
        self,
        method: str,
        path: str,
        answer: requests.Response,
        limit: int,
        *,
        together: bool = False,
    ) -> ApiError:
        size = f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit} bytes"
        what = (
            f"the answers being read at once hold more than {size} (while reading "
            f"{without_query(answer.url)})"
            if together
            else f"the answer from {without_query(answer.url)} is larger than {size}; not read"
        )
        return ResponseTooLargeError(
            what,
            method=method,
            path=path,
            hint="raise max_response_mib in the settings if the answer is expected",
        )

    def _too_slow(self, method: str, path: str, deadline: Deadline) -> DeadlineError:
        whole_run = deadline is self._run_deadline
        limit = self._limits.run_timeout if whole_run else self._limits.request_timeout
        what = "the run's time limit" if whole_run else "the time limit for one request"
        setting = (
            "run_timeout_seconds (or --run-timeout)" if whole_run else "request_timeout_seconds"
        )
        hint = f"raise {setting} in the settings"
        if _may_have_landed(method, path):
            hint = f"{_MAY_HAVE_LANDED}; {hint}"
        return DeadlineError(
            f"{what} of {limit or 0:g} s was reached before the whole answer arrived",
            whole_run=whole_run,
            method=method,
            path=path,
            hint=hint,
        )

    def _transport_error(
        self, method: str, path: str, error: Exception, deadline: Deadline
    ) -> ApiError:
        cause = _cause(error)
        host = urlsplit(self.base_url).netloc
        for failure, what, advice in _UNREACHABLE:
            if isinstance(cause, failure):
                return UnreachableError(
                    f"{what.format(host=host)}; nothing was sent",
                    method=method,
                    path=path,
                    hint=advice,
                )
        if deadline.passed():
            return self._too_slow(method, path, deadline)
        hint = ""
        if isinstance(error, requests.exceptions.SSLError):
            hint = "pass --ca-bundle with the server's CA, or --insecure to skip verification"
        elif isinstance(error, requests.exceptions.ConnectTimeout):
            hint = "nothing was sent: the connection was never made"
        elif _may_have_landed(method, path):
            hint = _MAY_HAVE_LANDED
        kind = type(error).__name__
        return ApiError(
            self.shown(f"no answer from {self.base_url} ({kind}: {error})"),
            method=method,
            path=path,
            hint=hint,
        )

    # --- sessions --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        """This thread's Session (requests does not promise a Session is thread-safe): its
        adapters, mounted by path, and their connection pools."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()  # its adapters: calls are sent through them
            session.mount("http://", self._adapter(_IDEMPOTENT))
            session.mount("https://", self._adapter(_IDEMPOTENT))
            # The token endpoints have no side effects, so their POSTs may be retried.
            for token_path in TOKEN_PATHS.values():
                session.mount(self.base_url + token_path, self._adapter(_IDEMPOTENT | {"POST"}))
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _adapter(self, methods: Collection[str]) -> GuardedAdapter:
        return GuardedAdapter(max_retries=self._retry.new(allowed_methods=frozenset(methods)))


_MAY_HAVE_LANDED = "the request may have reached the server; check before repeating it"


@lru_cache(maxsize=1024)
def _prepared_url(url: str) -> str:
    """`url` as requests prepares it (checked, IDNA-encoded, requoted): the same each time."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return str(prepared.url)


def _may_have_landed(method: str, path: str) -> bool:
    """True for a write that was sent: without an answer, the server may have done it. A token
    request changes nothing, so it never counts."""
    return method in _WRITES and path not in TOKEN_PATHS.values()


def _cause(error: Exception) -> Exception:
    """The urllib3 failure under a requests exception (what failed: resolving, connecting...)."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        return reason.reason
    return reason if isinstance(reason, Exception) else error
