"""The org-unit kinds: `Department` (in a cluster) and `Project` (in a department).

Owns their translation: quotas per node pool by name in documents, `resources` arrays with
node pool ids in the API; a quota-only change goes through the unit's `resources` endpoint,
anything else through the unit's PUT. No I/O here (docs/runai-api.md section 10.1).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds.base import LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import LIST_LIMIT, HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import LOOKUP_REQUESTS, UNKNOWN_PREFIX, Lookups, Named
from reconcile.kinds.scopes import parse_scope
from reconcile.kinds.specs import sort_keys
from reconcile.model import Address, FieldChange, Spec

DEPARTMENTS = "/api/v1/org-unit/departments"
PROJECTS = "/api/v1/org-unit/projects"
# Updatable on both units (DataUpdatableFields / DataUpdatableDepartmentFields), sent as is.
POLICY_FIELDS = ("defaultNodePools", "nodeTypes", "schedulingRules")


class OrgUnitKind(SyncKind):
    """What departments and projects share: quotas per node pool, description, policies."""

    document_kind: str
    slug: str
    api_family: str
    path: str
    items_key: str
    names_lookup: str | None
    spec_fields: tuple[str, ...] = POLICY_FIELDS  # sent by creates and updates
    create_only_fields: tuple[str, ...] = ()  # sent by creates alone: changing one replaces
    scope_types: tuple[str, ...]
    name_checks: tuple[NameCheck, ...] = ()
    since = "2.18"  # org units are in every version known (docs/runai-api.md section 0)
    family_path: str
    probe_path: str
    # Node pools are named by the keys of `spec.resources`, and in the scheduling policy's
    # `defaultNodePools`: a hidden value cannot name one.
    name_refs: tuple[tuple[str, ...], ...] = (("spec", "defaultNodePools"),)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def list_request(self) -> ListRequest:
        # The lookup's own list: one read serves both (the live reader shares fetch keys).
        return LOOKUP_REQUESTS[self.items_key]

    def cluster_id(self, scope: str, lookups: Lookups) -> str:
        """The id of the cluster the unit at `scope` lives in."""
        raise NotImplementedError

    def scope_of(self, obj: Mapping[str, Any], lookups: Lookups) -> str:
        raise NotImplementedError

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        return Address(self.slug, self.scope_of(item, lookups), str(item["name"])), str(item["id"])

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        fields = (*self.spec_fields, *self.create_only_fields)
        # `normalize` copies every container: the spec shares none with the server object.
        doc: dict[str, Any] = {k: obj.get(k) for k in fields}
        doc["resources"] = _quota_by_pool(obj.get("resources") or [], lookups)
        spec: Spec = {"metadata": {"description": obj.get("description") or None}, "spec": doc}
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj)

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        body = {
            "name": address.name,
            "clusterId": self.cluster_id(address.scope, lookups),
            **self._parent(address, lookups),
            **{k: copy.deepcopy(doc[k]) for k in self.create_only_fields if k in doc},
            **self._body(address, spec, lookups),
        }
        return HttpRequest("POST", self.path, sort_keys(body))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        body = self._body(address, spec, lookups)
        # A quota change alone goes to the unit's resources endpoint (PUT: the whole array),
        # so a change of quotas never rewrites the unit's other settings.
        if fields and all(f.path.startswith("spec.resources") for f in fields):
            return HttpRequest("PUT", f"{self.path}/{remote_id}/resources", body["resources"])
        return HttpRequest("PUT", f"{self.path}/{remote_id}", sort_keys(body))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{self.path}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{self.path}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(
            self.path,
            self.items_key,
            Pagination.NEXT,
            params(filterBy=f"name=={address.name}", limit=LIST_LIMIT),
        )

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        create_only = {f"spec.{k}" for k in self.create_only_fields}
        return tuple(sorted({p for p in changed_paths if p in create_only}))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["id"])

    def _parent(self, address: Address, lookups: Lookups) -> dict[str, Any]:
        return {}

    def _body(self, address: Address, spec: Spec, lookups: Lookups) -> dict[str, Any]:
        """The updatable fields: description, policies and the quota array (always sent:
        both units' update requests require `resources`)."""
        doc = spec.get("spec", {})
        body: dict[str, Any] = {k: copy.deepcopy(doc[k]) for k in self.spec_fields if k in doc}
        description = spec.get("metadata", {}).get("description")
        if description is not None:
            body["description"] = description
        cluster_id = self.cluster_id(address.scope, lookups)
        body["resources"] = [
            sort_keys({"nodePool": {"id": lookups.nodepool_id(cluster_id, pool), "name": pool},
                       **copy.deepcopy(quota)})
            for pool, quota in sorted((doc.get("resources") or {}).items())
        ]  # fmt: skip
        return body


class DepartmentKind(OrgUnitKind):
    """A department of a cluster: quotas per node pool and the defaults of its projects."""

    document_kind = "Department"
    slug = "department"
    api_family = "org units (/api/v1/org-unit/departments)"
    path = DEPARTMENTS
    family_path = probe_path = DEPARTMENTS
    items_key = "departments"
    names_lookup: str | None = "department"
    scope_types: tuple[str, ...] = ("cluster",)
    uses: tuple[str, ...] = ("node-pool",)  # its quotas are per node pool
    lookups_needed = frozenset({"clusters", "departments", "nodepools"})

    def cluster_id(self, scope: str, lookups: Lookups) -> str:
        return lookups.id_of("cluster", parse_scope(scope)[1])

    def scope_of(self, obj: Mapping[str, Any], lookups: Lookups) -> str:
        return f"cluster={lookups.name_of('cluster', obj.get('clusterId'))}"

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> Named:
        return Named(remote_id, address.name, cluster_id=self.cluster_id(address.scope, lookups))


class ProjectKind(OrgUnitKind):
    """A project of a department: its namespace, scheduler setting and quotas per node pool."""

    document_kind = "Project"
    slug = "project"
    api_family = "org units (/api/v1/org-unit/projects)"
    path = PROJECTS
    family_path = probe_path = PROJECTS
    items_key = "projects"
    names_lookup: str | None = "project"
    spec_fields = (*POLICY_FIELDS, "enforceRunaiScheduler")
    # The namespace is chosen at create time; the update request has no field for it.
    create_only_fields = ("requestedNamespace",)
    scope_types: tuple[str, ...] = ("department",)
    uses: tuple[str, ...] = ("department", "node-pool")
    lookups_needed = frozenset({"clusters", "departments", "projects", "nodepools"})

    def cluster_id(self, scope: str, lookups: Lookups) -> str:
        return lookups.department(parse_scope(scope)[1]).cluster_id

    def scope_of(self, obj: Mapping[str, Any], lookups: Lookups) -> str:
        parent = lookups.name_of("department", obj.get("parentId"))
        if parent.startswith(UNKNOWN_PREFIX) and (obj.get("parent") or {}).get("name"):
            parent = str(obj["parent"]["name"])
        return f"department={parent}"

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        # The namespace the project got is in its status; `requestedNamespace` is what a
        # create asked for, and the two agree unless the cluster changed it.
        namespace = obj.get("requestedNamespace") or (obj.get("status") or {}).get("namespace")
        return super().from_live({**obj, "requestedNamespace": namespace}, lookups)

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> Named:
        department = lookups.department(parse_scope(address.scope)[1])
        return Named(
            remote_id, address.name, cluster_id=department.cluster_id, parent_id=department.id
        )

    def _parent(self, address: Address, lookups: Lookups) -> dict[str, Any]:
        return {"parentId": lookups.department(parse_scope(address.scope)[1]).id}


def _quota_by_pool(resources: Sequence[Mapping[str, Any]], lookups: Lookups) -> dict[str, Any]:
    """The API's `resources` array -> quotas keyed by node pool name (ids resolved)."""
    out: dict[str, Any] = {}
    for entry in resources:
        pool = entry.get("nodePool") or {}
        name = lookups.nodepool_name(pool.get("id"))
        if name.startswith(UNKNOWN_PREFIX) and pool.get("name"):
            name = str(pool["name"])
        out[name] = {k: v for k, v in entry.items() if k != "nodePool"}
    return out


DEPARTMENT = DepartmentKind()
PROJECT = ProjectKind()
