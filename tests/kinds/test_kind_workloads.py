"""The Workloads V2 kind: v1 list then V2 detail, rawManifest, PUT body, sync status."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.emulator.openapi import OpenApi
from reconcile.kinds.base import AsyncStatus
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import KINDS
from reconcile.model import Address, FieldChange, FieldChangeKind
from tests.emulator.helpers import CLUSTER_A

KIND = KINDS["Workload"]
OPENAPI = OpenApi()
ADDRESS = Address("workload", "project=team-a", "web")
MANIFEST: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 1,
        "template": {"spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}},
    },
}
DOC: dict[str, Any] = {"spec": {"priority": "medium", "category": "Deploy", "manifest": MANIFEST}}


def _v2(**metadata: Any) -> dict[str, Any]:
    """A V2 GET response as D24V2 defines it."""
    return {
        "workload": {
            "metadata": {
                "id": "0b7c2d6e-8f1a-4c3b-9d2e-5f6a7b8c9d0e", "name": "web", "projectId": "42",
                "priority": "medium", "category": "Deploy", "preemptibility": None,
                "gvk": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "projectName": "team-a", "clusterId": CLUSTER_A, "tenantId": 1,
                "departmentId": "2", "departmentName": "research",
                "createdAt": "2025-05-01T00:00:00Z", "createdBy": "ci",
                "updatedAt": "2025-05-02T00:00:00Z", "updatedBy": "alice", **metadata,
            },
            "desiredPhase": "Running",
            "rawManifest": MANIFEST,
            "workloadManifest": {**MANIFEST, "metadata": {"name": "web", "namespace": "runai-a"}},
        },
        "syncInfo": {"status": "Synced", "message": "Synced"},
    }  # fmt: skip


def test_live_reads_list_v1_keep_v2_and_fetch_details_by_id(lookups: Lookups) -> None:
    request = KIND.list_request()
    assert (request.path, request.items_key, request.query) == (
        "/api/v1/workloads",
        "workloads",
        {"limit": "500"},
    )
    v1_item = {"id": "w1", "name": "web", "projectId": "42", "sourceApi": "WorkloadsV2"}
    assert request.keeps(v1_item) and not request.keeps({**v1_item, "sourceApi": None})
    assert KIND.identify(v1_item, lookups) == (ADDRESS, "w1")
    detail = KIND.detail_request("w1")
    assert detail is not None and (detail.method, detail.path) == ("GET", "/api/v2/workloads/w1")


def test_from_live_diffs_raw_manifest_and_metadata(lookups: Lookups) -> None:
    obj = _v2()
    assert OPENAPI.validate("D24V2_WorkloadV2GetResponse", obj) == []
    address, spec, meta = KIND.from_live(obj, lookups)
    assert address == ADDRESS
    assert spec == KIND.normalize(DOC)  # rawManifest, not the mutated workloadManifest
    assert (meta.remote_id, meta.updated_by) == ("0b7c2d6e-8f1a-4c3b-9d2e-5f6a7b8c9d0e", "alice")


def test_normalize_keeps_the_manifest_verbatim() -> None:
    spec = KIND.normalize({"spec": {"priority": None, "manifest": MANIFEST}})
    assert spec == {"spec": {"manifest": MANIFEST}}  # the emptyDir {} survives


def test_create_body_names_the_project_by_string_id(lookups: Lookups) -> None:
    doc = {"spec": {**DOC["spec"], "preemptibility": "preemptible"}}
    request = KIND.create_request(ADDRESS, KIND.normalize(doc), lookups)
    assert (request.method, request.path) == ("POST", "/api/v2/workloads")
    assert request.body["metadata"] == {
        "name": "web",
        "projectId": "42",
        "clusterId": CLUSTER_A,
        "priority": "medium",
        "category": "Deploy",
        "preemptibility": "preemptible",
    }
    assert request.body["manifest"] == MANIFEST
    assert OPENAPI.validate("D24V2_WorkloadV2CreateRequest", request.body) == []


def test_update_puts_priority_category_and_manifest_and_nulls_what_was_dropped(
    lookups: Lookups,
) -> None:
    desired = KIND.normalize({"spec": {"category": "Deploy", "manifest": MANIFEST}})
    fields = [FieldChange("spec.priority", FieldChangeKind.CLEAR, before="medium")]
    request = KIND.update_request(ADDRESS, "w1", desired, fields=fields, lookups=lookups)
    assert (request.method, request.path) == ("PUT", "/api/v2/workloads/w1")
    assert request.body == {
        "metadata": {"category": "Deploy", "priority": None},
        "manifest": MANIFEST,
    }
    assert OPENAPI.validate("D24V2_WorkloadV2UpdateRequest", request.body) == []


def test_preemptibility_and_the_manifest_kind_force_a_replace() -> None:
    changed = ["spec.priority", "spec.manifest.kind", "spec.preemptibility", "spec.manifest.spec"]
    assert KIND.immutable_paths(changed) == ("spec.manifest.kind", "spec.preemptibility")


@pytest.mark.parametrize(
    ("status", "deleting", "expected"),
    [
        ("Queued", False, AsyncStatus.PENDING),
        ("Applying", False, AsyncStatus.PENDING),
        ("Synced", False, AsyncStatus.DONE),
        ("Failed", False, AsyncStatus.FAILED),
        ("Deleted", False, AsyncStatus.FAILED),
        ("Deleting", True, AsyncStatus.PENDING),
        ("Synced", True, AsyncStatus.PENDING),
        ("Deleted", True, AsyncStatus.DONE),
        ("Failed", True, AsyncStatus.FAILED),
    ],
)
def test_async_status_follows_sync_info(status: str, deleting: bool, expected: AsyncStatus) -> None:
    obj = {"workload": {}, "syncInfo": {"status": status}}
    assert KIND.async_status(obj, deleting=deleting) is expected


def test_remote_id_from_a_post_answer_or_a_get_wrapper(lookups: Lookups) -> None:
    assert KIND.remote_id_from_response(_v2()["workload"]) == KIND.remote_id_from_response(_v2())
    request = KIND.find_by_name_request(ADDRESS, lookups)
    assert request.query["filterBy"] == "name==web,projectId==42"
    assert request.keep == (("sourceApi", "WorkloadsV2"),)


def test_v2_round_trip_through_the_emulator(driver: Any) -> None:
    lk = driver.lookups()
    answer = driver.call(KIND.create_request(ADDRESS, KIND.normalize(DOC), lk))
    remote_id = KIND.remote_id_from_response(answer)
    assert driver.find(KIND, ADDRESS, lk) == [remote_id]
    spec, meta = driver.live(KIND, lk)[str(ADDRESS)]
    assert spec == KIND.normalize(DOC) and meta.remote_id == remote_id
    # No sync delay (the emulator's default): the create is Synced at once.
    assert KIND.async_status(driver.call(KIND.get_request(remote_id))) is AsyncStatus.DONE
    desired = {"spec": {"category": "Deploy", "manifest": {**MANIFEST, "spec": {"replicas": 2}}}}
    fields = [FieldChange("spec.priority", FieldChangeKind.CLEAR, before="medium")]
    driver.call(KIND.update_request(ADDRESS, remote_id, desired, fields=fields, lookups=lk))
    spec, _ = driver.live(KIND, lk)[str(ADDRESS)]
    assert spec["spec"]["manifest"]["spec"] == {"replicas": 2}
    assert spec["spec"].get("priority") != "medium"  # cleared: the type's default, if any
    driver.api.set_settings(sync_delay_ms=60_000)  # the delete now stays in Deleting
    driver.call(KIND.delete_request(remote_id))
    deleting = KIND.async_status(driver.call(KIND.get_request(remote_id)), deleting=True)
    assert deleting is AsyncStatus.PENDING
