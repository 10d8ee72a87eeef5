"""The client keeps its connections: calls from many threads at once reuse a connection per
thread, counted by a TCP relay on loopback between the client and the emulator, and an error
answer does not cost the connection it came on. And what each call carries."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.wrappers import Request, Response

from reconcile import __version__
from reconcile.client import Client, Credentials
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.errors import ApiError
from tests.emulator.helpers import TEMPLATES, TEST_CLIENT_ID, TEST_CLIENT_SECRET
from tests.hostile import Recorder, json_answer, serve

THREADS = 8
CALLS = 12  # per thread


class CountingRelay:
    """Accepts connections on loopback and pipes each to `target`, counting them."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self._listener.accept()
            except OSError:
                return  # closed
            outbound = socket.create_connection(self.target, timeout=10)
            with self._lock:
                self.accepted += 1
                self._sockets += [inbound, outbound]
            for source, sink in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()


@pytest.fixture
def relay(emulator: EmbeddedEmulator) -> Iterator[CountingRelay]:
    port = int(emulator.url.rsplit(":", 1)[1])
    relay = CountingRelay(("127.0.0.1", port))
    try:
        yield relay
    finally:
        relay.close()


def _client(url: str) -> Client:
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    return Client(url, credentials=credentials)


def test_calls_from_many_threads_keep_a_connection_each(relay: CountingRelay) -> None:
    with _client(relay.url) as client, ThreadPoolExecutor(THREADS) as pool:
        client.get(f"{TEMPLATES}/count")  # the token, and a first connection
        bodies = list(
            pool.map(lambda _: client.get(f"{TEMPLATES}/count").body, range(THREADS * CALLS))
        )
    assert bodies == [{"count": 0}] * (THREADS * CALLS)
    # One connection for the token, one per thread that called (this one's included),
    # against one per call if connections were not kept.
    assert relay.accepted <= 1 + 1 + THREADS


def test_an_error_answer_keeps_the_connection_for_the_next_call(relay: CountingRelay) -> None:
    with _client(relay.url) as client:
        client.get(f"{TEMPLATES}/count")
        before = relay.accepted
        for _ in range(5):
            with pytest.raises(ApiError) as refused:
                client.post(f"{TEMPLATES}/workspaces", {"name": "no scope, no spec"})
            assert refused.value.status == 400
            missing = client.get(f"{TEMPLATES}/workspaces/no-such-id", allow=(404,))
            assert missing.status == 404
            assert client.get(f"{TEMPLATES}/count").body == {"count": 0}
    assert relay.accepted == before


def test_every_call_carries_the_same_headers_and_no_cookie_a_server_set() -> None:
    """Requests are prepared without a Session's per-call merging: the tool's own headers,
    the bearer token, JSON and query encoding as requests makes them; cookies are not kept."""

    queries: list[str] = []

    def answer(request: Request) -> Response:
        queries.append(request.query_string.decode())
        response = json_answer({"id": "1"})
        response.set_cookie("sticky", "backend-7")
        return response

    recorder = Recorder(answer)
    with serve(recorder) as url, _client(url) as client:
        client.get("/api/v1/things", {"filterBy": "name==a b", "limit": 5})
        client.post("/api/v1/things", {"name": "é"})
    token_call, listed, posted = recorder.requests
    for _, _, headers, _ in (token_call, listed, posted):
        assert headers["User-Agent"] == f"runai-reconcile/{__version__}"
        assert headers["Accept"] == "application/json"
        assert "gzip" in headers["Accept-Encoding"]
        assert "Cookie" not in headers
    assert listed[2]["Authorization"] == f"Bearer {recorder.tokens[0]}"
    assert listed[1] == "/api/v1/things"
    assert posted[2]["Content-Type"] == "application/json"
    assert json.loads(posted[3]) == {"name": "é"}
    assert queries[0] == "filterBy=name%3D%3Da+b&limit=5"
