"""Workload types, categories and priorities over HTTP: seeded built-ins, PUT/POST/DELETE."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import Api, assert_valid

TYPES = "/api/v1/workload-types"
CATEGORIES = "/api/v1/workload-categories"
PRIORITIES = "/api/v1/workload-priorities"
# Fixed ids of the default seed (reconcile/emulator/data/seed.yaml).
BUILD = "8dc7c193-9df3-4ed3-a96e-66d39a1790b2"
TRAIN = "758b4978-ba4a-4f9c-add6-058c3c17dc68"
DEPLOY = "4cb22319-a037-4a7f-aa7f-695fb3281ec1"
LOW = "8634ed19-776c-4ffa-9b6d-72ba28cea37f"
HIGH = "26e8193c-435f-45af-8daa-f61696f0a560"
PYTORCHJOB = "2942874d-376c-45af-9927-a7cab01e08cb"
TRAINING_WORKLOAD = "f073a18a-ecd4-45e4-9e66-419ac68069d4"
MISSING = "00000000-0000-4000-8000-000000000000"
PRIORITY_VALUES = {
    "very-low": 25,
    "low": 40,
    "medium-low": 65,
    "medium": 80,
    "medium-high": 90,
    "high": 125,
    "very-high": 150,
}


def _interface(kind: str, version: str, group: str = "example.com") -> dict[str, Any]:
    root = {"kind": {"group": group, "version": version, "kind": kind}}
    return {"spec": {"structureDefinition": {"rootComponent": root}}}


def _custom(name: str = "FooJob", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "group": "example.com", "categoryId": TRAIN, "priorityId": LOW}
    return {**body, **extra}


def _types(api: Api, **params: str) -> list[str]:
    response = api.get(TYPES, **params)
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()["types"]]


def test_seeded_types_categories_priorities(api: Api) -> None:
    types = api.get(TYPES).json()["types"]
    for wtype in types:
        assert_valid("WorkloadTypeConfig", wtype)
    by_name = {t["name"]: t for t in types}
    assert {"Pod", "Deployment", "Job", "PyTorchJob", "RayCluster", "InferenceService"} <= set(
        by_name
    )
    pytorch = by_name["PyTorchJob"]
    assert (pytorch["group"], pytorch["categoryName"], pytorch["priorityName"]) == (
        "kubeflow.org",
        "Train",
        "low",
    )
    assert by_name["Deployment"]["categoryName"] == "Deploy"
    assert by_name["InteractiveWorkload"]["priorityName"] == "high"
    assert [s["phase"] for s in pytorch["clusterStatuses"]] == ["Ready", "Ready"]
    categories = api.get(CATEGORIES).json()["categories"]
    assert [(c["id"], c["name"]) for c in categories] == [
        (BUILD, "Build"),
        (TRAIN, "Train"),
        (DEPLOY, "Deploy"),
    ]
    priorities = api.get(PRIORITIES).json()["priorities"]
    for priority in priorities:
        assert_valid("WorkloadPriority", priority)
    assert {p["name"]: p["value"] for p in priorities} == PRIORITY_VALUES


def test_get_by_id(api: Api) -> None:
    got = api.get(f"{TYPES}/{PYTORCHJOB}")
    assert got.status_code == 200
    assert_valid("WorkloadTypeConfig", got.json())
    assert got.json()["name"] == "PyTorchJob"
    category = api.get(f"{CATEGORIES}/{DEPLOY}")
    assert category.status_code == 200 and category.json()["name"] == "Deploy"
    assert_valid("WorkloadCategory", category.json())


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("name==Job", ["Job"]),
        ("group==ray.io", ["RayCluster", "RayJob", "RayService"]),
        ("group!=kubeflow.org,name=@Job", ["Job", "CronJob", "RayJob"]),
        ("name!@o,group=^apps", ["StatefulSet", "ReplicaSet", "NIMService"]),
        ("name=^Ray,name=$er", ["RayCluster"]),
        ("name=^Ray,name=$Job,group==apps", []),
        ("name=$Service,group=$.io", ["RayService", "InferenceService"]),
        ("name>=X,group<=kubeflow.org", ["XGBoostJob"]),
    ],
)
def test_type_filters(api: Api, term: str, expected: list[str]) -> None:
    assert _types(api, filterBy=term) == expected


def test_external_types_only_and_filter_errors(api: Api) -> None:
    everything = _types(api)
    external = _types(api, externalTypesOnly="true")
    assert "TrainingWorkload" in everything and "TrainingWorkload" not in external
    assert "Deployment" in external and len(everything) - len(external) == 5
    assert api.post(TYPES, _custom()).status_code == 201
    assert "FooJob" in _types(api, externalTypesOnly="true")
    assert _types(api, externalTypesOnly="false") == [*everything, "FooJob"]
    assert api.get(TYPES, filterBy="priority==low").status_code == 400


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filterBy": "value>=90"}, ["medium-high", "high", "very-high"]),
        ({"filterBy": "value<=40"}, ["very-low", "low"]),
        ({"filterBy": "name=^medium,value!=80"}, ["medium-low", "medium-high"]),
        ({"filterBy": "source==Run:ai,name=$high"}, ["medium-high", "high", "very-high"]),
        ({"filterBy": "name=@ed", "sortBy": "name"}, ["medium", "medium-high", "medium-low"]),
        (
            {"filterBy": "name!@-", "sortBy": "value", "sortOrder": "desc"},
            ["high", "medium", "low"],
        ),
    ],
)
def test_priority_filters_and_sort(api: Api, params: dict[str, str], expected: list[str]) -> None:
    response = api.get(PRIORITIES, **params)
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["priorities"]] == expected


def test_priority_bad_sort_is_400(api: Api) -> None:
    assert api.get(PRIORITIES, sortBy="colour").status_code == 400
    assert api.get(PRIORITIES, filterBy="scopeId==1").status_code == 400


def test_put_category_and_priority(api: Api) -> None:
    response = api.put(f"{TYPES}/{PYTORCHJOB}", {"categoryId": BUILD, "priorityId": HIGH})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid("WorkloadTypeConfig", body)
    assert (body["categoryName"], body["priorityName"]) == ("Build", "high")
    assert body["updatedBy"] == "test-client" and body["updatedAt"] > body["createdAt"]
    assert body["resourceInterfaces"][0]["version"] == "v1"  # kept when not sent
    assert api.get(f"{TYPES}/{PYTORCHJOB}").json() == body
    only_priority = api.put(f"{TYPES}/{PYTORCHJOB}", {"priorityId": LOW}).json()
    assert (only_priority["categoryName"], only_priority["priorityName"]) == ("Build", "low")


def test_put_resource_interfaces_add_and_remove_versions(api: Api) -> None:
    created = api.post(TYPES, _custom(resourceInterfaces=[_interface("FooJob", "v1")])).json()
    path = f"{TYPES}/{created['id']}"
    both = [_interface("FooJob", "v1"), _interface("FooJob", "v2")]
    added = api.put(path, {"resourceInterfaces": both})
    assert added.status_code == 200
    assert [e["version"] for e in added.json()["resourceInterfaces"]] == ["v1", "v2"]
    removed = api.put(path, {"resourceInterfaces": [_interface("FooJob", "v2")]}).json()
    assert [e["version"] for e in removed["resourceInterfaces"]] == ["v2"]
    changed = _interface("FooJob", "v2", group="other.example.com")
    assert api.put(path, {"resourceInterfaces": [changed]}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"categoryId": "not-a-uuid-but-a-string"},
        {"priorityId": MISSING},
        {"categoryId": 7},
        {"resourceInterfaces": "v1"},
        {"resourceInterfaces": [{"spec": {}}]},
        {"resourceInterfaces": [_interface("Other", "v1")]},
        {"resourceInterfaces": [_interface("PyTorchJob", "v9")] * 2},
        {"resourceInterfaces": [_interface("PyTorchJob", f"v{i}") for i in range(5)]},
    ],
)
def test_bad_put_is_400(api: Api, body: dict[str, Any]) -> None:
    response = api.put(f"{TYPES}/{PYTORCHJOB}", body)
    assert response.status_code == 400, response.text
    assert_valid("Error", response.json())
    unchanged = api.get(f"{TYPES}/{PYTORCHJOB}").json()
    assert (unchanged["categoryId"], unchanged["priorityId"]) == (TRAIN, LOW)


def test_create_and_delete_custom_type(api: Api) -> None:
    response = api.post(TYPES, _custom(resourceInterfaces=[_interface("FooJob", "v1beta1")]))
    assert response.status_code == 201, response.text
    created = response.json()
    assert_valid("WorkloadTypeConfig", created)
    assert (created["categoryName"], created["priorityName"], created["createdBy"]) == (
        "Train",
        "low",
        "test-client",
    )
    assert api.get(f"{TYPES}/{created['id']}").json() == created
    duplicate = api.post(TYPES, _custom(group="other.example.com"))
    assert duplicate.status_code == 409
    assert_valid("Error", duplicate.json())
    assert api.post(TYPES, _custom("Deployment")).status_code == 409
    assert api.delete(f"{TYPES}/{created['id']}").status_code == 204
    assert api.get(f"{TYPES}/{created['id']}").status_code == 404
    assert api.delete(f"{TYPES}/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"group": "example.com", "categoryId": TRAIN, "priorityId": LOW}, "name"),
        (_custom("fooJob"), "name"),
        (_custom(group="Example.com"), "group"),
        (_custom(categoryId=MISSING), "categoryId"),
        (_custom(priorityId=TRAIN), "priorityId"),
    ],
)
def test_bad_create_is_400(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.post(TYPES, body)
    assert response.status_code == 400
    assert field in response.json()["message"]


def test_built_in_types_cannot_be_deleted(api: Api) -> None:
    response = api.delete(f"{TYPES}/{TRAINING_WORKLOAD}")
    assert response.status_code == 403
    assert_valid("Error", response.json())
    assert api.get(f"{TYPES}/{TRAINING_WORKLOAD}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{TYPES}/{MISSING}"), ("PUT", f"{TYPES}/{MISSING}"), ("DELETE", f"{TYPES}/{MISSING}"),
     ("GET", f"{CATEGORIES}/{MISSING}")],
)  # fmt: skip
def test_unknown_ids_are_404(api: Api, method: str, path: str) -> None:
    response = api.call(method, path, json={"categoryId": BUILD} if method == "PUT" else None)
    assert response.status_code == 404
    assert_valid("Error", response.json())


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", TYPES), ("POST", TYPES), ("GET", f"{TYPES}/{PYTORCHJOB}"),
     ("PUT", f"{TYPES}/{PYTORCHJOB}"), ("DELETE", f"{TYPES}/{PYTORCHJOB}"), ("GET", CATEGORIES),
     ("GET", f"{CATEGORIES}/{BUILD}"), ("GET", PRIORITIES)],
)  # fmt: skip
def test_routes_need_a_token(emulator: EmbeddedEmulator, method: str, path: str) -> None:
    response = Api(emulator.url).call(method, path, json={})
    assert response.status_code == 401
    assert_valid("Error", response.json())
