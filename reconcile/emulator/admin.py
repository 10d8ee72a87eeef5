"""The loopback-only admin API under `/_emulator/`: faults, settings, request log, reset.

No token is needed, but only loopback clients get answers (403 otherwise). It changes
emulator knobs; it never touches API objects except through `reset`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from reconcile.emulator.faults import Faults, RequestLog
from reconcile.emulator.framework import FAULT_FIELDS, EmulatorContext, EmulatorSettings

SETTING_FIELDS = tuple(EmulatorSettings.__dataclass_fields__)


class Administered(Protocol):
    """What the admin API works on (the emulator app is one): it imports no app module, so
    the app may import it."""

    ctx: EmulatorContext
    faults: Faults
    log: RequestLog

    def reset(self) -> None: ...


def _json(status: int, body: Any) -> Response:
    if body is None:
        return Response(status=status)
    text = json.dumps(body, sort_keys=True)
    return Response(text, status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json(status, {"code": status, "message": message})


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _changes(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        raise ValueError("malformed JSON body") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _update(app: Administered, request: Request, allowed: tuple[str, ...]) -> Response:
    try:
        app.faults.update(_changes(request), allowed=allowed)
    except ValueError as error:
        return _error(400, f"Bad request - {error}")
    return _json(200, _view(app, allowed))


def _view(app: Administered, allowed: tuple[str, ...]) -> dict[str, Any]:
    every = app.ctx.settings.to_dict()
    return {name: every[name] for name in allowed}


def _reset(app: Administered) -> Response:
    app.reset()
    return _json(204, None)


def _clear_log(app: Administered) -> Response:
    app.log.clear()
    return _json(204, None)


_FAULT_KEYS = (*FAULT_FIELDS, "seed_random")

_ROUTES: dict[tuple[str, str], Callable[[Administered, Request], Response]] = {
    ("GET", "/_emulator/health"): lambda app, _: _json(200, {"status": "ok"}),
    ("GET", "/_emulator/faults"): lambda app, _: _json(200, _view(app, _FAULT_KEYS)),
    ("PUT", "/_emulator/faults"): lambda app, req: _update(app, req, _FAULT_KEYS),
    ("GET", "/_emulator/settings"): lambda app, _: _json(200, _view(app, SETTING_FIELDS)),
    ("PUT", "/_emulator/settings"): lambda app, req: _update(app, req, SETTING_FIELDS),
    ("GET", "/_emulator/requests"): lambda app, _: _json(200, app.log.snapshot()),
    ("DELETE", "/_emulator/requests"): lambda app, _: _clear_log(app),
    ("POST", "/_emulator/reset"): lambda app, _: _reset(app),
}


def handle(app: Administered, request: Request) -> Response:
    """Answer an admin request (403 off-loopback, 404 unknown path, 405 wrong method)."""
    if not _is_loopback(request.remote_addr):
        return _error(403, "Forbidden - the admin API answers loopback clients only")
    path = request.path.rstrip("/")
    action = _ROUTES.get((request.method, path))
    if action is not None:
        return action(app, request)
    allowed = sorted(method for method, known in _ROUTES if known == path)
    if not allowed:
        return _error(404, f"Not found: {request.path}")
    response = _error(405, f"Method {request.method} not allowed")
    response.headers["Allow"] = ", ".join(allowed)
    return response
