"""Round trips through the emulator over HTTP: document spec -> create -> live read -> same spec.

Each write is described by a kind and executed by the test driver, then read back the way the
live reader reads (list, identify, detail when needed, from_live).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconcile.kinds.base import Kind
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import KINDS
from reconcile.model import Address, FieldChange, FieldChangeKind, Spec
from tests.kinds.driver import KindDriver

TEMPLATE_DOCS: dict[str, Spec] = {
    "WorkspaceTemplate": {
        "metadata": {"description": "Jupyter, 1 GPU"},
        "spec": {
            "image": "jupyter/scipy-notebook",
            "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 2, "cpuMemoryRequest": "8G"},
            "exposedUrls": [{"name": "jupyter", "container": 8888, "toolType": "jupyter-notebook"}],
            "environmentVariables": [{"name": "HOME", "value": "/home/jovyan"}],
            "storage": {"pvc": [{"name": "home", "claimName": "home-pvc", "path": "/home/jovyan"}]},
        },
    },
    "TrainingTemplate": {
        "spec": {"image": "nvcr.io/nvidia/pytorch:24.05-py3", "completions": 1, "parallelism": 1}
    },
    "DistributedTemplate": {
        "spec": {"distributedFramework": "MPI", "numWorkers": 4, "image": "mpi:1"},
        "masterSpecSameAsWorker": False,
        "master": {"spec": {"image": "mpi:1", "compute": {"gpuDevicesRequest": 0}}},
    },
    "InferenceTemplate": {
        "metadata": {"description": "vLLM"},
        "spec": {"image": "vllm/vllm-openai", "servingPort": {"container": 8000}},
    },
}


def create(driver: KindDriver, kind: Kind, address: Address, doc: Spec, lk: Lookups) -> str:
    answer = driver.call(kind.create_request(address, kind.normalize(doc), lk))
    return kind.remote_id_from_response(answer)


def update(driver: KindDriver, kind: Kind, address: Address, rid: str, doc: Spec, lk: Lookups,
           fields: list[FieldChange]) -> None:  # fmt: skip
    driver.call(kind.update_request(address, rid, kind.normalize(doc), fields=fields, lookups=lk))


@pytest.mark.parametrize("document_kind", sorted(TEMPLATE_DOCS))
def test_template_round_trip_reads_back_the_document(
    driver: KindDriver, document_kind: str
) -> None:
    kind, lk = KINDS[document_kind], driver.lookups()
    address = Address(kind.slug, "project=team-a", "tpl")
    remote_id = create(driver, kind, address, TEMPLATE_DOCS[document_kind], lk)
    # The server added ids, timestamps, runnable, combinedSpec and schema defaults.
    spec, meta = driver.live(kind, lk)[str(address)]
    assert spec == kind.normalize(TEMPLATE_DOCS[document_kind])
    assert meta.remote_id == remote_id and meta.updated_by


@pytest.mark.parametrize("scope", ["tenant", "cluster=cluster-a", "department=research"])
def test_template_scopes_round_trip(driver: KindDriver, scope: str) -> None:
    kind, lk = KINDS["TrainingTemplate"], driver.lookups()
    address = Address(kind.slug, scope, "tpl")
    create(driver, kind, address, TEMPLATE_DOCS["TrainingTemplate"], lk)
    assert str(address) in driver.live(kind, lk)


def test_template_patch_changes_clears_and_keeps_unowned_fields(driver: KindDriver) -> None:
    kind, lk = KINDS["WorkspaceTemplate"], driver.lookups()
    address = Address(kind.slug, "project=team-a", "jup")
    remote_id = create(driver, kind, address, TEMPLATE_DOCS["WorkspaceTemplate"], lk)
    # Someone else sets a field we never owned: our PATCH must leave it alone.
    driver.api.patch(kind.get_request(remote_id).path, {"meta": {"name": "jup"},
                                                        "spec": {"workingDir": "/w"}})  # fmt: skip
    desired = copy.deepcopy(TEMPLATE_DOCS["WorkspaceTemplate"])
    del (
        desired["metadata"],
        desired["spec"]["storage"],
        desired["spec"]["compute"]["cpuCoreRequest"],
    )
    desired["spec"]["compute"]["gpuDevicesRequest"] = 2
    desired["spec"]["environmentVariables"] = [{"name": "DEBUG", "value": "1"}]
    fields = [
        FieldChange("spec.compute.gpuDevicesRequest", FieldChangeKind.CHANGE, 1, 2),
        FieldChange("spec.environmentVariables[name=DEBUG]", FieldChangeKind.ADD),
        FieldChange("spec.environmentVariables[name=HOME]", FieldChangeKind.CLEAR),
        FieldChange("spec.compute.cpuCoreRequest", FieldChangeKind.CLEAR),
        FieldChange("spec.storage", FieldChangeKind.CLEAR),
        FieldChange("metadata.description", FieldChangeKind.CLEAR),
    ]
    update(driver, kind, address, remote_id, desired, lk, fields)
    spec, _ = driver.live(kind, lk)[str(address)]
    assert spec == kind.normalize({"spec": {**desired["spec"], "workingDir": "/w"}})


def test_distributed_patch_switches_master_to_same_as_worker(driver: KindDriver) -> None:
    kind, lk = KINDS["DistributedTemplate"], driver.lookups()
    address = Address(kind.slug, "department=research", "ddp")
    remote_id = create(driver, kind, address, TEMPLATE_DOCS["DistributedTemplate"], lk)
    desired = {"spec": TEMPLATE_DOCS["DistributedTemplate"]["spec"], "masterSpecSameAsWorker": True}
    fields = [
        FieldChange("masterSpecSameAsWorker", FieldChangeKind.CHANGE, False, True),
        FieldChange("master.spec.image", FieldChangeKind.CLEAR),
        FieldChange("master.spec.compute.gpuDevicesRequest", FieldChangeKind.CLEAR),
    ]
    update(driver, kind, address, remote_id, desired, lk, fields)
    assert driver.live(kind, lk)[str(address)][0] == kind.normalize(desired)


def test_find_by_name_sees_only_its_scope_and_delete_removes(driver: KindDriver) -> None:
    kind, lk = KINDS["WorkspaceTemplate"], driver.lookups()
    team_a = Address(kind.slug, "project=team-a", "jup")
    team_b = Address(kind.slug, "project=team-b", "jup")
    first = create(driver, kind, team_a, TEMPLATE_DOCS["WorkspaceTemplate"], lk)
    create(driver, kind, team_b, TEMPLATE_DOCS["WorkspaceTemplate"], lk)
    assert driver.find(kind, team_a, lk) == [first]
    assert driver.find(kind, Address(kind.slug, "department=research", "jup"), lk) == []
    driver.call(kind.delete_request(first))
    assert driver.find(kind, team_a, lk) == []
    assert driver.status(kind.get_request(first)) == 404


ASSET_DOC: Spec = {
    "metadata": {"description": "Legacy Jupyter"},
    "spec": {
        "assets": {
            "environment": "jupyter-lab",
            "compute": "one-gpu",
            "datasources": [{"name": "home", "kind": "pvc"}, {"name": "datasets", "kind": "nfs"}],
        },
        "specificEnv": {"args": "--debug", "annotations": [{"name": "team", "value": "a"}]},
    },
}


def test_asset_template_round_trip_and_full_put(driver: KindDriver) -> None:
    kind, lk = KINDS["AssetTemplate"], driver.lookups()
    address = Address(kind.slug, "project=team-a", "legacy-jupyter")
    remote_id = create(driver, kind, address, ASSET_DOC, lk)
    assert driver.live(kind, lk)[str(address)][0] == kind.normalize(ASSET_DOC)
    assert driver.find(kind, address, lk) == [remote_id]
    desired = {"spec": {"assets": {"environment": "vscode", "compute": "cpu-only"}}}
    update(driver, kind, address, remote_id, desired, lk, [])
    assert driver.live(kind, lk)[str(address)][0] == kind.normalize(desired)
    driver.call(kind.delete_request(remote_id))
    assert driver.find(kind, address, lk) == []


def test_workload_type_put_moves_category_and_priority_by_name(driver: KindDriver) -> None:
    kind, lk = KINDS["WorkloadType"], driver.lookups()
    address = Address(kind.slug, "", "PyTorchJob")
    (remote_id,) = driver.find(kind, address, lk)
    desired = {"spec": {"category": "Build", "priority": "high"}}
    update(driver, kind, address, remote_id, desired, lk, [])
    spec, meta = driver.live(kind, lk)[str(address)]
    assert (spec["spec"]["category"], spec["spec"]["priority"]) == ("Build", "high")
    assert spec["spec"]["group"] == "kubeflow.org" and meta.updated_at


def test_custom_workload_type_round_trip(driver: KindDriver) -> None:
    kind, lk = KINDS["WorkloadType"], driver.lookups()
    interface = {"spec": {"structureDefinition": {"rootComponent": {
        "kind": {"group": "example.com", "version": "v1", "kind": "MyJob"}}}}}  # fmt: skip
    desired: Spec = {
        "spec": {
            "category": "Train",
            "priority": "medium",
            "group": "example.com",
            "resourceInterfaces": [interface],
        }
    }
    address = Address(kind.slug, "", "MyJob")
    remote_id = create(driver, kind, address, desired, lk)
    spec, meta = driver.live(kind, lk)[str(address)]
    assert spec == kind.normalize(desired) and meta.remote_id == remote_id


def test_all_live_reads_parse(driver: KindDriver) -> None:
    """Every seeded object of every kind reads without error (no shape surprises)."""
    lk = driver.lookups()
    seen = {name: driver.live(kind, lk) for name, kind in KINDS.items() if name != "Workload"}
    assert len(seen["WorkloadType"]) >= 20


def _containers(value: Any) -> dict[int, Any]:
    """Every dict and list in `value`, by id (the values keep the ids from being reused)."""
    found: dict[int, Any] = {}
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found[id(node)] = node
            stack.extend(node.values())
        elif isinstance(node, list):
            found[id(node)] = node
            stack.extend(node)
    return found


def test_live_specs_share_no_container_with_the_server_object(driver: KindDriver) -> None:
    """A live spec is the kind's own: filling defaults into it, or anything done to it
    later, never reaches the server object the live view keeps beside it."""
    lk = driver.lookups()
    read = 0
    for name, kind in KINDS.items():
        if name == "Workload":
            continue
        for obj in driver.list_all(kind.list_request()):
            kept = copy.deepcopy(obj)
            _, spec, _ = kind.from_live(obj, lk)
            assert not _containers(spec).keys() & _containers(obj).keys(), name
            assert obj == kept
            read += 1
    assert read >= 30
