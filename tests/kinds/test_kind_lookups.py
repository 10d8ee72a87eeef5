"""Name <-> id lookups: built from list items, scopes both ways, assets by nearest scope."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import PlanError
from reconcile.kinds.lookups import LOOKUP_REQUESTS, Lookups
from reconcile.kinds.scopes import parse_scope
from tests.emulator.helpers import CLUSTER_A


def test_from_api_resolves_each_id_type_as_its_endpoint_spells_it(lookups: Lookups) -> None:
    assert lookups.id_of("project", "team-a") == "42"
    assert lookups.id_of("department", "research") == "2"
    assert lookups.id_of("cluster", "cluster-a") == CLUSTER_A  # the cluster's `uuid`
    assert lookups.id_of("priority", "high") == "26e8193c-435f-45af-8daa-f61696f0a560"
    assert lookups.name_of("category", "758b4978-ba4a-4f9c-add6-058c3c17dc68") == "Train"
    assert lookups.name_of("project", 42) == "team-a"  # asset and template meta use ints
    assert lookups.name_of("project", "999") == "id:999"


@pytest.mark.parametrize(
    ("scope", "pair"),
    [
        ("tenant", ("tenant", "1")),
        ("cluster=cluster-a", ("cluster", CLUSTER_A)),
        ("department=research", ("department", "2")),
        ("project=team-a", ("project", "42")),
    ],
)
def test_scope_ids_and_back(lookups: Lookups, scope: str, pair: tuple[str, str]) -> None:
    assert lookups.scope_id(scope) == pair
    assert lookups.scope_text(*pair) == scope


def test_unknown_and_ambiguous_names_are_plan_errors(org_lists: dict[str, Any]) -> None:
    twice = {**org_lists, "projects": [*org_lists["projects"], {"id": "77", "name": "team-a"}]}
    with pytest.raises(PlanError, match=r"ambiguous.*42, 77"):
        Lookups.from_api(twice).id_of("project", "team-a")
    with pytest.raises(PlanError, match="department 'nope' does not exist"):
        Lookups.from_api(org_lists).scope_id("department=nope")


def test_collecting_lookups_record_every_unknown_name_and_go_on(lookups: Lookups) -> None:
    collecting = lookups.collecting()
    misses = collecting.misses
    assert misses is not None
    misses.current = "first"
    assert collecting.scope_id("department=reserch") == ("department", "id:reserch")
    # The unknown department's cluster is unknown too: reported once, at the department.
    department = collecting.department("reserch")
    assert collecting.nodepool_id(department.cluster_id or "id:x", "a100") == "id:a100"
    misses.current = "second"
    collecting.check_workload_type("apps/v1", "Deploymnt")
    lookups.check_workload_type("apps/v1", "Deploymnt")  # only checked while planning
    assert misses.found == {
        "first": {
            "department 'reserch' does not exist on the server (did you mean 'research'?)": None
        },
        "second": {"no workload type is registered for Deploymnt (apps)": None},
    }
    with pytest.raises(PlanError):  # the lookups it was made from still raise
        lookups.scope_id("department=reserch")


def test_scope_texts_answer_alike_however_often_asked(lookups: Lookups) -> None:
    """An id's scope text is the same each time and for each spelling of the id; an unknown
    id is recorded at every address that meets it, not only the first."""
    collecting = lookups.collecting()
    misses = collecting.misses
    assert misses is not None
    for current in ("first", "second"):
        misses.current = current
        for _ in range(2):
            assert collecting.scope_text("project", 42) == "project=team-a"
            assert collecting.scope_text("project", "42") == "project=team-a"
            assert collecting.scope_text("project", 999) == "project=id:999"
    assert misses.found == {
        current: {"project id 999 is not one the server lists": None}
        for current in ("first", "second")
    }
    assert lookups.scope_text("department", "2") == "department=research"
    assert lookups.scope_text("department", 42) == "department=id:42"


@pytest.mark.parametrize("bad", ["project", "tenant=x", "galaxy=far", ""])
def test_parse_scope_refuses_malformed_scopes(bad: str) -> None:
    with pytest.raises(PlanError, match="not a scope"):
        parse_scope(bad)


def test_assets_resolve_to_the_nearest_visible_scope(lookups: Lookups) -> None:
    # Two pvc assets named home: team-a's own, and the tenant's.
    assert (
        lookups.asset_id("home", "pvc", "project=team-a") == "4c8e9340-0f59-4527-b47c-babbb7118953"
    )
    assert (
        lookups.asset_id("home", "pvc", "project=team-b") == "a79396ce-caa7-41ea-9cd0-273a43e51702"
    )
    # A research department asset is visible from its projects, not from platform's.
    assert lookups.asset_id("cpu-only", "compute", "project=team-b").startswith("f4270c12")
    with pytest.raises(PlanError, match="not visible from scope project=inference"):
        lookups.asset_id("cpu-only", "compute", "project=inference")
    with pytest.raises(PlanError, match="no environment asset named 'nope'"):
        lookups.asset_id("nope", "environment", "tenant")
    assert lookups.asset_name("2b53ff03-61f2-4d52-9960-3fdb594dba79") == "one-gpu"


def test_lookup_reads_use_the_largest_page() -> None:
    paged = [r for r in LOOKUP_REQUESTS.values() if r.pagination.value != "single"]
    assert {r.path for r in paged} == {
        "/api/v1/org-unit/projects",
        "/api/v1/org-unit/departments",
        "/api/v1/node-pools",
    }
    assert all(r.query == {"limit": "500"} for r in paged)
    assert LOOKUP_REQUESTS["clusters"].items_key is None  # a bare array
