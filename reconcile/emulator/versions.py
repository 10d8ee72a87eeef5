"""Which Run:ai control-plane version first served each emulated operation.

From the public OpenAPI specs of Run:ai 2.18 to 2.24 (docs/runai-api.md section 0, the
version map; docs/emulator.md, "Older Run:ai versions"). An emulator started as an older
version serves only what that version had: the other operations are unknown paths (404),
or, where the path exists with other methods, 405. The one other difference is which
token grants `/api/v1/token` takes (`grant_served`); nothing else in the emulator knows
about versions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI reads VERSIONS at start-up: no werkzeug import for that
    from reconcile.emulator.framework import Route

VERSIONS = ("2.18", "2.19", "2.20", "2.21", "2.22", "2.23", "2.24")
LATEST = VERSIONS[-1]
OLDEST = VERSIONS[0]
_ANY = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

# (rule prefix, methods, first version); the first matching row wins, anything unmatched
# is as old as OLDEST (legacy assets and asset templates, org units, clusters, the v1
# workloads view and the v1 token are in every version).
_INTRODUCED: tuple[tuple[str, frozenset[str], str], ...] = (
    ("/api/v1/workload-templates/inferences", _ANY, "2.24"),
    ("/api/v1/asset/credentials/ngc-api-key", _ANY, "2.23"),
    ("/api/v1/workload-templates/name-availability", _ANY, "2.24"),
    ("/api/v1/workload-templates", _ANY, "2.23"),
    ("/api/v1/workload-types", frozenset({"POST", "DELETE"}), "2.23"),
    ("/api/v1/workload-types", _ANY, "2.22"),
    ("/api/v1/workload-categories", _ANY, "2.22"),
    ("/api/v1/workload-priorities", _ANY, "2.22"),
    ("/api/v2/workloads", frozenset({"PUT"}), "2.24"),
    ("/api/v2/workloads", _ANY, "2.23"),
    ("/api/v2/token", _ANY, "2.24"),
    ("/api/v1/asset/datasource/secrets", _ANY, "2.19"),
)


# `TokenRequest.grantType` of `/api/v1/token`: `client_credentials` arrived in 2.20; 2.18 and
# 2.19 take application credentials as `app_token` (docs/runai-api.md section 5).
_GRANTS_INTRODUCED = {"app_token": OLDEST, "client_credentials": "2.20"}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check(version: str) -> str:
    """`version` if the emulator can be it; ValueError naming the choices otherwise."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Run:ai API version {version!r}; one of {', '.join(VERSIONS)}")
    return version


def introduced(method: str, rule: str) -> str:
    """The first Run:ai version serving `method` on `rule` (a route rule or a path)."""
    for prefix, methods, since in _INTRODUCED:
        if rule.startswith(prefix) and method in methods:
            return since
    return OLDEST


def grant_served(grant: str, version: str) -> bool:
    """Whether `/api/v1/token` of Run:ai `version` takes `grantType: grant`."""
    since = _GRANTS_INTRODUCED.get(grant)
    return since is not None and _key(since) <= _key(version)


def served(routes: list[Route], version: str) -> list[Route]:
    """The routes (and methods) Run:ai `version` serves, in their order."""
    wanted = _key(check(version))
    kept: list[Route] = []
    for route in routes:
        methods = tuple(m for m in route.methods if _key(introduced(m, route.rule)) <= wanted)
        if methods:
            kept.append(route if methods == route.methods else replace(route, methods=methods))
    return kept
