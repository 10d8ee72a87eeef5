"""The emulator keeps HTTP/1.1 connections alive: several requests, answers with bodies the
app read or never read, errors among them, all over one socket; and it closes when asked."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import closing, contextmanager

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import TEMPLATES, TIMEOUT


@contextmanager
def _connection(emulator: EmbeddedEmulator) -> Iterator[socket.socket]:
    port = int(emulator.url.rsplit(":", 1)[1])
    with closing(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)) as sock:
        yield sock


def _exchange(
    sock: socket.socket, method: str, path: str, *, token: str = "", body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request written to `sock` and its answer read whole from it."""
    lines = [f"{method} {path} HTTP/1.1", "Host: emulator"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    content = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, content


def test_many_requests_share_one_connection(
    emulator: EmbeddedEmulator, emulator_token: str
) -> None:
    with _connection(emulator) as sock:
        for _ in range(20):
            status, headers, content = _exchange(
                sock, "GET", f"{TEMPLATES}/count", token=emulator_token
            )
            assert status == 200 and json.loads(content) == {"count": 0}
            assert headers["content-length"] == str(len(content))
            assert headers.get("connection") != "close"


def test_error_answers_leave_the_connection_ready_for_the_next_request(
    emulator: EmbeddedEmulator, emulator_token: str
) -> None:
    """A body the app refused unread (no token, an unknown route, malformed JSON) must not be
    read as the next request line."""
    body = b'{"name": "x", "meta": {"pad": "' + b"a" * 5000 + b'"}}'
    with _connection(emulator) as sock:
        refused = _exchange(sock, "POST", f"{TEMPLATES}/workspaces", body=body)
        assert refused[0] == 401
        unknown = _exchange(sock, "POST", "/api/v1/no-such-thing", token=emulator_token, body=body)
        assert unknown[0] == 404
        malformed = _exchange(
            sock, "POST", f"{TEMPLATES}/workspaces", token=emulator_token, body=b"{nope"
        )
        assert malformed[0] == 400 and b"malformed JSON" in malformed[2]
        status, _, content = _exchange(sock, "GET", f"{TEMPLATES}/count", token=emulator_token)
        assert status == 200 and json.loads(content) == {"count": 0}


def test_a_client_asking_to_close_is_answered_then_closed(emulator: EmbeddedEmulator) -> None:
    port = int(emulator.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", f"{TEMPLATES}/count", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        assert response.status == 401
        assert response.getheader("Connection") == "close" and response.will_close
    finally:
        connection.close()


def test_stopping_the_emulator_ends_its_kept_connections() -> None:
    emulator = EmbeddedEmulator().start()
    with _connection(emulator) as sock:
        assert _exchange(sock, "GET", f"{TEMPLATES}/count")[0] == 401
        emulator.stop()
        assert sock.recv(1) == b""  # the server's end of the kept connection is closed
