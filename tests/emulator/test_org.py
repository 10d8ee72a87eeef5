"""Org lookups over HTTP: projects, departments, clusters (seeded), their filters and paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api, assert_valid, get_token

PROJECTS = "/api/v1/org-unit/projects"
DEPARTMENTS = "/api/v1/org-unit/departments"
CLUSTERS = "/api/v1/clusters"
CLUSTER_B = "9f55255e-11ed-47c7-acef-fc4054768dbc"


def _names(api: Api, path: str, key: str, **params: str) -> list[str]:
    response = api.get(path, **params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()[key]]


def test_projects_list_and_get(api: Api) -> None:
    body = api.get(PROJECTS).json()
    assert set(body) == {"projects"}  # no `next`: everything fits
    assert [p["name"] for p in body["projects"]] == ["team-a", "team-b", "inference"]
    for project in body["projects"]:
        assert_valid("Project", project)
    team_a = api.get(f"{PROJECTS}/{TEAM_A}")
    assert team_a.status_code == 200
    assert_valid("Project", team_a.json())
    got = team_a.json()
    assert (got["name"], got["parentId"], got["clusterId"]) == ("team-a", RESEARCH, CLUSTER_A)
    assert got["parent"] == {"id": RESEARCH, "name": "research"}
    assert got["status"]["namespace"] == "runai-team-a"
    assert got == body["projects"][0]


def test_departments_list_and_get(api: Api) -> None:
    body = api.get(DEPARTMENTS).json()
    assert [d["name"] for d in body["departments"]] == ["research", "platform", "default"]
    for department in body["departments"]:
        assert_valid("DepartmentForList", department)
        assert "status" not in department
    verbose = api.get(DEPARTMENTS, verbosity="verbose").json()["departments"][0]
    assert set(verbose["status"]) == {"quotaStatus"}
    research = api.get(f"{DEPARTMENTS}/{RESEARCH}")
    assert research.status_code == 200
    assert_valid("Department", research.json())
    children = research.json()["children"]
    assert [c["name"] for c in children] == ["team-a", "team-b"]
    assert research.json()["clusterId"] == CLUSTER_A


def test_clusters_bare_array_with_uuid(api: Api) -> None:
    full = api.get(CLUSTERS)
    assert full.status_code == 200
    assert isinstance(full.json(), list)
    assert [(c["uuid"], c["name"]) for c in full.json()] == [
        (CLUSTER_A, "cluster-a"),
        (CLUSTER_B, "cluster-b"),
    ]
    for cluster in full.json():
        assert_valid("DisplayedCluster", cluster)
    brief = api.get(CLUSTERS, verbosity="metadata").json()
    assert set(brief[0]) == {"uuid", "name", "tenantId", "createdAt"}
    one = api.get(f"{CLUSTERS}/{CLUSTER_B}")
    assert one.status_code == 200 and one.json() == full.json()[1]
    assert_valid(
        "DisplayedCluster", api.get(f"{CLUSTERS}/{CLUSTER_A}", verbosity="metadata").json()
    )
    assert api.get(CLUSTERS, verbosity="loud").status_code == 400


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("name==team-b", ["team-b"]),
        ("name!=team-b", ["team-a", "inference"]),
        ("name=@eam", ["team-a", "team-b"]),
        ("name!@eam", ["inference"]),
        ("name=^inf", ["inference"]),
        ("name=$-a", ["team-a"]),
        ("parentName==platform", ["inference"]),
        ("departmentId==2", ["team-a", "team-b"]),
        ("totalGpuQuota>=8", ["team-a", "team-b", "inference"]),
        ("totalGpuQuota<=7", []),
        ("createdAt<=2025-01-06T09:00:00Z", ["team-a", "team-b", "inference"]),
        ("phase==Ready,clusterId==" + CLUSTER_A, ["team-a", "team-b", "inference"]),
    ],
)
def test_project_filters(api: Api, term: str, expected: list[str]) -> None:
    assert _names(api, PROJECTS, "projects", filterBy=term) == expected


def test_org_sort_search_and_filter_errors(api: Api) -> None:
    assert _names(api, PROJECTS, "projects", sortBy="name", sortOrder="desc") == [
        "team-b",
        "team-a",
        "inference",
    ]
    assert _names(api, PROJECTS, "projects", search="TEAM") == ["team-a", "team-b"]
    assert _names(api, DEPARTMENTS, "departments", filterBy="clusterId==" + CLUSTER_B) == [
        "default"
    ]
    for path in (PROJECTS, DEPARTMENTS):
        bad = api.get(path, filterBy="colour==red")
        assert bad.status_code == 400
        assert_valid("Error", bad.json())
    # parentId is a project field only
    assert api.get(DEPARTMENTS, filterBy="parentId==2").status_code == 400


@pytest.mark.parametrize("path", [f"{PROJECTS}/999", f"{DEPARTMENTS}/999", f"{CLUSTERS}/{TEAM_A}"])
def test_unknown_ids_are_404(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert_valid("Error", response.json())


@pytest.mark.parametrize(
    "path",
    [PROJECTS, f"{PROJECTS}/{TEAM_A}", DEPARTMENTS, f"{DEPARTMENTS}/2", CLUSTERS,
     f"{CLUSTERS}/{CLUSTER_A}"],
)  # fmt: skip
def test_org_routes_need_a_token(emulator: EmbeddedEmulator, path: str) -> None:
    response = Api(emulator.url).get(path)
    assert response.status_code == 401
    assert_valid("Error", response.json())


# --- a big tenant from a custom seed ---------------------------------------------------------

BIG = 520


@pytest.fixture(scope="module")
def big_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An emulator seeded with 520 projects under one department (org units have no write
    API, so the seed is the way to get more than 500 of them)."""
    seed: Path = tmp_path_factory.mktemp("seed") / "seed.yaml"
    lines = [
        "clusters: [{name: big, uuid: 0b5d6a8e-7a63-4b43-8d3a-3f1f7c1b2a10}]",
        "departments:",
        *(f"  - {{id: '{i}', name: dep-{i:03d}, cluster: big}}" for i in range(1, 511)),
        "projects:",
        *(f"  - {{name: p{i:04d}, department: dep-001, gpuQuota: {i % 5}}}" for i in range(BIG)),
    ]
    seed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with EmbeddedEmulator(seed=seed) as server:
        yield Api(server.url, get_token(server.url, "emulator", "emulator-secret"))


def _walk(api: Api, path: str, key: str, **params: str) -> tuple[list[str], int]:
    """Follow `next` until it is gone; returns the names seen and the number of requests."""
    names: list[str] = []
    offset: int | None = 0
    requests = 0
    while offset is not None:
        body = api.get(path, offset=str(offset), limit="500", **params).json()
        requests += 1
        names += [item["name"] for item in body[key]]
        offset = body.get("next")
    return names, requests


def test_projects_paginate_past_500(big_tenant: Api) -> None:
    first = big_tenant.get(PROJECTS, limit="500").json()
    assert len(first["projects"]) == 500 and first["next"] == 500
    names, requests = _walk(big_tenant, PROJECTS, "projects")
    assert names == [f"p{i:04d}" for i in range(BIG)] and requests == 2
    assert len(big_tenant.get(PROJECTS).json()["projects"]) == 50  # default limit
    ids = [p["id"] for p in big_tenant.get(PROJECTS, limit="3").json()["projects"]]
    assert ids == ["101", "102", "103"]  # seed entries without ids take the next integers
    quota4 = big_tenant.get(PROJECTS, filterBy="totalGpuQuota>=4", limit="500").json()
    assert len(quota4["projects"]) == BIG // 5 and "next" not in quota4


def test_departments_paginate_past_500(big_tenant: Api) -> None:
    names, requests = _walk(big_tenant, DEPARTMENTS, "departments", sortBy="name")
    assert names == [f"dep-{i:03d}" for i in range(1, 511)] and requests == 2
    assert big_tenant.get(DEPARTMENTS, limit="501").status_code == 400
