"""List semantics over HTTP on the template endpoints: pagination, filterBy operators, sort,
search, and the 400s for bad list parameters."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import (
    TEAM_A,
    TEMPLATES,
    Api,
    assert_valid,
    create_many,
    create_template,
)


def _names(api: Api, path: str = f"{TEMPLATES}/workspaces", **params: str) -> list[str]:
    response = api.get(path, **params)
    assert response.status_code == 200, response.text
    return [entry["meta"]["name"] for entry in response.json()["entries"]]


def test_pagination_across_more_than_500(api: Api) -> None:
    names = [f"t{i:04d}" for i in range(520)]
    create_many(api, "workspaces", names)
    first = api.get(f"{TEMPLATES}/workspaces", limit="500", sortBy="name")
    assert first.status_code == 200
    body = first.json()
    assert_valid("WorkspaceTemplatesListResponse", body)
    assert len(body["entries"]) == 500
    assert body["pagination"] == {"limit": 500, "offset": 0, "nextOffset": 500}
    second = api.get(f"{TEMPLATES}/workspaces", limit="500", offset="500", sortBy="name").json()
    assert second["pagination"] == {"limit": 500, "offset": 500}  # no nextOffset: last page
    seen = [e["meta"]["name"] for e in body["entries"] + second["entries"]]
    assert seen == names
    generic = api.get(TEMPLATES, limit="50", offset="510").json()
    assert len(generic["entries"]) == 10 and "nextOffset" not in generic["pagination"]
    assert api.get(f"{TEMPLATES}/count").json() == {"count": 520}


def test_default_page_is_50_in_creation_order(api: Api) -> None:
    create_many(api, "trainings", [f"n{i:02d}" for i in range(60)], threads=1)
    body = api.get(f"{TEMPLATES}/trainings").json()
    assert [e["meta"]["name"] for e in body["entries"]] == [f"n{i:02d}" for i in range(50)]
    assert body["pagination"] == {"limit": 50, "offset": 0, "nextOffset": 50}


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"offset": "-1"}, {"sortOrder": "up"}],
)
def test_bad_paging_parameters_are_400(api: Api, params: dict[str, str]) -> None:
    response = api.get(f"{TEMPLATES}/workspaces", **params)
    assert response.status_code == 400
    assert_valid("Error", response.json())


@pytest.fixture
def three(api: Api) -> Api:
    for name, project in (("alpha-one", TEAM_A), ("beta-two", TEAM_A), ("gamma-one", "43")):
        create_template(api, "workspaces", name, scope_id=project)
    return api


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("name==beta-two", ["beta-two"]),
        ("name!=beta-two", ["alpha-one", "gamma-one"]),
        ("name<=beta-two", ["alpha-one", "beta-two"]),
        ("name>=beta-two", ["beta-two", "gamma-one"]),
        ("name=@-on", ["alpha-one", "gamma-one"]),
        ("name!@-on", ["beta-two"]),
        ("name=^gam", ["gamma-one"]),
        ("name=$-two", ["beta-two"]),
        ("projectId==43", ["gamma-one"]),
        ("projectId>=43", ["gamma-one"]),
        ("workloadType==Workspace", ["alpha-one", "beta-two", "gamma-one"]),
        ("runnable==true", ["alpha-one", "beta-two", "gamma-one"]),
        ("createdAt>=2000-01-01T00:00:00Z", ["alpha-one", "beta-two", "gamma-one"]),
        ("createdAt<=2000-01-01T00:00:00Z", []),
        ("scopeType==project,projectId==42", ["alpha-one", "beta-two"]),
    ],
)
def test_filter_operators(three: Api, term: str, expected: list[str]) -> None:
    assert _names(three, filterBy=term) == expected


def test_filters_repeat_and_combine_with_search(three: Api) -> None:
    response = three.call(
        "GET",
        f"{TEMPLATES}/workspaces",
        params=[("filterBy", "name=@-one"), ("filterBy", "projectId==42")],
    )
    assert [e["meta"]["name"] for e in response.json()["entries"]] == ["alpha-one"]
    assert _names(three, search="GAMMA") == ["gamma-one"]
    assert _names(three, TEMPLATES, search="-one", filterBy="projectId==43") == ["gamma-one"]


def test_sorting(three: Api) -> None:
    assert _names(three, sortBy="name", sortOrder="desc") == ["gamma-one", "beta-two", "alpha-one"]
    assert _names(three, sortBy="projectId") == ["alpha-one", "beta-two", "gamma-one"]


@pytest.mark.parametrize(
    "params", [{"filterBy": "colour==red"}, {"filterBy": "name~~x"}, {"sortBy": "colour"}]
)
def test_unknown_filter_or_sort_field_is_400(three: Api, params: dict[str, str]) -> None:
    response = three.get(f"{TEMPLATES}/workspaces", **params)
    assert response.status_code == 400
    assert response.json()["code"] == 400
