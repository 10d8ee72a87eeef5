"""Assets over HTTP: read-only environment/compute/datasource lists and legacy asset templates."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.emulator.helpers import CLUSTER_A, RESEARCH, TEAM_A, Api, assert_valid

ASSET = "/api/v1/asset"
TEMPLATES = f"{ASSET}/workload-template"
TEAM_B = "43"
# Fixed ids of the default seed (reconcile/emulator/data/seed.yaml).
JUPYTER = "98107013-7931-4fbe-b66a-e31d7f380853"
PYTORCH = "9e302dd0-0108-4015-97f6-05b0eb934514"
VSCODE = "432e7fcc-2534-48ec-a540-46ef2f6232d2"  # project team-a
ONE_GPU = "2b53ff03-61f2-4d52-9960-3fdb594dba79"
CPU_ONLY = "f4270c12-3c98-45db-a01f-1184a8e219b9"  # department research
HOME = "4c8e9340-0f59-4527-b47c-babbb7118953"  # pvc, project team-a
DATASETS = "177186ce-efd3-4933-add2-3c25ffb4ca6e"  # nfs, department research
EXAMPLES = "a79396ce-caa7-41ea-9cd0-273a43e51702"  # git, tenant
MISSING = "00000000-0000-4000-8000-000000000000"


def _names(api: Api, path: str, **params: str) -> list[str]:
    response = api.get(path, **params)
    assert response.status_code == 200, response.text
    return [entry["meta"]["name"] for entry in response.json()["entries"]]


def _template(name: str = "legacy", scope: str = "project", **meta: Any) -> dict[str, Any]:
    scope_ids: dict[str, dict[str, Any]] = {
        "project": {"projectId": int(TEAM_A)},
        "department": {"departmentId": RESEARCH},
        "cluster": {"clusterId": CLUSTER_A},
    }
    assets: dict[str, Any] = {
        "environment": JUPYTER,
        "compute": ONE_GPU,
        "datasources": [{"id": HOME, "kind": "pvc"}, {"id": EXAMPLES, "kind": "git"}],
    }
    if scope != "project":
        assets["datasources"] = [{"id": EXAMPLES, "kind": "git"}]
    body_meta = {"name": name, "scope": scope, **scope_ids.get(scope, {}), **meta}
    return {"meta": body_meta, "spec": {"assets": assets, "specificEnv": {"args": "--debug"}}}


def _create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(TEMPLATES, body)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


# --- read-only assets ----------------------------------------------------------------------


def test_environment_and_compute_lists_and_gets(api: Api) -> None:
    environments = api.get(f"{ASSET}/environment").json()
    assert_valid("EnvironmentListResponse", environments)
    assert [e["meta"]["name"] for e in environments["entries"]] == [
        "jupyter-lab",
        "pytorch",
        "vscode",
    ]
    jupyter = api.get(f"{ASSET}/environment/{JUPYTER}")
    assert jupyter.status_code == 200 and jupyter.json() == environments["entries"][0]
    assert_valid("EnvironmentAsset", jupyter.json())
    assert jupyter.json()["meta"]["scope"] == "tenant"
    computes = api.get(f"{ASSET}/compute").json()
    assert_valid("ComputeListResponse", computes)
    cpu = api.get(f"{ASSET}/compute/{CPU_ONLY}").json()
    assert_valid("ComputeAsset", cpu)
    assert (cpu["meta"]["scope"], cpu["meta"]["departmentId"], cpu["meta"]["clusterId"]) == (
        "department",
        RESEARCH,
        CLUSTER_A,
    )


def test_datasources_nest_spec_under_kind(api: Api) -> None:
    body = api.get(f"{ASSET}/datasource").json()
    assert_valid("DatasourceListResponse", body)
    by_name = {e["meta"]["name"]: e for e in body["entries"]}
    assert by_name["home"]["spec"]["pvc"]["claimName"] == "team-a-home"
    assert by_name["datasets"]["spec"]["nfs"]["server"] == "nfs.example.com"
    assert by_name["home"]["meta"]["projectId"] == 42
    assert by_name["home"]["meta"]["projectName"] == "team-a"
    assert _names(api, f"{ASSET}/datasource", assetIds=f"{HOME},{EXAMPLES}") == ["home", "examples"]


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("environment", {"scope": "tenant"}, ["jupyter-lab", "pytorch"]),
        ("environment", {"scope": "project"}, ["vscode"]),
        ("environment", {"projectId": TEAM_A}, ["jupyter-lab", "pytorch", "vscode"]),
        ("environment", {"projectId": TEAM_B}, ["jupyter-lab", "pytorch"]),
        ("environment", {"projectId": TEAM_A, "scope": "project"}, ["vscode"]),
        ("environment", {"projectId": TEAM_B, "scope": "project"}, []),
        ("environment", {"name": "pytorch"}, ["pytorch"]),
        ("environment", {"isWorkspace": "true"}, ["jupyter-lab", "vscode"]),
        ("environment", {"isTraining": "false"}, ["jupyter-lab", "vscode"]),
        ("environment", {"isDistributed": "true", "distributedFramework": "PyTorch"}, ["pytorch"]),
        ("environment", {"distributedFramework": "MPI"}, []),
        ("compute", {"departmentId": RESEARCH}, ["one-gpu", "half-gpu", "cpu-only"]),
        ("compute", {"departmentId": "3"}, ["one-gpu", "half-gpu"]),
        ("compute", {"clusterId": CLUSTER_A}, ["one-gpu", "half-gpu"]),
        (
            "compute",
            {"clusterId": CLUSTER_A, "includeDescendants": "true"},
            ["one-gpu", "half-gpu", "cpu-only"],
        ),
        ("compute", {"projectId": TEAM_A, "scope": "department"}, ["cpu-only"]),
        ("datasource", {"projectId": TEAM_B}, ["datasets", "examples"]),
        ("datasource", {"departmentId": RESEARCH, "scope": "department"}, ["datasets"]),
        (
            "datasource",
            {"departmentId": RESEARCH, "includeDescendants": "true"},
            ["home", "datasets", "examples"],
        ),
    ],
)
def test_asset_scope_filters(
    api: Api, path: str, params: dict[str, str], expected: list[str]
) -> None:
    assert _names(api, f"{ASSET}/{path}", **params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "planet"},
        {"projectId": "team-a"},
        {"scope": "project", "includeDescendants": "true"},
        {"isWorkspace": "maybe"},
    ],
)
def test_bad_asset_filters_are_400(api: Api, params: dict[str, str]) -> None:
    response = api.get(f"{ASSET}/environment", **params)
    assert response.status_code == 400
    assert_valid("Error", response.json())


@pytest.mark.parametrize("path", [f"{ASSET}/environment/{MISSING}", f"{ASSET}/compute/{MISSING}"])
def test_unknown_asset_is_404(api: Api, path: str) -> None:
    assert api.get(path).status_code == 404


# --- legacy asset templates ------------------------------------------------------------------


def test_template_create_get_list(api: Api) -> None:
    created = _create(
        api, _template(description="first", workloadSupportedTypes={"workspace": True})
    )
    assert_valid("WorkloadTemplate", created)
    meta = created["meta"]
    assert (meta["scope"], meta["projectId"], meta["projectName"]) == ("project", 42, "team-a")
    assert (meta["departmentId"], meta["clusterId"], meta["kind"]) == (
        RESEARCH,
        CLUSTER_A,
        "workload-template",
    )
    assert meta["createdBy"] == meta["updatedBy"] == "test-client"
    assert (meta["updateCount"], meta["autoDelete"], meta["private"]) == (0, False, False)
    assets = created["spec"]["assets"]
    assert assets["environment"] == {
        "id": JUPYTER,
        "name": "jupyter-lab",
        "toolTypes": ["jupyter-notebook"],
    }
    assert assets["compute"] == {"id": ONE_GPU, "name": "one-gpu"}
    assert [(d["name"], d["kind"]) for d in assets["datasources"]] == [
        ("home", "pvc"),
        ("examples", "git"),
    ]
    assert created["spec"]["specificEnv"] == {"args": "--debug"}
    fetched = api.get(f"{TEMPLATES}/{meta['id']}")
    assert fetched.status_code == 200 and fetched.json() == created
    listed = api.get(TEMPLATES).json()
    assert_valid("WorkloadTemplateListResponse", listed)
    assert listed["entries"] == [created]


@pytest.fixture
def spread(api: Api) -> Api:
    """Templates at four scopes with different supported workload types."""
    _create(api, _template("ws", workloadSupportedTypes={"workspace": True}))
    _create(api, _template("tr", "department", workloadSupportedTypes={"training": True}))
    dist = {"distributed": True, "distFramework": "PyTorch"}
    _create(api, _template("ddp", "cluster", workloadSupportedTypes=dist))
    _create(api, _template("any", "tenant"))
    return api


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["ws", "tr", "ddp", "any"]),
        ({"name": "tr"}, ["tr"]),
        ({"scope": "tenant"}, ["any"]),
        ({"projectId": TEAM_A}, ["ws", "tr", "ddp", "any"]),
        ({"projectId": TEAM_B}, ["tr", "ddp", "any"]),
        ({"departmentId": RESEARCH, "scope": "department"}, ["tr"]),
        ({"clusterId": CLUSTER_A}, ["ddp", "any"]),
        ({"isWorkspace": "true"}, ["ws"]),
        ({"isTraining": "true"}, ["tr"]),
        ({"isDistributed": "true"}, ["ddp"]),
        ({"distributedFramework": "PyTorch"}, ["ddp"]),
        ({"isDistributed": "false", "projectId": TEAM_B}, ["tr", "any"]),
    ],
)
def test_template_list_filters(spread: Api, params: dict[str, str], expected: list[str]) -> None:
    assert _names(spread, TEMPLATES, **params) == expected


def test_template_put_and_delete(api: Api) -> None:
    created = _create(api, _template(description="old"))
    path = f"{TEMPLATES}/{created['meta']['id']}"
    body = {"meta": {"name": "renamed"}, "spec": {"assets": {"environment": VSCODE}}}
    response = api.put(path, body)
    assert response.status_code == 202, response.text
    updated = response.json()
    assert_valid("WorkloadTemplate", updated)
    assert updated["meta"]["name"] == "renamed" and updated["meta"]["description"] is None
    assert updated["meta"]["updateCount"] == 1 and updated["meta"]["id"] == created["meta"]["id"]
    assert updated["meta"]["createdAt"] == created["meta"]["createdAt"]
    assert updated["spec"]["assets"]["environment"]["name"] == "vscode"
    assert updated["spec"]["assets"]["compute"] is None and "specificEnv" not in updated["spec"]
    assert api.get(path).json() == updated
    deleted = api.delete(path)
    assert deleted.status_code == 202
    assert_valid("HttpResponse", deleted.json())
    assert api.get(path).status_code == 404
    assert api.get(TEMPLATES).json() == {"entries": []}


def test_duplicate_names_are_409_within_a_scope_only(api: Api) -> None:
    first = _create(api, _template("same"))
    duplicate = api.post(TEMPLATES, _template("same"))
    assert duplicate.status_code == 409
    assert_valid("Error", duplicate.json())
    _create(api, _template("same", "department"))  # another scope: fine
    other = _create(api, _template("other"))
    rename = {"meta": {"name": "same"}, "spec": {"assets": {"environment": JUPYTER}}}
    assert api.put(f"{TEMPLATES}/{other['meta']['id']}", rename).status_code == 409
    # Keeping its own name is no conflict.
    assert api.put(f"{TEMPLATES}/{first['meta']['id']}", rename).status_code == 202


def _with_assets(assets: dict[str, Any], **meta: Any) -> dict[str, Any]:
    body = _template(**meta)
    body["spec"]["assets"] = assets
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"spec": {"assets": {"environment": JUPYTER}}}, "meta"),
        ({"meta": {"name": "x", "scope": "tenant"}, "spec": {"assets": {}}}, "environment"),
        (_template(scope="galaxy"), "scope"),
        (_template(scope="system"), "scope"),
        (_template(scope="project", projectId=None), "projectId"),
        (_template(scope="project", projectId=999), "projectId"),
        (_template(scope="department", departmentId="999"), "department"),
        (_template(name=""), "name"),
        (_with_assets({"environment": MISSING}), "environment"),
        (_with_assets({"environment": ONE_GPU}), "environment"),
        (_with_assets({"environment": JUPYTER, "compute": MISSING}), "compute"),
        (
            _with_assets({"environment": JUPYTER, "datasources": [{"id": HOME, "kind": "nfs"}]}),
            "kind",
        ),
        (_with_assets({"environment": JUPYTER, "datasources": [{"id": HOME}]}), "kind"),
        (_with_assets({"environment": VSCODE}, scope="department"), "scope"),
        (_with_assets({"environment": JUPYTER, "compute": CPU_ONLY}, scope="tenant"), "scope"),
    ],
)
def test_bad_template_bodies_are_400(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.post(TEMPLATES, body)
    assert response.status_code == 400, response.text
    assert_valid("Error", response.json())
    assert field in response.json()["message"]
    assert api.get(TEMPLATES).json() == {"entries": []}


def test_bad_template_update_is_400(api: Api) -> None:
    path = f"{TEMPLATES}/{_create(api, _template())['meta']['id']}"
    assert api.put(path, {"meta": {"name": "x"}}).status_code == 400
    bad_ref = {"meta": {"name": "x"}, "spec": {"assets": {"environment": MISSING}}}
    assert api.put(path, bad_ref).status_code == 400
    assert api.get(path).json()["meta"]["name"] == "legacy"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_template_is_404(api: Api, method: str) -> None:
    body = {"meta": {"name": "x"}, "spec": {"assets": {"environment": JUPYTER}}}
    response = api.call(method, f"{TEMPLATES}/{MISSING}", json=body if method == "PUT" else None)
    assert response.status_code == 404
    assert_valid("Error", response.json())


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{ASSET}/environment"), ("GET", f"{ASSET}/environment/{JUPYTER}"),
     ("GET", f"{ASSET}/compute"), ("GET", f"{ASSET}/compute/{ONE_GPU}"),
     ("GET", f"{ASSET}/datasource"), ("GET", TEMPLATES), ("POST", TEMPLATES),
     ("GET", f"{TEMPLATES}/{MISSING}"), ("PUT", f"{TEMPLATES}/{MISSING}"),
     ("DELETE", f"{TEMPLATES}/{MISSING}")],
)  # fmt: skip
def test_asset_routes_need_a_token(emulator: EmbeddedEmulator, method: str, path: str) -> None:
    response = Api(emulator.url).call(method, path, json={})
    assert response.status_code == 401
    assert_valid("Error", response.json())
