"""Workloads V2 over HTTP: create/get/update/delete, sync status over time, and the v1 view."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api, assert_valid

V2 = "/api/v2/workloads"
V1 = "/api/v1/workloads"
TEAM_B = "43"
MISSING = "00000000-0000-4000-8000-000000000000"


def deployment(name: str = "web", image: str = "nginx:1.27") -> dict[str, Any]:
    container = {"name": "app", "image": image}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
    }


def body(name: str = "web", project: str = TEAM_A, **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "projectId": project, **metadata},
        "manifest": deployment(name),
    }


def create(api: Api, request: dict[str, Any], **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.call("POST", f"{V2}?{query}" if query else V2, json=request)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def statuses_until(api: Api, path: str, done: Callable[[int, str], bool]) -> list[str]:
    """Poll a V2 GET every 20 ms and record distinct sync statuses until `done(code, status)`."""
    seen: list[str] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = api.get(path)
        status = response.json()["syncInfo"]["status"] if response.status_code == 200 else "404"
        if not seen or seen[-1] != status:
            seen.append(status)
        if done(response.status_code, status):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"no end state; saw {seen}")


def test_create_get_and_v1_view(api: Api) -> None:
    created = create(api, body(priority="medium", category="Deploy"))
    assert_valid("D24V2_WorkloadV2", created)
    meta = created["metadata"]
    assert (meta["name"], meta["projectId"], meta["projectName"]) == ("web", TEAM_A, "team-a")
    assert (meta["clusterId"], meta["departmentId"], meta["departmentName"]) == (
        CLUSTER_A,
        RESEARCH,
        "research",
    )
    assert meta["gvk"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert (meta["createdBy"], meta["tenantId"], created["desiredPhase"]) == (
        "test-client",
        1,
        "Running",
    )
    assert created["rawManifest"] == deployment()
    applied = created["workloadManifest"]["metadata"]
    assert applied == {
        "name": "web",
        "namespace": "runai-team-a",
        "labels": {"run.ai/project": "team-a"},
    }
    got = api.get(f"{V2}/{meta['id']}")
    assert got.status_code == 200
    assert_valid("D24V2_WorkloadV2GetResponse", got.json())
    assert got.json()["workload"] == created
    assert got.json()["syncInfo"]["status"] == "Synced"  # sync delay 0 by default

    listed = api.get(V1).json()
    assert set(listed) == {"workloads"}
    (item,) = listed["workloads"]
    assert_valid("Workload", item)
    assert (item["id"], item["type"], item["sourceApi"], item["source"]) == (
        meta["id"],
        "Deployment",
        "WorkloadsV2",
        "Control-plane",
    )
    assert (item["priorityClassName"], item["priority"], item["category"]) == (
        "medium",
        80,
        "Deploy",
    )
    assert (item["phase"], item["namespace"], item["images"]) == (
        "Running",
        "runai-team-a",
        ["nginx:1.27"],
    )
    one = api.get(f"{V1}/{meta['id']}")
    assert one.status_code == 200 and one.json() == item
    assert_valid("WorkloadDetailed", one.json())
    assert api.get(f"{V1}/count").json() == {"count": 1}


def test_v1_defaults_come_from_the_workload_type(api: Api) -> None:
    job = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "ddp"}}
    create(api, {"metadata": {"projectId": TEAM_A}, "manifest": job})
    (item,) = api.get(V1).json()["workloads"]
    assert (item["name"], item["type"], item["category"]) == ("ddp", "PyTorchJob", "Train")
    assert (item["priorityClassName"], item["priority"], item["preemptible"]) == ("low", 40, True)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    created = create(api, {"metadata": {"projectId": TEAM_A, "preemptibility": "non-preemptible"},
                           "manifest": pod})  # fmt: skip
    assert created["metadata"]["gvk"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert api.get(f"{V1}/{created['metadata']['id']}").json()["preemptible"] is False


def test_sync_status_moves_over_the_configured_delay(api: Api) -> None:
    api.set_settings(sync_delay_ms=1000)  # generous: Queued lasts 500 ms even on a busy CI
    workload_id = create(api, body())["metadata"]["id"]
    path = f"{V2}/{workload_id}"
    assert statuses_until(api, path, lambda _, s: s == "Synced") == ["Queued", "Applying", "Synced"]
    update = api.put(path, {"metadata": {"priority": "high"}})
    assert update.status_code == 202
    assert_valid("D24V2_WorkloadV2", update.json())
    assert statuses_until(api, path, lambda _, s: s == "Synced") == ["Applying", "Synced"]
    deleted = api.delete(path)
    assert deleted.status_code == 202 and deleted.json()["desiredPhase"] == "Deleted"
    assert api.get(V1).json()["workloads"][0]["phase"] == "Deleting"
    assert statuses_until(api, path, lambda code, _: code == 404) == ["Deleting", "Deleted", "404"]


def test_dry_run_validates_without_side_effects(api: Api) -> None:
    dry = create(api, body(), dryRun="true")
    assert_valid("D24V2_WorkloadV2", dry)
    assert api.get(f"{V2}/{dry['metadata']['id']}").status_code == 404
    assert api.get(f"{V1}/count").json() == {"count": 0}
    bad = api.call("POST", f"{V2}?dryRun=true", json=body(priority="urgent"))
    assert bad.status_code == 400
    create(api, body())
    assert api.call("POST", f"{V2}?dryRun=true", json=body()).status_code == 409


def test_base64_yaml_manifest(api: Api) -> None:
    yaml_text = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: nightly\n"
        "  annotations: {since: 2024-01-01}\nspec:\n  backoffLimit: 2\n"
    )
    created = create(
        api, {"metadata": {"projectId": TEAM_A}, "manifestBase64Encoded": b64(yaml_text)}
    )
    raw = created["rawManifest"]
    assert raw["metadata"] == {"name": "nightly", "annotations": {"since": "2024-01-01"}}
    assert raw["spec"] == {"backoffLimit": 2} and created["metadata"]["name"] == "nightly"


def bare(**rest: Any) -> dict[str, Any]:
    """A create body for project team-a with only the given manifest members."""
    return {"metadata": {"projectId": TEAM_A}, **rest}


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        (bare(), "manifest"),
        ({**body(), "manifestBase64Encoded": b64("kind: Job")}, "exclusive"),
        (bare(manifestBase64Encoded="%%%"), "base64"),
        (bare(manifestBase64Encoded=b64("a: [")), "base64"),
        (bare(manifestBase64Encoded=b64("- 1\n- 2\n")), "object"),
        (bare(manifestBase64Encoded=b64("kind: Job\n---\nkind: Job\n")), "one object"),
        (bare(manifestBase64Encoded="A" * (2 * 1024 * 1024 + 4)), "manifestBase64Encoded"),
        (bare(manifest={"kind": "Job", "metadata": {"name": "j"}}), "apiVersion"),
        (bare(manifest={"apiVersion": "v1", "metadata": {}}), "kind"),
        (bare(manifest={"apiVersion": "v1", "kind": "Pod"}), "metadata.name"),
        (bare(manifest=["not", "an", "object"]), "manifest"),
        (bare(manifest={"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"}}),
         "Widget"),
        ({"manifest": deployment()}, "metadata"),
        ({"metadata": {"name": "web"}, "manifest": deployment()}, "projectId"),
        (body(project="999"), "projectId"),
        (body(clusterId="9f55255e-11ed-47c7-acef-fc4054768dbc"), "clusterId"),
        (body(priority="urgent"), "priority"),
        (body(category="Play"), "category"),
        (body(preemptibility="sometimes"), "preemptibility"),
        (body(name="Web_1"), "DNS-1123"),
        (body(name="x" * 64), "name"),
    ],
)  # fmt: skip
def test_bad_create_is_400(api: Api, request_body: dict[str, Any], field: str) -> None:
    response = api.post(V2, request_body)
    assert response.status_code == 400, response.text
    assert_valid("D24V2_Error", response.json())
    assert field in response.json()["message"]
    assert api.get(f"{V1}/count").json() == {"count": 0}


def test_duplicate_name_in_project_is_409(api: Api) -> None:
    first = create(api, body())
    duplicate = api.post(V2, body())
    assert duplicate.status_code == 409
    assert_valid("D24V2_Error", duplicate.json())
    create(api, body(project=TEAM_B))  # the same name in another project
    api.set_settings(sync_delay_ms=60_000)
    assert api.delete(f"{V2}/{first['metadata']['id']}").status_code == 202
    assert api.post(V2, body()).status_code == 409  # still deleting: the name is taken
    api.set_settings(sync_delay_ms=0)
    second = create(api, body(project=TEAM_B, name="other"))
    assert api.delete(f"{V2}/{second['metadata']['id']}").status_code == 202
    create(api, body(project=TEAM_B, name="other"))  # gone: the name is free again


def test_concurrent_duplicate_creates_make_one_workload(api: Api) -> None:
    token = api.token

    def post(_: int) -> int:
        return Api(api.url, token).post(V2, body()).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(post, range(8)))
    assert codes == [202] + [409] * 7
    assert api.get(f"{V1}/count").json() == {"count": 1}


def test_name_as_prefix(api: Api) -> None:
    names = [create(api, body(useGivenNameAsPrefix=True))["metadata"]["name"] for _ in range(2)]
    assert names[0] != names[1]
    for name in names:
        assert name.startswith("web-") and len(name) == len("web-") + 5
    assert "useGivenNameAsPrefix" not in api.get(V1).json()["workloads"][0]


def test_update_priority_category_and_manifest(api: Api) -> None:
    workload_id = create(api, body(priority="medium"))["metadata"]["id"]
    path = f"{V2}/{workload_id}"
    new_manifest = deployment(image="nginx:1.28")
    response = api.put(path, {"metadata": {"category": "Build"}, "manifest": new_manifest})
    assert response.status_code == 202, response.text
    updated = response.json()
    assert updated["rawManifest"] == new_manifest
    assert (updated["metadata"]["priority"], updated["metadata"]["category"]) == ("medium", "Build")
    assert updated["metadata"]["updatedBy"] == "test-client"
    assert updated["workloadManifest"]["metadata"]["namespace"] == "runai-team-a"
    cleared = api.put(path, {"metadata": {"priority": None}}).json()
    assert "priority" not in cleared["metadata"] and cleared["rawManifest"] == new_manifest
    item = api.get(f"{V1}/{workload_id}").json()
    assert (item["priorityClassName"], item["category"], item["images"]) == (
        "very-high",  # back to the Deployment type's default
        "Build",
        ["nginx:1.28"],
    )
    encoded = b64(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"
    )
    assert api.put(path, {"manifestBase64Encoded": encoded}).json()["rawManifest"]["spec"] == {
        "replicas": 3
    }


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"metadata": {"priority": "urgent"}}, "priority"),
        ({"metadata": {"category": 5}}, "category"),
        (
            {"manifest": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "web"}}},
            "kind",
        ),
        ({"manifest": deployment(), "manifestBase64Encoded": b64("kind: Job")}, "exclusive"),
        ({"manifest": {"apiVersion": "apps/v1", "kind": "Deployment"}}, "metadata.name"),
    ],
)
def test_bad_update_is_400(api: Api, request_body: dict[str, Any], field: str) -> None:
    created = create(api, body())
    response = api.put(f"{V2}/{created['metadata']['id']}", request_body)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    assert api.get(f"{V2}/{created['metadata']['id']}").json()["workload"] == created


def test_delete_leaves_a_v1_tombstone(api: Api) -> None:
    created = create(api, body())
    path = f"{V2}/{created['metadata']['id']}"
    deleted = api.delete(path)
    assert deleted.status_code == 202
    assert_valid("D24V2_WorkloadV2", deleted.json())
    assert deleted.json()["metadata"]["deletedBy"] == "test-client"
    for method in ("GET", "PUT", "DELETE"):
        assert api.call(method, path, json={"metadata": {}}).status_code == 404
    assert api.get(V1).json() == {"workloads": []}
    (tombstone,) = api.get(V1, deleted="true").json()["workloads"]
    assert tombstone["id"] == created["metadata"]["id"] and tombstone["deletedAt"] is not None
    assert api.get(f"{V1}/{tombstone['id']}").json() == tombstone
    assert api.get(f"{V1}/count", deleted="true").json() == {"count": 1}


def test_repeated_delete_and_update_while_deleting(api: Api) -> None:
    api.set_settings(sync_delay_ms=60_000)
    path = f"{V2}/{create(api, body())['metadata']['id']}"
    first = api.delete(path).json()
    assert api.delete(path).json() == first  # the clock does not restart
    conflict = api.put(path, {"metadata": {"priority": "low"}})
    assert conflict.status_code == 409
    assert api.get(path).json()["syncInfo"]["status"] == "Deleting"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{V2}/{MISSING}"), ("PUT", f"{V2}/{MISSING}"), ("DELETE", f"{V2}/{MISSING}"),
     ("GET", f"{V1}/{MISSING}")],
)  # fmt: skip
def test_unknown_ids_are_404(api: Api, method: str, path: str) -> None:
    response = api.call(method, path, json={"metadata": {}} if method == "PUT" else None)
    assert response.status_code == 404
    assert_valid("Error", response.json())


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", V2), ("GET", f"{V2}/{MISSING}"), ("PUT", f"{V2}/{MISSING}"),
     ("DELETE", f"{V2}/{MISSING}"), ("GET", V1), ("GET", f"{V1}/count"),
     ("GET", f"{V1}/{MISSING}")],
)  # fmt: skip
def test_workload_routes_need_a_token(emulator: EmbeddedEmulator, method: str, path: str) -> None:
    response = Api(emulator.url).call(method, path, json={})
    assert response.status_code == 401
    assert_valid("Error", response.json())


# --- the v1 list: paging and filters -----------------------------------------------------------

MANY = 510


def test_v1_list_paginates_past_500(api: Api) -> None:
    token = api.token

    def one(index: int) -> None:
        project = TEAM_A if index % 2 else TEAM_B
        create(Api(api.url, token), body(f"w{index:04d}", project))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, range(MANY)))
    first = api.get(V1, limit="500", sortBy="name").json()
    assert len(first["workloads"]) == 500 and first["next"] == 500
    second = api.get(V1, limit="500", offset="500", sortBy="name").json()
    assert "next" not in second
    names = [w["name"] for w in first["workloads"] + second["workloads"]]
    assert names == [f"w{i:04d}" for i in range(MANY)]
    assert len(api.get(V1).json()["workloads"]) == 50
    assert api.get(f"{V1}/count").json() == {"count": MANY}
    team_a = api.get(f"{V1}/count", filterBy=f"projectId=={TEAM_A}").json()
    assert team_a == {"count": MANY // 2}
    assert api.get(V1, limit="501").status_code == 400


@pytest.fixture
def three(api: Api) -> Api:
    create(api, body("alpha", priority="high"))
    create(api, body("beta", TEAM_B))
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "gamma"}}
    create(api, {"metadata": {"projectId": TEAM_A, "category": "Build"}, "manifest": job})
    return api


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("name==beta", ["beta"]),
        ("name!=beta", ["alpha", "gamma"]),
        ("name=@et", ["beta"]),
        ("name!@a", []),
        ("name=^g", ["gamma"]),
        ("name=$a", ["alpha", "beta", "gamma"]),
        ("type==Job", ["gamma"]),
        (f"projectId=={TEAM_A},type!=Job", ["alpha"]),
        ("projectName==team-b", ["beta"]),
        ("category==Build", ["gamma"]),
        ("priority>=125", ["alpha", "beta"]),
        ("priority<=40", ["gamma"]),
        ("priorityClassName==very-high", ["beta"]),
        ("createdAt>=2025-01-01T00:00:00Z", ["alpha", "beta", "gamma"]),
        ("createdAt<=2025-01-01T00:00:00Z", []),
        ("phase==Running,departmentName==research", ["alpha", "beta", "gamma"]),
        ("nodepool==default", []),
    ],
)
def test_v1_filters(three: Api, term: str, expected: list[str]) -> None:
    response = three.get(V1, filterBy=term, sortBy="name")
    assert response.status_code == 200, response.text
    assert [w["name"] for w in response.json()["workloads"]] == expected
    count = three.get(f"{V1}/count", filterBy=term).json()
    assert count == {"count": len(expected)}


def test_v1_sort_search_and_errors(three: Api) -> None:
    names = [w["name"] for w in three.get(V1, sortBy="name", sortOrder="desc").json()["workloads"]]
    assert names == ["gamma", "beta", "alpha"]
    assert [w["name"] for w in three.get(V1, search="AMM").json()["workloads"]] == ["gamma"]
    for params in ({"filterBy": "sourceApi==WorkloadsV2"}, {"sortBy": "sourceApi"}):
        response = three.get(V1, **params)
        assert response.status_code == 400
        assert_valid("Error", response.json())


def test_a_container_without_an_image_is_refused_at_create_and_dry_run(api: Api) -> None:
    request = body()
    del request["manifest"]["spec"]["template"]["spec"]["containers"][0]["image"]
    for query in ("", "?dryRun=true"):
        refused = api.call("POST", f"{V2}{query}", json=request)
        assert refused.status_code == 400
        assert refused.json()["message"].endswith(
            "manifest spec.template.spec.containers[0].image: Required value"
        )
    assert api.get(f"{V1}/count").json() == {"count": 0}
