"""Fault injection and the admin API over HTTP: each fault kind, seeded repeatability, the
request log, reset, and the loopback-only rule."""

from __future__ import annotations

import time

import pytest
import requests
from werkzeug.test import Client

from reconcile.emulator.framework import EmulatorSettings
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.emulator.store import Store
from tests.emulator.helpers import TEMPLATES, TIMEOUT, Api, create_template, template_body


def _statuses(api: Api, count: int) -> list[int]:
    return [api.get(TEMPLATES).status_code for _ in range(count)]


def test_error_rate_answers_500_or_503(api: Api) -> None:
    api.set_faults(error_rate=1.0, seed_random=7)
    response = api.get(TEMPLATES)
    assert response.status_code in (500, 503)
    assert response.json()["code"] == response.status_code
    api.set_faults(error_rate=0.5)
    assert {500, 503, 200} >= set(_statuses(api, 40)) and len(set(_statuses(api, 40))) > 1


def test_fail_next_answers_503_to_exactly_that_many_calls(api: Api) -> None:
    api.set_faults(fail_next=2, throttle_rate=0.0)
    assert _statuses(api, 4) == [503, 503, 200, 200]
    faults = requests.get(f"{api.url}/_emulator/faults", timeout=TIMEOUT).json()
    assert faults["fail_next"] == 0
    logged = [e.get("fault") for e in api.request_log()["requests"]]
    assert logged == ["injected-503", "injected-503", None, None]
    bad = requests.put(f"{api.url}/_emulator/faults", json={"fail_next": -1}, timeout=TIMEOUT)
    assert bad.status_code == 400


def test_throttle_rate_answers_429_with_retry_after(api: Api) -> None:
    api.set_faults(throttle_rate=1.0, retry_after_s=3)
    response = api.get(TEMPLATES)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


def test_seeded_faults_repeat(api: Api) -> None:
    api.set_faults(error_rate=0.3, throttle_rate=0.2, seed_random=42)
    first = _statuses(api, 30)
    api.set_faults(seed_random=42)  # setting the seed restarts the sequence
    assert _statuses(api, 30) == first
    assert len(set(first)) > 1


def test_commit_then_fail_stores_the_write(api: Api) -> None:
    api.set_faults(commit_then_fail_rate=1.0, seed_random=1)
    outcomes: set[str] = set()
    for i in range(12):
        try:
            response = api.post(f"{TEMPLATES}/workspaces", template_body(f"w{i}"))
            assert response.status_code == 503
            outcomes.add("503")
        except requests.ConnectionError:
            outcomes.add("drop")
    assert outcomes == {"503", "drop"}
    api.set_faults(commit_then_fail_rate=0.0)
    names = sorted(e["meta"]["name"] for e in api.get(TEMPLATES, limit=50).json()["entries"])
    assert names == sorted(f"w{i}" for i in range(12))
    faults = {e.get("fault") for e in api.request_log()["requests"] if e["method"] == "POST"}
    assert faults == {"commit-then-fail-503", "drop"}


def test_commit_then_fail_spares_reads(api: Api) -> None:
    api.set_faults(commit_then_fail_rate=1.0)
    assert _statuses(api, 5) == [200] * 5


def test_latency_delays_every_call(api: Api) -> None:
    api.set_faults(latency_ms=150)
    started = time.monotonic()
    assert api.get(TEMPLATES).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_visibility_delay_hides_new_objects_from_reads(api: Api) -> None:
    api.set_faults(visibility_delay_ms=300)
    tid = create_template(api, "workspaces", "late")["meta"]["id"]
    assert api.get(f"{TEMPLATES}/workspaces/{tid}").status_code == 404
    assert api.get(TEMPLATES).json()["entries"] == []
    # Writes still see it: a duplicate create is refused at once.
    assert api.post(f"{TEMPLATES}/workspaces", template_body("late")).status_code == 409


def test_visibility_delay_ends_once_the_object_is_old_enough() -> None:
    moved = [0.0]
    store = Store(monotonic=lambda: moved[0])
    store.insert("things", "a", {"id": "a"})
    with store.hide_newer_than(0.3):
        assert store.get("things", "a") is None
        assert store.all("things") == []
        moved[0] = 0.29
        assert store.get("things", "a") is None
        moved[0] = 0.3
        assert store.get("things", "a") == {"id": "a"}
    moved[0] = 0.0
    assert store.get("things", "a") == {"id": "a"}  # outside the block nothing is hidden


def test_request_log_and_counters(api: Api) -> None:
    api.clear_log()
    tid = create_template(api, "workspaces", "logged")["meta"]["id"]
    api.get(f"{TEMPLATES}/workspaces/{tid}")
    api.get(TEMPLATES, filterBy="name==logged")
    log = api.request_log()
    assert [(e["method"], e["path"], e["status"]) for e in log["requests"]] == [
        ("POST", f"{TEMPLATES}/workspaces", 202),
        ("GET", f"{TEMPLATES}/workspaces/{tid}", 200),
        ("GET", TEMPLATES, 200),
    ]
    assert log["requests"][2]["query"] == "filterBy=name%3D%3Dlogged"
    assert log["counters"] == {
        f"GET {TEMPLATES}": 1,
        f"GET {TEMPLATES}/workspaces/<templateId>": 1,
        f"POST {TEMPLATES}/workspaces": 1,
    }
    api.clear_log()
    assert api.request_log()["total"] == 0


def test_admin_faults_validation(api: Api) -> None:
    url = f"{api.url}/_emulator/faults"
    for bad in ({"error_rate": 2}, {"latency_ms": -1}, {"colour": 1}, {"latency_ms": "x"}):
        assert requests.put(url, json=bad, timeout=TIMEOUT).status_code == 400
    assert requests.put(url, data="{", timeout=TIMEOUT).status_code == 400
    assert requests.post(url, json={}, timeout=TIMEOUT).status_code == 405
    assert requests.get(f"{api.url}/_emulator/nothing", timeout=TIMEOUT).status_code == 404
    assert api.set_settings(sync_delay_ms=250)["sync_delay_ms"] == 250


def test_admin_rates_take_any_number_whatever_was_set_before(api: Api) -> None:
    assert api.set_faults(error_rate=0)["error_rate"] == 0
    assert api.set_faults(error_rate=0.2)["error_rate"] == 0.2
    assert api.set_faults(throttle_rate=1)["throttle_rate"] == 1.0
    url = f"{api.url}/_emulator/faults"
    refused = requests.put(url, json={"latency_ms": 0.5}, timeout=TIMEOUT)
    assert refused.status_code == 400 and "must be an integer" in refused.json()["message"]


def test_reset_restores_seed_and_turns_faults_off(api: Api) -> None:
    create_template(api, "workspaces", "temp")
    create_template(api, "workspaces", "seeded-scope", scope_type="department", scope_id="2")
    api.set_faults(latency_ms=5, error_rate=0.0, throttle_rate=0.0)
    api.set_settings(sync_delay_ms=999)
    api.reset()
    faults = requests.get(f"{api.url}/_emulator/faults", timeout=TIMEOUT).json()
    assert faults["latency_ms"] == 0 and faults["error_rate"] == 0
    assert api.set_settings()["sync_delay_ms"] == 0
    assert api.get(TEMPLATES).json()["entries"] == []
    assert api.get(f"{TEMPLATES}/count").json() == {"count": 0}
    assert api.request_log()["total"] == 2  # the log restarted at the reset
    create_template(api, "workspaces", "temp")  # the seeded org tree is back


def test_admin_api_answers_loopback_only(emulator: EmbeddedEmulator) -> None:
    # A non-loopback peer cannot reach a 127.0.0.1 listener, so the WSGI app is driven
    # directly with that peer address.
    assert emulator.app is not None
    client = Client(emulator.app)
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/_emulator/faults", environ_overrides=remote).status_code == 403
    assert client.post("/_emulator/reset", environ_overrides=remote).status_code == 403
    local = {"REMOTE_ADDR": "::1"}
    assert client.get("/_emulator/faults", environ_overrides=local).status_code == 200


def test_flags_set_faults_at_start() -> None:
    settings = EmulatorSettings(throttle_rate=1.0, retry_after_s=2)
    with EmbeddedEmulator(settings=settings) as server:
        response = requests.post(f"{server.url}/api/v1/token", json={}, timeout=TIMEOUT)
        assert response.status_code == 429


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_faults_apply_to_token_endpoint_too(api: Api, rate: float) -> None:
    api.set_faults(error_rate=rate)
    response = requests.post(f"{api.url}/api/v2/token", data={}, timeout=TIMEOUT)
    assert (response.status_code >= 500) == (rate == 1.0)
