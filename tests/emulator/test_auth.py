"""Authentication over HTTP: the v1 and v2 token endpoints, bearer checks, token expiry."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import (
    TEMPLATES,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TIMEOUT,
    Api,
    assert_valid,
    get_token,
)

V1_BODIES = [
    {"grantType": "client_credentials", "clientId": TEST_CLIENT_ID, "clientSecret": "S"},
    {"grantType": "client_credentials", "clientID": TEST_CLIENT_ID, "clientSecret": "S"},
    {"GRANTTYPE": "client_credentials", "ClientId": TEST_CLIENT_ID, "CLIENTSECRET": "S"},
    {"grantType": "app_token", "AppId": TEST_CLIENT_ID, "AppSecret": "S"},
    {"grantType": "app_token", "appID": TEST_CLIENT_ID, "appSecret": "S"},
]


@pytest.mark.parametrize("body", V1_BODIES)
def test_v1_token_accepts_key_spellings(emulator: EmbeddedEmulator, body: dict[str, str]) -> None:
    sent = {k: (TEST_CLIENT_SECRET if v == "S" else v) for k, v in body.items()}
    response = requests.post(f"{emulator.url}/api/v1/token", json=sent, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid("TokenResponse", answer)
    assert answer["expiresIn"] == 3600
    claims = jwt.decode(answer["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == TEST_CLIENT_ID and claims["exp"] - claims["iat"] == 3600
    assert Api(emulator.url, answer["accessToken"]).get(TEMPLATES).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            {"grantType": "client_credentials", "clientId": TEST_CLIENT_ID, "clientSecret": "no"},
            401,
        ),
        ({"grantType": "client_credentials", "clientId": TEST_CLIENT_ID}, 400),
        ({"grantType": "password", "username": "u", "password": "p"}, 400),
        ({"grantType": "magic"}, 400),
    ],
)
def test_v1_token_refusals(emulator: EmbeddedEmulator, body: dict[str, str], status: int) -> None:
    response = requests.post(f"{emulator.url}/api/v1/token", json=body, timeout=TIMEOUT)
    assert response.status_code == status
    assert_valid("Error", response.json())
    assert TEST_CLIENT_SECRET not in response.text


def test_v2_token_is_oauth2(emulator: EmbeddedEmulator) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": TEST_CLIENT_ID,
        "client_secret": TEST_CLIENT_SECRET,
    }
    response = requests.post(f"{emulator.url}/api/v2/token", data=form, timeout=TIMEOUT)
    assert response.status_code == 200
    answer = response.json()
    assert_valid("OAuth2TokenResponse", answer)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert Api(emulator.url, answer["access_token"]).get(TEMPLATES).status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": TEST_CLIENT_ID, "client_secret": "x"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials", "client_id": TEST_CLIENT_ID}, 400, "invalid_request"),
        (
            {"grant_type": "password", "username": "u", "password": "p"},
            400,
            "unsupported_grant_type",
        ),
        ({}, 400, "invalid_request"),
    ],
)
def test_v2_token_errors_follow_rfc6749(
    emulator: EmbeddedEmulator, form: dict[str, str], status: int, error: str
) -> None:
    response = requests.post(f"{emulator.url}/api/v2/token", data=form, timeout=TIMEOUT)
    assert response.status_code == status
    assert_valid("OAuth2Error", response.json())
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer not-a-jwt", "Basic dGVzdDp0ZXN0", "Bearer e30.e30.e30"]
)
def test_api_needs_a_valid_bearer_token(emulator: EmbeddedEmulator, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.get(f"{emulator.url}{TEMPLATES}", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 401
    assert_valid("Error", response.json())


def test_token_signed_by_another_key_is_refused(emulator: EmbeddedEmulator) -> None:
    forged = jwt.encode(
        {"sub": TEST_CLIENT_ID, "exp": int(time.time()) + 60}, "x" * 32, algorithm="HS256"
    )
    assert Api(emulator.url, forged).get(TEMPLATES).status_code == 401


def test_tokens_expire_after_ttl() -> None:
    # The emulator's wall clock is a hand moved by the test: years from the real one, so
    # nothing of the real clock can make a token valid or expired here.
    now = [4_000_000_000.0]
    with EmbeddedEmulator(
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        token_ttl=60,
        wall_clock=lambda: now[0],
    ) as short:
        token = get_token(short.url)
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        assert (claims["iat"], claims["exp"]) == (4_000_000_000, 4_000_000_060)
        api = Api(short.url, token)
        assert api.get(TEMPLATES).status_code == 200
        now[0] += 59.5  # the last half second of its life: the checked-once path
        assert api.get(TEMPLATES).status_code == 200
        now[0] += 0.5
        assert api.get(TEMPLATES).status_code == 401
        fresh, unseen = get_token(short.url), get_token(short.url)
        assert Api(short.url, fresh).get(TEMPLATES).status_code == 200
        now[0] += 60
        assert Api(short.url, fresh).get(TEMPLATES).status_code == 401
        # A token first shown after its expiry is refused as well.
        assert Api(short.url, unseen).get(TEMPLATES).status_code == 401


def test_default_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNAI_CLIENT_ID", "env-id")
    monkeypatch.setenv("RUNAI_CLIENT_SECRET", "env-secret")
    with EmbeddedEmulator() as server:
        assert get_token(server.url, "env-id", "env-secret")
        assert "env-secret" not in repr(server.credentials)
