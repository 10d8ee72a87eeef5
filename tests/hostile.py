"""Small servers on loopback for client tests: WSGI apps served by werkzeug (the emulator's own
HTTP server), and raw sockets for what WSGI cannot do (drop a connection mid-request).

Every server serves only while its context is open and stops itself when it closes; apps that
send a lot or slowly are bounded (a byte count, a number of bytes trickled).
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Any]
TOKEN_PATH = "/api/v1/token"
MiB = 1024 * 1024


@contextmanager
def serve(app: WSGI) -> Iterator[str]:
    """Serve a WSGI app on an ephemeral loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def json_answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


class Recorder:
    """A WSGI app that logs every request (method, path, headers, body) and answers with
    `answer(request)`; tokens it issues are numbered so a test knows each one."""

    def __init__(
        self, answer: Callable[[Request], Response] | None = None, *, issue_tokens: bool = True
    ) -> None:
        self.issue_tokens = issue_tokens  # False: `answer` answers the token calls too
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.tokens: list[str] = []
        self._answer = answer or (lambda request: json_answer([]))
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.requests.append((request.method, request.path, dict(request.headers), body))
        if request.method == "POST" and request.path == TOKEN_PATH and self.issue_tokens:
            token = f"hostile-token-{next(self._numbers):04d}-{'x' * 24}"
            with self._lock:
                self.tokens.append(token)
            answer = json_answer({"accessToken": token, "expiresIn": 3600})
        else:
            answer = self._answer(request)
        return answer(environ, start_response)


def endless(total: int, chunk: int = MiB) -> Iterable[bytes]:
    """`total` bytes of a JSON-looking array, `chunk` at a time, sent without a length."""
    yield b"["
    block = b" " * chunk
    for _ in range(total // chunk):
        yield block


def trickle(count: int, every: float) -> Iterable[bytes]:
    """`count` bytes, one every `every` seconds (bounded: at most count * every seconds)."""
    for _ in range(count):
        time.sleep(every)
        yield b" "


def streamed(chunks: Iterable[bytes], status: int = 200) -> Response:
    """An answer whose body is sent as it is produced, with no Content-Length."""
    return Response(chunks, status, mimetype="application/json", direct_passthrough=True)


@contextmanager
def dropping_server(limit: int = 16) -> Iterator[str]:
    """A raw socket server that reads a whole request (headers and the announced body) and
    closes the connection without answering: the server may have received a write. Serves
    at most `limit` connections."""
    with raw_server(_read_request, limit=limit) as url:
        yield url


def trickling_headers(count: int, every: float) -> Callable[[socket.socket], None]:
    """A raw handler that answers a status line, then one header byte every `every` seconds
    (at most `count`): no single wait is long, the whole is."""

    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(count):
            time.sleep(every)
            conn.sendall(b"a")

    return handle


def raw_answer(head: bytes) -> Callable[[socket.socket], None]:
    """A raw handler that answers every request with `head` (status line and headers, as
    sent, however odd) and an empty body."""

    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(head + b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    return handle


@contextmanager
def raw_server(handle: Callable[[socket.socket], None], *, limit: int = 16) -> Iterator[str]:
    """A loopback socket server running `handle` on each connection (at most `limit` of
    them); a handler's socket errors (the client went away) end that connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        served = 0
        while not stop.is_set() and served < limit:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            served += 1
            with conn, suppress(OSError):
                conn.settimeout(5)
                handle(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
