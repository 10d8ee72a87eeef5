"""Property-based conformance: every operation the emulator serves, fuzzed from the 2.24 spec.

Schemathesis generates requests (valid and invalid) for each operation of the spec slice and
checks every answer: no 5xx, a status code the operation documents, a JSON content type
and a body valid against the documented response schema. Where the emulator follows real
Run:ai rather than the letter of the spec, `served_spec` writes that choice into the spec
the checks use (docs/emulator.md, "Conformance"), so the check holds the emulator to it.

Each operation runs twice per example: as generated (random ids: the 404 paths) and with
its path parameters set to objects that exist (the read, update and delete paths).
Deterministic (fixed seed, no shrinking, no example database) and bounded.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import (
    CLUSTER_A,
    RESEARCH,
    TEAM_A,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    Api,
    get_token,
    template_body,
)

EXAMPLES_PER_OPERATION = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_METHODS = ("get", "put", "post", "delete", "patch")
_TEMPLATE_TYPES = ("workspaces", "trainings", "distributed", "inferences")
# The error answers the emulator gives beyond what an operation lists (docs/emulator.md).
_TOKEN_REFUSED = "401Unauthorized"
_NAME_TAKEN = "409Conflict"
TEMPLATE_PATHS = "/api/v1/workload-templates/"
ASSET_BY_ID = re.compile(r"^/api/v1/asset/(environment|compute|datasource/[a-z-]+)/\{AssetId\}$")


def _slice() -> dict[str, Any]:
    text = resources.files("reconcile.emulator.data").joinpath("runai-2.24-openapi-slice.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def _add(operation: dict[str, Any], status: int, response: str) -> None:
    ref = {"$ref": f"#/components/responses/{response}"}
    operation["responses"].setdefault(str(status), ref)


def served_spec() -> dict[str, Any]:
    """The slice with the emulator's documented departures from its letter."""
    spec = copy.deepcopy(_slice())
    for path, item in spec["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            # A request its parameters or body schema refuse is a 400 on every operation
            # (the spec lists 400 on only some of them).
            _add(operation, 400, "400BadRequest")
            # An unknown id at the URL is a 404 on every operation that takes one.
            if "{" in path:
                _add(operation, 404, "404NotFound")
            # Template writes: a name taken in the scope is a 409 (the legacy API's answer).
            if path.startswith(TEMPLATE_PATHS) and method in ("post", "put", "patch"):
                _add(operation, 409, _NAME_TAKEN)
            # Asset PUTs carry the name: one taken in the scope is a 409, as on create.
            if ASSET_BY_ID.match(path) and method == "put":
                _add(operation, 409, _NAME_TAKEN)
            # Workloads V2: a PUT on a workload being deleted is a 409.
            if path == "/api/v2/workloads/{WorkloadV2Id}" and method == "put":
                _add(operation, 409, _NAME_TAKEN)
    # A wrong credential pair is a 401, as an identity provider answers.
    _add(spec["paths"]["/api/v1/token"]["post"], 401, _TOKEN_REFUSED)
    # Org-unit ids are integer strings everywhere (`parentId`, `/projects/42`); the spec types
    # these two as uuids.
    schemas = spec["components"]["schemas"]
    for name in ("DepartmentProjectParent", "DepartmentProjectChild"):
        schemas[name]["properties"]["id"] = {"type": "string", "pattern": "^[0-9]+$"}
    # The generic template read's `SupersetSpec` is an allOf that includes the distributed
    # inference spec, whose restartPolicy enum would refuse every other type's values; its own
    # `SupersetRestartPolicy` (any string) is what a superset of the types means.
    common = schemas["DistributedInferenceCommonSpec"]["allOf"][0]["properties"]
    del common["restartPolicy"]
    return spec


_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20240,
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "no-shrink": True,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
SCHEMA = schemathesis.openapi.from_dict(served_spec(), config=_CONFIG)


# --- objects that exist, for the path parameters -------------------------------------------

ASSETS = "/api/v1/asset"
TYPES = "/api/v1/workload-types"
JUPYTER = "98107013-7931-4fbe-b66a-e31d7f380853"  # seeded tenant environment
ONE_GPU = "2b53ff03-61f2-4d52-9960-3fdb594dba79"  # seeded tenant compute
TRAIN = "758b4978-ba4a-4f9c-add6-058c3c17dc68"  # seeded category
LOW = "8634ed19-776c-4ffa-9b6d-72ba28cea37f"  # seeded priority
RULES = "/api/v1/authorization/access-rules"
# A credential of each type, by the secret its create takes.
CREDENTIAL_SECRETS: dict[str, dict[str, Any]] = {
    "access-key": {"accessKeyId": "id", "secretAccessKey": "s"},
    "password": {"user": "u", "password": "p"},
    "docker-registry": {"user": "u", "password": "p", "url": "https://r.example.com"},
    "generic-secret": {"keyValuePairs": [{"key": "k", "value": "v"}]},
    "ngc-api-key": {"ngc_api_key": "key"},
}


# A valid spec per writable asset collection (fresh objects for the by-id operations).
_ASSET_SPECS: dict[str, dict[str, Any]] = {
    "environment": {"image": "python:3.12"},
    "compute": {"gpuDevicesRequest": 1},
    "datasource/pvc": {"claimName": "data", "path": "/data"},
    "datasource/git": {"repository": "https://example.com/r.git", "path": "/r"},
    "datasource/s3": {"bucket": "b", "path": "/s3"},
    "datasource/nfs": {"server": "nfs.example.com", "path": "/x", "mountPath": "/x"},
    "datasource/host-path": {"path": "/mnt", "mountPath": "/mnt"},
    "datasource/config-map": {"configMap": "cm", "mountPath": "/etc/cm"},
    "datasource/secrets": {"mountPath": "/etc/s"},
}


def _created_id(response: requests.Response) -> str:
    assert response.status_code in (201, 202), response.text
    body = response.json()
    found = body.get("id") or (body.get("meta") or body.get("metadata") or {}).get("id")
    assert isinstance(found, (str, int)) and not isinstance(found, bool), body
    return str(found)  # access rules are numbered


class Known:
    """Ids of objects that exist, re-created when a fuzzed DELETE (or rename) took them."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._ids: dict[str, str] = {}
        self._counter = 0
        self._makers: dict[str, tuple[str, Callable[[], str]]] = {
            f"/api/v1/workload-templates/{kind}/{{templateId}}": (
                f"/api/v1/workload-templates/{kind}/{{}}",
                lambda kind=kind: self._post(  # type: ignore[misc]
                    f"/api/v1/workload-templates/{kind}", template_body(self._name())
                ),
            )
            for kind in _TEMPLATE_TYPES
        }
        self._makers["/api/v1/asset/workload-template/{AssetId}"] = (
            f"{ASSETS}/workload-template/{{}}",
            lambda: self._post(f"{ASSETS}/workload-template", self._asset_template()),
        )
        for path, spec in _ASSET_SPECS.items():
            self._makers[f"{ASSETS}/{path}/{{AssetId}}"] = (
                f"{ASSETS}/{path}/{{}}",
                lambda p=path, s=spec: self._post(  # type: ignore[misc]
                    f"{ASSETS}/{p}", {"meta": self._asset_meta(), "spec": s}
                ),
            )
        self._makers[f"{TYPES}/{{workloadTypeId}}"] = (
            f"{TYPES}/{{}}",
            lambda: self._post(TYPES, self._workload_type()),
        )
        org_units = {
            "/api/v1/org-unit/departments/{departmentId}": lambda name: {
                "name": name, "clusterId": CLUSTER_A, "resources": [],
            },
            "/api/v1/org-unit/projects/{projectId}": lambda name: {
                "name": name, "clusterId": CLUSTER_A, "parentId": RESEARCH, "resources": [],
            },
            "/api/v1/node-pools/{nodepoolId}": lambda name: {
                "name": name, "clusterId": CLUSTER_A, "labelKey": "pool", "labelValue": name,
            },
        }  # fmt: skip
        for one, body in org_units.items():
            collection = one[: one.rindex("/")]
            self._makers[one] = (
                f"{collection}/{{}}",
                lambda c=collection, b=body: self._post(c, b(self._name())),  # type: ignore[misc]
            )
        for kind, secret in CREDENTIAL_SECRETS.items():
            self._makers[f"{ASSETS}/credentials/{kind}/{{AssetId}}"] = (
                f"{ASSETS}/credentials/{kind}/{{}}",
                lambda kind=kind, secret=secret: self._post(  # type: ignore[misc]
                    f"{ASSETS}/credentials/{kind}", self._asset(secret)
                ),
            )
        registry = {"url": "https://r.example.com", "credentialKind": "password", "user": "u"}
        self._makers[f"{ASSETS}/registries/{{AssetId}}"] = (
            f"{ASSETS}/registries/{{}}",
            lambda: self._post(f"{ASSETS}/registries", self._asset({**registry, "password": "p"})),
        )
        self._makers[f"{RULES}/{{accessRuleId}}"] = (
            f"{RULES}/{{}}",
            lambda: self._post(RULES, self._access_rule()),
        )
        self._makers["/api/v2/workloads/{WorkloadV2Id}"] = (
            "/api/v2/workloads/{}",
            lambda: self._post("/api/v2/workloads", self._workload()),
        )

    def _name(self) -> str:
        self._counter += 1
        return f"known-{self._counter}"

    def _post(self, path: str, body: dict[str, Any]) -> str:
        return _created_id(self.api.post(path, body))

    def _asset_meta(self) -> dict[str, Any]:
        return {"name": self._name(), "scope": "project", "projectId": int(TEAM_A)}

    def _asset_template(self) -> dict[str, Any]:
        assets = {"environment": JUPYTER, "compute": ONE_GPU, "datasources": []}
        return {"meta": self._asset_meta(), "spec": {"assets": assets}}

    def _asset(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"meta": {"name": self._name(), "scope": "tenant"}, "spec": spec}

    def _access_rule(self) -> dict[str, Any]:
        subject = f"{self._name()}@example.com"
        return {"subjectId": subject, "subjectType": "user", "roleId": 1,
                "scopeType": "project", "scopeId": TEAM_A}  # fmt: skip

    def _workload_type(self) -> dict[str, Any]:
        name = f"Known{self._counter}Job"
        self._counter += 1
        return {"name": name, "group": "example.com", "categoryId": TRAIN, "priorityId": LOW}

    def _workload(self) -> dict[str, Any]:
        name = self._name()
        manifest = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}}},
        }
        return {"metadata": {"name": name, "projectId": TEAM_A}, "manifest": manifest}

    def _ensure(self, path: str) -> str:
        url, make = self._makers[path]
        known = self._ids.get(path)
        if known is None or self.api.get(url.format(known)).status_code != 200:
            known = make()
            self._ids[path] = known
        return known

    def parameters(self, path: str) -> dict[str, str] | None:
        """Path parameters naming an existing object for `path`, or None if it has none."""
        fixed = {
            "/api/v1/clusters/{clusterUuid}": {"clusterUuid": CLUSTER_A},
            "/api/v1/workload-categories/{categoryId}": {"categoryId": TRAIN},
            "/api/v1/authorization/roles/{roleIdPath}": {"roleIdPath": "1"},
        }
        if path in fixed:
            return fixed[path]
        if path == "/api/v1/workload-templates/{templateId}":
            return {"templateId": self._ensure("/api/v1/workload-templates/trainings/{templateId}")}
        if path == "/api/v1/workloads/{workloadId}":
            return {"workloadId": self._ensure("/api/v2/workloads/{WorkloadV2Id}")}
        path = path.removesuffix("/resources")  # an org unit's quotas: the unit's own id
        if path in self._makers:
            name = path[path.rindex("{") + 1 : -1]
            return {name: self._ensure(path)}
        assert "{" not in path, f"no existing object known for {path}"
        return None


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[str, dict[str, str], Known]]:
    """An emulator of this module's own (fuzzed writes never reach other tests)."""
    with EmbeddedEmulator(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET) as emu:
        token = get_token(emu.url)
        yield emu.url, {"Authorization": f"Bearer {token}"}, Known(Api(emu.url, token))


@SCHEMA.parametrize()
def test_every_operation_conforms(case: Any, target: tuple[str, dict[str, str], Known]) -> None:
    url, headers, known = target
    case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)
    existing = known.parameters(case.operation.path)
    if existing is not None:
        case.path_parameters = {**(case.path_parameters or {}), **existing}
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)


def test_served_spec_lists_every_route_the_emulator_serves() -> None:
    """The fuzzing covers the emulator: every served rule and method is a spec operation."""
    from reconcile.emulator.app import collect_routes

    spec_ops = {
        (method.upper(), path)
        for path, item in served_spec()["paths"].items()
        for method in _METHODS
        if method in item
    }
    served = {
        (method, route.rule.replace("<", "{").replace(">", "}"))
        for route in collect_routes()
        for method in route.methods
    }
    assert served <= spec_ops, sorted(served - spec_ops)
