"""The asset kinds (Environment, Compute, DataSource): their translations, and round trips of
every data source type and scope through the emulator over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.kinds.assets import COMPUTE, DATASOURCE, DATASOURCE_TYPES, ENVIRONMENT
from reconcile.kinds.lookups import PLANNED_PREFIX, AssetRecord, Lookups, Named
from reconcile.model import Address, Spec
from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A
from tests.kinds.driver import KindDriver

LOOKUPS = Lookups(
    projects=(Named(TEAM_A, "team-a", cluster_id=CLUSTER_A, parent_id=RESEARCH),),
    departments=(Named(RESEARCH, "research", cluster_id=CLUSTER_A),),
    clusters=(Named(CLUSTER_A, "cluster-a"),),
)
# A spec of every data source type, as documents write them.
DATASOURCE_SPECS: dict[str, dict[str, Any]] = {
    "pvc": {"path": "/data", "claimName": "data", "claimInfo": {"size": "1G"}},
    "git": {"repository": "https://example.com/r.git", "branch": "main", "path": "/r"},
    "s3": {"bucket": "b", "path": "/s3", "url": "https://s3.example.com"},
    "nfs": {"server": "nfs.example.com", "path": "/x", "mountPath": "/x", "readOnly": False},
    "host-path": {"path": "/mnt", "mountPath": "/mnt"},
    "config-map": {"configMap": "cm", "mountPath": "/etc/cm"},
    "secret": {"mountPath": "/etc/s", "defaultMode": "0644"},
}


def _doc(spec: dict[str, Any], description: str | None = None) -> Spec:
    return {"metadata": {"description": description}, "spec": spec}


def test_an_environment_create_puts_the_scope_and_supported_types_in_meta() -> None:
    address = Address("environment", "project=team-a", "lab")
    spec = ENVIRONMENT.normalize(
        _doc({"image": "i", "workloadSupportedTypes": {"workspace": True}}, "Lab")
    )
    request = ENVIRONMENT.create_request(address, spec, LOOKUPS)
    assert (request.method, request.path) == ("POST", "/api/v1/asset/environment")
    assert request.body == {
        "meta": {
            "name": "lab",
            "description": "Lab",
            "scope": "project",
            "projectId": 42,
            "workloadSupportedTypes": {"workspace": True},
        },
        "spec": {"image": "i", "overrideUidGidInWorkspace": False},
    }
    # An update sends what AssetUpdatableFields has: name and description, and the spec.
    update = ENVIRONMENT.update_request(address, "e-1", spec, fields=(), lookups=LOOKUPS)
    assert (update.method, update.path) == ("PUT", "/api/v1/asset/environment/e-1")
    assert update.body == {
        "meta": {"name": "lab", "description": "Lab"},
        "spec": {"image": "i", "overrideUidGidInWorkspace": False},
    }
    assert ENVIRONMENT.immutable_paths(["spec.image", "spec.workloadSupportedTypes.training"]) == (
        "spec.workloadSupportedTypes.training",
    )


@pytest.mark.parametrize("doc_type", sorted(DATASOURCE_TYPES))
def test_a_data_source_is_written_to_its_type_collection(doc_type: str) -> None:
    segment, api_kind, _, _ = DATASOURCE_TYPES[doc_type]
    address = Address("datasource", "department=research", "src")
    spec = DATASOURCE.normalize(_doc({"type": doc_type, **DATASOURCE_SPECS[doc_type]}))
    request = DATASOURCE.create_request(address, spec, LOOKUPS)
    assert request.path == f"/api/v1/asset/datasource/{segment}"
    assert isinstance(request.body, dict) and "type" not in request.body["spec"]
    assert request.body["meta"]["departmentId"] == RESEARCH
    body = {"meta": {"id": "d-1", "kind": api_kind}}
    remote_id = DATASOURCE.remote_id_from_response(body)
    assert remote_id == f"{doc_type}/d-1"
    assert DATASOURCE.get_request(remote_id).path == f"/api/v1/asset/datasource/{segment}/d-1"
    record = DATASOURCE.lookup_record(address, remote_id, LOOKUPS, spec=spec)
    assert record == AssetRecord("d-1", "src", api_kind, "department", RESEARCH)


def test_a_data_source_reads_the_same_from_the_list_and_from_its_own_get() -> None:
    meta = {"id": "d-1", "name": "home", "kind": "hostPath", "scope": "tenant"}
    flat = {"path": "/mnt", "mountPath": "/mnt", "readOnly": True}
    listed = DATASOURCE.from_live({"meta": meta, "spec": {"hostPath": flat}}, LOOKUPS)
    got = DATASOURCE.from_live({"meta": meta, "spec": flat}, LOOKUPS)
    assert listed == got
    address, spec, live = listed
    assert (str(address), live.remote_id) == ("datasource/tenant/home", "host-path/d-1")
    assert spec == {"spec": {"mountPath": "/mnt", "path": "/mnt", "readOnly": True,
                             "type": "host-path"}}  # fmt: skip
    assert DATASOURCE.minimal(spec) == {"spec": {"mountPath": "/mnt", "path": "/mnt",
                                                 "type": "host-path"}}  # fmt: skip


def test_changing_a_data_source_type_replaces_it() -> None:
    assert DATASOURCE.immutable_paths(["spec.type", "spec.path"]) == ("spec.type",)


def test_a_planned_asset_gives_way_to_its_real_id_and_its_units_too() -> None:
    project = Address("project", "department=research", "new")
    planned_project = Named(
        f"{PLANNED_PREFIX}{project}", "new", cluster_id=CLUSTER_A, parent_id=RESEARCH
    )
    lookups = LOOKUPS.with_records("project", [planned_project])
    env = Address("environment", "project=new", "lab")
    spec = ENVIRONMENT.normalize(_doc({"image": "i"}))
    planned_env = ENVIRONMENT.lookup_record(env, f"{PLANNED_PREFIX}{env}", lookups, spec=spec)
    lookups = lookups.with_records("asset", [planned_env])
    assert lookups.asset_id("lab", "environment", "project=new") == f"{PLANNED_PREFIX}{env}"
    # The project's create returned: the environment, not created yet, is found from it.
    lookups = lookups.with_records("project", [Named("77", "new", CLUSTER_A, RESEARCH)])
    assert lookups.asset_id("lab", "environment", "project=new") == f"{PLANNED_PREFIX}{env}"
    lookups = lookups.with_records(
        "asset", [ENVIRONMENT.lookup_record(env, "e-9", lookups, spec=spec)]
    )
    assert lookups.asset_id("lab", "environment", "project=new") == "e-9"
    assert lookups.sees("project=new", "department=research")
    assert not lookups.sees("department=research", "project=new")


# --- round trips through the emulator -----------------------------------------------------


def _round_trip(driver: KindDriver, address: Address, doc: Spec) -> None:
    kind = {"environment": ENVIRONMENT, "compute": COMPUTE, "datasource": DATASOURCE}[address.kind]
    lookups = driver.lookups()
    answer = driver.call(kind.create_request(address, kind.normalize(doc), lookups))
    remote_id = kind.remote_id_from_response(answer)
    spec, meta = driver.live(kind, lookups)[str(address)]
    assert spec == kind.normalize(doc)
    assert meta.remote_id == remote_id
    # The freshness read (GET one object) translates to the same spec.
    _, fresh, _ = kind.from_live(driver.call(kind.get_request(remote_id)), lookups)
    assert fresh == spec
    changed = {**doc, "metadata": {"description": "changed"}}
    driver.call(kind.update_request(address, remote_id, kind.normalize(changed), fields=(),
                                    lookups=lookups))  # fmt: skip
    assert driver.live(kind, lookups)[str(address)][0] == kind.normalize(changed)
    driver.call(kind.delete_request(remote_id))
    assert str(address) not in driver.live(kind, lookups)


@pytest.mark.parametrize("doc_type", sorted(DATASOURCE_SPECS))
def test_every_data_source_type_round_trips(driver: KindDriver, doc_type: str) -> None:
    address = Address("datasource", "project=team-a", f"src-{doc_type}")
    _round_trip(driver, address, _doc({"type": doc_type, **DATASOURCE_SPECS[doc_type]}))


@pytest.mark.parametrize("scope", ["tenant", "cluster=cluster-a", "department=research"])
def test_environments_and_computes_round_trip_at_every_scope(
    driver: KindDriver, scope: str
) -> None:
    environment = {
        "image": "ubuntu:24.04",
        "workloadSupportedTypes": {"workspace": True, "training": False},
        "connections": [{"name": "ssh", "internalToolInfo": {"toolType": "custom",
                         "connectionType": "NodePort", "containerPort": 22}}],
    }  # fmt: skip
    _round_trip(driver, Address("environment", scope, "env"), _doc(environment, "Ubuntu"))
    _round_trip(driver, Address("compute", scope, "c"), _doc({"gpuDevicesRequest": 2}))
