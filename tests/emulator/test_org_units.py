"""Org-unit and node pool writes over HTTP: status codes, shapes, and what the server refuses."""

from __future__ import annotations

from typing import Any

from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api, assert_valid

PROJECTS = "/api/v1/org-unit/projects"
DEPARTMENTS = "/api/v1/org-unit/departments"
POOLS = "/api/v1/node-pools"
CLUSTER_B = "9f55255e-11ed-47c7-acef-fc4054768dbc"


def _pools(api: Api, **params: str) -> list[dict[str, Any]]:
    response = api.get(POOLS, **params)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"nodepools"}
    pools: list[dict[str, Any]] = response.json()["nodepools"]
    return pools


def _default_pool(api: Api, cluster: str) -> str:
    (pool,) = _pools(api, filterBy=f"clusterId=={cluster}")
    assert pool["name"] == "default" and pool["isDefault"] is True
    return str(pool["id"])


def _quota(pool_id: str, gpu: float) -> list[dict[str, Any]]:
    return [{"nodePool": {"id": pool_id}, "gpu": {"deserved": gpu}}]


def test_every_cluster_has_its_default_pool_and_units_give_quota_in_it(api: Api) -> None:
    pools = _pools(api)
    assert sorted((p["clusterId"], p["name"]) for p in pools) == [
        (CLUSTER_A, "default"),
        (CLUSTER_B, "default"),
    ]
    for pool in pools:
        assert_valid("Nodepool", pool)
    team_a = api.get(f"{PROJECTS}/{TEAM_A}").json()
    assert [r["nodePool"]["id"] for r in team_a["resources"]] == [_default_pool(api, CLUSTER_A)]


def test_node_pool_create_update_delete(api: Api) -> None:
    body = {"name": "a100", "clusterId": CLUSTER_A, "labelKey": "gpu", "labelValue": "a100"}
    created = api.post(POOLS, body)
    assert created.status_code == 201, created.text
    assert_valid("Nodepool", created.json())
    pool_id = created.json()["id"]
    assert api.post(POOLS, body).status_code == 409
    assert api.post(POOLS, {**body, "clusterId": CLUSTER_B}).status_code == 201  # per cluster
    updated = api.put(f"{POOLS}/{pool_id}", {"placementStrategy": {"gpu": "binpack"}})
    assert updated.status_code == 200
    assert updated.json()["placementStrategy"] == {"gpu": "binpack"}
    assert updated.json()["labelValue"] == "a100"  # a PUT changes only the fields it names
    assert api.post(POOLS, {"name": "x", "clusterId": CLUSTER_A}).status_code == 400  # labels
    assert api.delete(f"{POOLS}/{pool_id}").status_code == 204
    assert api.get(f"{POOLS}/{pool_id}").status_code == 404
    default = _default_pool(api, CLUSTER_A)
    assert api.delete(f"{POOLS}/{default}").status_code == 400


def test_department_and_project_lifecycle(api: Api) -> None:
    default = _default_pool(api, CLUSTER_A)
    department = api.post(
        DEPARTMENTS,
        {"name": "vision", "clusterId": CLUSTER_A, "resources": _quota(default, 8)},
    )
    assert department.status_code == 201, department.text
    assert_valid("Department", department.json())
    dep_id = department.json()["id"]
    duplicate = {"name": "vision", "clusterId": CLUSTER_A, "resources": []}
    assert api.post(DEPARTMENTS, duplicate).status_code == 409
    project = api.post(
        PROJECTS,
        {
            "name": "detection",
            "clusterId": CLUSTER_A,
            "parentId": dep_id,
            "requestedNamespace": "runai-det",
            "resources": _quota(default, 4),
        },
    )
    assert project.status_code == 201, project.text
    assert_valid("Project", project.json())
    project_id = project.json()["id"]
    assert project.json()["status"]["namespace"] == "runai-det"
    assert project.json()["resources"][0]["nodePool"] == {"id": default, "name": "default"}

    quota = api.put(f"{PROJECTS}/{project_id}/resources", _quota(default, 6))
    assert quota.status_code == 200, quota.text
    assert [r["gpu"]["deserved"] for r in quota.json()] == [6]
    assert api.put(f"{PROJECTS}/{project_id}/resources", {"gpu": 1}).status_code == 400
    update = api.put(
        f"{PROJECTS}/{project_id}", {"description": "boxes", "resources": _quota(default, 6)}
    )
    assert update.status_code == 200 and update.json()["description"] == "boxes"

    assert api.delete(f"{DEPARTMENTS}/{dep_id}").status_code == 400  # it has a project
    assert api.delete(f"{PROJECTS}/{project_id}").status_code == 204
    assert api.get(f"{DEPARTMENTS}/{dep_id}").json()["children"] == []
    assert api.delete(f"{DEPARTMENTS}/{dep_id}").status_code == 204
    assert api.get(f"{DEPARTMENTS}/{dep_id}").status_code == 404


def test_units_refuse_pools_of_other_clusters_and_unknown_parents(api: Api) -> None:
    other = _default_pool(api, CLUSTER_B)
    wrong_pool = {"name": "x", "clusterId": CLUSTER_A, "resources": _quota(other, 1)}
    assert api.post(DEPARTMENTS, wrong_pool).status_code == 400
    orphan = {"name": "x", "clusterId": CLUSTER_A, "parentId": "999", "resources": []}
    assert api.post(PROJECTS, orphan).status_code == 400
    elsewhere = {"name": "x", "clusterId": CLUSTER_B, "parentId": RESEARCH, "resources": []}
    assert api.post(PROJECTS, elsewhere).status_code == 400
    assert api.put(f"{PROJECTS}/999/resources", []).status_code == 404
