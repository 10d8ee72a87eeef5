"""The emulator as an older Run:ai: only the operations that version served answer.

Every operation of the spec slice is sent once to an emulator of each version: one that the
version has is routed (no "unknown path" 404, no 405), one it lacks answers 404 (or 405
where the path exists with other methods), as an older control plane does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from reconcile.emulator.openapi import OpenApi
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.emulator.versions import VERSIONS, check, introduced
from tests.emulator.helpers import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TIMEOUT,
    Api,
    get_token,
)

_METHODS = ("get", "put", "post", "delete", "patch")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in OpenApi().document["paths"].items()
    for method in _METHODS
    if method in item
)
# The first version of each family, read from the public specs of 2.18 to 2.24.
FIRST = {
    ("GET", "/api/v1/asset/workload-template"): "2.18",
    ("PUT", "/api/v1/asset/workload-template/{AssetId}"): "2.18",
    ("GET", "/api/v1/org-unit/projects"): "2.18",
    ("GET", "/api/v1/workloads"): "2.18",
    ("GET", "/api/v1/workload-types"): "2.22",
    ("PUT", "/api/v1/workload-types/{workloadTypeId}"): "2.22",
    ("GET", "/api/v1/workload-categories"): "2.22",
    ("GET", "/api/v1/workload-priorities"): "2.22",
    ("POST", "/api/v1/workload-types"): "2.23",
    ("DELETE", "/api/v1/workload-types/{workloadTypeId}"): "2.23",
    ("POST", "/api/v1/workload-templates/workspaces"): "2.23",
    ("PATCH", "/api/v1/workload-templates/trainings/{templateId}"): "2.23",
    ("GET", "/api/v1/workload-templates"): "2.23",
    ("POST", "/api/v2/workloads"): "2.23",
    ("GET", "/api/v2/workloads/{WorkloadV2Id}"): "2.23",
    ("PUT", "/api/v2/workloads/{WorkloadV2Id}"): "2.24",
    ("POST", "/api/v1/workload-templates/inferences"): "2.24",
    ("GET", "/api/v1/workload-templates/name-availability"): "2.24",
    ("POST", "/api/v2/token"): "2.24",
}


@pytest.fixture(scope="module", params=["2.20", "2.22", "2.23", "2.24"])
def old(request: pytest.FixtureRequest) -> Iterator[tuple[str, Api]]:
    version = str(request.param)
    with EmbeddedEmulator(
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, api_version=version
    ) as emu:
        yield version, Api(emu.url, get_token(emu.url))


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.mark.parametrize(("method", "path"), sorted(FIRST))
def test_first_versions_are_the_public_specs(method: str, path: str) -> None:
    assert introduced(method, path) == FIRST[method, path]


def test_every_operation_answers_only_from_its_version(old: tuple[str, Api]) -> None:
    version, api = old
    wrong: list[str] = []
    for method, path in OPERATIONS:
        parts = path.replace("{", "").replace("}", "").split("/")
        url = "/".join(UNKNOWN if part.endswith(("Id", "Uuid")) else part for part in parts)
        response = api.call(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
        offered = _key(introduced(method, path)) <= _key(version)
        # An offered operation never gets the router's own answers (unknown path, or a
        # known path without this method); a missing one gets 404 or 405, whichever route
        # (`/workload-templates/{templateId}` for `.../inferences` at 2.23) the path meets.
        unrouted = response.status_code == 404 and f"Not found: {url}" in response.text
        refused = unrouted or response.status_code == 405
        if (offered and refused) or (not offered and response.status_code not in (404, 405)):
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:80]}")
    assert not wrong, "\n".join(wrong)


def test_an_older_version_keeps_what_it_has(old: tuple[str, Api]) -> None:
    version, api = old
    projects = api.get("/api/v1/org-unit/projects")
    assert projects.status_code == 200
    types = api.get("/api/v1/workload-types")
    assert types.status_code == (200 if _key(version) >= (2, 22) else 404)
    if _key(version) < (2, 24):  # the OAuth2 form endpoint came with 2.24
        form = {"grant_type": "client_credentials"}
        assert (
            requests.post(f"{api.url}/api/v2/token", data=form, timeout=TIMEOUT).status_code == 404
        )


def test_unknown_versions_are_refused() -> None:
    assert check("2.21") == "2.21" and VERSIONS[0] == "2.18"
    with pytest.raises(ValueError, match=r"2\.18, 2\.19"):
        EmbeddedEmulator(api_version="2.17").start()


@pytest.mark.parametrize(
    ("version", "grants"),
    [
        ("2.18", {"app_token": 200, "client_credentials": 400}),
        ("2.19", {"app_token": 200, "client_credentials": 400}),
        ("2.20", {"app_token": 200, "client_credentials": 200}),
        ("2.24", {"app_token": 200, "client_credentials": 200}),
    ],
)
def test_token_grants_follow_the_version(version: str, grants: dict[str, int]) -> None:
    """`client_credentials` came with 2.20; before, application credentials were `app_token`."""
    with EmbeddedEmulator(
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, api_version=version
    ) as emu:
        for grant, status in grants.items():
            body = {"grantType": grant, "appID": TEST_CLIENT_ID, "appSecret": TEST_CLIENT_SECRET}
            answer = requests.post(f"{emu.url}/api/v1/token", json=body, timeout=TIMEOUT)
            assert answer.status_code == status, (grant, answer.text)
