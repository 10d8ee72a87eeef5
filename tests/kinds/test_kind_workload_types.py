"""The workload type kind: category/priority names <-> ids, PUT bodies, never deleted."""

from __future__ import annotations

import pytest

from reconcile.emulator.openapi import OpenApi
from reconcile.errors import PlanError
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import KINDS
from reconcile.model import Address

KIND = KINDS["WorkloadType"]
OPENAPI = OpenApi()
TRAIN = "758b4978-ba4a-4f9c-add6-058c3c17dc68"
HIGH = "26e8193c-435f-45af-8daa-f61696f0a560"
INTERFACE = {"spec": {"structureDefinition": {"rootComponent": {"kind": {"version": "v1"}}}}}


def test_from_live_names_category_and_priority_and_unwraps_interfaces(lookups: Lookups) -> None:
    obj = {
        "id": "3f0c0000-0000-0000-0000-0000000000e1", "name": "PyTorchJob",
        "group": "kubeflow.org", "categoryId": TRAIN, "categoryName": "Train",
        "priorityId": HIGH, "priorityName": "high",
        "resourceInterfaces": [{"version": "v1", "resourceInterface": INTERFACE}],
        "clusterStatuses": None, "updatedBy": "ops", "updatedAt": "2025-03-01T00:00:00Z",
    }  # fmt: skip
    assert OPENAPI.validate("WorkloadTypeConfig", obj) == []
    address, spec, meta = KIND.from_live(obj, lookups)
    assert str(address) == "workload-type/PyTorchJob"
    assert spec == {
        "spec": {
            "category": "Train",
            "group": "kubeflow.org",
            "priority": "high",
            "resourceInterfaces": [INTERFACE],
        }
    }
    assert (meta.updated_by, meta.updated_at) == ("ops", "2025-03-01T00:00:00Z")


def test_from_live_falls_back_to_the_names_the_response_carries(lookups: Lookups) -> None:
    obj = {"id": "x", "name": "Job", "group": "batch", "categoryId": "c-unknown",
           "categoryName": "Custom", "priorityId": HIGH}  # fmt: skip
    assert KIND.from_live(obj, lookups)[1]["spec"]["category"] == "Custom"


def test_update_puts_ids_and_only_the_interfaces_desired_lists(lookups: Lookups) -> None:
    address = Address("workload-type", "", "PyTorchJob")
    doc = {"spec": {"category": "Train", "priority": "high"}}
    request = KIND.update_request(address, "tid", doc, fields=[], lookups=lookups)
    assert (request.method, request.path) == ("PUT", "/api/v1/workload-types/tid")
    assert request.body == {"categoryId": TRAIN, "priorityId": HIGH}
    assert OPENAPI.validate("WorkloadTypeUpdateFields", request.body) == []
    with pytest.raises(PlanError, match="priority 'urgent' does not exist"):
        KIND.update_request(
            address, "tid", {"spec": {"priority": "urgent"}}, fields=[], lookups=lookups
        )


def test_create_of_a_custom_type_needs_its_group(lookups: Lookups) -> None:
    doc = {"spec": {"category": "Train", "priority": "high", "resourceInterfaces": [INTERFACE]}}
    with pytest.raises(PlanError, match=r"needs spec\.group"):
        KIND.create_request(Address("workload-type", "", "MyJob"), doc, lookups)
    doc["spec"]["group"] = "example.com"
    body = KIND.create_request(Address("workload-type", "", "MyJob"), doc, lookups).body
    assert body["name"] == "MyJob" and body["group"] == "example.com"
    assert OPENAPI.validate("WorkloadTypeCreateFields", body) == []


def test_workload_types_are_never_deleted_and_their_group_is_create_only() -> None:
    assert KIND.can_delete is False
    assert KIND.immutable_paths(["spec.priority", "spec.group"]) == ("spec.group",)
    assert KIND.find_by_name_request(Address("workload-type", "", "Job"), Lookups()).query == {
        "filterBy": "name==Job"
    }
