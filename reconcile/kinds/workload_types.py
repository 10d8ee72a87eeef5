"""The workload type kind (`/api/v1/workload-types`): built-in or custom, identity is the name.

Owns the category/priority name <-> id translation and the PUT update. Workload types are
never deleted by the tool (dropping one from config means forget); no I/O here
(docs/runai-api.md section 2.1).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds.base import SPEC_NAMES, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import LOOKUP_REQUESTS, UNKNOWN_PREFIX, Lookups, WorkloadType
from reconcile.kinds.specs import sort_keys
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/workload-types"


class WorkloadTypeKind(SyncKind):
    """A workload type's category and priority (and, for custom types, group and interfaces)."""

    document_kind = "WorkloadType"
    slug = "workload-type"
    api_family = "workload types (/api/v1/workload-types)"
    since = "2.22"  # docs/runai-api.md section 0
    family_path = PATH
    probe_path = PATH
    scope_types: tuple[str, ...] = ()  # tenant-wide: identity is the name alone
    uses: tuple[str, ...] = ()
    name_checks: tuple[NameCheck, ...] = (NameCheck(("spec",), SPEC_NAMES),)
    name_refs: tuple[tuple[str, ...], ...] = ()
    can_delete = False  # built-in types must never go; dropping one from config is `forget`
    lookups_needed = frozenset({"categories", "priorities"})

    def __repr__(self) -> str:
        return "WorkloadTypeKind()"

    def list_request(self) -> ListRequest:
        return LOOKUP_REQUESTS["workloadtypes"]  # one read serves both

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        return Address(self.slug, "", str(item["name"])), str(item["id"])

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        # Responses carry `{version, resourceInterface}` pairs; documents hold what a write
        # sends: the resource interface objects themselves (the version is derived from them).
        interfaces = [ri.get("resourceInterface") for ri in obj.get("resourceInterfaces") or []]
        spec: Spec = {
            "spec": {
                "category": _name(
                    lookups, "category", obj.get("categoryId"), obj.get("categoryName")
                ),
                "priority": _name(
                    lookups, "priority", obj.get("priorityId"), obj.get("priorityName")
                ),
                "group": obj.get("group"),
                "resourceInterfaces": interfaces,
            }
        }
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj)

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        if not doc.get("group"):
            raise PlanError(
                f"{address}: no workload type {address.name!r} on the server; "
                "creating a custom type needs spec.group (its Kubernetes API group)"
            )
        body = {"name": address.name, "group": doc["group"], **self._fields(doc, lookups)}
        return HttpRequest("POST", PATH, sort_keys(body))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        # PUT with what desired holds. A category or priority cannot be unset (the server
        # keeps its value), and resourceInterfaces go only when desired lists them: NVIDIA's
        # procedure for built-in types sends categoryId and priorityId alone.
        body = self._fields(spec.get("spec", {}), lookups)
        return HttpRequest("PUT", f"{PATH}/{remote_id}", sort_keys(body))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{PATH}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{PATH}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(
            PATH, "types", Pagination.SINGLE, params(filterBy=f"name=={address.name}")
        )

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        # The group is create-only. As a workload type is never deleted, a planner that gets
        # a non-empty answer here must refuse the change rather than plan a replace.
        return tuple(sorted({p for p in changed_paths if p == "spec.group"}))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["id"])

    @staticmethod
    def _fields(doc: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "category" in doc:
            fields["categoryId"] = lookups.id_of("category", doc["category"])
        if "priority" in doc:
            fields["priorityId"] = lookups.id_of("priority", doc["priority"])
        if "resourceInterfaces" in doc:
            fields["resourceInterfaces"] = copy.deepcopy(doc["resourceInterfaces"])
        return fields


def planned_type(address: Address, spec: Spec, remote_id: str) -> WorkloadType | None:
    """The registry entry a create of this document makes (a custom type: its spec names
    the group), under `remote_id`; None when it names no group (its create is refused)."""
    group = (spec.get("spec") or {}).get("group")
    return WorkloadType(remote_id, address.name, str(group)) if group else None


def _name(lookups: Lookups, what: str, record_id: Any, given: Any) -> str | None:
    """The lookups' name for an id, else the name the response carries (categoryName...)."""
    if record_id is None:
        return str(given) if given else None
    name = lookups.name_of(what, record_id)
    return str(given) if name.startswith(UNKNOWN_PREFIX) and given else name


WORKLOAD_TYPE = WorkloadTypeKind()
