"""The HTTP client against the real emulator over loopback: auth, retries, pagination, secrecy.

Every assertion about what went over the wire reads the emulator's own request log.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from reconcile.client import Client, Credentials, is_transient, jwt_expiry
from reconcile.credentials import Clock
from reconcile.emulator.auth import Credentials as EmulatorCredentials
from reconcile.emulator.server import EmbeddedEmulator, build_app
from reconcile.errors import ApiError, AuthError, UnreachableError
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from tests.hostile import WSGI, closed_port, serve

ID, SECRET = TEST_CLIENT_ID, TEST_CLIENT_SECRET
TEMPLATES = "/api/v1/workload-templates"
WORKSPACES = f"{TEMPLATES}/workspaces"


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def url(emulator: EmbeddedEmulator) -> str:
    """The shared session emulator (conftest), reset: seed objects, no faults, empty log."""
    return emulator.url


def make_client(url: str, **options: Any) -> Client:
    options.setdefault("credentials", Credentials(client_id=ID, client_secret=SECRET))
    options.setdefault("backoff", 0.01)
    options.setdefault("max_retries", 2)
    return Client(url, **options)


def faults(url: str, **settings: Any) -> None:
    requests.put(f"{url}/_emulator/faults", json=settings, timeout=5).raise_for_status()


def log(url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(f"{url}/_emulator/requests", timeout=5).json()[
        "requests"
    ]
    return entries


def calls(url: str, method: str | None = None, path: str | None = None) -> list[tuple[str, int]]:
    """(method path, status) of the logged calls, optionally only one method and path."""
    return [
        (f"{e['method']} {e['path']}", e["status"])
        for e in log(url)
        if (method is None or e["method"] == method) and (path is None or e["path"] == path)
    ]


def clear_log(url: str) -> None:
    requests.delete(f"{url}/_emulator/requests", timeout=5).raise_for_status()


def workspace(name: str) -> dict[str, Any]:
    return {"meta": {"name": name, "scopeType": "tenant"}, "spec": {"image": "python:3.12"}}


def bulk_templates(emu: EmbeddedEmulator, count: int) -> list[str]:
    """`count` workspace templates, the first made through the API and the rest cloned from it
    inside the emulator's store (1,000 POSTs would make the test slow, not better)."""
    client = make_client(emu.url)
    first = client.post(WORKSPACES, workspace("bulk-0000")).body["meta"]["id"]
    assert emu.app is not None
    store = emu.app.ctx.store
    collection = next(c for c in store.collections() if store.get(c, first) is not None)
    stored = store.get(collection, first)
    assert stored is not None
    with store.batch():
        for i in range(1, count):
            doc = copy.deepcopy(stored)
            doc["meta"].update(id=f"00000000-0000-4000-8000-{i:012d}", name=f"bulk-{i:04d}")
            store.insert(collection, doc["meta"]["id"], doc)
    client.close()
    return [f"bulk-{i:04d}" for i in range(count)]


def answering(status: int, paths: set[str], body: dict[str, Any], app: WSGI) -> WSGI:
    """A gateway in front of the emulator that answers `status` on `paths` itself."""

    def gateway(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if Request(environ).path in paths:
            answer = Response(json.dumps(body), status, mimetype="application/json")
            return answer(environ, start_response)
        return app(environ, start_response)

    return gateway


def emulator_app(**options: Any) -> WSGI:
    return build_app(credentials=EmulatorCredentials(ID, SECRET), **options)


def fetch_token(url: str) -> str:
    """A token straight from the emulator, so a test knows what must never leak."""
    answer = requests.post(
        f"{url}/api/v1/token",
        json={"grantType": "client_credentials", "clientId": ID, "clientSecret": SECRET},
        timeout=5,
    )
    token: str = answer.json()["accessToken"]
    return token


class HandClock:
    """The client's clock, moved by the test: token lifetimes pass without sleeping. The
    server's own clock is real, so tests give tokens an hour and move this one."""

    def __init__(self) -> None:
        self.moved = 0.0

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.moved, wall=lambda: time.time() + self.moved)


# --- credentials -------------------------------------------------------------------------


def test_credentials_from_env() -> None:
    assert Credentials.from_env({"RUNAI_TOKEN": "tok"}).token == "tok"
    both = Credentials.from_env({"RUNAI_CLIENT_ID": "id", "RUNAI_CLIENT_SECRET": "s3cr3t"})
    assert both.can_refresh and "s3cr3t" not in repr(both)
    assert "tok-value" not in repr(Credentials(token="tok-value"))
    with pytest.raises(AuthError) as missing:
        Credentials.from_env({})
    assert "RUNAI_TOKEN" in missing.value.hint and "RUNAI_CLIENT_SECRET" in missing.value.hint
    with pytest.raises(AuthError, match="RUNAI_CLIENT_SECRET is not set"):
        Credentials.from_env({"RUNAI_CLIENT_ID": "id"})
    with pytest.raises(AuthError, match="RUNAI_CLIENT_ID is not set"):
        Credentials.from_env({"RUNAI_CLIENT_SECRET": "s"})


# --- tokens ------------------------------------------------------------------------------


def test_client_credentials_get_a_v1_token_once(url: str) -> None:
    with make_client(url) as client:
        assert client.get("/api/v1/clusters").status == 200
        client.list_all("/api/v1/workload-types", items_key="types", page_size=None)
        assert client.counters()["token_requests"] == 1
    assert calls(url) == [
        ("POST /api/v1/token", 200),
        ("GET /api/v1/clusters", 200),
        ("GET /api/v1/workload-types", 200),
    ]


def test_v2_token_where_v1_is_refused() -> None:
    app = emulator_app(token_ttl=3600)
    refuse_v1 = answering(404, {"/api/v1/token"}, {"code": 404, "message": "Not found"}, app)
    wrong = Credentials(client_id=ID, client_secret="wrong")
    with serve(refuse_v1) as url, make_client(url, credentials=wrong) as bad:
        with pytest.raises(AuthError) as refused:
            bad.get("/api/v1/clusters")
        assert refused.value.status == 401 and refused.value.path == "/api/v2/token"
        assert "Client authentication failed" in refused.value.message
        hand = HandClock()
        with make_client(url, clock=hand.clock()) as client:
            client.get("/api/v1/clusters")
            hand.moved = 3600.0  # past the token's lifetime: the refresh goes straight to v2
            client.get("/api/v1/clusters")
            assert client.counters()["token_requests"] == 3  # v1 (404), v2, v2


@pytest.mark.parametrize("version", ["2.18", "2.19"])
def test_application_token_where_client_credentials_are_not_known_yet(version: str) -> None:
    """Run:ai before 2.20 takes application credentials only as `app_token`: the client
    falls back to it once, then asks for it alone."""
    hand = HandClock()
    with EmbeddedEmulator(
        client_id=ID, client_secret=SECRET, token_ttl=3600, api_version=version
    ) as emu:
        with make_client(emu.url, clock=hand.clock()) as client:
            client.get("/api/v1/clusters")
            hand.moved = 3600.0
            client.get("/api/v1/clusters")
        assert calls(emu.url) == [
            ("POST /api/v1/token", 400),
            ("POST /api/v1/token", 200),
            ("GET /api/v1/clusters", 200),
            ("POST /api/v1/token", 200),
            ("GET /api/v1/clusters", 200),
        ]
        wrong = Credentials(client_id=ID, client_secret="wrong")
        with make_client(emu.url, credentials=wrong) as bad, pytest.raises(AuthError) as refused:
            bad.get("/api/v1/clusters")
    assert refused.value.status == 401 and "invalid client credentials" in refused.value.message


def test_token_is_refreshed_before_expiry() -> None:
    hand = HandClock()
    with EmbeddedEmulator(client_id=ID, client_secret=SECRET, token_ttl=3600) as emu:
        with make_client(emu.url, clock=hand.clock()) as client:
            client.get("/api/v1/clusters")
            hand.moved = 3539.0  # a refresh is due a minute before the hour is out
            client.get("/api/v1/clusters")
            hand.moved = 3540.0
            client.get("/api/v1/clusters")
        statuses = calls(emu.url)
    assert statuses == [
        ("POST /api/v1/token", 200),
        ("GET /api/v1/clusters", 200),
        ("GET /api/v1/clusters", 200),
        ("POST /api/v1/token", 200),
        ("GET /api/v1/clusters", 200),
    ]  # no 401: the token never expired in flight


def test_jwt_expiry_reads_the_exp_claim(url: str) -> None:
    token = fetch_token(url)
    exp = jwt_expiry(token)
    assert exp is not None and 3500 < exp - time.time() <= 3600
    assert jwt_expiry("opaque-token") is None and jwt_expiry("a.!!!.c") is None


def test_one_reauthentication_after_a_401() -> None:
    port = closed_port()
    with EmbeddedEmulator(client_id=ID, client_secret=SECRET, port=port) as first:
        client = make_client(first.url)
        client.get("/api/v1/clusters")
    # A new server instance signs with a new key: the cached token is now refused.
    with EmbeddedEmulator(client_id=ID, client_secret=SECRET, port=port) as second:
        assert client.get("/api/v1/clusters").status == 200
        assert calls(second.url) == [
            ("GET /api/v1/clusters", 401),
            ("POST /api/v1/token", 200),
            ("GET /api/v1/clusters", 200),
        ]
        assert client.counters()["reauths"] == 1
    client.close()


def test_a_second_401_fails() -> None:
    app = emulator_app()
    body = {"code": 401, "message": "Unauthorized"}
    with serve(answering(401, {"/api/v1/clusters"}, body, app)) as url:
        with make_client(url) as client, pytest.raises(AuthError) as info:
            client.get("/api/v1/clusters")
        assert client.counters()["token_requests"] == 2 and client.counters()["api_calls"] == 2
    assert info.value.status == 401 and "permissions" in info.value.hint


def test_a_refused_static_token_fails_at_once(url: str) -> None:
    client = make_client(url, credentials=Credentials(token="not-a-jwt"))
    with client, pytest.raises(AuthError) as info:
        client.get("/api/v1/clusters")
    assert calls(url) == [("GET /api/v1/clusters", 401)]
    assert "RUNAI_TOKEN" in info.value.hint


# --- retries -----------------------------------------------------------------------------


def test_get_is_retried_after_429_honouring_retry_after(url: str) -> None:
    paused: list[float] = []

    def pause(seconds: float) -> None:  # the throttling ends while the client waits
        paused.append(seconds)
        faults(url, throttle_rate=0.0)

    with make_client(url, max_retries=3, clock=Clock(sleep=pause)) as client:
        client.get("/api/v1/clusters")  # the token first, before the gateway throttles
        clear_log(url)
        faults(url, throttle_rate=1.0, retry_after_s=7)
        assert client.get("/api/v1/clusters").status == 200
        assert client.counters()["retries"] == 1
    assert calls(url) == [("GET /api/v1/clusters", 429), ("GET /api/v1/clusters", 200)]
    assert paused == [7.0]  # Retry-After, although the client's own backoff is 10 ms


def test_exhausted_retries_raise_the_last_answer(url: str) -> None:
    with make_client(url, max_retries=2, retry_after_max=0) as client:
        client.get("/api/v1/clusters")
        clear_log(url)
        faults(url, throttle_rate=1.0, retry_after_s=5)
        with pytest.raises(ApiError) as info:
            client.get("/api/v1/clusters")
    assert calls(url) == [("GET /api/v1/clusters", 429)] * 3
    assert info.value.status == 429 and info.value.retry_after == 5.0
    assert is_transient(info.value) and "Too many requests" in info.value.message


def test_idempotent_write_is_retried_after_commit_then_fail(url: str) -> None:
    with make_client(url, max_retries=2) as client:
        created = client.post(WORKSPACES, workspace("put-me")).body
        path = f"{WORKSPACES}/{created['meta']['id']}"
        clear_log(url)
        faults(url, commit_then_fail_rate=1.0)
        with pytest.raises(ApiError) as info:
            client.put(path, {"meta": {"name": "put-me"}, "spec": {"image": "python:3.13"}})
        assert info.value.status in (0, 503) and is_transient(info.value)
    put_calls = calls(url, "PUT")
    assert len(put_calls) == 3 and {status for _, status in put_calls} <= {0, 503}


def test_post_is_not_retried(url: str) -> None:
    with make_client(url, max_retries=3) as client:
        client.get("/api/v1/clusters")
        faults(url, throttle_rate=1.0)
        with pytest.raises(ApiError) as throttled:
            client.post(WORKSPACES, workspace("once"))
        faults(url, throttle_rate=0.0, commit_then_fail_rate=1.0)
        with pytest.raises(ApiError) as lost:
            client.post(WORKSPACES, workspace("twice"))
        assert client.counters()["retries"] == 0
    assert calls(url, "POST", WORKSPACES) == [
        (f"POST {WORKSPACES}", 429),
        (f"POST {WORKSPACES}", lost.value.status),
    ]
    assert throttled.value.status == 429 and throttled.value.retry_after == 1.0
    # The second one committed before failing: the caller must look it up before retrying.
    assert is_transient(lost.value) and lost.value.method == "POST"


def test_client_errors_are_not_retried_nor_transient(url: str) -> None:
    with make_client(url) as client:
        client.post(WORKSPACES, workspace("dup"))
        with pytest.raises(ApiError) as conflict:
            client.post(WORKSPACES, workspace("dup"))
        with pytest.raises(ApiError) as missing:
            client.get(f"{WORKSPACES}/00000000-0000-4000-8000-000000000000")
        found = client.get(f"{WORKSPACES}/00000000-0000-4000-8000-000000000000", allow=(404,))
    assert conflict.value.status == 409 and not is_transient(conflict.value)
    assert "already exists" in conflict.value.message and "dup" in conflict.value.details
    assert missing.value.status == 404 and missing.value.path.startswith(WORKSPACES)
    assert found.status == 404 and found.body["code"] == 404
    assert (
        calls(url, "GET") == [(f"GET {WORKSPACES}/00000000-0000-4000-8000-000000000000", 404)] * 2
    )


def test_retries_off_fails_at_once_then_retrying_resumes(url: str) -> None:
    with make_client(url, max_retries=2, retry_after_max=0) as client:
        client.get("/api/v1/clusters")
        clear_log(url)
        faults(url, throttle_rate=1.0, retry_after_s=5)
        with client.retries_off(), pytest.raises(ApiError) as once:
            client.get("/api/v1/clusters")
        assert calls(url) == [("GET /api/v1/clusters", 429)]  # no retry, no wait
        with pytest.raises(ApiError):
            client.get("/api/v1/clusters")
        assert client.counters()["retries"] == 2
    assert calls(url) == [("GET /api/v1/clusters", 429)] * 4
    assert once.value.status == 429 and is_transient(once.value)


def test_retries_off_covers_connection_errors() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with make_client(url, credentials=Credentials(token="t"), max_retries=2) as client:
        with client.retries_off(), pytest.raises(ApiError) as info:
            client.get("/api/v1/clusters")
        assert client.counters()["retries"] == 0 and info.value.status == 0


def test_calls_waiting_on_a_failed_token_request_share_its_error(url: str) -> None:
    # The latency keeps the token request in flight until every call waits for it.
    faults(url, fail_next=1, latency_ms=300)
    errors: list[ApiError] = []

    def call() -> None:
        try:
            client.get("/api/v1/clusters")
        except ApiError as error:
            errors.append(error)

    with make_client(url, max_retries=0) as client:
        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert calls(url) == [("POST /api/v1/token", 503)]
        assert len(errors) == 6 and {e.status for e in errors} == {503}
        assert "token request failed" in errors[0].message
        faults(url, latency_ms=0)
        assert client.get("/api/v1/clusters").status == 200  # a later call asks again


def test_connection_errors_are_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with make_client(url, credentials=Credentials(token="t"), max_retries=2) as client:
        with pytest.raises(ApiError) as info:
            client.get("/api/v1/clusters")
        assert client.counters() == {
            "api_calls": 1,
            "token_requests": 0,
            "retries": 2,
            "reauths": 0,
            "requests": 3,
        }
    # Refused: retried briefly, then reported as unreachable (no POST retry loop above it).
    assert isinstance(info.value, UnreachableError) and not is_transient(info.value)
    assert "nothing was sent" in info.value.message


# --- pagination --------------------------------------------------------------------------


def test_list_all_reads_every_page_with_the_count_beside_the_first(
    emulator: EmbeddedEmulator, url: str
) -> None:
    names = bulk_templates(emulator, 1100)
    with make_client(url) as client:
        clear_log(url)
        items = client.list_all(TEMPLATES, items_key="entries", count_path=f"{TEMPLATES}/count")
    assert [item["meta"]["name"] for item in items] == names  # server order, no gaps
    queries = sorted(e["query"] for e in log(url) if e["path"] == TEMPLATES)
    assert queries == ["offset=0&limit=500", "offset=1000&limit=500", "offset=500&limit=500"]
    assert len(calls(url, "GET", f"{TEMPLATES}/count")) == 1


def test_list_all_without_a_count_stops_at_the_short_page(
    emulator: EmbeddedEmulator, url: str
) -> None:
    names = bulk_templates(emulator, 1100)
    with make_client(url) as client:
        clear_log(url)
        items = client.list_all(TEMPLATES, items_key="entries", params={"sortBy": "name"})
        assert client.counters()["api_calls"] == 4  # pages 0, 1, then 2 and a speculative 3
    assert [item["meta"]["name"] for item in items] == sorted(names)
    assert all("sortBy=name" in e["query"] for e in log(url) if e["path"] == TEMPLATES)


def test_list_all_small_pages_of_projects_and_unpaginated_shapes(url: str) -> None:
    with make_client(url) as client:
        every = client.list_all("/api/v1/org-unit/projects", items_key="projects", page_size=500)
        paged = client.list_all("/api/v1/org-unit/projects", items_key="projects", page_size=1)
        no_count = client.list_all(  # a server without the count endpoint: pages are guessed
            "/api/v1/org-unit/projects",
            items_key="projects",
            page_size=2,
            count_path="/api/v1/no-such-count",
        )
        clusters = client.list_all("/api/v1/clusters", items_key=None, page_size=None)
        types = client.list_all("/api/v1/workload-types", items_key="types", page_size=None)
        with pytest.raises(ApiError, match="no 'items' array"):
            client.list_all("/api/v1/workload-types", items_key="items", page_size=None)
    assert len(every) >= 3 and paged == every and no_count == every
    assert clusters and all("uuid" in c for c in clusters)
    assert any(t["name"] == "PyTorchJob" for t in types)


def test_concurrently_keeps_call_order(url: str) -> None:
    with make_client(url) as client:
        results = client.concurrently(
            [
                lambda: client.list_all("/api/v1/clusters", items_key=None, page_size=None),
                lambda: client.list_all(
                    "/api/v1/workload-priorities", items_key="priorities", page_size=None
                ),
            ]
        )
    assert "uuid" in results[0][0] and "name" in results[1][0]


# --- secrecy and TLS ---------------------------------------------------------------------


def test_tokens_and_secrets_never_appear_in_errors_or_logs(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fetch_token(url)
    failures: list[ApiError] = []
    with make_client(url, credentials=Credentials(token=token)) as client:
        attempts: list[Callable[[], object]] = [
            lambda: client.get("/api/v1/nothing-here"),
            lambda: client.post(WORKSPACES, {"meta": {}}),
        ]
        for attempt in attempts:
            with pytest.raises(ApiError) as info:
                attempt()
            failures.append(info.value)
        client.get("/api/v1/clusters")
        shown = repr(client) + repr(Credentials(token=token))
    broken = make_client(url, credentials=Credentials(token=f"{token}\n"))
    with broken, pytest.raises(ApiError) as unsendable:  # requests quotes the refused header
        broken.get("/api/v1/clusters")
    failures.append(unsendable.value)
    with make_client(url, credentials=Credentials(client_id=ID, client_secret="wrong")) as bad:
        with pytest.raises(AuthError) as refused:
            bad.get("/api/v1/clusters")
        shown += repr(bad) + repr(Credentials(client_id=ID, client_secret=SECRET))
    failures.append(refused.value)
    for failure in failures:
        shown += f"{failure} {failure!r} {failure.details} {failure.hint}"
    shown += caplog.text
    assert token not in shown and SECRET not in shown and "wrong" not in shown
    assert "/api/v1/nothing-here" in caplog.text  # the log does describe the calls


def test_an_echoed_token_is_redacted() -> None:
    app = emulator_app()

    def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/echo":
            auth = request.headers.get("Authorization", "")
            body = {"code": 400, "message": f"bad header {auth}", "details": auth}
            answer = Response(json.dumps(body), 400, mimetype="application/json")
            return answer(environ, start_response)
        return app(environ, start_response)

    with serve(echo) as url:
        token = fetch_token(url)
        client = make_client(url, credentials=Credentials(token=token))
        with client, pytest.raises(ApiError) as info:
            client.get("/echo")
    assert token not in str(info.value) and token not in info.value.details
    assert "bad header Bearer (redacted)" in info.value.message


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_is_verified_unless_told_otherwise(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    app = emulator_app()
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(str(cert), str(key)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_port}"
    try:
        with make_client(url) as strict, pytest.raises(ApiError) as info:
            strict.get("/api/v1/clusters")
        assert info.value.status == 0 and "--ca-bundle" in info.value.hint
        assert strict.counters()["retries"] == 0  # a certificate does not heal on retry
        with make_client(url, ca_bundle=str(cert)) as trusting:
            assert trusting.get("/api/v1/clusters").status == 200
        with make_client(url, insecure=True) as insecure:
            assert insecure.get("/api/v1/clusters").status == 200
    finally:
        server.shutdown()
        server.server_close()


# --- the environment's proxy ----------------------------------------------------------------


def test_the_environments_proxy_carries_every_request(
    emulator: EmbeddedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read once when the client starts (requests would read the environment per request).
    assert emulator.app is not None
    app, seen = emulator.app, []

    def proxy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        seen.append(environ["PATH_INFO"])  # a forward proxy that answers from the emulator
        return app(environ, start_response)

    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serve(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        client = make_client(emulator.url)
        monkeypatch.delenv("HTTP_PROXY")  # read when the client started, not per request
        try:
            client.get(WORKSPACES)
        finally:
            client.close()
    assert WORKSPACES in seen and any(path.endswith("/token") for path in seen)
