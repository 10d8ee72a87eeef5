"""The seed loader on real stores: the default tenant, custom seed files, errors, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.emulator.seed import MARKER, SeedError, load_seed, read_seed
from reconcile.emulator.store import Store


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_seed_holds_the_documented_tenant() -> None:
    store = Store()
    assert load_seed(store) is True
    names = {
        c: [o["meta"]["name"] if "meta" in o else o.get("name") for o in store.all(c)]
        for c in store.collections()
    }
    assert names["departments"] == ["research", "platform", "default"]
    assert names["projects"] == ["team-a", "team-b", "inference"]
    assert names["workload_categories"] == ["Build", "Train", "Deploy"]
    assert [(p["name"], p["value"]) for p in store.all("workload_priorities")] == [
        ("very-low", 25), ("low", 40), ("medium-low", 65), ("medium", 80),
        ("medium-high", 90), ("high", 125), ("very-high", 150),
    ]  # fmt: skip
    assert {"Pod", "Deployment", "PyTorchJob", "TrainingWorkload"} <= set(names["workload_types"])
    assert names["assets_environment"] == ["jupyter-lab", "pytorch", "vscode"]
    assert names["assets_compute"] == ["one-gpu", "half-gpu", "cpu-only"]
    assert store.get("projects", "42")["parentId"] == "2"  # type: ignore[index]


def test_seed_loads_once_and_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.sqlite3")
    store = Store(db)
    assert load_seed(store) is True
    counts = {c: store.count(c) for c in store.collections()}
    store.close()
    again = Store(db)
    assert load_seed(again) is False  # seeded already: nothing is added twice
    assert {c: again.count(c) for c in again.collections()} == counts
    again.clear()
    assert load_seed(again) is True and again.get(*MARKER) is not None


def test_custom_seed_resolves_names_and_fills_ids(tmp_path: Path) -> None:
    seed = _write(
        tmp_path,
        "tenant: {id: 7, name: acme}\n"
        "clusters: [{name: c1}]\n"
        "departments: [{name: d1, cluster: c1, gpuQuota: 2}]\n"
        "projects: [{name: p1, department: d1}]\n"
        "categories: [{name: Train}]\n"
        "priorities: [{name: low, value: 40}]\n"
        "workloadTypes: [{name: FooJob, group: example.com, category: Train, priority: low}]\n"
        "assets:\n"
        "  datasources: [{name: data, kind: pvc, scope: {project: p1}, spec: {claimName: d}}]\n",
    )
    store = Store()
    load_seed(store, seed)
    (cluster,) = store.all("clusters")
    (department,) = store.all("departments")
    (project,) = store.all("projects")
    assert (cluster["tenantId"], department["clusterId"]) == (7, cluster["uuid"])
    assert (department["id"], project["id"], project["parentId"]) == ("101", "102", "101")
    assert department["children"] == [{"id": "102", "name": "p1"}]
    (wtype,) = store.all("workload_types")
    assert wtype["categoryId"] == store.all("workload_categories")[0]["id"]
    (data,) = store.all("assets_datasource")
    assert (data["meta"]["projectId"], data["meta"]["kind"]) == (102, "pvc")
    # Ids without an explicit value are stable: the same seed gives the same ids.
    other = Store()
    load_seed(other, seed)
    assert other.all("clusters")[0]["uuid"] == cluster["uuid"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [{name: c1}\n", "cannot read seed"),
        ("- just a list\n", "must be a YAML mapping"),
        ("departments: [{name: d1, cluster: nowhere}]\n", "unknown cluster 'nowhere'"),
        ("projects: [{name: p1, department: nowhere}]\n", "unknown department"),
        ("clusters: [{uuid: 1}]\n", "must be a mapping with a name"),
        (
            "workloadTypes: [{name: X, group: g, category: Nope, priority: low}]\n",
            "unknown category",
        ),
        ("assets: {computes: [{name: c, scope: {project: nowhere}}]}\n", "unknown project"),
        ("assets: {computes: [{name: c, scope: {planet: earth}}]}\n", "scope must name"),
        ("assets: {datasources: [{name: d, kind: floppy}]}\n", "unknown kind 'floppy'"),
    ],
)
def test_bad_seeds_fail_clearly_and_store_nothing(tmp_path: Path, text: str, message: str) -> None:
    store = Store()
    with pytest.raises(SeedError, match=message):
        load_seed(store, _write(tmp_path, text))
    assert store.collections() == []


def test_missing_seed_file_is_a_seed_error(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read seed"):
        read_seed(tmp_path / "absent.yaml")
