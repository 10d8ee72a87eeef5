"""The asset kinds: `Environment`, `Compute` and `DataSource` (`/api/v1/asset/...`).

A document's `spec` is the API's asset spec, plus `workloadSupportedTypes` (in the API a
create-only member of `meta`) and, for data sources, `type`: the API has one collection per
data source type, the documents one kind. Assets are also lookups (templates name them), so
each kind's list is the lookup's own read. No I/O here (docs/runai-api.md section 12).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds import asset_meta
from reconcile.kinds.base import LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import HttpRequest, ListRequest
from reconcile.kinds.lookups import LOOKUP_REQUESTS, AssetRecord, Lookups, planned_address
from reconcile.kinds.scopes import SCOPE_TYPES, parse_scope
from reconcile.kinds.specs import (
    NO_DEFAULTS,
    Defaults,
    drop_defaults,
    fill_defaults,
    prune_sorted,
    schema_defaults,
    sort_keys,
)
from reconcile.model import Address, FieldChange, Spec

SUPPORTED_TYPES = "workloadSupportedTypes"  # AssetCreationFields: set at creation only


class AssetKind(SyncKind):
    """What the environment, compute and data source kinds share: `{meta, spec}` objects,
    a POST with the scope, a PUT of name, description and spec, `{entries}` lists."""

    document_kind: str
    slug: str
    api_family: str
    lookup_list: str  # the LOOKUP_REQUESTS entry that lists these assets
    api_kind: str = ""  # the API's `meta.kind` of every asset of the kind (not data sources)
    defaults_schema: str | None = None  # the schema whose defaults its spec takes
    since = "2.18"  # every asset collection is in the oldest spec known (section 0)
    scope_types: tuple[str, ...] = SCOPE_TYPES
    # Its scope may be a department or project the same plan creates.
    uses: tuple[str, ...] = ("department", "project")
    name_checks: tuple[NameCheck, ...] = ()
    name_refs: tuple[tuple[str, ...], ...] = ()
    renames_in_place = True  # the PUT carries meta.name
    names_lookup: str | None = "asset"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __init__(self) -> None:
        self.family_path = self.probe_path = LOOKUP_REQUESTS[self.lookup_list].path
        self.lookups_needed = frozenset({"projects", "departments", "clusters", self.lookup_list})

    def list_request(self) -> ListRequest:
        return LOOKUP_REQUESTS[self.lookup_list]  # one read serves the lookup and the kind

    # --- what differs per kind ---------------------------------------------------------------

    def asset_kind(self, spec: Mapping[str, Any]) -> str:
        """The API's `meta.kind` (AssetKind) for a document spec."""
        return self.api_kind

    def collection(self, spec: Mapping[str, Any]) -> str:
        """The API collection a document spec is written to."""
        return self.family_path

    def api_spec(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The spec of a server object (a list entry or a GET answer), as the API has it."""
        return dict(obj.get("spec") or {})

    def defaults(self, spec: Mapping[str, Any]) -> Defaults:
        return schema_defaults(self.defaults_schema) if self.defaults_schema else NO_DEFAULTS

    # --- the Kind protocol -------------------------------------------------------------------

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        return asset_meta.identify(self.slug, item, lookups)

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        meta = obj["meta"]
        # `api_spec` is a dict of its own; `normalize` copies every container below it.
        doc = self.api_spec(obj)
        doc[SUPPORTED_TYPES] = meta.get(SUPPORTED_TYPES)
        spec: Spec = {"metadata": {"description": meta.get("description")}, "spec": doc}
        return address, self.normalize(spec), LiveMeta.audit(remote_id, meta)

    def normalize(self, spec: Spec) -> Spec:
        normalized: Spec = prune_sorted(spec)  # new containers: a copy
        doc = normalized.get("spec")
        if isinstance(doc, dict):
            fill_defaults(doc, self.defaults(doc), keep_sorted=True)
        return normalized

    def minimal(self, spec: Spec) -> Spec:
        doc = spec.get("spec")
        if not isinstance(doc, dict):
            return dict(spec)
        return {**spec, "spec": drop_defaults(doc, self.defaults(doc))}

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        meta = {
            **asset_meta.updatable_meta(address, spec),
            **asset_meta.scope_meta(address.scope, lookups),
        }
        if doc.get(SUPPORTED_TYPES) is not None:
            meta[SUPPORTED_TYPES] = copy.deepcopy(doc[SUPPORTED_TYPES])
        body = {"meta": meta, "spec": self._spec_body(doc)}
        return HttpRequest("POST", self.collection(doc), sort_keys(body))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        # PUT replaces the spec: the whole desired one, so cleared fields go away.
        doc = spec.get("spec", {})
        body = {"meta": asset_meta.updatable_meta(address, spec), "spec": self._spec_body(doc)}
        return HttpRequest("PUT", self._by_id(remote_id), sort_keys(body))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", self._by_id(remote_id))

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", self._by_id(remote_id))

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return asset_meta.find_request(self.family_path, address, lookups)

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        fixed = (f"spec.{SUPPORTED_TYPES}",)
        return tuple(sorted(p for p in changed_paths if p.startswith(fixed)))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["meta"]["id"])

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> AssetRecord:
        return self._record(address, remote_id, self.asset_kind(spec.get("spec", {})), lookups)

    def _by_id(self, remote_id: str) -> str:
        return f"{self.family_path}/{remote_id}"

    def _spec_body(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in doc.items() if k != SUPPORTED_TYPES}

    def _record(self, address: Address, asset_id: str, kind: str, lookups: Lookups) -> AssetRecord:
        scope_type, name = parse_scope(address.scope)
        unit = "" if scope_type == "tenant" else lookups.id_of(scope_type, name)
        return AssetRecord(asset_id, address.name, kind, scope_type, unit)


class EnvironmentKind(AssetKind):
    """An environment asset: image, command, connections, security of a workload."""

    document_kind = "Environment"
    slug = "environment"
    api_family = "environment assets (/api/v1/asset/environment)"
    lookup_list = "environments"
    api_kind = "environment"
    defaults_schema = "EnvironmentAssetSpec"


class ComputeKind(AssetKind):
    """A compute asset: the CPU, memory and GPU a workload requests."""

    document_kind = "Compute"
    slug = "compute"
    api_family = "compute assets (/api/v1/asset/compute)"
    lookup_list = "computes"
    api_kind = "compute"


# Data source types as documents write them -> (the API's path segment, its AssetKind, the
# member of the generic list's `spec` holding it, the schema whose defaults apply).
DATASOURCE_TYPES: dict[str, tuple[str, str, str, str | None]] = {
    "pvc": ("pvc", "pvc", "pvc", "PVCAssetSpec"),
    "git": ("git", "git", "git", None),
    "s3": ("s3", "s3", "s3", None),
    "nfs": ("nfs", "nfs", "nfs", "NFSAssetSpec"),
    "host-path": ("host-path", "hostPath", "hostPath", "HostPathSpec"),
    "config-map": ("config-map", "config-map", "config_map", None),
    "secret": ("secrets", "secret-volume", "secret", None),
}
_TYPE_OF_KIND = {kind: doc_type for doc_type, (_, kind, _, _) in DATASOURCE_TYPES.items()}


class DataSourceKind(AssetKind):
    """A data source asset of any type (`spec.type`). The API reads one object by the path of
    its type, so the remote id this kind records is `TYPE/ID` (`pvc/4c8e...`)."""

    document_kind = "DataSource"
    slug = "datasource"
    api_family = "data source assets (/api/v1/asset/datasource)"
    lookup_list = "datasources"

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        address, asset_id = asset_meta.identify(self.slug, item, lookups)
        doc_type = _TYPE_OF_KIND.get(str(item["meta"].get("kind")), str(item["meta"].get("kind")))
        return address, f"{doc_type}/{asset_id}"

    def api_spec(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        doc_type = _TYPE_OF_KIND.get(str(obj["meta"].get("kind")), "")
        spec = dict(obj.get("spec") or {})
        # The generic list nests the spec under the type's member (`spec.pvc`); a GET of
        # one data source answers it flat.
        member = DATASOURCE_TYPES[doc_type][2] if doc_type else ""
        if member and isinstance(spec.get(member), dict) and len(spec) == 1:
            spec = dict(spec[member])
        return {**spec, "type": doc_type or str(obj["meta"].get("kind"))}

    def asset_kind(self, spec: Mapping[str, Any]) -> str:
        return DATASOURCE_TYPES[self._type(spec)][1]

    def collection(self, spec: Mapping[str, Any]) -> str:
        return f"{self.family_path}/{DATASOURCE_TYPES[self._type(spec)][0]}"

    def defaults(self, spec: Mapping[str, Any]) -> Defaults:
        found = DATASOURCE_TYPES.get(str(spec.get("type")))
        return schema_defaults(found[3]) if found and found[3] else NO_DEFAULTS

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        # Another type is another API collection: a new object.
        typed = tuple(p for p in changed_paths if p == "spec.type")
        return tuple(sorted({*super().immutable_paths(changed_paths), *typed}))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        doc_type = _TYPE_OF_KIND.get(str(body["meta"].get("kind")), "")
        return f"{doc_type}/{body['meta']['id']}"

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> AssetRecord:
        # A planned id stands as it is; a real one is TYPE/ID, and templates name the ID.
        asset_id = remote_id if planned_address(remote_id) else remote_id.partition("/")[2]
        return super().lookup_record(address, asset_id, lookups, spec=spec)

    def _by_id(self, remote_id: str) -> str:
        doc_type, _, asset_id = remote_id.partition("/")
        if doc_type not in DATASOURCE_TYPES:
            raise PlanError(f"not a data source id: {remote_id!r} (expected TYPE/ID)")
        return f"{self.family_path}/{DATASOURCE_TYPES[doc_type][0]}/{asset_id}"

    def _spec_body(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in super()._spec_body(doc).items() if k != "type"}

    @staticmethod
    def _type(spec: Mapping[str, Any]) -> str:
        doc_type = str(spec.get("type"))
        if doc_type not in DATASOURCE_TYPES:
            known = ", ".join(DATASOURCE_TYPES)
            raise PlanError(f"a data source needs spec.type, one of {known}")
        return doc_type


ENVIRONMENT = EnvironmentKind()
COMPUTE = ComputeKind()
DATASOURCE = DataSourceKind()
