"""Departments, projects and node pools: quotas by node pool name, the resources endpoint for
quota-only changes, and planned ids for org units a plan creates."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import PlanError
from reconcile.kinds.lookups import PLANNED_PREFIX, Lookups, Named
from reconcile.kinds.node_pools import NODE_POOL
from reconcile.kinds.org_units import DEPARTMENT, PROJECT
from reconcile.model import Address, FieldChange, FieldChangeKind, Resource
from reconcile.planner import with_planned
from tests.emulator.helpers import CLUSTER_A

CLUSTER_B = "9f55255e-11ed-47c7-acef-fc4054768dbc"
POOLS = [
    {"id": "1", "name": "default", "clusterId": CLUSTER_A},
    {"id": "2", "name": "default", "clusterId": CLUSTER_B},
    {"id": "7", "name": "a100", "clusterId": CLUSTER_A},
]
QUOTAS = {"a100": {"gpu": {"deserved": 2}}, "default": {"gpu": {"deserved": 4, "limit": 8}}}


@pytest.fixture
def org(org_lists: dict[str, list[dict[str, Any]]]) -> Lookups:
    return Lookups.from_api({**org_lists, "nodepools": POOLS})


def _project(org: Lookups) -> tuple[Address, dict[str, Any]]:
    address = Address("project", "department=research", "vision")
    return address, PROJECT.normalize({"spec": {"resources": QUOTAS, "requestedNamespace": "v"}})


def test_live_projects_read_their_quotas_by_node_pool_name(org: Lookups) -> None:
    live = {
        "id": "42", "name": "team-a", "clusterId": CLUSTER_A, "parentId": "2",
        "description": "", "status": {"namespace": "runai-team-a"},
        "resources": [
            {"nodePool": {"id": "7", "name": "a100"}, "gpu": {"deserved": 2}, "cpu": None},
            {"nodePool": {"id": "1", "name": "default"}, "gpu": {"deserved": 4, "limit": 8}},
        ],
    }  # fmt: skip
    address, spec, meta = PROJECT.from_live(live, org)
    assert str(address) == "project/department=research/team-a" and meta.remote_id == "42"
    assert spec == {"spec": {"requestedNamespace": "runai-team-a", "resources": QUOTAS}}


def test_create_names_pools_by_id_in_the_units_cluster(org: Lookups) -> None:
    address, spec = _project(org)
    request = PROJECT.create_request(address, spec, org)
    assert (request.method, request.path) == ("POST", "/api/v1/org-unit/projects")
    assert request.body == {
        "clusterId": CLUSTER_A, "name": "vision", "parentId": "2", "requestedNamespace": "v",
        "resources": [
            {"gpu": {"deserved": 2}, "nodePool": {"id": "7", "name": "a100"}},
            {"gpu": {"deserved": 4, "limit": 8}, "nodePool": {"id": "1", "name": "default"}},
        ],
    }  # fmt: skip
    elsewhere = Address("department", "cluster=cluster-b", "x")  # a100 is cluster-a's
    with pytest.raises(PlanError, match="node pool 'a100' does not exist on cluster cluster-b"):
        DEPARTMENT.create_request(elsewhere, spec, org)


def test_quota_changes_alone_go_to_the_resources_endpoint(org: Lookups) -> None:
    address, spec = _project(org)
    quota = FieldChange("spec.resources.default.gpu.deserved", FieldChangeKind.CHANGE, 3, 4)
    described = FieldChange("metadata.description", FieldChangeKind.ADD, None, "x")
    alone = PROJECT.update_request(address, "9", spec, fields=[quota], lookups=org)
    assert (alone.method, alone.path) == ("PUT", "/api/v1/org-unit/projects/9/resources")
    assert isinstance(alone.body, list) and len(alone.body) == 2
    both = PROJECT.update_request(address, "9", spec, fields=[quota, described], lookups=org)
    assert (both.method, both.path) == ("PUT", "/api/v1/org-unit/projects/9")
    assert isinstance(both.body, dict) and "requestedNamespace" not in both.body
    assert PROJECT.immutable_paths(["spec.requestedNamespace", "spec.resources"]) == (
        "spec.requestedNamespace",
    )


def test_node_pools_need_their_label_to_be_created(org: Lookups) -> None:
    address = Address("node-pool", "cluster=cluster-a", "h100")
    with pytest.raises(PlanError, match=r"needs spec\.labelKey and spec\.labelValue"):
        NODE_POOL.create_request(address, {"spec": {"labelKey": "gpu"}}, org)
    spec = {"spec": {"labelKey": "gpu", "labelValue": "h100"}}
    assert NODE_POOL.create_request(address, spec, org).body == {
        "clusterId": CLUSTER_A, "labelKey": "gpu", "labelValue": "h100", "name": "h100",
    }  # fmt: skip
    assert NODE_POOL.built_in_names == frozenset({"default"})


def test_units_the_plan_creates_resolve_by_planned_ids_until_created(org: Lookups) -> None:
    department = Address("department", "cluster=cluster-a", "vision")
    project = Address("project", "department=vision", "detection")
    pool = Address("node-pool", "cluster=cluster-b", "h100")
    desired = {a: Resource(a, {"spec": {}}) for a in (department, project, pool)}
    planned = with_planned(org, desired, ())
    assert planned.department("vision") == Named(
        f"{PLANNED_PREFIX}{department}", "vision", cluster_id=CLUSTER_A
    )
    made = planned.project("detection")
    assert (made.parent_id, made.cluster_id) == (f"{PLANNED_PREFIX}{department}", CLUSTER_A)
    assert planned.nodepool_id(CLUSTER_B, "h100") == f"{PLANNED_PREFIX}{pool}"
    assert planned.nodepool_id(CLUSTER_A, "a100") == "7"  # the others stay
    # The applier swaps the real id in as the create returns it.
    real = planned.with_records("department", [Named("120", "vision", cluster_id=CLUSTER_A)])
    assert real.id_of("department", "vision") == "120"
    assert len([d for d in real.departments if d.name == "vision"]) == 1
