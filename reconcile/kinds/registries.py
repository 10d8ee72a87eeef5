"""The registry kind (`/api/v1/asset/registries`): a container registry and its login.

Owns the translation of a registry's URL and user, and keeps its password write-only: the
planner compares it by the hash in state, whatever the server answers in its place. The
update carries the name and description; a new URL, user or password replaces the registry.
No I/O (docs/runai-api.md section 11.2).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds import asset_meta
from reconcile.kinds.base import ItemPaths, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.kinds.specs import sort_keys
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/asset/registries"
CREDENTIAL_KIND = "password"  # RegistrySpec.credentialKind: the only kind the API names


class RegistryKind(ItemPaths, SyncKind):
    """A registry asset; identity is (scope, name)."""

    document_kind = "Registry"
    slug = "registry"
    api_family = "registries (/api/v1/asset/registries)"
    since = "2.18"  # in the oldest spec known (docs/runai-api.md section 0)
    family_path = probe_path = PATH
    path = PATH
    renames_in_place = True  # its PUT carries meta.name
    scope_types: tuple[str, ...] = SCOPE_TYPES
    uses: tuple[str, ...] = ("department", "project")
    name_checks: tuple[NameCheck, ...] = ()
    name_refs: tuple[tuple[str, ...], ...] = ()
    lookups_needed = frozenset({"projects", "departments", "clusters"})
    write_only_paths: tuple[str, ...] = ("spec.password",)

    def __repr__(self) -> str:
        return "RegistryKind()"

    def list_request(self) -> ListRequest:
        return ListRequest(PATH, "entries", Pagination.SINGLE)

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        return asset_meta.identify(self.slug, item, lookups)

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        api_spec = obj.get("spec") or {}
        spec: Spec = {
            "metadata": {"description": obj["meta"].get("description")},
            "spec": {k: copy.deepcopy(api_spec.get(k)) for k in ("url", "user")},
        }
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj["meta"])

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        meta = {
            **asset_meta.updatable_meta(address, spec),
            **asset_meta.scope_meta(address.scope, lookups),
        }
        return HttpRequest(
            "POST", PATH, sort_keys({"meta": meta, "spec": _api_spec(address, spec)})
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
        # RegistryUpdateRequest requires `spec` but defines only meta: the spec is sent as it
        # stands, and a change to it replaces the registry (immutable_paths).
        body = {"meta": asset_meta.updatable_meta(address, spec), "spec": _api_spec(address, spec)}
        return HttpRequest("PUT", f"{PATH}/{remote_id}", sort_keys(body))

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(PATH, "entries", Pagination.SINGLE, params(name=address.name))

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        return tuple(p for p in changed_paths if p.startswith("spec."))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["meta"]["id"])


def _api_spec(address: Address, spec: Spec) -> dict[str, Any]:
    doc = spec.get("spec", {})
    if not doc.get("password"):
        raise PlanError(f"{address}: a registry needs spec.password (from ${{VAR}} or a "
                        "!sensitive value)")  # fmt: skip
    return {**{k: doc[k] for k in ("url", "user", "password")}, "credentialKind": CREDENTIAL_KIND}


REGISTRY = RegistryKind()
