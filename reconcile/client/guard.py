"""Holds a call's deadline while urllib3 waits for the status line and headers.

A socket timeout bounds each single wait, not their sum: a server trickling its headers a byte
at a time would keep a call waiting indefinitely. Connections made here are cut (their socket
shut down) when the deadline of the call waiting on them passes; one watchdog thread serves
every connection. A cut connection fails as a timeout (urllib3 then gives up: the deadline
has passed), never as the answer its truncated headers might parse as.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool

from reconcile.wire import Deadline

# The deadline of the call this thread is making (set around it by the transport).
CALL = threading.local()


def current_deadline() -> Deadline | None:
    deadline: Deadline | None = getattr(CALL, "deadline", None)
    return deadline


class _Watchdog:
    """Runs each registered `cut` once its time (on the monotonic clock) has come, unless it
    was released first."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: dict[int, tuple[float, Callable[[], None]]] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None
        self._sleeping_until: float | None = None  # while the thread waits for a deadline

    def watch(self, seconds: float, cut: Callable[[], None]) -> int:
        with self._wake:
            key = next(self._keys)
            at = time.monotonic() + seconds
            self._due[key] = (at, cut)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            # Calls in flight mostly share one request timeout, so a new deadline is seldom
            # the soonest: waking the thread for it would cost every call a thread switch.
            if self._sleeping_until is None or at < self._sleeping_until:
                self._wake.notify()
            return key

    def release(self, key: int) -> None:
        with self._wake:
            self._due.pop(key, None)

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                late = [key for key, (at, _) in self._due.items() if at <= now]
                cuts = [self._due.pop(key)[1] for key in late]
                if not cuts:
                    soonest = min((at for at, _ in self._due.values()), default=None)
                    self._sleeping_until = float("inf") if soonest is None else soonest
                    self._wake.wait(None if soonest is None else soonest - now)
                    self._sleeping_until = None
                    continue
            for cut in cuts:
                cut()


_WATCHDOG = _Watchdog()


def _guarded(connection: HTTPConnection, getresponse: Callable[[], Any]) -> Any:
    deadline = current_deadline()
    left = deadline.remaining() if deadline is not None else None
    if left is None:
        return getresponse()

    was_cut = threading.Event()

    def cut() -> None:
        was_cut.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to cut
                sock.shutdown(socket.SHUT_RDWR)

    key = _WATCHDOG.watch(left, cut)
    try:
        answer = getresponse()
    except Exception:
        if was_cut.is_set():
            raise TimeoutError("the call's deadline passed while waiting for headers") from None
        raise
    finally:
        _WATCHDOG.release(key)
    if was_cut.is_set():
        # Headers cut short end at the cut and may parse as a whole answer: they are not one.
        raise TimeoutError("the call's deadline passed while waiting for headers")
    return answer


class _HTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        return _guarded(self, super().getresponse)


class _HTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        return _guarded(self, super().getresponse)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections are cut at their call's deadline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple[Any, ...], ConnectionPool] = {}

    def get_connection_with_tls_context(
        self,
        request: PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> ConnectionPool:
        # A transport's calls all go to one origin with the same TLS settings and proxies,
        # and the pool depends on nothing else: the one requests finds for the first call
        # (parsing the URL, selecting the proxy, building the pool's key) serves the rest.
        scheme, _, netloc = (request.url or "").split("/", 3)[:3]
        key = (scheme, netloc, verify, cert, tuple(sorted((proxies or {}).items())))
        pool = self._pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(
                request, verify, proxies=proxies, cert=cert
            )
            self._pools[key] = pool
        return pool

    def close(self) -> None:
        self._pools.clear()
        super().close()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
