"""The four v1 workload-template kinds (`/api/v1/workload-templates/*`), one parametrised class.

Owns the translation between template documents and the API's `meta`/`spec`/`master` objects
and the PATCH-with-fieldsToClear update; never performs I/O (docs/runai-api.md section 1).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds.base import TEMPLATE_NAMES, LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import LIST_LIMIT, HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_ID_FIELDS, SCOPE_TYPES
from reconcile.kinds.specs import (
    drop_defaults,
    fill_defaults,
    prune_sorted,
    prune_sorted_walk,
    schema_defaults,
    sort_keys,
)
from reconcile.model import Address, FieldChange, FieldChangeKind, Spec
from reconcile.paths import is_item, lookup, parse_path, set_value

BASE = "/api/v1/workload-templates"
SINCE = "2.23"  # the first Run:ai version with BASE (docs/runai-api.md section 0)
# How deep a changed document path is sent whole in a PATCH: `spec.<field>`,
# `master.spec.<field>`, `metadata.description`, `masterSpecSameAsWorker`. Sending whole
# top-level fields is right whether the server deep-merges the PATCH or replaces each field;
# lists are always replaced whole (their items have no stable API path).
PATCH_UNIT_DEPTH = {"metadata": 2, "spec": 2, "master": 3}
CLEAR_MIN_DEPTH = {"metadata": 2, "spec": 2}  # `spec` and `meta` are not clearable whole


@dataclass(frozen=True)
class TemplateFlavor:
    """What differs between workspace, training, distributed and inference templates."""

    document_kind: str
    slug: str
    workload_type: str  # meta.workloadType
    collection: str  # the typed endpoint's path segment
    spec_schema: str  # the schema whose defaults apply to `spec`
    has_master: bool = False
    updatable: bool = True  # inference templates have no PUT or PATCH: any change replaces
    since: str = SINCE  # the first Run:ai version that can write this flavor


FLAVORS = (
    TemplateFlavor(
        "WorkspaceTemplate",
        "workspace-template",
        "Workspace",
        "workspaces",
        "WorkspaceTemplateSpec",
    ),
    TemplateFlavor(
        "TrainingTemplate", "training-template", "Training", "trainings", "TrainingTemplateSpec"
    ),
    TemplateFlavor(
        "DistributedTemplate",
        "distributed-template",
        "Distributed",
        "distributed",
        "DistributedTemplateSpec",
        has_master=True,
    ),
    TemplateFlavor(
        "InferenceTemplate",
        "inference-template",
        "Inference",
        "inferences",
        "InferenceTemplateSpec",
        updatable=False,
        since="2.24",
    ),
)


class WorkloadTemplateKind(SyncKind):
    """A v1 workload template of one flavor; identity is (type, scope, name)."""

    api_family = "workload templates (/api/v1/workload-templates)"
    scope_types: tuple[str, ...] = SCOPE_TYPES
    # A template's priority and category default to its workload type's: types first; its
    # scope may be a project or department the same plan creates.
    uses: tuple[str, ...] = ("workload-type", "department", "project")
    lookups_needed = frozenset({"projects", "departments", "clusters"})

    def __init__(self, flavor: TemplateFlavor) -> None:
        self.flavor = flavor
        # PATCH carries meta.name (docs/runai-api.md section 1.2: TemplatePatchMetaFields)
        self.renames_in_place = flavor.updatable
        self.document_kind = flavor.document_kind
        self.slug = flavor.slug
        checks = [NameCheck(("spec",), TEMPLATE_NAMES)]
        if flavor.has_master:
            checks.append(NameCheck(("master", "spec"), TEMPLATE_NAMES))
        self.name_checks: tuple[NameCheck, ...] = tuple(checks)
        pools: list[tuple[str, ...]] = [("spec", "nodePools")]
        if flavor.has_master:
            pools.append(("master", "spec", "nodePools"))
        self.name_refs: tuple[tuple[str, ...], ...] = tuple(pools)
        self._typed = f"{BASE}/{flavor.collection}"
        # Inference templates have their own collection from 2.24; the others only the
        # generic one from 2.23 (docs/runai-api.md section 0).
        self.since = flavor.since
        self.family_path = self.probe_path = self._typed if flavor.since != SINCE else BASE

    def __repr__(self) -> str:
        return f"WorkloadTemplateKind({self.document_kind})"

    def list_request(self) -> ListRequest:
        # All four flavors share one read of the generic list and split it client-side.
        return ListRequest(
            BASE,
            "entries",
            Pagination.OFFSET,
            params(limit=LIST_LIMIT),
            keep=(("meta.workloadType", self.flavor.workload_type),),
            # The policy- and asset-merged view is never diffed nor imported, and is about
            # as big as the rest of an item (docs/runai-api.md section 1).
            unread=("combinedSpec",),
        )

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        meta = item["meta"]
        scope = lookups.scope_text(str(meta["scopeType"]), meta.get("scopeId"))
        return Address(self.slug, scope, str(meta["name"])), str(meta["id"])

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        meta = obj["meta"]
        # `spec` is what was written; `combinedSpec` (policy- and asset-merged) is never diffed.
        spec: Spec = {"metadata": {"description": meta.get("description")}, "spec": obj.get("spec")}
        if self.flavor.has_master:
            spec["masterSpecSameAsWorker"] = obj.get("masterSpecSameAsWorker")
            spec["master"] = {"spec": (obj.get("master") or {}).get("spec")}
        # The walk: its copy shares its strings with the server object, which the live view
        # keeps (10,000 templates' own copies raised a plan's peak memory).
        return address, self._filled(prune_sorted_walk(spec)), LiveMeta.audit(remote_id, meta)

    def normalize(self, spec: Spec) -> Spec:
        return self._filled(prune_sorted(spec))  # prune_sorted builds new containers: a copy

    def _filled(self, normalized: Spec) -> Spec:
        """`normalized` (pruned and sorted) with the schema defaults filled in, in place."""
        schema = schema_defaults(self.flavor.spec_schema)
        fill_defaults(normalized.get("spec"), schema, keep_sorted=True)
        if self.flavor.has_master:
            master = normalized.get("master", {}).get("spec")
            fill_defaults(master, schema_defaults("MasterTemplateSpec"), keep_sorted=True)
        return normalized

    def minimal(self, spec: Spec) -> Spec:
        out = dict(spec)
        if "spec" in out:
            out["spec"] = drop_defaults(out["spec"], schema_defaults(self.flavor.spec_schema))
        master = out.get("master")
        if self.flavor.has_master and isinstance(master, dict) and "spec" in master:
            master_spec = drop_defaults(master["spec"], schema_defaults("MasterTemplateSpec"))
            out["master"] = {**master, "spec": master_spec}
        return out

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        scope_type, scope_id = lookups.scope_id(address.scope)
        meta: dict[str, Any] = {"name": address.name, "scopeType": scope_type, "scopeId": scope_id}
        description = spec.get("metadata", {}).get("description")
        if description is not None:
            meta["description"] = description
        body: dict[str, Any] = {"meta": meta, "spec": copy.deepcopy(spec.get("spec", {}))}
        if self.flavor.has_master:
            for key in ("masterSpecSameAsWorker", "master"):
                if key in spec:
                    body[key] = copy.deepcopy(spec[key])
        return HttpRequest("POST", self._typed, sort_keys(body))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        if not self.flavor.updatable:
            raise PlanError(f"{address}: {self.document_kind} has no update; plan a replace")
        body = patch_body(address.name, spec, fields)
        return HttpRequest("PATCH", f"{self._typed}/{remote_id}", body)

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{self._typed}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{self._typed}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        scope_type, scope_id = lookups.scope_id(address.scope)
        filters = [f"scopeType=={scope_type}"]
        # A project-scoped template also carries its department and cluster ids, so the
        # scope type is filtered as well as the scope's own id.
        if scope_type in SCOPE_ID_FIELDS:
            filters.append(f"{SCOPE_ID_FIELDS[scope_type]}=={scope_id}")
        if "," not in address.name:  # filterBy is one comma-separated value: no commas inside
            filters.insert(0, f"name=={address.name}")
        query = params(limit=LIST_LIMIT, filterBy=",".join(filters))
        return ListRequest(self._typed, "entries", Pagination.OFFSET, query)

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        # Scope and name are in the address; only the update-less inference flavor replaces.
        return () if self.flavor.updatable else tuple(sorted(set(changed_paths)))

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["meta"]["id"])


def patch_body(name: str, spec: Spec, fields: Sequence[FieldChange]) -> dict[str, Any]:
    """The template PATCH body: changed fields (whole PATCH units) plus `fieldsToClear`.

    A cleared list item means the list changed (it is sent whole); any other cleared path is
    cleared at its shortest prefix that desired no longer has. Clear paths are API paths
    rooted at the body (`spec.compute.cpuCoreRequest`, `meta.description`).
    """
    units: set[tuple[str, ...]] = set()
    clears: set[tuple[str, ...]] = set()
    for change in fields:
        if change.kind is FieldChangeKind.CLEAR:
            _sort_clear(spec, change, units, clears)
        else:
            units.add(_unit(_object_keys(change.path)))
    document: dict[str, Any] = {}
    for unit in sorted(units):
        present, value = lookup(spec, unit)
        if present:
            set_value(document, unit, copy.deepcopy(value))
        else:
            clears.add(_absent_prefix(spec, list(unit)))
    body: dict[str, Any] = {"meta": {"name": name}}
    body["meta"].update(document.pop("metadata", {}))
    body.update(document)
    kept = [c for c in clears if not any(c[: len(o)] == o and c != o for o in clears)]
    if kept:
        body["fieldsToClear"] = sorted(".".join(_api_root(c)) for c in kept)
    result: dict[str, Any] = sort_keys(body)
    return result


def _sort_clear(
    spec: Spec, change: FieldChange, units: set[tuple[str, ...]], clears: set[tuple[str, ...]]
) -> None:
    """File one CLEAR under the units to send or the paths to clear."""
    for keys in _clear_targets(change):
        inside_list = len(keys) < len(parse_path(change.path))
        if inside_list and lookup(spec, keys)[0]:
            units.add(_unit(keys))  # an item left the list: send the list as desired has it
            continue
        gone = _absent_prefix(spec, keys)
        if gone:
            clears.add(gone)
        else:  # still present in desired after all: send its current value
            units.add(_unit(keys))


def _clear_targets(change: FieldChange) -> list[list[str]]:
    """The object paths a CLEAR stands for. `spec` and `metadata` cannot be cleared whole,
    so a cleared root is split into its members (known from the before value)."""
    keys = _object_keys(change.path)
    if len(keys) >= CLEAR_MIN_DEPTH.get(keys[0], 1):
        return [keys]
    if keys == ["metadata"]:
        return [["metadata", "description"]]  # the one metadata field documents carry
    before = change.before if isinstance(change.before, dict) else {}
    return [[*keys, member] for member in sorted(before)]


def _object_keys(path: str) -> list[str]:
    """The object keys of a diff path up to its first list item (`[name=x]`, `[0]`)."""
    keys: list[str] = []
    for segment in parse_path(path):
        if is_item(segment):
            break
        keys.append(segment)
    return keys


def _unit(keys: list[str]) -> tuple[str, ...]:
    """The prefix of a document path that a PATCH sends whole."""
    return tuple(keys[: PATCH_UNIT_DEPTH.get(keys[0], 1)])


def _absent_prefix(spec: Spec, keys: list[str]) -> tuple[str, ...]:
    """The shortest prefix of `keys` that `spec` lacks; () when the whole path is present.

    Never shorter than the PATCH unit's root: `spec` itself cannot be cleared, its fields can.
    """
    for end in range(min(len(keys), CLEAR_MIN_DEPTH.get(keys[0], 1)), len(keys) + 1):
        if not lookup(spec, keys[:end])[0]:
            return tuple(keys[:end])
    return ()


def _api_root(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Document path -> API body path: the document's `metadata` is the API's `meta`."""
    return ("meta", *keys[1:]) if keys[0] == "metadata" else keys


WORKLOAD_TEMPLATE_KINDS = {f.document_kind: WorkloadTemplateKind(f) for f in FLAVORS}
