"""The credential kind (`/api/v1/asset/credentials/<type>`): one document kind, five API types.

Owns the translation between a document's `spec.type` and the per-type endpoints and list
members, and which fields are secrets the API keeps to itself: they are sent on create and
never answered (`write_only_paths`), so the planner compares them by the hash in state. The
update takes the description alone, so any other change replaces the credential. No I/O
(docs/runai-api.md section 11).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds import asset_meta
from reconcile.kinds.base import ItemPaths, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.kinds.specs import sort_keys
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/asset/credentials"


@dataclass(frozen=True)
class CredentialType:
    """One `spec.type`: its endpoint, its `meta.kind` and list member, and its fields."""

    name: str  # spec.type and the endpoint's last segment: "access-key"
    # meta.kind (AssetKind), also the list entry's spec member: "accessKey"
    asset_kind: str
    fields: tuple[str, ...]  # spec fields the API answers with
    secrets: tuple[str, ...]  # spec fields sent on create and never answered


TYPES: dict[str, CredentialType] = {
    t.name: t
    for t in (
        CredentialType("access-key", "accessKey", ("existingSecretName", "accessKeyId"),
                       ("secretAccessKey",)),
        CredentialType("password", "password", ("existingSecretName", "user"), ("password",)),
        CredentialType("docker-registry", "dockerRegistry",
                       ("existingSecretName", "user", "url"), ("password",)),
        CredentialType("generic-secret", "genericSecret", ("existingSecretName",),
                       ("keyValuePairs",)),
        CredentialType("ngc-api-key", "ngcApiKey", (), ("ngc_api_key",)),  # 2.23 and later
    )
}  # fmt: skip
BY_ASSET_KIND = {t.asset_kind: t for t in TYPES.values()}
SECRET_FIELDS = tuple(sorted({s for t in TYPES.values() for s in t.secrets}))


class CredentialKind(ItemPaths, SyncKind):
    """A credential asset; identity is (scope, name), its type is part of its spec."""

    document_kind = "Credential"
    slug = "credential"
    api_family = "credential assets (/api/v1/asset/credentials)"
    since = "2.18"  # every type but ngc-api-key (2.23) is in the oldest spec known
    family_path = probe_path = PATH
    path = PATH
    scope_types: tuple[str, ...] = SCOPE_TYPES
    uses: tuple[str, ...] = ("department", "project")  # its scope may be created in the plan
    name_checks: tuple[NameCheck, ...] = ()
    name_refs: tuple[tuple[str, ...], ...] = (("spec", "type"),)
    lookups_needed = frozenset({"projects", "departments", "clusters"})
    write_only_paths: tuple[str, ...] = tuple(f"spec.{s}" for s in SECRET_FIELDS)

    def __repr__(self) -> str:
        return "CredentialKind()"

    def list_request(self) -> ListRequest:
        # Every type in one `{entries}` answer, each entry's spec under its type's member.
        return ListRequest(PATH, "entries", Pagination.SINGLE)

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        address, asset_id = asset_meta.identify(self.slug, item, lookups)
        return address, f"{_type_of(item).name}/{asset_id}"

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        kind = _type_of(obj)
        api_spec = obj.get("spec") or {}
        # A list entry nests the spec under the type's member; a GET answers it flat.
        nested = api_spec.get(kind.asset_kind)
        source = nested if isinstance(nested, Mapping) else api_spec
        doc: dict[str, Any] = {"type": kind.name}
        doc.update({k: copy.deepcopy(source.get(k)) for k in kind.fields})
        spec: Spec = {
            "metadata": {"description": obj["meta"].get("description")},
            "spec": doc,
        }
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj["meta"])

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        kind = TYPES[doc["type"]]
        if not doc.get("existingSecretName") and not all(doc.get(s) for s in kind.secrets):
            missing = ", ".join(f"spec.{s}" for s in kind.secrets)
            raise PlanError(
                f"{address}: a {kind.name} credential needs {missing} "
                "(from ${VAR} or a !sensitive value) or spec.existingSecretName"
            )
        meta = {
            **asset_meta.updatable_meta(address, spec),
            **asset_meta.scope_meta(address.scope, lookups),
        }
        api_spec = {k: copy.deepcopy(v) for k, v in doc.items() if k != "type"}
        return HttpRequest(
            "POST", f"{PATH}/{kind.name}", sort_keys({"meta": meta, "spec": api_spec})
        )

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        # CredentialUpdateRequest holds the description alone (immutable_paths replaces the rest).
        description = spec.get("metadata", {}).get("description")
        meta = {} if description is None else {"description": description}
        return HttpRequest("PUT", f"{PATH}/{remote_id}", {"meta": meta})

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(PATH, "entries", Pagination.SINGLE, params(name=address.name))

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        # The update carries the description only: a new type, secret or user is a new object.
        return tuple(p for p in changed_paths if not p.startswith("metadata."))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return f"{_type_of(body).name}/{body['meta']['id']}"


def _type_of(item: Mapping[str, Any]) -> CredentialType:
    kind = str((item.get("meta") or {}).get("kind"))
    found = BY_ASSET_KIND.get(kind)
    if found is None:
        raise PlanError(f"credential {item['meta'].get('name')!r}: unknown kind {kind!r}")
    return found


CREDENTIAL = CredentialKind()
