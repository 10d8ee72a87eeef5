"""Asset writes over HTTP: environment, compute and every data source type (2.24 shapes)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api, assert_valid

ASSET = "/api/v1/asset"
# (path, store kind, a valid spec, the response schema).
FAMILIES = [
    ("environment", "environment", {"image": "python:3.12"}, "EnvironmentAsset"),
    ("compute", "compute", {"gpuDevicesRequest": 1}, "ComputeAsset"),
    ("datasource/pvc", "pvc", {"path": "/data", "claimName": "data"}, "PVCAsset"),
    ("datasource/git", "git", {"repository": "https://example.com/r.git", "path": "/r"},
     "GitAsset"),
    ("datasource/s3", "s3", {"bucket": "b", "path": "/s3"}, "S3Asset"),
    ("datasource/nfs", "nfs", {"server": "nfs.example.com", "path": "/x", "mountPath": "/x"},
     "NFSAsset"),
    ("datasource/host-path", "hostPath", {"path": "/mnt", "mountPath": "/mnt"}, "HostPathAsset"),
    ("datasource/config-map", "config-map", {"configMap": "cm", "mountPath": "/etc/cm"},
     "ConfigMapAsset"),
    ("datasource/secrets", "secret-volume", {"mountPath": "/etc/s"}, "SecretAsset"),
]  # fmt: skip


def _meta(name: str, scope: str = "project") -> dict[str, Any]:
    ids: dict[str, dict[str, Any]] = {
        "project": {"projectId": int(TEAM_A)},
        "department": {"departmentId": RESEARCH},
        "cluster": {"clusterId": CLUSTER_A},
    }
    return {"name": name, "scope": scope, **ids.get(scope, {})}


@pytest.mark.parametrize(("path", "kind", "spec", "schema"), FAMILIES)
def test_create_get_update_delete(
    api: Api, path: str, kind: str, spec: dict[str, Any], schema: str
) -> None:
    created = api.post(f"{ASSET}/{path}", {"meta": _meta("mine"), "spec": spec})
    assert created.status_code == 202, created.text
    body = created.json()
    assert_valid(schema, body)
    meta = body["meta"]
    assert (meta["kind"], meta["scope"], meta["projectId"], meta["departmentId"]) == (
        kind,
        "project",
        int(TEAM_A),
        RESEARCH,
    )
    asset_id = meta["id"]
    assert api.get(f"{ASSET}/{path}/{asset_id}").json() == body
    again = api.post(f"{ASSET}/{path}", {"meta": _meta("mine"), "spec": spec})
    assert again.status_code == 409, again.text

    update = {"meta": {"name": "renamed", "description": "now described"}, "spec": spec}
    updated = api.put(f"{ASSET}/{path}/{asset_id}", update)
    assert updated.status_code == 202, updated.text
    assert (updated.json()["meta"]["name"], updated.json()["meta"]["updateCount"]) == ("renamed", 1)
    assert updated.json()["meta"]["scope"] == "project"  # fixed at creation

    assert api.call("DELETE", f"{ASSET}/{path}/{asset_id}").status_code == 202
    assert api.get(f"{ASSET}/{path}/{asset_id}").status_code == 404
    assert api.call("DELETE", f"{ASSET}/{path}/{asset_id}").status_code == 404


def test_a_data_source_is_found_only_under_its_own_type(api: Api) -> None:
    created = api.post(
        f"{ASSET}/datasource/pvc", {"meta": _meta("home2"), "spec": {"claimName": "h"}}
    ).json()
    assert api.get(f"{ASSET}/datasource/git/{created['meta']['id']}").status_code == 404
    listed = api.get(f"{ASSET}/datasource", name="home2").json()["entries"]
    assert [e["spec"]["pvc"]["claimName"] for e in listed] == ["h"]
    # Schema defaults are filled on write, as the server does.
    assert listed[0]["spec"]["pvc"]["readOnly"] is False


def test_names_are_unique_per_kind_and_scope(api: Api) -> None:
    spec = {"image": "python:3.12"}
    assert api.post(f"{ASSET}/environment", {"meta": _meta("x"), "spec": spec}).status_code == 202
    tenant = api.post(f"{ASSET}/environment", {"meta": _meta("x", "tenant"), "spec": spec})
    assert tenant.status_code == 202, tenant.text
    compute = api.post(f"{ASSET}/compute", {"meta": _meta("x"), "spec": {}})
    assert compute.status_code == 202, compute.text


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        ({"name": "x", "scope": "project"}, "projectId"),
        ({"name": "x", "scope": "project", "projectId": 999}, "no project"),
        ({"name": "x", "scope": "system"}, "reserved"),
    ],
)
def test_bad_scopes_are_refused(api: Api, meta: dict[str, Any], problem: str) -> None:
    response = api.post(f"{ASSET}/environment", {"meta": meta, "spec": {"image": "i"}})
    assert response.status_code == 400 and problem in response.json()["message"], response.text


def test_fail_route_refuses_one_route_only(api: Api) -> None:
    faults = api.call(
        "PUT", "/_emulator/faults", json={"fail_route": "POST /api/v1/asset/environment"}
    )
    assert faults.status_code == 200, faults.text
    refused = api.post(f"{ASSET}/environment", {"meta": _meta("x"), "spec": {"image": "i"}})
    assert refused.status_code == 400 and "injected" in refused.json()["message"]
    assert api.post(f"{ASSET}/compute", {"meta": _meta("x"), "spec": {}}).status_code == 202
    assert api.get(f"{ASSET}/environment", name="x").json()["entries"] == []
    api.call("PUT", "/_emulator/faults", json={"fail_route": ""})
    made = api.post(f"{ASSET}/environment", {"meta": _meta("x"), "spec": {"image": "i"}})
    assert made.status_code == 202
