"""Small HTTP helpers for tests that talk to the emulator: tokens, an authorised client, admin.

Everything goes over real loopback HTTP with requests; nothing here reaches into the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from reconcile.emulator.openapi import OpenApi

TEST_CLIENT_ID = "test-client"
TEST_CLIENT_SECRET = "test-secret"  # a fixture value for the throwaway emulator only
TIMEOUT = 10

TEMPLATES = "/api/v1/workload-templates"
# The seeded org tree (reconcile/emulator/data/seed.yaml): project team-a and its parents.
TEAM_A = "42"
RESEARCH = "2"
CLUSTER_A = "71f69d83-ba66-4822-adf5-55ce55efd210"


def get_token(url: str, client_id: str = TEST_CLIENT_ID, secret: str = TEST_CLIENT_SECRET) -> str:
    """A bearer token from POST /api/v1/token (client_credentials)."""
    body = {"grantType": "client_credentials", "clientId": client_id, "clientSecret": secret}
    response = requests.post(f"{url}/api/v1/token", json=body, timeout=TIMEOUT)
    response.raise_for_status()
    token: str = response.json()["accessToken"]
    return token


class Api:
    """Calls one emulator with a bearer token; every method returns the raw Response."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.session.request(
            method, f"{self.url}{path}", headers=headers, timeout=TIMEOUT, **kwargs
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.call("POST", path, json=body)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.call("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.call("PATCH", path, json=body)

    def delete(self, path: str) -> requests.Response:
        return self.call("DELETE", path)

    # --- the loopback admin API (no token) ---------------------------------------------

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/_emulator/faults", json=faults, timeout=TIMEOUT)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_settings(self, **settings: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/_emulator/settings", json=settings, timeout=TIMEOUT)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def request_log(self) -> dict[str, Any]:
        """`{"requests": [{method, path, query, status, fault?}], "counters": {...}, "total"}`."""
        response = requests.get(f"{self.url}/_emulator/requests", timeout=TIMEOUT)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def clear_log(self) -> None:
        requests.delete(f"{self.url}/_emulator/requests", timeout=TIMEOUT).raise_for_status()

    def reset(self) -> None:
        requests.post(f"{self.url}/_emulator/reset", timeout=TIMEOUT).raise_for_status()


def template_body(
    name: str,
    *,
    scope_type: str = "project",
    scope_id: str | None = TEAM_A,
    spec: dict[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A creation request body for any template type."""
    meta: dict[str, Any] = {"name": name, "scopeType": scope_type}
    if scope_id is not None:
        meta["scopeId"] = scope_id
    if description is not None:
        meta["description"] = description
    return {"meta": meta, "spec": spec if spec is not None else {"image": "python:3.11"}}


def create_template(api: Api, kind: str, name: str, **options: Any) -> dict[str, Any]:
    """POST a template of `kind` (workspaces, trainings, distributed, inferences); 202 expected."""
    response = api.post(f"{TEMPLATES}/{kind}", template_body(name, **options))
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def create_many(api: Api, kind: str, names: Iterable[str], *, threads: int = 4) -> None:
    """Create many templates in parallel (fast setup for pagination tests)."""
    token = api.token

    def one(name: str) -> None:
        create_template(Api(api.url, token), kind, name)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, names))


_SPEC: OpenApi | None = None


def assert_valid(schema_name: str, body: Any) -> None:
    """Fail unless `body` validates against the 2.24 slice's `components/schemas/<name>`."""
    global _SPEC
    if _SPEC is None:
        _SPEC = OpenApi()
    problems = _SPEC.validate(schema_name, body)
    assert not problems, f"{schema_name}: {problems}"
