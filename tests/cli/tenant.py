"""An existing tenant made the way a UI or a script makes one: plain API calls over HTTP, not
this tool. Every managed kind at every scope type it has, with values worth importing: schema
defaults written out, a credential in an environment variable, Run:ai's own `${...}` text.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api

TYPES = "/api/v1/workload-types"
TEMPLATES = "/api/v1/workload-templates"
ASSETS = "/api/v1/asset"
ASSET_TEMPLATES = f"{ASSETS}/workload-template"
V2 = "/api/v2/workloads"
CREDENTIALS = "/api/v1/asset/credentials"
REGISTRIES = "/api/v1/asset/registries"
RULES = "/api/v1/authorization/access-rules"
TRAIN, LOW, HIGH = (
    "758b4978-ba4a-4f9c-add6-058c3c17dc68",
    "8634ed19-776c-4ffa-9b6d-72ba28cea37f",
    "26e8193c-435f-45af-8daa-f61696f0a560",
)
PYTORCHJOB = "2942874d-376c-45af-9927-a7cab01e08cb"
JUPYTER, ONE_GPU = "98107013-7931-4fbe-b66a-e31d7f380853", "2b53ff03-61f2-4d52-9960-3fdb594dba79"
HOME = "4c8e9340-0f59-4527-b47c-babbb7118953"  # pvc, project team-a
SECRET = "s3cr3t-value"  # an environment variable's value: must never be written in clear

# (template collection, address kind) and the scope types with their ids.
FLAVORS = {
    "workspaces": "workspace-template",
    "trainings": "training-template",
    "distributed": "distributed-template",
    "inferences": "inference-template",
}
SCOPES = {
    "tenant": ("tenant", "1"),
    "cluster=cluster-a": ("cluster", CLUSTER_A),
    "department=research": ("department", RESEARCH),
    "project=team-a": ("project", TEAM_A),
}
SPEC: dict[str, Any] = {
    "image": "python:3.11",
    "args": "--base=/${RUNAI_PROJECT}/x",
    "compute": {"gpuDevicesRequest": 1, "cpuMemoryRequest": "4G"},
    "environmentVariables": [{"name": "API_KEY", "value": SECRET}, {"name": "MODE", "value": "on"}],
    "storage": {
        "pvc": [{"claimName": "home", "path": "/home", "exclude": False, "readOnly": False}]
    },
}


def template_address(flavor: str, scope: str, name: str) -> str:
    return f"{FLAVORS[flavor]}/{scope}/{name}"


def create_tenant(api: Api) -> list[str]:
    """Create one object of every kind at every scope type; returns their addresses."""
    made: list[str] = []
    for flavor in FLAVORS:
        for scope, (scope_type, scope_id) in SCOPES.items():
            name = f"{flavor}-{scope_type}"
            body: dict[str, Any] = {
                "meta": {"name": name, "scopeType": scope_type, "scopeId": scope_id},
                "spec": copy.deepcopy(SPEC),
            }
            if scope_type == "project":
                body["meta"]["description"] = "made in the UI"
            if flavor == "distributed":
                body["spec"].update(distributedFramework="PyTorch", numWorkers=2)
                body["masterSpecSameAsWorker"] = False
                body["master"] = {"spec": {"image": "python:3.11-slim"}}
            _ok(api.post(f"{TEMPLATES}/{flavor}", body))
            made.append(template_address(flavor, scope, name))
    for scope, meta in {
        "tenant": {"scope": "tenant"},
        "cluster=cluster-a": {"scope": "cluster", "clusterId": CLUSTER_A},
        "department=research": {"scope": "department", "departmentId": RESEARCH},
        "project=team-a": {"scope": "project", "projectId": int(TEAM_A)},
    }.items():
        name = f"legacy-{meta['scope']}"
        assets: dict[str, Any] = {"environment": JUPYTER, "compute": ONE_GPU}
        if meta["scope"] == "project":
            assets["datasources"] = [{"id": HOME, "kind": "pvc"}]
        specific = {"args": "--debug", "environmentVariables": [{"name": "TOKEN", "value": SECRET}]}
        body = {"meta": {"name": name, **meta}, "spec": {"assets": assets, "specificEnv": specific}}
        _ok(api.post(ASSET_TEMPLATES, body))
        made.append(f"asset-template/{scope}/{name}")
    made += _assets(api)
    custom = {"name": "FooJob", "group": "example.com", "categoryId": TRAIN, "priorityId": LOW}
    _ok(api.post(TYPES, custom))
    _ok(api.put(f"{TYPES}/{PYTORCHJOB}", {"priorityId": HIGH}))  # a built-in, changed
    made += ["workload-type/FooJob", "workload-type/PyTorchJob"]
    _ok(api.post(V2, workload_body("web")))
    made.append("workload/project=team-a/web")
    made += _credentials(api)
    for subject, kind, role, (scope_type, scope_id), scope in (
        ("alice@example.com", "user", 7, SCOPES["project=team-a"], "project=team-a"),
        ("ml-team", "group", 8, SCOPES["department=research"], "department=research"),
        ("ops@example.com", "user", 3, SCOPES["tenant"], "tenant"),
    ):
        rule = {"subjectId": subject, "subjectType": kind, "roleId": role,
                "scopeType": scope_type, "scopeId": scope_id}  # fmt: skip
        _ok(api.post(RULES, rule))
        made.append(f"access-rule/{scope}/{subject}")
    return made


def _credentials(api: Api) -> list[str]:
    """A credential of each type (one taken from a Kubernetes secret) and a registry: their
    secrets (SECRET) are sent once and never answered."""
    made = []
    for kind, name, (scope, meta), spec in (
        ("access-key", "bucket", ("project=team-a", {"scope": "project", "projectId": int(TEAM_A)}),
         {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": SECRET}),
        ("password", "db", ("department=research",
                            {"scope": "department", "departmentId": RESEARCH}),
         {"user": "reader", "password": SECRET}),
        ("docker-registry", "hub",
         ("cluster=cluster-a", {"scope": "cluster", "clusterId": CLUSTER_A}),
         {"user": "bot", "password": SECRET, "url": "https://registry.example.com"}),
        ("generic-secret", "from-cluster", ("tenant", {"scope": "tenant"}),
         {"existingSecretName": "shared-tokens"}),
        ("ngc-api-key", "ngc", ("tenant", {"scope": "tenant"}), {"ngc_api_key": SECRET}),
    ):  # fmt: skip
        body = {"meta": {"name": name, **meta}, "spec": spec}
        _ok(api.post(f"{CREDENTIALS}/{kind}", body))
        made.append(f"credential/{scope}/{name}")
    registry = {"url": "https://registry.example.com", "credentialKind": "password",
                "user": "bot", "password": SECRET}  # fmt: skip
    _ok(api.post(REGISTRIES, {"meta": {"name": "internal", "scope": "tenant"}, "spec": registry}))
    return [*made, "registry/tenant/internal"]


# A data source of every type, as the API's per-type collections take them (the seed has
# tenant, department and project assets; these are at the cluster scope).
DATASOURCES = {
    "pvc": ("pvc", {"path": "/data", "claimName": "data", "readOnly": False}),
    "git": ("git", {"repository": "https://example.com/r.git", "branch": "main", "path": "/r"}),
    "s3": ("s3", {"bucket": "b", "path": "/s3", "url": "https://s3.example.com"}),
    "nfs": ("nfs", {"server": "nfs.example.com", "path": "/x", "mountPath": "/x"}),
    "host-path": ("host-path", {"path": "/mnt", "mountPath": "/mnt", "readOnly": True}),
    "config-map": ("config-map", {"configMap": "cm", "mountPath": "/etc/cm"}),
    "secret": ("secrets", {"mountPath": "/etc/s", "defaultMode": "0644"}),
}


def _assets(api: Api) -> list[str]:
    meta = {"scope": "cluster", "clusterId": CLUSTER_A}
    environment = {
        "meta": {"name": "shell", "description": "made in the UI", **meta,
                 "workloadSupportedTypes": {"workspace": True, "training": True}},
        "spec": {"image": "ubuntu:24.04", "uidGidSource": "fromTheImage",
                 "environmentVariables": [{"name": "MODE", "value": "on"}]},
    }  # fmt: skip
    _ok(api.post(f"{ASSETS}/environment", environment))
    compute = {"meta": {"name": "big", **meta}, "spec": {"gpuDevicesRequest": 8}}
    _ok(api.post(f"{ASSETS}/compute", compute))
    made = ["environment/cluster=cluster-a/shell", "compute/cluster=cluster-a/big"]
    for number, (segment, spec) in enumerate(DATASOURCES.values()):
        body = {"meta": {"name": f"source-{number}", **meta}, "spec": spec}
        _ok(api.post(f"{ASSETS}/datasource/{segment}", body))
        made.append(f"datasource/cluster=cluster-a/source-{number}")
    return made


def workload_body(name: str) -> dict[str, Any]:
    container = {"name": "app", "image": "nginx:1.27", "env": [{"name": "X", "value": "${Y}"}]}
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
    }
    return {"metadata": {"name": name, "projectId": TEAM_A}, "manifest": manifest}


def _ok(response: Any) -> None:
    assert response.status_code < 300, response.text
