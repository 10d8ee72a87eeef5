"""The v1 workload-template kinds: bodies, PATCH with fieldsToClear, reads, round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.emulator.openapi import OpenApi
from reconcile.errors import PlanError
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import KINDS
from reconcile.kinds.workload_templates import patch_body
from reconcile.model import Address, FieldChange, FieldChangeKind
from tests.emulator.helpers import CLUSTER_A

WORKSPACE = KINDS["WorkspaceTemplate"]
DISTRIBUTED = KINDS["DistributedTemplate"]
INFERENCE = KINDS["InferenceTemplate"]
TEMPLATE_KINDS = [
    "WorkspaceTemplate",
    "TrainingTemplate",
    "DistributedTemplate",
    "InferenceTemplate",
]
OPENAPI = OpenApi()

JUPYTER: dict[str, Any] = {
    "metadata": {"description": "Jupyter, 1 GPU"},
    "spec": {
        "image": "jupyter/scipy-notebook",
        "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 2, "cpuMemoryRequest": "8G"},
        "environmentVariables": [{"name": "HOME", "value": "/home/jovyan"}],
        "storage": {"pvc": [{"name": "home", "claimName": "home-pvc", "path": "/home/jovyan"}]},
    },
}


def addr(kind: str, scope: str, name: str) -> Address:
    return Address(KINDS[kind].slug, scope, name)


# --- request bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "scope_type", "scope_id"),
    [
        ("project=team-a", "project", "42"),
        ("department=research", "department", "2"),
        ("cluster=cluster-a", "cluster", CLUSTER_A),
        ("tenant", "tenant", "1"),
    ],
)
def test_create_body_carries_scope_type_and_id_as_string(
    lookups: Lookups, scope: str, scope_type: str, scope_id: str
) -> None:
    spec = WORKSPACE.normalize(JUPYTER)
    request = WORKSPACE.create_request(addr("WorkspaceTemplate", scope, "jup"), spec, lookups)
    assert (request.method, request.path) == ("POST", "/api/v1/workload-templates/workspaces")
    assert request.body["meta"] == {
        "name": "jup",
        "description": "Jupyter, 1 GPU",
        "scopeType": scope_type,
        "scopeId": scope_id,
    }
    assert request.body["spec"] == spec["spec"]
    assert OPENAPI.validate("WorkspaceTemplateCreationRequest", request.body) == []


def test_create_body_for_unknown_project_is_a_plan_error(lookups: Lookups) -> None:
    with pytest.raises(PlanError, match="project 'nope' does not exist"):
        WORKSPACE.create_request(addr("WorkspaceTemplate", "project=nope", "x"), {}, lookups)


def test_distributed_create_body_has_master_beside_spec(lookups: Lookups) -> None:
    doc = {
        "spec": {"distributedFramework": "PyTorch", "numWorkers": 4, "image": "pt"},
        "masterSpecSameAsWorker": False,
        "master": {"spec": {"image": "pt", "compute": {"gpuDevicesRequest": 0}}},
    }
    address = addr("DistributedTemplate", "department=research", "ddp")
    body = DISTRIBUTED.create_request(address, DISTRIBUTED.normalize(doc), lookups).body
    assert body["masterSpecSameAsWorker"] is False
    assert body["master"] == {"spec": {"image": "pt", "compute": {"gpuDevicesRequest": 0}}}
    assert body["spec"]["slotsPerWorker"] == 1  # schema default, filled before sending
    assert OPENAPI.validate("DistributedTemplateCreationRequest", body) == []


# --- normalize ---------------------------------------------------------------------------


def test_normalize_drops_nulls_and_empties_and_fills_schema_defaults() -> None:
    doc = {
        "metadata": {"description": None},
        "spec": {
            "image": "pt",
            "args": None,
            "tolerations": [],
            "compute": {"gpuDevicesRequest": None},
            "storage": {"nfs": [{"name": "data", "server": "nfs", "path": "/d"}]},
        },
        "masterSpecSameAsWorker": True,
        "master": None,
    }
    assert DISTRIBUTED.normalize(doc) == {
        "masterSpecSameAsWorker": True,
        "spec": {
            "image": "pt",
            "slotsPerWorker": 1,
            "sshAuthMountPath": "/root/.ssh",
            "storage": {
                "nfs": [
                    {
                        "exclude": False,
                        "name": "data",
                        "path": "/d",
                        "readOnly": True,
                        "server": "nfs",
                    }
                ]
            },
        },
    }


def test_normalize_never_creates_a_parent_for_a_default_and_is_idempotent() -> None:
    doc = {"spec": {"storage": {"pvc": [{"name": "h", "claimInfo": {"size": "1G"}}]}}}
    once = WORKSPACE.normalize(doc)
    pvc = once["spec"]["storage"]["pvc"][0]
    assert "accessModes" not in pvc["claimInfo"]  # no accessModes object: nothing to fill
    assert pvc["existingPvc"] is False and pvc["readOnly"] is False
    assert "hostPath" not in once["spec"]["storage"]
    assert WORKSPACE.normalize(once) == once
    assert "slotsPerWorker" not in once["spec"]  # a distributed-only default


def test_normalize_fills_master_spec_defaults_from_the_master_schema() -> None:
    doc = {"spec": {"image": "pt"}, "master": {"spec": {"ports": [{"container": 22}]}}}
    master = DISTRIBUTED.normalize(doc)["master"]["spec"]
    assert master == {"ports": [{"container": 22, "exclude": False}]}


# --- reading -----------------------------------------------------------------------------


def _server_workspace(**meta: Any) -> dict[str, Any]:
    """A WorkspaceTemplate as the 2.24 spec defines it (docs/runai-api.md section 1.8)."""
    return {
        "meta": {
            "id": "550e8400-e29b-41d4-a716-446655440000",
            "name": "jupyter-1gpu",
            "description": "Jupyter, 1 GPU",
            "workloadType": "Workspace",
            "scopeType": "project",
            "scopeId": "42",
            "clusterId": CLUSTER_A,
            "departmentId": "2",
            "projectId": 42,
            "createdBy": "svc-acct",
            "createdAt": "2025-12-01T10:00:00Z",
            "updatedBy": None,
            "updatedAt": None,
            **meta,
        },
        "spec": {"image": "jupyter/scipy-notebook", "compute": {"gpuDevicesRequest": 1}},
        "runnable": {"isRunnable": True, "issue": None},
        "combinedSpec": {"image": "policy/other", "compute": {"gpuDevicesRequest": 4}},
    }


def test_from_live_reads_spec_never_combined_spec(lookups: Lookups) -> None:
    obj = _server_workspace()
    assert OPENAPI.validate("WorkspaceTemplate", obj) == []
    address, spec, meta = WORKSPACE.from_live(obj, lookups)
    assert str(address) == "workspace-template/project=team-a/jupyter-1gpu"
    assert spec == {
        "metadata": {"description": "Jupyter, 1 GPU"},
        "spec": {"compute": {"gpuDevicesRequest": 1}, "image": "jupyter/scipy-notebook"},
    }
    # Never updated: the creator is the last writer drift can name.
    assert (meta.remote_id, meta.updated_by, meta.updated_at) == (
        "550e8400-e29b-41d4-a716-446655440000",
        "svc-acct",
        "2025-12-01T10:00:00Z",
    )


def test_identify_maps_every_scope_and_marks_unknown_ids(lookups: Lookups) -> None:
    cases = {
        ("tenant", "1"): "tenant",
        ("cluster", CLUSTER_A): "cluster=cluster-a",
        ("department", "2"): "department=research",
        ("project", "999"): "project=id:999",
    }
    for (scope_type, scope_id), text in cases.items():
        obj = _server_workspace(scopeType=scope_type, scopeId=scope_id)
        assert WORKSPACE.identify(obj, lookups)[0].scope == text


def test_the_four_flavors_share_one_list_read_split_by_workload_type() -> None:
    requests = [KINDS[k].list_request() for k in TEMPLATE_KINDS]
    assert len({r.fetch_key for r in requests}) == 1
    assert requests[0].path == "/api/v1/workload-templates"
    assert requests[0].query == {"limit": "500"}
    item = {"meta": {"workloadType": "Training"}}
    assert [r.keeps(item) for r in requests] == [False, True, False, False]


# What a list item may hold where the split looks: every flavor's type, look-alikes, values of
# other JSON types (a list or an object cannot be a group's key), no `meta` at all.
_TYPE_VALUES = st.sampled_from(["Training", "Workspace", "Distributed", "Inference", "", "x"])
_META_VALUES = _TYPE_VALUES | st.none() | st.integers() | st.lists(_TYPE_VALUES, max_size=2)
_ITEMS = st.one_of(
    st.fixed_dictionaries({"meta": st.fixed_dictionaries({"workloadType": _META_VALUES})}),
    st.fixed_dictionaries({"meta": st.dictionaries(_TYPE_VALUES, _META_VALUES, max_size=2)}),
    st.fixed_dictionaries({"meta": _META_VALUES}),
    st.dictionaries(st.sampled_from(["spec", "name"]), _META_VALUES, max_size=2),
    _META_VALUES,
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_ITEMS, max_size=12))
def test_one_split_of_the_list_keeps_what_each_flavor_keeps(items: list[Any]) -> None:
    requests = [KINDS[k].list_request() for k in TEMPLATE_KINDS]
    groups = requests[0].split_kept(items)
    for request in requests:
        kept = [item for item in items if request.keeps(item)]
        assert [id(i) for i in groups.get(request.wanted, [])] == [id(i) for i in kept]


def test_find_by_name_narrows_on_name_and_scope(lookups: Lookups) -> None:
    request = WORKSPACE.find_by_name_request(
        addr("WorkspaceTemplate", "project=team-a", "jup"), lookups
    )
    assert request.path == "/api/v1/workload-templates/workspaces"
    assert request.query["filterBy"] == "name==jup,scopeType==project,projectId==42"
    tenant = WORKSPACE.find_by_name_request(addr("WorkspaceTemplate", "tenant", "a,b"), lookups)
    assert tenant.query["filterBy"] == "scopeType==tenant"  # a comma cannot be filtered on


# --- PATCH, immutables ---------------------------------------------------------------------


def changed(*paths: str) -> list[FieldChange]:
    return [FieldChange(p, FieldChangeKind.CHANGE) for p in paths]


def cleared(*paths: str, before: Any = None) -> list[FieldChange]:
    return [FieldChange(p, FieldChangeKind.CLEAR, before=before) for p in paths]


def test_patch_sends_changed_fields_whole_and_clears_what_desired_dropped() -> None:
    desired = WORKSPACE.normalize(
        {"spec": {"image": "jupyter/scipy-notebook", "compute": {"gpuDevicesRequest": 2}}}
    )
    fields = changed("spec.compute.gpuDevicesRequest") + cleared(
        "spec.compute.cpuCoreRequest",
        "spec.storage.pvc[name=home]",
        "spec.environmentVariables[name=HOME].value",
        "metadata.description",
    )
    body = patch_body("jup", desired, fields)
    assert body == {
        "meta": {"name": "jup"},
        "spec": {"compute": {"gpuDevicesRequest": 2}},
        "fieldsToClear": [
            "meta.description",
            "spec.compute.cpuCoreRequest",
            "spec.environmentVariables",
            "spec.storage",
        ],
    }
    assert OPENAPI.validate("WorkspaceTemplatePatchRequest", body) == []


def test_patch_sends_a_list_whole_when_one_of_its_items_left() -> None:
    desired = {"spec": {"environmentVariables": [{"name": "A", "value": "1"}]}}
    body = patch_body("t", desired, cleared("spec.environmentVariables[name=B]"))
    assert body == {"meta": {"name": "t"}, "spec": desired["spec"]}


def test_patch_never_clears_spec_or_meta_whole_and_drops_nested_duplicates() -> None:
    fields = cleared("spec.compute.cpuCoreRequest", "spec.compute", "metadata")
    fields += cleared("spec", before={"image": "x", "args": "-v"})
    body = patch_body("t", {}, fields)
    assert body["fieldsToClear"] == [
        "meta.description",
        "spec.args",
        "spec.compute",
        "spec.image",
    ]


def test_patch_of_master_and_description_uses_api_paths() -> None:
    desired = {
        "metadata": {"description": "new"},
        "master": {"spec": {"image": "pt:2", "args": "-v"}},
        "masterSpecSameAsWorker": False,
    }
    fields = changed("metadata.description", "master.spec.image", "masterSpecSameAsWorker")
    body = patch_body("ddp", desired, fields + cleared("master.spec.command"))
    assert body == {
        "meta": {"name": "ddp", "description": "new"},
        "master": {"spec": {"image": "pt:2"}},
        "masterSpecSameAsWorker": False,
        "fieldsToClear": ["master.spec.command"],
    }
    assert OPENAPI.validate("DistributedTemplatePatchRequest", body) == []


def test_update_request_is_a_patch_for_workspaces_and_refused_for_inference(
    lookups: Lookups,
) -> None:
    address = addr("WorkspaceTemplate", "tenant", "jup")
    request = WORKSPACE.update_request(address, "abc", {}, fields=[], lookups=lookups)
    assert (request.method, request.path) == ("PATCH", "/api/v1/workload-templates/workspaces/abc")
    with pytest.raises(PlanError, match="no update"):
        INFERENCE.update_request(
            addr("InferenceTemplate", "tenant", "srv"),
            "abc",
            {},
            fields=changed("spec.image"),
            lookups=lookups,
        )


def test_any_change_of_an_inference_template_forces_replace() -> None:
    changed = ["spec.image", "metadata.description"]
    assert INFERENCE.immutable_paths(changed) == ("metadata.description", "spec.image")
    assert WORKSPACE.immutable_paths(changed) == ()
