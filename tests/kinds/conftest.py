"""Fixtures for the kind tests: the seeded org as the API lists it, and the kind driver.

`driver` executes what the kinds describe against the shared emulator (reset per test) over
loopback HTTP, the way the live reader and the applier will through the client.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.kinds.lookups import Lookups
from tests.emulator.helpers import CLUSTER_A, Api
from tests.kinds.driver import KindDriver

CLUSTER_B = "9f55255e-11ed-47c7-acef-fc4054768dbc"


def _asset(asset_id: str, name: str, kind: str, scope: str, **ids: Any) -> dict[str, Any]:
    meta = {"id": asset_id, "name": name, "kind": kind, "scope": scope, "createdBy": "admin"}
    return {"meta": {**meta, **ids}, "spec": {}}


@pytest.fixture(scope="session")
def org_lists() -> dict[str, list[dict[str, Any]]]:
    """The default seed's org objects, shaped as the list endpoints return them."""
    return {
        "clusters": [
            {"uuid": CLUSTER_A, "name": "cluster-a", "tenantId": 1, "createdAt": "2025-01-06"},
            {"uuid": CLUSTER_B, "name": "cluster-b", "tenantId": 1, "createdAt": "2025-01-06"},
        ],
        "departments": [
            {"id": "2", "name": "research", "clusterId": CLUSTER_A},
            {"id": "3", "name": "platform", "clusterId": CLUSTER_A},
        ],
        "projects": [
            {"id": "42", "name": "team-a", "clusterId": CLUSTER_A, "parentId": "2"},
            {"id": "43", "name": "team-b", "clusterId": CLUSTER_A, "parentId": "2"},
            {"id": "44", "name": "inference", "clusterId": CLUSTER_A, "parentId": "3"},
        ],
        "categories": [
            {"id": "8dc7c193-9df3-4ed3-a96e-66d39a1790b2", "name": "Build"},
            {"id": "758b4978-ba4a-4f9c-add6-058c3c17dc68", "name": "Train"},
            {"id": "4cb22319-a037-4a7f-aa7f-695fb3281ec1", "name": "Deploy"},
        ],
        "priorities": [
            {"id": "f388c767-c0f9-4e1e-bae1-45a93062c2c3", "name": "medium", "value": 80},
            {"id": "26e8193c-435f-45af-8daa-f61696f0a560", "name": "high", "value": 125},
        ],
        "environments": [
            _asset("98107013-7931-4fbe-b66a-e31d7f380853", "jupyter-lab", "environment", "tenant"),
        ],
        "computes": [
            _asset("2b53ff03-61f2-4d52-9960-3fdb594dba79", "one-gpu", "compute", "tenant"),
            _asset(
                "f4270c12-3c98-45db-a01f-1184a8e219b9",
                "cpu-only",
                "compute",
                "department",
                departmentId="2",
                clusterId=CLUSTER_A,
            ),
        ],
        "datasources": [
            # Asset meta types projectId as an int32.
            _asset(
                "4c8e9340-0f59-4527-b47c-babbb7118953",
                "home",
                "pvc",
                "project",
                projectId=42,
                departmentId="2",
                clusterId=CLUSTER_A,
            ),
            _asset("a79396ce-caa7-41ea-9cd0-273a43e51702", "home", "pvc", "tenant"),
        ],
    }


@pytest.fixture(scope="session")
def lookups(org_lists: dict[str, list[dict[str, Any]]]) -> Lookups:
    return Lookups.from_api(org_lists)


@pytest.fixture
def driver(api: Api) -> KindDriver:
    """The kind driver on the shared, freshly reset emulator (tests/conftest.py)."""
    return KindDriver(api)
