"""The emulator's WSGI application: routing, bearer auth, body validation, faults, JSON errors.

Handlers come from an explicit module list and only see `Call`/`Reply`; everything HTTP
(status codes for unknown routes, 401, 400 on bad JSON or schema violations, injected faults,
the request log) happens here. The admin API lives in `admin.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import ModuleType
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from reconcile.emulator import admin, auth
from reconcile.emulator.faults import Faults, RequestLog
from reconcile.emulator.framework import (
    ApiProblem,
    Call,
    EmulatorContext,
    RawJson,
    Reply,
    Route,
)
from reconcile.emulator.handlers import (
    access_rules,
    asset_writes,
    assets,
    credentials,
    node_pools,
    org,
    org_units,
    templates,
    workload_types,
    workloads,
)

_LOG = logging.getLogger("reconcile.emulator")

# Explicit, in a fixed order: no import-time self-registration.
HANDLER_MODULES: tuple[ModuleType, ...] = (
    templates,
    assets,
    asset_writes,
    workload_types,
    workloads,
    org,
    org_units,
    node_pools,
    credentials,
    access_rules,
)

StartResponse = Callable[..., Any]


def collect_routes(modules: Iterable[ModuleType] = HANDLER_MODULES) -> list[Route]:
    """The token routes plus every handler module's `routes()`."""
    found = list(auth.routes())
    for module in modules:
        found.extend(module.routes())
    return found


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer with sorted keys (deterministic), or an empty one when body is None."""
    if body is None:
        return Response(status=status, headers=headers)
    data = (
        body
        if isinstance(body, RawJson)
        else json.dumps(body, sort_keys=True, separators=(",", ":"))
    )
    return Response(data, status=status, headers=headers, mimetype="application/json")


def _problem(status: int, message: str, details: str | None = None) -> Response:
    return json_response(status, ApiProblem(status, message, details).body())


def _parse_body(request: Request) -> Any:
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.to_dict()
    data = request.get_data(cache=True)
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError as error:
        raise ApiProblem(400, "Bad request - malformed JSON body", str(error)) from None


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class EmulatorApp:
    """The WSGI callable. `reset` puts store, faults and log back to their starting point."""

    def __init__(
        self,
        ctx: EmulatorContext,
        *,
        routes: list[Route],
        reset: Callable[[], None],
    ) -> None:
        self.ctx = ctx
        self.routes = routes
        self.faults: Faults = Faults(ctx.settings)
        self.log: RequestLog = RequestLog()
        self._initial_settings = replace(ctx.settings, extra=dict(ctx.settings.extra))
        self._reset_store = reset
        self.url_map = Map(
            [Rule(r.rule, methods=list(r.methods), endpoint=i) for i, r in enumerate(routes)],
            strict_slashes=False,
            merge_slashes=False,
        )

    def reset(self) -> None:
        """Back to the seed, faults off, other settings as started, log cleared, RNGs reseeded."""
        for name, value in self._initial_settings.to_dict().items():
            setattr(self.ctx.settings, name, value)
        self.ctx.settings.extra = dict(self._initial_settings.extra)
        self.faults.clear()
        self.ctx.random.seed(self.ctx.settings.seed_random)
        self._reset_store()
        self.log.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/_emulator" or request.path.startswith("/_emulator/"):
            response = admin.handle(self, request)
        else:
            response = self._api(request)
        return response(environ, start_response)

    def _api(self, request: Request) -> Response:
        route: Route | None = None
        fault = ""
        try:
            route, params = self._match(request)
            response, fault = self._serve(request, route, params)
        except ApiProblem as problem:
            response = json_response(problem.status, problem.body())
        except MethodNotAllowed as error:
            allowed = ", ".join(sorted(error.valid_methods or []))
            response = _problem(405, f"Method {request.method} not allowed", f"allowed: {allowed}")
            response.headers["Allow"] = allowed
        except Exception:
            _LOG.exception("emulator handler failed: %s %s", request.method, request.path)
            response = _problem(500, "Internal emulator error")
        if fault == "drop":
            self._record(request, route, 0, fault)  # the client never sees an answer
            self._drop(request)
        self._record(request, route, response.status_code, fault)
        return response

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match()
        except NotFound:
            raise ApiProblem(404, f"Not found: {request.path}") from None
        return self.routes[endpoint], {k: str(v) for k, v in params.items()}

    def _serve(
        self, request: Request, route: Route, params: dict[str, str]
    ) -> tuple[Response, str]:
        self.faults.delay()
        pre = self.faults.before(f"{request.method} {route.rule}")
        if pre is not None:
            headers = {"Retry-After": str(pre.retry_after_s)} if pre.retry_after_s else None
            body = {"code": pre.status, "message": pre.message}
            return json_response(pre.status, body, headers), f"injected-{pre.status}"
        subject = "anonymous"
        if not route.public:
            token = _bearer(request)
            verified = self.ctx.tokens.verify(token) if token else None
            if verified is None:
                raise ApiProblem(401, "Unauthorized - missing, invalid or expired bearer token")
            subject = verified
        body = _parse_body(request)
        self._check_body(request, route, body)
        call = Call(request.method, request.path, request.args, params, body, subject, self.ctx)
        reply = self._handle(route, call)
        response = json_response(reply.status, reply.body, reply.headers)
        if reply.status < 400 and not route.public:
            after = self.faults.after_commit(request.method)
            if after == "503":
                message = "Service unavailable (injected after commit)"
                return _problem(503, message), "commit-then-fail-503"
            if after == "drop":
                return response, "drop"
        return response, ""

    def _check_body(self, request: Request, route: Route, body: Any) -> None:
        if route.request_schema is None or request.method not in ("POST", "PUT", "PATCH"):
            return
        if body is None:
            raise ApiProblem(400, "Bad request - a JSON request body is required")
        # The slice's request schemas are allOf pieces without `type: object`, so a JSON
        # array would pass them; every request body in the API is an object except the
        # org units' ResourcesUpdateRequest, an array.
        is_array = self.ctx.openapi.schema(route.request_schema).get("type") == "array"
        if not isinstance(body, list if is_array else dict):
            shape = "an array" if is_array else "a JSON object"
            raise ApiProblem(400, f"Bad request - the request body must be {shape}")
        problems = self.ctx.openapi.validate(route.request_schema, body)
        if problems:
            raise ApiProblem(400, f"Bad request - {problems[0]}", "; ".join(problems))

    def _handle(self, route: Route, call: Call) -> Reply:
        delay_ms = self.ctx.settings.visibility_delay_ms
        if call.method == "GET" and delay_ms > 0:
            with self.ctx.store.hide_newer_than(delay_ms / 1000):
                return route.handler(call)
        return route.handler(call)

    def _record(self, request: Request, route: Route | None, status: int, fault: str) -> None:
        query = request.query_string.decode("latin-1")
        rule = route.rule if route is not None else None
        self.log.record(
            method=request.method,
            path=request.path,
            query=query,
            route=rule,
            status=status,
            fault=fault,
        )

    @staticmethod
    def _drop(request: Request) -> None:
        """Close the connection without an answer (the write already committed)."""
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # werkzeug's server treats ConnectionError as "client went away" and writes nothing.
        raise ConnectionAbortedError("injected commit-then-fail: connection dropped")
