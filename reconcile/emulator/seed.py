"""Loads a tenant (org tree, assets, categories, priorities, workload types) into an empty store.

It reads the YAML seed (the packaged `data/seed.yaml` by default), resolves names to ids and
writes API-shaped objects; it never serves HTTP and never touches a store that was seeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconcile.emulator.framework import ApiProblem
from reconcile.emulator.handlers import org
from reconcile.emulator.store import Store

# Stored in the `emulator` collection once a seed is loaded; a cleared store loses it.
MARKER = ("emulator", "seed")
_ID_NAMESPACE = uuid.UUID("5b0c6c55-2a3e-4b6f-9a53-6f1f3c0e2a24")
_DEFAULT_TIME = "2025-01-06T09:00:00.000Z"
# Asset collections by the seed's section name, with the asset kind each one holds.
ASSET_SECTIONS = {
    "environments": (org.ENVIRONMENTS, "environment"),
    "computes": (org.COMPUTES, "compute"),
    "datasources": (org.DATASOURCES, None),
}

Doc = dict[str, Any]


class SeedError(ValueError):
    """A seed file that cannot be read or refers to something it does not define."""


def default_seed_text() -> str:
    return resources.files("reconcile.emulator.data").joinpath("seed.yaml").read_text("utf-8")


def read_seed(path: str | Path | None) -> Doc:
    """The seed document from `path`, or the packaged default when None."""
    try:
        text = default_seed_text() if path is None else Path(path).read_text(encoding="utf-8")
        doc = YAML(typ="safe").load(text)
    except (OSError, YAMLError) as exc:
        raise SeedError(f"cannot read seed {path or 'data/seed.yaml'}: {exc}") from exc
    if not isinstance(doc, dict):
        raise SeedError(f"seed {path or 'data/seed.yaml'} must be a YAML mapping")
    return doc


def load_seed(store: Store, path: str | Path | None = None) -> bool:
    """Fill an unseeded store from the seed file; returns False when it was seeded already."""
    if store.get(*MARKER) is not None:
        return False
    doc = read_seed(path)
    with store.batch():
        _load(store, doc)
        store.insert(*MARKER, {"source": str(path) if path else "data/seed.yaml"})
    return True


def _load(store: Store, doc: Doc) -> None:
    when = str(doc.get("createdAt", _DEFAULT_TIME))
    who = str(doc.get("createdBy", "admin@run.ai"))
    tenant = doc.get("tenant") or {"id": 1, "name": "emulated"}
    store.insert(org.TENANT, str(tenant["id"]), {"id": int(tenant["id"]), "name": tenant["name"]})
    try:
        _load_org(store, doc, when, who, int(tenant["id"]))
        _load_workload_properties(store, doc, when, who, int(tenant["id"]))
        _load_assets(store, doc.get("assets") or {}, when, who, int(tenant["id"]))
        _load_roles(store, doc, when, who)
    except ApiProblem as exc:  # a scope naming an id the seed does not define
        raise SeedError(exc.message) from exc


def _entries(doc: Doc, key: str) -> Iterator[Doc]:
    for index, entry in enumerate(doc.get(key) or []):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise SeedError(f"seed {key}[{index}] must be a mapping with a name")
        yield entry


def _stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{kind}/{name}"))


def _lookup(table: dict[str, str], kind: str, name: Any, where: str) -> str:
    if name not in table:
        raise SeedError(f"seed {where}: unknown {kind} {name!r}")
    return table[name]


def _int_id(store: Store, entry: Doc, counter: str) -> str:
    # Org-unit ids are integer strings ("42"); an entry without one takes the next free one.
    return str(entry["id"]) if "id" in entry else str(100 + store.next_int(counter))


def _load_org(store: Store, doc: Doc, when: str, who: str, tenant_id: int) -> None:
    clusters: dict[str, str] = {}
    for entry in _entries(doc, "clusters"):
        cluster_id = str(entry.get("uuid") or _stable_id("cluster", entry["name"]))
        clusters[entry["name"]] = cluster_id
        cluster = org.make_cluster(entry, cluster_id, tenant_id, when)
        store.insert(org.CLUSTERS, cluster_id, cluster)
        pool_id = str(store.next_int("nodepool"))
        pool = org.make_nodepool(cluster, pool_id, {"name": org.DEFAULT_POOL}, "system", when)
        store.insert(org.NODEPOOLS, pool_id, pool)
    departments: dict[str, Doc] = {}
    for entry in _entries(doc, "departments"):
        cluster_id = _lookup(clusters, "cluster", entry.get("cluster"), entry["name"])
        unit_id = _int_id(store, entry, "seed-org-unit")
        pool_id = org.default_pool_id(store, cluster_id)
        department = org.make_department(entry, unit_id, cluster_id, pool_id)
        department.update(createdAt=when, updatedAt=when, createdBy=who, updatedBy=who)
        departments[entry["name"]] = department
    for entry in _entries(doc, "projects"):
        parent = departments.get(entry.get("department", ""))
        if parent is None:
            raise SeedError(f"seed project {entry['name']}: unknown department")
        pool_id = org.default_pool_id(store, parent["clusterId"])
        project = org.make_project(entry, _int_id(store, entry, "seed-org-unit"), parent, pool_id)
        project.update(createdAt=when, updatedAt=when, createdBy=who, updatedBy=who)
        parent["children"].append({"id": project["id"], "name": project["name"]})
        store.insert(org.PROJECTS, project["id"], project)
    for department in departments.values():
        store.insert(org.DEPARTMENTS, department["id"], department)


def _load_workload_properties(store: Store, doc: Doc, when: str, who: str, tenant_id: int) -> None:
    categories: dict[str, str] = {}
    for entry in _entries(doc, "categories"):
        cat_id = str(entry.get("id") or _stable_id("category", entry["name"]))
        categories[entry["name"]] = cat_id
        category = {"id": cat_id, "name": entry["name"], "createdAt": when, "createdBy": who}
        if entry.get("description"):
            category["description"] = str(entry["description"])
        store.insert(org.CATEGORIES, cat_id, category)
    statuses = [{"clusterId": c["uuid"], "phase": "Ready"} for c in store.all(org.CLUSTERS)]
    priorities: dict[str, str] = {}
    for entry in _entries(doc, "priorities"):
        prio_id = str(entry.get("id") or _stable_id("priority", entry["name"]))
        priorities[entry["name"]] = prio_id
        priority = {
            "id": prio_id, "name": entry["name"], "value": int(entry["value"]),
            "source": "Run:ai", "scopeType": "tenant", "scopeId": str(tenant_id),
            "aggregatedPhase": "Ready", "status": statuses, "createdAt": when, "updatedAt": when,
        }  # fmt: skip
        store.insert(org.PRIORITIES, prio_id, priority)
    for entry in _entries(doc, "workloadTypes"):
        where = f"workload type {entry['name']}"
        wt_id = str(entry.get("id") or _stable_id("workload-type", entry["name"]))
        version = str(entry.get("version", "v1"))
        store.insert(org.WORKLOAD_TYPES, wt_id, {
            "id": wt_id, "name": entry["name"], "group": entry["group"],
            "categoryId": _lookup(categories, "category", entry.get("category"), where),
            "priorityId": _lookup(priorities, "priority", entry.get("priority"), where),
            "resourceInterfaces": [org.resource_interface(entry["name"], entry["group"], version)],
            "createdAt": when, "createdBy": who, "updatedAt": when, "updatedBy": who,
            org.PRIVATE_SOURCE: "internal" if entry.get("native") else "external",
        })  # fmt: skip


def _load_roles(store: Store, doc: Doc, when: str, who: str) -> None:
    """The predefined roles (RoleV1): not custom, enabled, without permissions listed."""
    for index, entry in enumerate(_entries(doc, "roles"), start=1):
        role_id = int(entry.get("id") or index)
        store.insert(org.ROLES, str(role_id), {
            "id": role_id, "name": entry["name"], "description": entry.get("description", ""),
            "permissions": [], "custom": False, "effectiveEnabled": True, "enabled": True,
            "createdAt": when, "updatedAt": when, "createdBy": who,
        })  # fmt: skip


def _load_assets(store: Store, assets: Doc, when: str, who: str, tenant_id: int) -> None:
    for section, (collection, kind) in ASSET_SECTIONS.items():
        for entry in _entries(assets, section):
            asset_kind = kind or str(entry.get("kind", ""))
            if asset_kind not in org.DATASOURCE_SPEC_KEYS and kind is None:
                raise SeedError(f"seed datasource {entry['name']}: unknown kind {asset_kind!r}")
            asset_id = str(entry.get("id") or _stable_id(asset_kind, entry["name"]))
            meta = {
                "id": asset_id, "name": entry["name"], "kind": asset_kind,
                "tenantId": tenant_id, "createdAt": when, "createdBy": who,
                "updatedAt": when, "updatedBy": who, "updateCount": 0,
                **_scope_fields(store, entry.get("scope") or {"tenant": True}, entry["name"]),
            }  # fmt: skip
            for key in ("description", "workloadSupportedTypes"):
                if entry.get(key) is not None:
                    meta[key] = entry[key]
            store.insert(
                collection, asset_id, {"meta": meta, "spec": dict(entry.get("spec") or {})}
            )


def _scope_fields(store: Store, scope: Doc, name: str) -> Doc:
    """A config-style scope ({project: team-a}) turned into asset meta scope fields."""
    finders: dict[str, Callable[[str], dict[str, Any] | None]] = {
        "project": lambda n: org.find_by_name(store, org.PROJECTS, n),
        "department": lambda n: org.find_by_name(store, org.DEPARTMENTS, n),
        "cluster": lambda n: org.find_by_name(store, org.CLUSTERS, n),
    }
    if scope.get("tenant"):
        return org.scope_fields(store, "tenant")
    for scope_type, find in finders.items():
        if scope_type in scope:
            found = find(str(scope[scope_type]))
            if found is None:
                raise SeedError(f"seed asset {name}: unknown {scope_type} {scope[scope_type]!r}")
            key = "uuid" if scope_type == "cluster" else "id"
            return org.scope_fields(store, scope_type, str(found[key]))
    raise SeedError(f"seed asset {name}: scope must name tenant, cluster, department or project")
