"""HTTP/1.1 persistent connections for the emulator's werkzeug server.

werkzeug's development server closes every connection after its answer (it reads whatever
follows an answer to discard an unread request body, which would swallow the next request
of a kept-alive connection). An HTTP/1.1 server keeps connections alive by default, and a
client pays a connect and a close per call otherwise. This handler reads each request's body whole
before the app runs, so the connection always sits at the next request line, answers with
an exact `Content-Length`, and keeps the connection unless the client asked to close it
(HTTP/1.0, `Connection: close`) or the request could not be read. The server remembers its
open connections so that stopping it ends them too: a kept connection must not reach a
stopped emulator's closed store.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler

# The largest request body read: the API's largest bodies are a few KiB.
MAX_BODY_BYTES = 16 * 1024 * 1024
# An idle kept connection is closed after this many seconds (its thread ends with it).
IDLE_TIMEOUT_S = 60.0
_NO_BODY = frozenset({HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED})


class _Unreadable(Exception):
    """A request body that cannot be read whole: answered, then the connection is closed."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's WSGI request handler, serving several requests per connection."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    # The headers and the body are two writes: with Nagle's algorithm the body would wait
    # for the client's delayed ACK of the headers (tens of ms) on a connection kept open.
    disable_nagle_algorithm = True

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        try:
            body = self._body(environ)
        except _Unreadable as refused:
            self.close_connection = True
            self._answer(f"{refused.status.value} {refused.status.phrase}", [], [b""])
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        self.environ = environ
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return self._unbuffered_write

        try:
            chunks = self.server.app(environ, start_response)
        except ConnectionError:
            raise  # the app dropped the connection on purpose: werkzeug's handle() ends it
        except Exception as error:
            self.close_connection = True
            self.server.log("error", f"Error on request {self.command} {self.path}: {error!r}")
            self._answer("500 Internal Server Error", [], [b""])
            return
        try:
            self._answer(started[0], started[1], chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # an idle kept connection ending
            super().log_error(format, *args)

    def _unbuffered_write(self, data: bytes) -> None:
        raise RuntimeError("the emulator's apps return their bodies; write() is not used")

    def _body(self, environ: dict[str, Any]) -> bytes:
        """The request's whole body (de-chunked), bounded by MAX_BODY_BYTES."""
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: DechunkedInput ends at its end
            assert isinstance(stream, DechunkedInput)
            body = stream.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                raise _Unreadable(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return body
        declared = environ.get("CONTENT_LENGTH", "") or "0"
        if not declared.isdigit():
            raise _Unreadable(HTTPStatus.BAD_REQUEST)
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise _Unreadable(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = self.rfile.read(length)
        if len(body) != length:  # the client went away mid-body
            raise ConnectionResetError("the request body ended early")
        return body

    def _answer(self, status: str, headers: list[tuple[str, str]], chunks: Iterable[bytes]) -> None:
        """The status line, the headers with an exact Content-Length, and the body."""
        data = b"".join(chunks)
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        if self.command == "HEAD":
            declared = next((v for k, v in headers if k.lower() == "content-length"), None)
            if declared is not None:
                self.send_header("Content-Length", declared)
            data = b""
        elif code not in _NO_BODY and code >= 200:
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data:
            self.wfile.write(data)
        self.wfile.flush()


class KeepAliveServer(ThreadedWSGIServer):
    """werkzeug's threaded server whose `close_connections` ends every open connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection: threads waiting on one for a request read its end."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def make_keepalive_server(host: str, port: int, app: Any, *, quiet: bool) -> KeepAliveServer:
    """A threaded server of `app` on `host:port` keeping connections alive; `quiet`: no
    access log line per request."""
    handler = _QuietKeepAliveHandler if quiet else KeepAliveHandler
    return KeepAliveServer(host, port, app, handler=handler)


class _QuietKeepAliveHandler(KeepAliveHandler):
    """No access log lines (tests and the embedded mode would drown in them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None
