"""Workload templates v1 over HTTP: CRUD per type, scope placement, defaults, errors, specs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import (
    CLUSTER_A,
    RESEARCH,
    TEAM_A,
    TEMPLATES,
    Api,
    assert_valid,
    create_template,
    template_body,
)

WRITABLE = {"workspaces": "Workspace", "trainings": "Training", "distributed": "Distributed"}
ALL_KINDS = {**WRITABLE, "inferences": "Inference"}
ITEM_SCHEMA = {
    "workspaces": "WorkspaceTemplate",
    "trainings": "TrainingTemplate",
    "distributed": "DistributedTemplate",
    "inferences": "InferenceTemplate",
}
LIST_SCHEMA = {kind: f"{schema}sListResponse" for kind, schema in ITEM_SCHEMA.items()}
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_create_get_list_delete(api: Api, kind: str) -> None:
    created = create_template(api, kind, "tpl", description="first", spec={"image": "img:1"})
    assert_valid(ITEM_SCHEMA[kind], created)
    meta = created["meta"]
    assert meta["workloadType"] == ALL_KINDS[kind]
    assert (meta["scopeType"], meta["scopeId"], meta["projectId"]) == ("project", TEAM_A, 42)
    assert (meta["departmentId"], meta["clusterId"]) == (RESEARCH, CLUSTER_A)
    assert meta["createdBy"] == meta["updatedBy"] == "test-client"
    # A distributed template without distributedFramework cannot be submitted as is.
    expected = (
        {"isRunnable": False, "issue": "mandatory distributedFramework is not provided"}
        if kind == "distributed"
        else {"isRunnable": True, "issue": None}
    )
    assert created["runnable"] == expected

    fetched = api.get(f"{TEMPLATES}/{kind}/{meta['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert_valid(ITEM_SCHEMA[kind], fetched.json())

    listed = api.get(f"{TEMPLATES}/{kind}")
    assert listed.status_code == 200
    assert_valid(LIST_SCHEMA[kind], listed.json())
    assert [e["meta"]["id"] for e in listed.json()["entries"]] == [meta["id"]]

    generic = api.get(f"{TEMPLATES}/{meta['id']}")
    assert generic.status_code == 200
    assert_valid("SupersetTemplate", generic.json())

    assert api.delete(f"{TEMPLATES}/{kind}/{meta['id']}").status_code == 204
    assert api.get(f"{TEMPLATES}/{kind}/{meta['id']}").status_code == 404
    assert api.delete(f"{TEMPLATES}/{kind}/{meta['id']}").status_code == 404


@pytest.mark.parametrize("kind", sorted(WRITABLE))
def test_put_replaces_spec_and_description(api: Api, kind: str) -> None:
    spec = {"image": "img:1", "compute": {"gpuDevicesRequest": 1}, "workingDir": "/w"}
    tid = create_template(api, kind, "tpl", description="old", spec=spec)["meta"]["id"]
    body = {"meta": {"name": "renamed"}, "spec": {"image": "img:2"}}
    response = api.put(f"{TEMPLATES}/{kind}/{tid}", body)
    assert response.status_code == 200, response.text
    assert_valid(ITEM_SCHEMA[kind], response.json())
    meta, spec_after = response.json()["meta"], response.json()["spec"]
    assert meta["name"] == "renamed" and "description" not in meta
    assert spec_after.get("image") == "img:2"
    assert "compute" not in spec_after and "workingDir" not in spec_after
    assert meta["scopeId"] == TEAM_A and meta["updatedAt"] >= meta["createdAt"]


@pytest.mark.parametrize("kind", sorted(WRITABLE))
def test_patch_merges_and_clears_fields(api: Api, kind: str) -> None:
    spec = {"image": "img:1", "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 2.0}}
    tid = create_template(api, kind, "tpl", description="keep?", spec=spec)["meta"]["id"]
    body = {
        "meta": {"name": "tpl"},
        "spec": {"workingDir": "/w", "compute": {"cpuCoreRequest": 4.0}},
        "fieldsToClear": ["spec.compute.gpuDevicesRequest", "meta.description"],
    }
    response = api.patch(f"{TEMPLATES}/{kind}/{tid}", body)
    assert response.status_code == 200, response.text
    assert_valid(ITEM_SCHEMA[kind], response.json())
    after = response.json()
    assert after["spec"]["compute"] == {"cpuCoreRequest": 4.0}
    assert after["spec"]["image"] == "img:1" and after["spec"]["workingDir"] == "/w"
    assert "description" not in after["meta"]
    cleared = api.patch(f"{TEMPLATES}/{kind}/{tid}", {"fieldsToClear": ["spec.compute"]})
    assert cleared.status_code == 200 and "compute" not in cleared.json()["spec"]


def test_patch_rejects_clearing_identity(api: Api) -> None:
    tid = create_template(api, "workspaces", "tpl")["meta"]["id"]
    for path in ("meta.name", "meta.scopeId", "spec", "status.x"):
        response = api.patch(f"{TEMPLATES}/workspaces/{tid}", {"fieldsToClear": [path]})
        assert response.status_code == 400, path
        assert "fieldsToClear" in response.json()["message"]


def test_distributed_gets_schema_defaults_and_master(api: Api) -> None:
    spec = {"image": "img", "distributedFramework": "MPI", "numWorkers": 2}
    body = template_body("ddp", spec={**spec, "annotations": [{"name": "a", "value": "1"}]})
    body["masterSpecSameAsWorker"] = False
    body["master"] = {"spec": {"image": "launcher", "compute": {"gpuDevicesRequest": 0}}}
    response = api.post(f"{TEMPLATES}/distributed", body)
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["spec"]["slotsPerWorker"] == 1
    assert created["spec"]["sshAuthMountPath"] == "/root/.ssh"
    assert created["spec"]["annotations"] == [{"name": "a", "value": "1", "exclude": False}]
    assert created["combinedMasterSpec"]["image"] == "launcher"
    assert created["runnable"] == {"isRunnable": True, "issue": None}

    body["masterSpecSameAsWorker"] = True
    body["meta"]["name"] = "both"
    assert api.post(f"{TEMPLATES}/distributed", body).status_code == 400


def test_runnable_reports_missing_image(api: Api) -> None:
    created = create_template(api, "workspaces", "no-image", spec={"workingDir": "/w"})
    assert created["runnable"] == {"isRunnable": False, "issue": "mandatory image is not provided"}


@pytest.mark.parametrize(
    ("scope_type", "scope_id", "tree"),
    [
        ("tenant", None, (None, None, None)),
        ("cluster", CLUSTER_A, (CLUSTER_A, None, None)),
        ("department", RESEARCH, (CLUSTER_A, RESEARCH, None)),
        ("project", TEAM_A, (CLUSTER_A, RESEARCH, 42)),
    ],
)
def test_scope_places_template_in_org_tree(
    api: Api, scope_type: str, scope_id: str | None, tree: tuple[Any, ...]
) -> None:
    meta = create_template(api, "workspaces", "s", scope_type=scope_type, scope_id=scope_id)["meta"]
    assert meta["scopeId"] == (scope_id or "1")
    assert (meta["clusterId"], meta["departmentId"], meta["projectId"]) == tree


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"spec": {"image": "x"}}, "meta"),
        ({"meta": None}, "meta"),
        ({"meta": 0.0, "spec": None}, "meta"),
        ({"meta": {"name": "x", "scopeType": "tenant"}, "spec": []}, "spec"),
        ({"meta": {"scopeType": "project", "scopeId": TEAM_A}}, "meta.name"),
        ({"meta": {"name": "x", "scopeType": "galaxy"}}, "meta.scopeType"),
        ({"meta": {"name": "", "scopeType": "tenant"}}, "meta.name"),
        (
            {"meta": {"name": "x", "scopeType": "tenant", "description": "d" * 251}},
            "meta.description",
        ),
        ({"meta": {"name": "x", "scopeType": "tenant"}, "spec": {"image": 7}}, "spec.image"),
        (
            {
                "meta": {"name": "x", "scopeType": "tenant"},
                "spec": {"imagePullPolicy": "Sometimes"},
            },
            "spec.imagePullPolicy",
        ),
        ({"meta": {"name": "x", "scopeType": "project", "scopeId": "999"}}, "meta.scopeId"),
        ({"meta": {"name": "x", "scopeType": "project"}}, "meta.scopeId"),
    ],
)
def test_bad_create_body_is_400_naming_the_field(api: Api, body: Any, field: str) -> None:
    response = api.post(f"{TEMPLATES}/workspaces", body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert_valid("Error", problem)
    assert problem["code"] == 400
    assert field in problem["message"] + problem.get("details", "")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_bad_update_body_is_400(api: Api, method: str) -> None:
    tid = create_template(api, "trainings", "t")["meta"]["id"]
    bad = {"meta": {"name": "t"}, "spec": {"completions": "many"}}
    response = api.call(method, f"{TEMPLATES}/trainings/{tid}", json=bad)
    assert response.status_code == 400
    assert "spec.completions" in response.json()["message"]
    not_a_list = {"meta": {"name": "t"}, "fieldsToClear": 1.5}  # PUT has no fieldsToClear
    cleared = api.call(method, f"{TEMPLATES}/trainings/{tid}", json=not_a_list)
    assert cleared.status_code == (400 if method == "PATCH" else 200)
    missing_meta = api.call(method, f"{TEMPLATES}/trainings/{tid}", json={"spec": {}})
    assert missing_meta.status_code == (400 if method == "PUT" else 200)


def test_duplicate_name_in_scope_is_409_across_types(api: Api) -> None:
    create_template(api, "workspaces", "dup")
    for kind in sorted(ALL_KINDS):
        response = api.post(f"{TEMPLATES}/{kind}", template_body("dup"))
        assert response.status_code == 409, kind
        assert_valid("Error", response.json())
    other_scope = api.post(f"{TEMPLATES}/workspaces", template_body("dup", scope_id="43"))
    assert other_scope.status_code == 202


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_rename_onto_taken_name_is_409(api: Api, method: str) -> None:
    create_template(api, "workspaces", "taken")
    tid = create_template(api, "workspaces", "mine")["meta"]["id"]
    body = {"meta": {"name": "taken"}, "spec": {"image": "x"}}
    response = api.call(method, f"{TEMPLATES}/workspaces/{tid}", json=body)
    assert response.status_code == 409


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_unknown_id_is_404(api: Api, kind: str) -> None:
    one = f"{TEMPLATES}/{kind}/{MISSING}"
    assert api.get(one).status_code == 404
    assert api.delete(one).status_code == 404
    if kind in WRITABLE:
        assert api.put(one, {"meta": {"name": "x"}}).status_code == 404
        assert api.patch(one, {"meta": {"name": "x"}}).status_code == 404
    assert api.get(f"{TEMPLATES}/{MISSING}").status_code == 404


def test_id_of_another_type_is_404(api: Api) -> None:
    tid = create_template(api, "workspaces", "w")["meta"]["id"]
    assert api.get(f"{TEMPLATES}/trainings/{tid}").status_code == 404
    assert api.delete(f"{TEMPLATES}/trainings/{tid}").status_code == 404


def test_inference_templates_have_no_put_or_patch(api: Api) -> None:
    tid = create_template(api, "inferences", "i")["meta"]["id"]
    assert api.put(f"{TEMPLATES}/inferences/{tid}", {"meta": {"name": "i"}}).status_code == 405
    assert api.patch(f"{TEMPLATES}/inferences/{tid}", {}).status_code == 405


def test_count_and_name_availability(api: Api) -> None:
    create_template(api, "workspaces", "a")
    create_template(api, "trainings", "b")
    create_template(api, "workspaces", "c", scope_type="tenant", scope_id=None)
    count = api.get(f"{TEMPLATES}/count", filterBy="workloadType==Workspace")
    assert count.status_code == 200 and count.json() == {"count": 2}
    assert_valid("CountResponse", count.json())
    assert api.get(f"{TEMPLATES}/count").json() == {"count": 3}

    check = f"{TEMPLATES}/name-availability"
    assert api.get(check, templateName="a", scopeType="project", scopeId=TEAM_A).status_code == 409
    assert api.get(check, templateName="a", scopeType="project", scopeId="43").status_code == 204
    assert api.get(check, templateName="c", scopeType="tenant").status_code == 409
    assert api.get(check, templateName="a").status_code == 400
    assert api.get(check, scopeType="tenant").status_code == 400


def test_generic_list_holds_every_type(api: Api) -> None:
    for kind in sorted(ALL_KINDS):
        create_template(api, kind, f"{kind}-t")
    listed = api.get(TEMPLATES)
    assert listed.status_code == 200
    assert_valid("TemplatesListResponse", listed.json())
    types = sorted(e["meta"]["workloadType"] for e in listed.json()["entries"])
    assert types == sorted(ALL_KINDS.values())


def test_combined_spec_layers_scope_defaults_under_spec(
    api: Api, emulator: EmbeddedEmulator
) -> None:
    # Scope policies have no API in the slice; the store is the only way to plant one.
    assert emulator.app is not None
    store = emulator.app.ctx.store
    store.insert(
        "template-scope-defaults", f"department/{RESEARCH}", {"spec": {"workingDir": "/d"}}
    )
    store.insert("template-scope-defaults", "tenant/1", {"spec": {"image": "base", "tty": True}})
    created = create_template(api, "workspaces", "layered", spec={"image": "own"})
    assert created["spec"] == {"image": "own"}
    assert created["combinedSpec"] == {"image": "own", "tty": True, "workingDir": "/d"}


def _template_calls() -> list[tuple[str, str]]:
    from reconcile.emulator.handlers import templates

    return sorted(
        (method, route.rule.replace("<templateId>", MISSING))
        for route in templates.routes()
        for method in route.methods
    )


@pytest.mark.parametrize(("method", "path"), _template_calls())
def test_every_template_route_needs_a_token(
    emulator: EmbeddedEmulator, method: str, path: str
) -> None:
    response = Api(emulator.url).call(method, path, json={"meta": {"name": "x"}})
    assert response.status_code == 401
    assert_valid("Error", response.json())


def test_parallel_creates_of_one_name_make_one_template(api: Api) -> None:
    def attempt(_: int) -> int:
        return (
            Api(api.url, api.token)
            .post(f"{TEMPLATES}/workspaces", template_body("race"))
            .status_code
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(16)))
    assert statuses == [202] + [409] * 15
