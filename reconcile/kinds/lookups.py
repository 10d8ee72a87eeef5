"""Name <-> id lookups (projects, departments, clusters, node pools, categories, priorities,
roles, assets, workload types).

Users write names; the API wants ids, typed inconsistently per endpoint (docs/runai-api.md
section 6). This module says which list calls fill the lookups and translates their items;
the live reader makes the calls. No I/O here. A name the server does not know raises
PlanError, or, in lookups made `collecting`, is recorded and answered with a placeholder, so
that a plan reports every unknown name at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds.calls import LIST_LIMIT, ListRequest, Pagination, params
from reconcile.kinds.scopes import SCOPE_ID_FIELDS, parse_scope

TENANT_ID = "1"  # the emulator's tenant (docs/emulator.md); scopeId of tenant-scoped templates
UNKNOWN_PREFIX = "id:"  # placeholder name for an id the lookups do not know
# The id of an org unit, node pool or asset the plan itself creates, until its create
# returns one: `planned:<address>`.
PLANNED_PREFIX = "planned:"

# The list read behind each lookup. Org units page with offset/limit (`next`); the others
# answer in one response (clusters as a bare array).
LOOKUP_REQUESTS: dict[str, ListRequest] = {
    "projects": ListRequest(
        "/api/v1/org-unit/projects", "projects", Pagination.NEXT, params(limit=LIST_LIMIT)
    ),
    "departments": ListRequest(
        "/api/v1/org-unit/departments", "departments", Pagination.NEXT, params(limit=LIST_LIMIT)
    ),
    "clusters": ListRequest("/api/v1/clusters", None, Pagination.SINGLE),
    # `{nodepools: [...]}` with offset/limit but no `next`: one page of the largest size.
    "nodepools": ListRequest(
        "/api/v1/node-pools", "nodepools", Pagination.NEXT, params(limit=LIST_LIMIT)
    ),
    "categories": ListRequest("/api/v1/workload-categories", "categories", Pagination.SINGLE),
    "priorities": ListRequest("/api/v1/workload-priorities", "priorities", Pagination.SINGLE),
    "roles": ListRequest("/api/v1/authorization/roles", None, Pagination.SINGLE),  # RolesV1
    "environments": ListRequest("/api/v1/asset/environment", "entries", Pagination.SINGLE),
    "computes": ListRequest("/api/v1/asset/compute", "entries", Pagination.SINGLE),
    "datasources": ListRequest("/api/v1/asset/datasource", "entries", Pagination.SINGLE),
    # The registry a Workloads V2 manifest's apiVersion/kind must match (section 2.1); also
    # the workload type kind's own list read.
    "workloadtypes": ListRequest("/api/v1/workload-types", "types", Pagination.SINGLE),
}
ASSET_LISTS = {"environments": "environment", "computes": "compute", "datasources": ""}


@dataclass(frozen=True)
class Named:
    """An object known by id and name: category, priority, cluster, department, project, node
    pool."""

    id: str
    name: str
    cluster_id: str = ""  # departments, projects and node pools
    parent_id: str = ""  # projects: their department


@dataclass(frozen=True)
class AssetRecord:
    """An environment, compute or data-source asset; names are unique per scope and kind."""

    id: str
    name: str
    kind: str  # "environment", "compute", "pvc", "git", ... (AssetKind)
    scope_type: str  # "project", "department", "cluster", "tenant" or "system"
    scope_id: str = ""  # project/department id or cluster uuid as a string; "" above


@dataclass(frozen=True)
class WorkloadType:
    """A registered workload type: a manifest of `group`/`name` may be submitted."""

    id: str
    name: str  # the Kubernetes kind
    group: str  # the API group; the core group is listed as `core`


CORE_GROUP = "core"  # how the workload types list names Kubernetes' core API group ("")


# What a kind's objects are known by in the lookups (`Kind.lookup_record`).
LookupRecord = Named | AssetRecord


def planned_address(value: object) -> str | None:
    """The address a planned id stands for (`planned:<address>`), or None for a real id."""
    if isinstance(value, str) and value.startswith(PLANNED_PREFIX):
        return value[len(PLANNED_PREFIX) :]
    return None


def planned_in(value: Any) -> set[str]:
    """The addresses of the planned ids anywhere in `value` (a request's path, body and
    parameters): what a request names that its run has not created yet."""
    if isinstance(value, str):
        found = planned_address(value)
        if found is not None:
            return {found}
        marker = value.find(PLANNED_PREFIX)  # inside a path: /projects/planned:...
        return {value[marker + len(PLANNED_PREFIX) :]} if marker >= 0 else set()
    if isinstance(value, Mapping):
        return {a for v in value.values() for a in planned_in(v)}
    if isinstance(value, (list, tuple)):
        return {a for v in value for a in planned_in(v)}
    return set()


class _Index:
    """id <-> name for one object type; a name held by several ids is ambiguous."""

    def __init__(self, what: str, records: Iterable[Named]) -> None:
        self.what = what
        self.by_id = {r.id: r for r in records}
        self.by_name: dict[str, list[Named]] = {}
        for record in self.by_id.values():
            self.by_name.setdefault(record.name, []).append(record)

    def record(self, name: str) -> Named:
        found = self.by_name.get(name, [])
        if not found:
            raise PlanError(
                f"{self.what} {name!r} does not exist on the server{closest(name, self.by_name)}"
            )
        if len(found) > 1:
            ids = ", ".join(sorted(r.id for r in found))
            raise PlanError(f"{self.what} name {name!r} is ambiguous on the server (ids {ids})")
        return found[0]

    def name(self, record_id: object) -> str | None:
        record = self.by_id.get(str(record_id))
        return record.name if record else None


class Misses:
    """Unknown names met while requests are built, by what was being built (`current`, set
    by the caller: the planner's address), each once, in the order met."""

    def __init__(self) -> None:
        self.current: object = None
        self.found: dict[object, dict[str, None]] = {}

    def add(self, message: str) -> None:
        self.found.setdefault(self.current, {})[message] = None


@dataclass(frozen=True)
class Lookups:
    """Everything the kinds resolve, read once per run. Build with `from_api` from list items."""

    projects: tuple[Named, ...] = ()
    departments: tuple[Named, ...] = ()
    clusters: tuple[Named, ...] = ()
    nodepools: tuple[Named, ...] = ()
    categories: tuple[Named, ...] = ()
    priorities: tuple[Named, ...] = ()
    roles: tuple[Named, ...] = ()
    assets: tuple[AssetRecord, ...] = ()
    workload_types: tuple[WorkloadType, ...] = ()
    tenant_id: str = TENANT_ID
    # Set by `collecting`: unknown names are recorded here instead of raised (shared by the
    # copies `with_records` makes).
    misses: Misses | None = field(default=None, repr=False, compare=False)
    _index: dict[str, _Index] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {
            "project": _Index("project", self.projects),
            "department": _Index("department", self.departments),
            "cluster": _Index("cluster", self.clusters),
            "category": _Index("category", self.categories),
            "priority": _Index("priority", self.priorities),
            "role": _Index("role", self.roles),
        }
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_api(cls, lists: Mapping[str, Sequence[Mapping[str, Any]]]) -> Lookups:
        """Build from raw list items keyed as LOOKUP_REQUESTS; absent keys stay empty."""

        def named(key: str, id_field: str = "id") -> tuple[Named, ...]:
            return tuple(
                Named(
                    id=str(item[id_field]),
                    name=str(item["name"]),
                    cluster_id=str(item.get("clusterId") or ""),
                    parent_id=str(item.get("parentId") or ""),
                )
                for item in lists.get(key, ())
            )

        assets = tuple(
            _asset_record(item, default_kind)
            for key, default_kind in ASSET_LISTS.items()
            for item in lists.get(key, ())
        )
        types = tuple(
            WorkloadType(str(item["id"]), str(item["name"]), str(item.get("group") or CORE_GROUP))
            for item in lists.get("workloadtypes", ())
        )
        return cls(
            projects=named("projects"),
            departments=named("departments"),
            clusters=named("clusters", "uuid"),
            nodepools=named("nodepools"),
            categories=named("categories"),
            priorities=named("priorities"),
            roles=named("roles"),
            assets=assets,
            workload_types=types,
        )

    def collecting(self) -> Lookups:
        """A copy that records each unknown name in `misses` (new ones) and answers it with
        a placeholder id (`UNKNOWN_PREFIX`...) instead of raising: for the planner, which
        reports every unknown name of a plan together and never sends what it built."""
        return replace(self, misses=Misses())

    def _missed(self, error: PlanError, placeholder: str) -> str:
        if self.misses is None:
            raise error
        self.misses.add(error.message)
        return placeholder

    def _record(self, what: str, name: str) -> Named:
        try:
            return self._index[what].record(name)
        except PlanError as error:
            return Named(id=self._missed(error, f"{UNKNOWN_PREFIX}{name}"), name=name)

    def id_of(self, what: str, name: str) -> str:
        """`what` is project, department, cluster, category, priority or role; PlanError if
        unknown."""
        return self._record(what, name).id

    def name_of(self, what: str, record_id: object) -> str:
        name = self._index[what].name(record_id)
        return self._unknown_id(what, record_id) if name is None else name

    def _unknown_id(self, what: str, record_id: object) -> str:
        """The name shown for an id the server's lists lack: a placeholder, recorded when
        collecting (so `import` can tell it from a user's value that looks the same)."""
        if self.misses is not None:
            self.misses.add(f"{what} id {record_id!r} is not one the server lists")
        return f"{UNKNOWN_PREFIX}{record_id}"

    def project(self, name: str) -> Named:
        return self._record("project", name)

    def department(self, name: str) -> Named:
        return self._record("department", name)

    def check_workload_type(self, api_version: str, kind: str) -> None:
        """While planning (`collecting`): record a manifest of `api_version`/`kind` that no
        registered workload type matches (the server's 400), naming the closest kinds.

        Not otherwise: a workload type the same apply creates is not learnt by the applier's
        lookups (its id is never sent), and the server checks again anyway."""
        if self.misses is None:
            return
        group = api_version.rpartition("/")[0] or CORE_GROUP
        if any(t.name == kind and t.group == group for t in self.workload_types):
            return
        same_group = {t.name for t in self.workload_types if t.group == group}
        hint = closest(kind, same_group or {t.name for t in self.workload_types})
        self.misses.add(f"no workload type is registered for {kind} ({group}){hint}")

    def with_records(self, what: str, records: Iterable[LookupRecord | WorkloadType]) -> Lookups:
        """A copy that also knows `records` of `what` (project, department, nodepool,
        workloadtype or asset), in place of any record of the same name (and cluster: node
        pool names are per cluster; and kind and scope: asset names are per kind and scope).
        The planner adds the objects a plan creates (ids `PLANNED_PREFIX`...); the applier
        swaps in the real ids as their creates return."""
        added = tuple(records)
        if what == "workloadtype":
            types = tuple(r for r in added if isinstance(r, WorkloadType))
            taken_types = {(t.name, t.group) for t in types}
            kept_types = (t for t in self.workload_types if (t.name, t.group) not in taken_types)
            return replace(self, workload_types=(*kept_types, *types))
        if what == "asset":
            assets = tuple(r for r in added if isinstance(r, AssetRecord))
            replaced = {_asset_key(a) for a in assets}
            kept = tuple(a for a in self.assets if _asset_key(a) not in replaced)
            return replace(self, assets=(*kept, *assets))
        named = tuple(r for r in added if isinstance(r, Named))
        per_cluster = what == "nodepool"  # node pool names are unique per cluster only
        taken = {(r.name, r.cluster_id if per_cluster else "") for r in named}

        def merged(current: tuple[Named, ...]) -> tuple[Named, ...]:
            kept = (
                r for r in current if (r.name, r.cluster_id if per_cluster else "") not in taken
            )
            return (*kept, *named)

        if what == "project":
            updated = replace(self, projects=merged(self.projects))
        elif what == "department":
            updated = replace(self, departments=merged(self.departments))
        elif what == "nodepool":
            updated = replace(self, nodepools=merged(self.nodepools))
        else:
            raise ValueError(f"no lookup of {what!r} records")
        # A unit's planned id gives way to its real one where other records name it too (an
        # asset the plan creates in it, a project in a department it creates): they stay
        # findable from the unit's real id even when their own create never returns.
        swaps = {
            old.id: new.id
            for old in self._records(what)
            for new in added
            if old.name == new.name and planned_address(old.id) and not planned_address(new.id)
        }
        return updated._renamed(swaps) if swaps else updated

    def _records(self, what: str) -> tuple[Named, ...]:
        return {"project": self.projects, "department": self.departments}.get(what, ())

    def _renamed(self, ids: Mapping[str, str]) -> Lookups:
        """A copy whose projects' parents and assets' scopes name `ids`' new ids for old."""
        return replace(
            self,
            projects=tuple(replace(p, parent_id=ids.get(p.parent_id, p.parent_id))
                           for p in self.projects),
            assets=tuple(replace(a, scope_id=ids.get(a.scope_id, a.scope_id))
                         for a in self.assets),
        )  # fmt: skip

    def nodepool_id(self, cluster_id: str, name: str) -> str:
        """The id of node pool `name` of the cluster `cluster_id`; PlanError if unknown."""
        for pool in self.nodepools:
            if pool.name == name and pool.cluster_id == cluster_id:
                return pool.id
        placeholder = f"{UNKNOWN_PREFIX}{name}"
        if self.misses is not None and cluster_id.startswith(UNKNOWN_PREFIX):
            return placeholder  # its unknown cluster is reported already
        cluster = self.name_of("cluster", cluster_id)
        known = {p.name for p in self.nodepools if p.cluster_id == cluster_id}
        error = PlanError(
            f"node pool {name!r} does not exist on cluster {cluster}{closest(name, known)}"
        )
        return self._missed(error, placeholder)

    def nodepool_name(self, pool_id: object) -> str:
        name = self._nodepool_names.get(str(pool_id))
        return self._unknown_id("node pool", pool_id) if name is None else name

    def scope_id(self, scope: str) -> tuple[str, str]:
        """An address scope -> (scopeType, scopeId as a string) for template writes."""
        scope_type, name = parse_scope(scope)
        if scope_type == "tenant":
            return scope_type, self.tenant_id
        return scope_type, self.id_of(scope_type, name)

    def scope_text(self, scope_type: str, scope_id: object) -> str:
        """(scopeType, id) from the server -> the address scope (`project=team-a`)."""
        if scope_type in {"tenant", "system"}:
            return scope_type
        # Every live template and asset asks this of one of a few units: each answer is
        # made once. An unknown id is not kept, so that each ask records it (`misses`).
        key = (scope_type, str(scope_id))
        text = self._scope_texts.get(key)
        if text is None:
            name = self._index[scope_type].name(scope_id)
            if name is None:
                return f"{scope_type}={self._unknown_id(scope_type, scope_id)}"
            text = self._scope_texts[key] = f"{scope_type}={name}"
        return text

    def asset_name(self, asset_id: object) -> str:
        name = self._asset_names.get(str(asset_id))
        return self._unknown_id("asset", asset_id) if name is None else name

    # id -> name, the first record of each id as the tuples list them: made on first use
    # (every live template and org unit names some), not for each copy `with_records` makes.
    @cached_property
    def _nodepool_names(self) -> dict[str, str]:
        return _first_names(self.nodepools)

    @cached_property
    def _scope_texts(self) -> dict[tuple[str, str], str]:
        return {}

    @cached_property
    def _asset_names(self) -> dict[str, str]:
        return _first_names(self.assets)

    def asset_id(self, name: str, kind: str, scope: str) -> str:
        """The asset `name` of `kind` visible from `scope`, the nearest scope first."""
        placeholder = f"{UNKNOWN_PREFIX}{name}"
        candidates = [a for a in self.assets if a.name == name and a.kind == kind]
        if not candidates:
            known = {a.name for a in self.assets if a.kind == kind}
            error = PlanError(
                f"no {kind} asset named {name!r} exists on the server{closest(name, known)}"
            )
            return self._missed(error, placeholder)
        chain = self._ancestry(scope)
        if any(unit_id.startswith(UNKNOWN_PREFIX) for _, unit_id in chain):
            return placeholder  # the scope's unknown unit is reported already
        for scope_type, scope_id in chain:
            for asset in candidates:
                if asset.scope_type == scope_type and asset.scope_id == scope_id:
                    return asset.id
        error = PlanError(f"{kind} asset {name!r} is not visible from scope {scope}")
        return self._missed(error, candidates[0].id)  # what a write would name

    def sees(self, user: str, asset: str) -> bool:
        """Whether an object at address scope `user` may use an asset at scope `asset`: the
        asset's scope is the user's own or one above it. PlanError for an unknown unit."""
        scope_type, name = parse_scope(asset)
        unit = "" if scope_type == "tenant" else self.id_of(scope_type, name)
        return (scope_type, unit) in self._ancestry(user)

    def _ancestry(self, scope: str) -> list[tuple[str, str]]:
        """The scopes whose assets `scope` can use, nearest first (project -> ... -> system)."""
        scope_type, name = parse_scope(scope)
        chain: list[tuple[str, str]] = []
        if scope_type == "project":
            project = self.project(name)
            chain.append(("project", project.id))
            chain += [("department", project.parent_id), ("cluster", project.cluster_id)]
        elif scope_type == "department":
            department = self.department(name)
            chain += [("department", department.id), ("cluster", department.cluster_id)]
        elif scope_type == "cluster":
            chain.append(("cluster", self.id_of("cluster", name)))
        return [*chain, ("tenant", ""), ("system", "")]


def _first_names(records: Iterable[Named | AssetRecord]) -> dict[str, str]:
    names: dict[str, str] = {}
    for record in records:
        names.setdefault(record.id, record.name)
    return names


def _asset_key(asset: AssetRecord) -> tuple[str, str, str, str]:
    return (asset.kind, asset.name, asset.scope_type, asset.scope_id)


def closest(name: str, known: Iterable[str], *, limit: int = 3) -> str:
    """` (did you mean 'a' or 'b'?)` with the known names closest to `name`, or ''."""
    found = difflib.get_close_matches(name, sorted(known), n=limit, cutoff=0.6)
    if not found:
        return ""
    return " (did you mean " + " or ".join(repr(n) for n in found) + "?)"


def _asset_record(item: Mapping[str, Any], default_kind: str) -> AssetRecord:
    """An asset list entry -> AssetRecord; `meta.projectId` is an int here, others strings."""
    meta = item.get("meta") or {}
    scope_type = str(meta.get("scope") or "tenant")
    id_field = SCOPE_ID_FIELDS.get(scope_type)
    raw_scope_id = meta.get(id_field) if id_field is not None else None
    return AssetRecord(
        id=str(meta["id"]),
        name=str(meta["name"]),
        kind=str(meta.get("kind") or default_kind),
        scope_type=scope_type,
        scope_id="" if raw_scope_id is None else str(raw_scope_id),
    )
