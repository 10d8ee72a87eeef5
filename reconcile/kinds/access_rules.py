"""The access rule kind (`/api/v1/authorization/access-rules`): a role given to a subject.

A document names the subject (a user's email, a group, an app or service account) as its
`metadata.name`, the scope as every document does, and the role by its name; the API wants
the role's id and the scope's id. Access rules have no update: any change replaces the rule
(delete, then create). No I/O (docs/runai-api.md section 11.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds import asset_meta
from reconcile.kinds.base import ItemPaths, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import LIST_LIMIT, HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/authorization/access-rules"
SUBJECT_TYPE = "user"  # the document's default subject type


class AccessRuleKind(ItemPaths, SyncKind):
    """An access rule; identity is (scope, subject), the role is in the spec."""

    document_kind = "AccessRule"
    slug = "access-rule"
    api_family = "access rules (/api/v1/authorization/access-rules)"
    since = "2.18"  # in the oldest spec known (docs/runai-api.md section 0)
    family_path = probe_path = PATH
    path = PATH
    scope_types: tuple[str, ...] = SCOPE_TYPES
    uses: tuple[str, ...] = ("department", "project")  # its scope may be created in the plan
    name_checks: tuple[NameCheck, ...] = ()
    name_refs: tuple[tuple[str, ...], ...] = (("spec", "role"),)
    lookups_needed = frozenset({"projects", "departments", "clusters", "roles"})

    def __repr__(self) -> str:
        return "AccessRuleKind()"

    def list_request(self) -> ListRequest:
        return ListRequest(PATH, "accessRules", Pagination.NEXT, params(limit=LIST_LIMIT))

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        scope = lookups.scope_text(str(item.get("scopeType")), item.get("scopeId"))
        return Address(self.slug, scope, str(item["subjectId"])), str(item["id"])

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        role = lookups.name_of("role", obj.get("roleId"))
        spec: Spec = {"spec": {"subjectType": obj.get("subjectType"), "role": role}}
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj)

    def normalize(self, spec: Spec) -> Spec:
        normalized = super().normalize(spec)
        inner = normalized.setdefault("spec", {})
        if "subjectType" not in inner:
            normalized["spec"] = dict(sorted({**inner, "subjectType": SUBJECT_TYPE}.items()))
        return normalized

    def minimal(self, spec: Spec) -> Spec:
        inner = spec.get("spec", {})
        if inner.get("subjectType") != SUBJECT_TYPE:
            return dict(spec)
        return {**spec, "spec": {k: v for k, v in inner.items() if k != "subjectType"}}

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        scope_type, scope_id = lookups.scope_id(address.scope)
        body = {
            "subjectId": address.name,
            "subjectType": doc.get("subjectType", SUBJECT_TYPE),
            "roleId": asset_meta.int_id(lookups.id_of("role", str(doc.get("role")))),
            "scopeType": scope_type,
            "scopeId": scope_id,
        }
        return HttpRequest("POST", PATH, dict(sorted(body.items())))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        # Never asked for: every changed path forces a replace (immutable_paths).
        raise PlanError(f"{address}: access rules have no update; the rule is replaced")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(
            PATH,
            "accessRules",
            Pagination.NEXT,
            params(filterBy=f"subjectId=={address.name}", limit=LIST_LIMIT),
        )

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        return tuple(changed_paths)  # the API has no update (section 11.3)

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["id"])


ACCESS_RULE = AccessRuleKind()
