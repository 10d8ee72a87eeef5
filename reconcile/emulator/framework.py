"""The emulator's internal contract: what handlers receive (Call), return (Reply) and raise.

Handler modules build `Route`s from these types; `app.py` turns them into HTTP. This module
holds plain types, the shared context and the one way a handler answers 404 for an unknown
id: no HTTP parsing, no storage logic.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.datastructures import MultiDict

if TYPE_CHECKING:
    from reconcile.emulator.openapi import OpenApi
    from reconcile.emulator.store import Store


class ApiProblem(Exception):
    """An API error answer: the app renders `{"code", "message", "details"?}` with `status`."""

    def __init__(self, status: int, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


def stored_or_404(store: Store, collection: str, obj_id: str, label: str) -> dict[str, Any]:
    """The object `obj_id` of `collection` (a copy); a 404 "{label} 'id' not found" if absent."""
    obj = store.get(collection, obj_id)
    if obj is None:
        raise ApiProblem(404, f"{label} {obj_id!r} not found")
    return obj


class TokenIssuer(Protocol):
    """What the app and the token handlers need from the token authority (auth.py)."""

    def issue(self, subject: str) -> tuple[str, int]:
        """A signed token for `subject` and its lifetime in seconds."""
        ...

    def verify(self, token: str) -> str | None:
        """The token's subject, or None when it is invalid or expired."""
        ...

    def check_client(self, client_id: str, client_secret: str) -> bool:
        """Whether the pair matches the configured credentials."""
        ...


# Fault knobs: PUT /_emulator/faults changes only these; reset sets them back to zero.
FAULT_FIELDS = (
    "latency_ms",
    "error_rate",
    "throttle_rate",
    "commit_then_fail_rate",
    "visibility_delay_ms",
    "retry_after_s",
    "fail_next",
    "fail_route",
)


@dataclass
class EmulatorSettings:
    """Run-time knobs (flags at start, `/_emulator/faults` and `/_emulator/settings` later).

    `sync_delay_ms` is how long a Workloads V2 write takes to reach `Synced`/`Deleted`
    (B's handlers read it); `extra` holds family-specific knobs that need no schema here.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    commit_then_fail_rate: float = 0.0
    visibility_delay_ms: int = 0
    retry_after_s: int = 1
    fail_next: int = 0  # the next N API calls answer 503, whatever the rates say
    # Every call of this method and route rule (`POST /api/v1/asset/environment`, as the
    # request counters key it) answers 400 until cleared: one write refused, nothing else.
    fail_route: str = ""
    seed_random: int | None = None
    sync_delay_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def faults(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FAULT_FIELDS}


def utc_now() -> str:
    """RFC 3339 UTC with milliseconds and `Z`, as Run:ai writes timestamps."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class EmulatorContext:
    """Shared by every handler: storage, the spec, the clock, ids, settings and randomness."""

    store: Store
    openapi: OpenApi
    settings: EmulatorSettings
    tokens: TokenIssuer
    api_version: str  # the Run:ai version served (reconcile/emulator/versions.py)
    random: random.Random = field(default_factory=random.Random)
    clock: Callable[[], str] = utc_now
    _id_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> str:
        return self.clock()

    def new_id(self) -> str:
        """A uuid4 drawn from `random`, so `--seed-random` makes ids repeatable too; a seeded
        run restarted on the same db would draw old ids again, hence the in-use check."""
        while True:
            with self._id_lock:
                bits = self.random.getrandbits(128)
            candidate = str(uuid.UUID(int=bits, version=4))
            if not self.store.id_in_use(candidate):
                return candidate


@dataclass
class Call:
    """One API request as a handler sees it."""

    method: str
    path: str
    args: MultiDict[str, str]
    path_params: dict[str, str]
    body: Any
    subject: str
    ctx: EmulatorContext


class RawJson(str):
    """An already-encoded JSON body (compact, sorted keys) that the app sends as is; lets a
    handler reuse cached encodings of unchanged objects on hot list paths."""


@dataclass
class Reply:
    """A handler's answer; `body` None means no content."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One served rule. `request_schema`/`response_schema` name components/schemas entries."""

    rule: str
    methods: tuple[str, ...]
    handler: Callable[[Call], Reply]
    public: bool = False
    request_schema: str | None = None
    response_schema: str | None = None
