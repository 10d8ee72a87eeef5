"""Emulated Run:ai authentication: the two token endpoints and the JWTs they hand out.

Tokens are HS256 JWTs (`sub`, `iat`, `exp`) signed with a key kept in the store, so they stay
valid across a restart on the same db. Secrets are compared, never logged or echoed. Their
times come from the authority's wall clock (`time.time` unless one is injected), so a test
moves a token past its lifetime without waiting.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route
from reconcile.emulator.store import Store
from reconcile.emulator.versions import grant_served

# Used when neither flags nor RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET say otherwise; documented in
# docs/emulator.md. They guard nothing real: the emulator only listens on loopback by default.
DEFAULT_CLIENT_ID = "emulator"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # a documented throwaway, not a secret
DEFAULT_TTL_S = 3600


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str

    @classmethod
    def resolve(cls, client_id: str | None = None, client_secret: str | None = None) -> Credentials:
        """Flags first, then RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET, then the documented defaults."""
        return cls(
            client_id or os.environ.get("RUNAI_CLIENT_ID") or DEFAULT_CLIENT_ID,
            client_secret or os.environ.get("RUNAI_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET,
        )

    def __repr__(self) -> str:  # never show the secret
        return f"Credentials(client_id={self.client_id!r}, client_secret='***')"


class TokenAuthority:
    """Issues and verifies the emulator's access tokens."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        *,
        ttl_s: int = DEFAULT_TTL_S,
        wall: Callable[[], float] = time.time,
    ):
        self.credentials = credentials
        self.ttl_s = ttl_s
        self._wall = wall
        self._key = store.meta("jwt-signing-key", lambda: secrets.token_hex(32))
        # token -> (subject, exp): decoding a JWT on every call was a third of a request.
        self._verified: dict[str, tuple[str, int]] = {}

    def issue(self, subject: str) -> tuple[str, int]:
        now = int(self._wall())
        claims = {"sub": subject, "iat": now, "exp": now + self.ttl_s, "iss": "runai-emulator"}
        return jwt.encode(claims, self._key, algorithm="HS256"), self.ttl_s

    def verify(self, token: str) -> str | None:
        known = self._verified.get(token)
        if known is None:
            known = self._decoded(token)
            if known is None:
                return None
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = known
        subject, expires = known
        return subject if self._wall() < expires else None

    def _decoded(self, token: str) -> tuple[str, int] | None:
        """The subject and expiry of a token this authority signed; its times are not checked.

        PyJWT checks `exp` and `iat` against the real clock only, so it checks the signature
        and that the claims are there, and `verify` compares the expiry with `self._wall`."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "exp", "iat"],
                },
            )
        except jwt.PyJWTError:
            return None
        subject, expires = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not isinstance(expires, int):
            return None
        return subject, expires

    def check_client(self, client_id: str, client_secret: str) -> bool:
        id_ok = hmac.compare_digest(client_id.encode(), self.credentials.client_id.encode())
        secret_ok = hmac.compare_digest(
            client_secret.encode(), self.credentials.client_secret.encode()
        )
        return id_ok and secret_ok


def _folded(body: Any) -> dict[str, Any]:
    """JSON keys lower-cased: Run:ai accepts clientId, clientID, AppId... alike."""
    if not isinstance(body, dict):
        raise ApiProblem(400, "Bad request - the body must be a JSON object")
    return {str(key).lower(): value for key, value in body.items()}


def token_v1(call: Call) -> Reply:
    """POST /api/v1/token: grantType client_credentials (2.20+) or app_token ->
    {accessToken, expiresIn}."""
    body = _folded(call.body)
    grant = body.get("granttype")
    if not isinstance(grant, str) or not grant_served(grant, call.ctx.api_version):
        raise ApiProblem(400, f"Bad request - unsupported grantType {grant!r}")
    client_id = body.get("clientid") or body.get("appid")
    client_secret = body.get("clientsecret") or body.get("appsecret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise ApiProblem(400, "Bad request - clientId and clientSecret are required")
    if not call.ctx.tokens.check_client(client_id, client_secret):
        raise ApiProblem(401, "Unauthorized - invalid client credentials")
    token, ttl = call.ctx.tokens.issue(client_id)
    return Reply(200, {"accessToken": token, "expiresIn": ttl})


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


def token_v2(call: Call) -> Reply:
    """POST /api/v2/token (form-encoded OAuth2 client_credentials), RFC 6749 error bodies."""
    form = call.body if isinstance(call.body, dict) else {}
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "grant_type is required")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not client_secret:
        return _oauth_error(400, "invalid_request", "client_id and client_secret are required")
    if not call.ctx.tokens.check_client(str(client_id), str(client_secret)):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    token, ttl = call.ctx.tokens.issue(str(client_id))
    return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})


def routes() -> list[Route]:
    return [
        Route(
            "/api/v1/token",
            ("POST",),
            token_v1,
            public=True,
            request_schema="TokenRequest",
            response_schema="TokenResponse",
        ),
        Route(
            "/api/v2/token", ("POST",), token_v2, public=True, response_schema="OAuth2TokenResponse"
        ),
    ]
