"""What the client may trust of a server, as pure rules: origins, readable message lengths,
secret redaction, and time limits.

Knows no HTTP library (the client package applies these rules to requests) and never prints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

REDACTED = "(redacted)"
MESSAGE_LIMIT = 500  # characters of a server's message shown; the rest is counted
MiB = 1024 * 1024
Now = Callable[[], float]  # monotonic seconds


def origin(url: str) -> str:
    """`scheme://host:port` of `url`, the port always spelled out (RFC 6454)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    except ValueError:  # a port out of range (a hostile Location, say): no origin of ours
        port = -1
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def without_query(url: str) -> str:
    """`url` without its query and fragment, which may carry secrets."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def trim(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


class Redactor:
    """Replaces every known secret in a text. Secrets are only ever added: each addition
    publishes a new immutable set, so a redaction reads one consistent snapshot however many
    threads add tokens meanwhile."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Know `secrets` from now on (before any request carrying one is sent)."""
        # Stripped too: an exception may quote a value with escapes (`'Bearer abc\\n'`).
        new = {v for s in secrets for v in (s, s.strip()) if v}
        with self._lock:
            if new <= set(self._known):
                return
            # Longest first: a secret that contains another is replaced whole.
            self._known = tuple(sorted(new | set(self._known), key=lambda s: (-len(s), s)))

    def __call__(self, text: str) -> str:
        known = self._known  # one snapshot: the tuple is never changed, only replaced
        for secret in known:
            text = text.replace(secret, REDACTED)
        return text


class Deadline:
    """A point in time on `clock` (seconds; None = never) that calls must finish by."""

    def __init__(self, at: float | None, *, clock: Now = time.monotonic) -> None:
        self.at = at
        self._clock = clock

    @classmethod
    def after(cls, seconds: float | None, *, clock: Now = time.monotonic) -> Deadline:
        """`seconds` from now; None or 0 for no limit."""
        return cls(clock() + seconds if seconds else None, clock=clock)

    def remaining(self) -> float | None:
        """Seconds left (never negative); None when there is no limit."""
        return None if self.at is None else max(0.0, self.at - self._clock())

    def passed(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def earliest(self, other: Deadline) -> Deadline:
        """The sooner of two deadlines on the same clock."""
        if other.at is None:
            return self
        if self.at is None or other.at < self.at:
            return other
        return self
