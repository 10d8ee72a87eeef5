"""The legacy asset template kind (`/api/v1/asset/workload-template`, deprecated in 2.24).

Owns the translation between asset names in documents and asset ids in the API, and the
full-body PUT update; never performs I/O (docs/runai-api.md section 3).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds import asset_meta
from reconcile.kinds.base import TEMPLATE_NAMES, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import HttpRequest, ListRequest, Pagination
from reconcile.kinds.lookups import UNKNOWN_PREFIX, Lookups
from reconcile.kinds.scopes import SCOPE_TYPES
from reconcile.kinds.specs import (
    drop_defaults,
    fill_defaults,
    prune_sorted,
    schema_defaults,
    sort_keys,
)
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/asset/workload-template"


class AssetTemplateKind(SyncKind):
    renames_in_place = True  # its PUT carries meta.name (docs/runai-api.md section 3)
    """A legacy template: assets by reference plus `specificEnv` overrides."""

    document_kind = "AssetTemplate"
    slug = "asset-template"
    api_family = "legacy asset templates (/api/v1/asset/workload-template)"
    since = "2.18"  # the oldest version known (docs/runai-api.md section 0)
    family_path = PATH
    probe_path = PATH
    scope_types: tuple[str, ...] = SCOPE_TYPES
    # A template's priority and category default to its workload type's: types first; its
    # scope may be a project or department, and its assets ones, the same plan creates.
    uses: tuple[str, ...] = (
        "workload-type",
        "department",
        "project",
        "environment",
        "compute",
        "datasource",
    )
    name_checks: tuple[NameCheck, ...] = (NameCheck(("spec", "specificEnv"), TEMPLATE_NAMES),)
    name_refs: tuple[tuple[str, ...], ...] = (("spec", "assets"),)  # asset names, resolved to ids
    lookups_needed = frozenset(
        {"projects", "departments", "clusters", "environments", "computes", "datasources"}
    )

    def __repr__(self) -> str:
        return "AssetTemplateKind()"

    def list_request(self) -> ListRequest:
        # `{entries}` without pagination; without filters it returns every scope's templates.
        return ListRequest(PATH, "entries", Pagination.SINGLE)

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        return asset_meta.identify(self.slug, item, lookups)

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        meta = obj["meta"]
        api_spec = obj.get("spec") or {}
        spec: Spec = {
            "metadata": {"description": meta.get("description")},
            "spec": {
                "assets": _asset_names(api_spec.get("assets") or {}, lookups),
                "specificEnv": api_spec.get("specificEnv"),
            },
        }
        return address, self.normalize(spec), LiveMeta.audit(remote_id, meta)

    def normalize(self, spec: Spec) -> Spec:
        normalized: Spec = prune_sorted(spec)  # new containers: a copy
        specific = normalized.get("spec", {}).get("specificEnv")
        fill_defaults(specific, schema_defaults("SpecificRunParams"), keep_sorted=True)
        return normalized

    def references(self, spec: Spec) -> tuple[tuple[str, str], ...]:
        assets = spec.get("spec", {}).get("assets") or {}
        found = [(role, str(assets[role])) for role in ("environment", "compute") if role in assets]
        found += [("datasource", str(d["name"])) for d in assets.get("datasources") or []]
        return tuple(found)

    def minimal(self, spec: Spec) -> Spec:
        inner = spec.get("spec")
        if not isinstance(inner, dict) or "specificEnv" not in inner:
            return dict(spec)
        specific = drop_defaults(inner["specificEnv"], schema_defaults("SpecificRunParams"))
        return {**spec, "spec": {**inner, "specificEnv": specific}}

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        meta = {
            **asset_meta.updatable_meta(address, spec),
            **asset_meta.scope_meta(address.scope, lookups),
        }
        body = {"meta": meta, "spec": self._api_spec(address, spec, lookups)}
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
        # PUT replaces the template: the full desired body, so cleared fields simply go away.
        body = {
            "meta": asset_meta.updatable_meta(address, spec),
            "spec": self._api_spec(address, spec, lookups),
        }
        return HttpRequest("PUT", f"{PATH}/{remote_id}", sort_keys(body))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{PATH}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{PATH}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return asset_meta.find_request(PATH, address, lookups)

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        return ()  # meta.scope and the name are in the address; everything else has a PUT

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["meta"]["id"])

    @staticmethod
    def _api_spec(address: Address, spec: Spec, lookups: Lookups) -> dict[str, Any]:
        doc = spec.get("spec", {})
        assets = doc.get("assets", {})
        ids: dict[str, Any] = {k: copy.deepcopy(v) for k, v in assets.items() if k != "datasources"}
        ids["environment"] = lookups.asset_id(
            assets.get("environment", ""), "environment", address.scope
        )
        if "compute" in assets:
            ids["compute"] = lookups.asset_id(assets["compute"], "compute", address.scope)
        if "datasources" in assets:
            ids["datasources"] = [
                _datasource_id(d, address.scope, lookups) for d in assets["datasources"]
            ]
        api_spec: dict[str, Any] = {"assets": ids}
        if "specificEnv" in doc:
            api_spec["specificEnv"] = copy.deepcopy(doc["specificEnv"])
        return api_spec


def _datasource_id(item: Mapping[str, Any], scope: str, lookups: Lookups) -> dict[str, Any]:
    ref = {k: copy.deepcopy(v) for k, v in item.items() if k != "name"}
    ref["id"] = lookups.asset_id(str(item["name"]), str(item["kind"]), scope)
    return ref


def _asset_names(assets: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    """API asset refs (`{id, name}` objects, or bare ids) -> the document's asset names."""
    names: dict[str, Any] = {
        k: v for k, v in assets.items() if k not in {"environment", "compute", "datasources"}
    }
    for role in ("environment", "compute"):
        if assets.get(role):
            names[role] = _ref_name(assets[role], lookups)
    names["datasources"] = [
        {
            **{k: v for k, v in ref.items() if k not in {"id", "name"}},
            "name": _ref_name(ref, lookups),
        }
        for ref in assets.get("datasources") or []
    ]
    return names


def _ref_name(ref: Any, lookups: Lookups) -> str:
    """Name of a referenced asset: the lookups' name for its id, else the ref's own name."""
    asset_id = ref.get("id") if isinstance(ref, Mapping) else ref
    name = lookups.asset_name(asset_id)
    if name.startswith(UNKNOWN_PREFIX) and isinstance(ref, Mapping) and ref.get("name"):
        return str(ref["name"])
    return name


ASSET_TEMPLATE = AssetTemplateKind()
