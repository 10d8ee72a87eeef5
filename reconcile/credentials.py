"""Run:ai credentials from the environment, and the access token's lifetime.

Knows no HTTP (the client fetches tokens through a callback) and never shows a secret: reprs
hide them and nothing here logs.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconcile.errors import AuthError


@dataclass(frozen=True)
class Credentials:
    """A bearer token, or a client id and secret to get tokens with. Secrets never in repr."""

    token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Credentials:
        """RUNAI_TOKEN wins when set; otherwise RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET."""
        hint = "set RUNAI_TOKEN, or RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET"
        token = env.get("RUNAI_TOKEN", "").strip()
        if token:
            return cls(token=token)
        client_id = env.get("RUNAI_CLIENT_ID", "").strip()
        secret = env.get("RUNAI_CLIENT_SECRET", "").strip()
        if client_id and secret:
            return cls(client_id=client_id, client_secret=secret)
        if client_id or secret:
            missing = "RUNAI_CLIENT_SECRET" if client_id else "RUNAI_CLIENT_ID"
            raise AuthError(f"{missing} is not set", hint=hint)
        raise AuthError("no Run:ai credentials in the environment", hint=hint)

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self.client_secret)


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim (epoch seconds) of a JWT, read without verifying; None if unreadable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        exp = json.loads(payload).get("exp")
    except (ValueError, AttributeError):
        return None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


@dataclass(frozen=True)
class Clock:
    """Time as a client reads it: monotonic seconds to schedule token refreshes, wall-clock
    seconds to read a JWT's `exp`, and the pause before a retry. Tests pass one they move
    by hand instead of sleeping."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


class TokenCache:
    """The current access token and when to refresh it; one refresh at a time.

    `fetch` gets a new token and its lifetime in seconds (0 when the server did not say,
    then the JWT `exp` claim is used). A bare token (no client credentials) is never refreshed.
    """

    def __init__(
        self,
        credentials: Credentials,
        fetch: Callable[[], tuple[str, float]],
        *,
        clock: Clock | None = None,
    ) -> None:
        self._credentials = credentials
        self._clock = clock or Clock()
        self._fetch = fetch  # -> (token, lifetime seconds; 0 = unknown)
        self._lock = threading.Lock()
        self._value = credentials.token
        self._refresh_at: float | None = None
        self._fetches = 0  # fetches finished, failed or not
        self._failure: tuple[int, Exception] | None = None  # the last fetch's error, by number

    def current(self) -> str:
        # Callers that waited for a fetch that failed get its error instead of asking again:
        # ten concurrent reads must not become ten (retried) token requests to a dead server.
        arrived = self._fetches
        with self._lock:
            if self._failure is not None and self._failure[0] > arrived:
                raise self._failure[1]
            if self._credentials.can_refresh and self._stale():
                started = self._clock.monotonic()
                try:
                    self._value, lifetime = self._fetch()
                except Exception as error:
                    self._fetches += 1
                    self._failure = (self._fetches, error)
                    raise
                self._fetches += 1
                self._failure = None
                if not lifetime:
                    exp = jwt_expiry(self._value)
                    lifetime = exp - self._clock.wall() if exp is not None else 0.0
                # Refresh a little early: 10 % of the lifetime, at most a minute.
                margin = min(60.0, lifetime / 10)
                self._refresh_at = started + lifetime - margin if lifetime > 0 else None
            return self._value

    def _stale(self) -> bool:
        if not self._value:
            return True
        return self._refresh_at is not None and self._clock.monotonic() >= self._refresh_at

    def peek(self) -> str:
        """The current value without refreshing it (for redaction)."""
        return self._value

    def invalidate(self, token: str) -> None:
        """Drop `token` after a 401, unless another thread already replaced it."""
        with self._lock:
            if self._value == token:
                self._value = ""
