"""The Workloads V2 kind (`/api/v2/workloads`): a raw Kubernetes manifest plus Run:ai metadata.

V2 has no list endpoint, so live reads list `/api/v1/workloads`, keep `sourceApi: WorkloadsV2`
and fetch the V2 object only for owned ids. Writes are asynchronous (`syncInfo.status`).
No I/O here (docs/runai-api.md section 4).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds.base import SPEC_NAMES, AsyncStatus, LiveMeta, NameCheck
from reconcile.kinds.calls import LIST_LIMIT, HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import UNKNOWN_PREFIX, Lookups, Named
from reconcile.kinds.scopes import parse_scope
from reconcile.kinds.specs import sort_keys
from reconcile.kinds.workload_templates import BASE as TEMPLATES
from reconcile.model import Address, FieldChange, FieldChangeKind, Spec

V1_LIST = "/api/v1/workloads"
V2 = "/api/v2/workloads"
KEEP_V2 = (("sourceApi", "WorkloadsV2"),)  # not a filterBy field: filtered client-side
METADATA_FIELDS = ("priority", "category", "preemptibility")
UPDATABLE_METADATA = ("priority", "category")  # WorkloadV2UpdateRequest's metadata
# PUT cannot change these; the project and name are in the address. The manifest's kind is
# the workload's type (`gvk`): a PUT may bump its version, never switch the kind.
IMMUTABLE = ("spec.preemptibility", "spec.manifest.kind")


class WorkloadKind:
    """A Workloads V2 object in a project; identity is (project, name)."""

    document_kind = "Workload"
    slug = "workload"
    api_family = "Workloads V2 (/api/v2/workloads)"
    since = "2.23"  # docs/runai-api.md section 0
    family_path = V2
    # Nothing of Workloads V2 answers a GET on an older server differently; the v1
    # workload-template list came in the same version (docs/runai-api.md section 0).
    probe_path = TEMPLATES
    scope_types: tuple[str, ...] = ("project",)
    # Its manifest's kind is a workload type. Templates come first too: a workload starts
    # running work, and the native workload APIs submit from a template
    # (`SubmitWithTemplateId`, docs/runai-api.md section 4), so what it may be submitted
    # with is settled before it.
    uses: tuple[str, ...] = (
        "project",  # its scope
        "workload-type",
        "workspace-template",
        "training-template",
        "distributed-template",
        "inference-template",
        "asset-template",
    )
    name_checks: tuple[NameCheck, ...] = (NameCheck(("spec",), SPEC_NAMES),)
    name_refs: tuple[tuple[str, ...], ...] = ()
    destroy_stops_work = True  # a workload is running work
    can_delete = True
    renames_in_place = False  # metadata.name is a Kubernetes name: fixed at create
    is_async = True
    answers_with_object = True  # the WorkloadV2, still syncing: polled until it settles
    names_lookup: str | None = None
    built_in_names: frozenset[str] = frozenset()
    dry_run_param: str | None = "dryRun"  # POST only: PUT has no dry run (section 4)
    write_only_paths: tuple[str, ...] = ()
    lookups_needed = frozenset({"projects", "workloadtypes"})

    def __repr__(self) -> str:
        return "WorkloadKind()"

    def list_request(self) -> ListRequest:
        return ListRequest(V1_LIST, "workloads", Pagination.NEXT, params(limit=LIST_LIMIT), KEEP_V2)

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        """Works on a v1 list item, a WorkloadV2, or a V2 GET response (`{workload, ...}`)."""
        workload = item.get("workload", item)
        fields = workload.get("metadata", workload)  # v1 list items are flat
        project = lookups.name_of("project", fields.get("projectId"))
        if project.startswith(UNKNOWN_PREFIX) and fields.get("projectName"):
            project = str(fields["projectName"])
        return Address(self.slug, f"project={project}", str(fields["name"])), str(fields["id"])

    def detail_request(self, remote_id: str) -> HttpRequest | None:
        return HttpRequest("GET", f"{V2}/{remote_id}")

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        workload = obj.get("workload", obj)
        metadata = workload.get("metadata") or {}
        doc: dict[str, Any] = {k: metadata.get(k) for k in METADATA_FIELDS}
        # `rawManifest` is what was sent; `workloadManifest` is after Run:ai's mutation.
        doc["manifest"] = workload.get("rawManifest")
        return address, self.normalize({"spec": doc}), LiveMeta.audit(remote_id, metadata)

    def normalize(self, spec: Spec) -> Spec:
        # The manifest is the user's Kubernetes object: kept verbatim (an `emptyDir: {}` or a
        # null in it means something), only its key order is made canonical.
        out = {k: copy.deepcopy(v) for k, v in spec.items() if k != "spec"}
        doc = {k: copy.deepcopy(v) for k, v in (spec.get("spec") or {}).items() if v is not None}
        if doc:
            out["spec"] = doc
        normalized: Spec = sort_keys(out)
        return normalized

    def minimal(self, spec: Spec) -> Spec:
        # The manifest is kept verbatim and no defaults are filled: already minimal.
        return dict(spec)

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        project = lookups.project(parse_scope(address.scope)[1])
        doc = spec.get("spec", {})
        manifest = doc.get("manifest") or {}
        # The server accepts a manifest only of a registered workload type (section 2.1).
        lookups.check_workload_type(
            str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        )
        metadata: dict[str, Any] = {"name": address.name, "projectId": project.id}
        if project.cluster_id:
            metadata["clusterId"] = project.cluster_id
        metadata.update({k: doc[k] for k in METADATA_FIELDS if k in doc})
        body = {"metadata": metadata, "manifest": copy.deepcopy(doc.get("manifest", {}))}
        return HttpRequest("POST", V2, sort_keys(body))

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        # PUT carries priority, category and the whole manifest. Absent metadata keeps its
        # value, so a priority or category dropped from desired is sent as null: back to the
        # workload type's default (docs/emulator.md).
        doc = spec.get("spec", {})
        dropped = {f.path for f in fields if f.kind is FieldChangeKind.CLEAR}
        metadata = {k: doc.get(k) for k in UPDATABLE_METADATA if k in doc or f"spec.{k}" in dropped}
        body = {"metadata": metadata, "manifest": copy.deepcopy(doc.get("manifest", {}))}
        return HttpRequest("PUT", f"{V2}/{remote_id}", sort_keys(body))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{V2}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{V2}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        project = lookups.project(parse_scope(address.scope)[1])
        filters = f"projectId=={project.id}"
        if "," not in address.name:  # one comma-separated filterBy value: no commas inside
            filters = f"name=={address.name},{filters}"
        query = params(limit=LIST_LIMIT, filterBy=filters)
        return ListRequest(V1_LIST, "workloads", Pagination.NEXT, query, KEEP_V2)

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        forced = {p for p in changed_paths for i in IMMUTABLE if p == i or p.startswith(i + ".")}
        return tuple(sorted(forced))

    def async_status(self, obj: Mapping[str, Any], *, deleting: bool = False) -> AsyncStatus:
        """`syncInfo.status` of a GET: Queued/Applying/Deleting go on; Failed is an error.

        Once a delete completes the GET answers 404: the caller counts that as DONE.
        """
        status = (obj.get("syncInfo") or {}).get("status")
        if status == "Failed":
            return AsyncStatus.FAILED
        if deleting:
            return AsyncStatus.DONE if status == "Deleted" else AsyncStatus.PENDING
        if status == "Deleted":  # gone while we waited for it to sync
            return AsyncStatus.FAILED
        return AsyncStatus.DONE if status == "Synced" else AsyncStatus.PENDING

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        # POST answers a WorkloadV2 (202; some revisions 201); accept the GET wrapper too.
        workload = body.get("workload", body)
        return str(workload["metadata"]["id"])

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> Named:
        raise NotImplementedError("workloads name no lookup")

    def references(self, spec: Spec) -> tuple[tuple[str, str], ...]:
        return ()


WORKLOAD = WorkloadKind()
