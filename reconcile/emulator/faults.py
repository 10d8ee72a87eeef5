"""Fault injection decisions and the request log the admin API exposes.

Faults draw from one seeded RNG (`--seed-random`) so a run can be repeated; the log records
method, path, query and status of every API call plus counters per method and route. This
module decides and records; the app applies the decisions.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import MISSING, dataclass, fields
from typing import Any

from reconcile.emulator.framework import FAULT_FIELDS, EmulatorSettings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOG_CAPACITY = 200_000  # oldest entries drop first; counters keep counting


@dataclass(frozen=True)
class PreFault:
    """A fault answered before the handler runs (nothing stored)."""

    status: int
    message: str
    retry_after_s: int | None = None


class Faults:
    """Draws fault decisions from the settings' rates with a (re)seedable RNG."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._rng = random.Random(settings.seed_random)

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self.settings.seed_random)

    def _draw(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def _pick(self, *choices: Any) -> Any:
        with self._lock:
            return self._rng.choice(choices)

    def delay(self) -> None:
        if self.settings.latency_ms > 0:
            time.sleep(self.settings.latency_ms / 1000)

    def before(self, route_key: str = "") -> PreFault | None:
        """A refused route and a counted failure first (deterministic, for tests), then
        throttling (a gateway answers before the service), then a server error. `route_key`
        is the call's method and route rule."""
        if route_key and route_key == self.settings.fail_route:
            return PreFault(400, f"Bad request - {route_key} refused (injected)")
        with self._lock:
            counted = self.settings.fail_next > 0
            if counted:
                self.settings.fail_next -= 1
        if counted:
            return PreFault(503, "Service unavailable (injected, counted)")
        if self._draw(self.settings.throttle_rate):
            return PreFault(429, "Too many requests", self.settings.retry_after_s)
        if self._draw(self.settings.error_rate):
            status = self._pick(500, 503)
            text = "Internal server error" if status == 500 else "Service unavailable"
            return PreFault(status, f"{text} (injected)")
        return None

    def after_commit(self, method: str) -> str | None:
        """For a successful write: None, "503" (answer 503) or "drop" (close the socket)."""
        if method not in WRITE_METHODS or not self._draw(self.settings.commit_then_fail_rate):
            return None
        chosen: str = self._pick("503", "drop")
        return chosen

    def update(self, changes: dict[str, Any], *, allowed: tuple[str, ...]) -> None:
        """Apply admin changes after checking names, types and ranges (ValueError if bad)."""
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(f"unknown setting {name!r}; allowed: {', '.join(allowed)}")
            checked[name] = _checked(name, value)
        for name, value in checked.items():
            setattr(self.settings, name, value)
        if "seed_random" in changes:
            self.reseed()

    def clear(self) -> None:
        for name in FAULT_FIELDS:
            default = EmulatorSettings.__dataclass_fields__[name].default
            setattr(self.settings, name, default)
        self.reseed()


def _checked(name: str, value: Any) -> Any:
    """`value` as the setting stores it; ValueError when it does not fit. The declared type
    decides (a rate set to 0 is still a rate: 0.2 after it is fine), so a JSON integer is
    taken for a float setting, but not the other way round."""
    if name == "extra":
        if not isinstance(value, dict):
            raise ValueError("extra must be an object")
        return value
    if name == "fail_route":
        if not isinstance(value, str):
            raise ValueError("fail_route must be a string (METHOD /route/rule, or empty)")
        return value
    if name == "seed_random":
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError("seed_random must be an integer or null")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if name.endswith("_rate") and not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    if isinstance(_DECLARED[name], float):
        return float(value)
    if not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


# Each setting's default, whose type is the setting's type.
_DECLARED: dict[str, Any] = {
    f.name: f.default for f in fields(EmulatorSettings) if f.default is not MISSING
}


class RequestLog:
    """What clients asked for: a bounded list of calls and counters by method and route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=LOG_CAPACITY)
        self._counts: Counter[str] = Counter()

    def record(
        self, *, method: str, path: str, query: str, route: str | None, status: int, fault: str
    ) -> None:
        """Log one call; `fault` names an injected fault ("" for none), status 0 = dropped."""
        entry: dict[str, Any] = {"method": method, "path": path, "query": query, "status": status}
        if fault:
            entry["fault"] = fault
        with self._lock:
            self._entries.append(entry)
            self._counts[f"{method} {route or path}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": list(self._entries),
                "counters": dict(sorted(self._counts.items())),
                "total": sum(self._counts.values()),
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
