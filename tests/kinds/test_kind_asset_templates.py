"""The legacy asset template kind: asset names <-> ids, scope fields, full-body PUT."""

from __future__ import annotations

from typing import Any

from reconcile.emulator.openapi import OpenApi
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import KINDS
from reconcile.model import Address
from tests.emulator.helpers import CLUSTER_A

KIND = KINDS["AssetTemplate"]
JUPYTER_ID = "98107013-7931-4fbe-b66a-e31d7f380853"
OPENAPI = OpenApi()
DOC: dict[str, Any] = {
    "metadata": {"description": "Legacy Jupyter"},
    "spec": {
        "assets": {
            "environment": "jupyter-lab",
            "compute": "cpu-only",
            "datasources": [{"name": "home", "kind": "pvc"}],
        },
        "specificEnv": {"args": "--debug", "imagePullSecrets": [{"name": "reg"}]},
    },
}


def test_create_body_resolves_asset_ids_and_types_project_id_as_int(lookups: Lookups) -> None:
    address = Address("asset-template", "project=team-a", "legacy")
    request = KIND.create_request(address, KIND.normalize(DOC), lookups)
    assert (request.method, request.path) == ("POST", "/api/v1/asset/workload-template")
    assert request.body == {
        "meta": {
            "name": "legacy",
            "description": "Legacy Jupyter",
            "scope": "project",
            "projectId": 42,
        },
        "spec": {
            "assets": {
                "environment": JUPYTER_ID,
                "compute": "f4270c12-3c98-45db-a01f-1184a8e219b9",
                # team-a's own pvc `home`, not the tenant's of the same name
                "datasources": [{"id": "4c8e9340-0f59-4527-b47c-babbb7118953", "kind": "pvc"}],
            },
            "specificEnv": {
                "args": "--debug",
                "imagePullSecrets": [{"exclude": False, "name": "reg"}],  # schema default
            },
        },
    }
    assert OPENAPI.validate("WorkloadTemplateCreationRequest", request.body) == []


def test_department_and_cluster_scopes_send_their_own_id_field(lookups: Lookups) -> None:
    doc = {"spec": {"assets": {"environment": "jupyter-lab"}}}
    dept = KIND.create_request(Address("asset-template", "department=research", "t"), doc, lookups)
    assert dept.body["meta"] == {"name": "t", "scope": "department", "departmentId": "2"}
    cluster = KIND.create_request(Address("asset-template", "cluster=cluster-a", "t"), doc, lookups)
    assert cluster.body["meta"] == {"name": "t", "scope": "cluster", "clusterId": CLUSTER_A}


def test_update_is_a_full_put_without_scope(lookups: Lookups) -> None:
    address = Address("asset-template", "project=team-a", "legacy")
    request = KIND.update_request(address, "tid", KIND.normalize(DOC), fields=[], lookups=lookups)
    assert (request.method, request.path) == ("PUT", "/api/v1/asset/workload-template/tid")
    assert request.body["meta"] == {"name": "legacy", "description": "Legacy Jupyter"}
    assert request.body["spec"]["assets"]["compute"] == "f4270c12-3c98-45db-a01f-1184a8e219b9"
    assert OPENAPI.validate("WorkloadTemplateUpdateRequest", request.body) == []


def test_from_live_maps_asset_refs_back_to_names(lookups: Lookups) -> None:
    obj = {
        "meta": {
            "id": "tid", "name": "legacy", "kind": "workload-template", "scope": "project",
            "projectId": 42, "departmentId": "2", "clusterId": CLUSTER_A,
            "createdBy": "a", "createdAt": "2025-01-01T00:00:00Z",
            "updatedBy": "b", "updatedAt": "2025-02-01T00:00:00Z", "description": None,
        },
        "spec": {
            "assets": {
                "environment": {"id": JUPYTER_ID, "name": "jupyter-lab"},
                "compute": None,
                # An asset the lookups do not know keeps the name the ref carries.
                "datasources": [{"id": "unknown-id", "name": "scratch", "kind": "nfs"}],
            },
            "specificEnv": {"args": "--debug"},
        },
    }  # fmt: skip
    assert OPENAPI.validate("WorkloadTemplate", obj) == []
    address, spec, meta = KIND.from_live(obj, lookups)
    assert str(address) == "asset-template/project=team-a/legacy"
    assert spec == {
        "spec": {
            "assets": {
                "environment": "jupyter-lab",
                "datasources": [{"kind": "nfs", "name": "scratch"}],
            },
            "specificEnv": {"args": "--debug"},
        }
    }
    assert (meta.remote_id, meta.updated_by, meta.updated_at) == (
        "tid",
        "b",
        "2025-02-01T00:00:00Z",
    )


def test_find_by_name_asks_for_the_one_scope(lookups: Lookups) -> None:
    request = KIND.find_by_name_request(Address("asset-template", "project=team-a", "x"), lookups)
    assert request.query == {"name": "x", "scope": "project", "projectId": "42"}
    tenant = KIND.find_by_name_request(Address("asset-template", "tenant", "x"), lookups)
    assert tenant.query == {"name": "x", "scope": "tenant"}
    assert KIND.immutable_paths(["spec.assets.environment", "metadata.description"]) == ()
