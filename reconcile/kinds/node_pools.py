"""The node pool kind (`/api/v1/node-pools`): a cluster's pool of nodes selected by one label.

Owns the translation of a pool's label, GPU network detection and placement strategy. The
pool Run:ai makes in every cluster (`default`) is adopted and never deleted. No I/O here
(docs/runai-api.md section 10.2).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.errors import PlanError
from reconcile.kinds.base import LiveMeta, NameCheck, SyncKind
from reconcile.kinds.calls import LIST_LIMIT, HttpRequest, ListRequest, Pagination, params
from reconcile.kinds.lookups import LOOKUP_REQUESTS, Lookups, Named
from reconcile.kinds.scopes import parse_scope
from reconcile.kinds.specs import sort_keys
from reconcile.model import Address, FieldChange, Spec

PATH = "/api/v1/node-pools"
# NodepoolUpdateFields the documents manage (the deprecated overProvisioningRatio is not).
SPEC_FIELDS = (
    "labelKey",
    "labelValue",
    "placementStrategy",
    "gpuNetworkAccelerationDetection",
    "gpuNetworkAccelerationLabelKey",
)
DEFAULT_POOL = "default"


class NodePoolKind(SyncKind):
    """A node pool of a cluster; identity is (cluster, name)."""

    document_kind = "NodePool"
    slug = "node-pool"
    api_family = "node pools (/api/v1/node-pools)"
    scope_types: tuple[str, ...] = ("cluster",)
    uses: tuple[str, ...] = ()
    name_checks: tuple[NameCheck, ...] = ()
    name_refs: tuple[tuple[str, ...], ...] = ()
    since = "2.19"  # /api/v1/node-pools first appears in the 2.19 spec (R19)
    family_path = PATH
    probe_path = PATH
    lookups_needed = frozenset({"clusters", "nodepools"})
    names_lookup: str | None = "nodepool"
    # Run:ai creates the default pool with the cluster and keeps it while the cluster lives.
    built_in_names = frozenset({DEFAULT_POOL})

    def __repr__(self) -> str:
        return "NodePoolKind()"

    def list_request(self) -> ListRequest:
        return LOOKUP_REQUESTS["nodepools"]  # one read serves the lookup and the kind

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        cluster = lookups.name_of("cluster", item.get("clusterId"))
        return Address(self.slug, f"cluster={cluster}", str(item["name"])), str(item["id"])

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        address, remote_id = self.identify(obj, lookups)
        spec: Spec = {"spec": {k: copy.deepcopy(obj.get(k)) for k in SPEC_FIELDS}}
        return address, self.normalize(spec), LiveMeta.audit(remote_id, obj)

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        doc = spec.get("spec", {})
        if not (doc.get("labelKey") and doc.get("labelValue")):
            raise PlanError(
                f"{address}: no node pool {address.name!r} in the cluster; creating one needs "
                "spec.labelKey and spec.labelValue (the label of its nodes)"
            )
        body = {
            "name": address.name,
            "clusterId": _cluster_id(address, lookups),
            **_fields(spec),
        }
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
        return HttpRequest("PUT", f"{PATH}/{remote_id}", sort_keys(_fields(spec)))

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{PATH}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{PATH}/{remote_id}")

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        return ListRequest(
            PATH,
            "nodepools",
            Pagination.NEXT,
            params(filterBy=f"name=={address.name}", limit=LIST_LIMIT),
        )

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        return ()  # the cluster and the name are the address; the rest has a PUT

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        return str(body["id"])

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> Named:
        return Named(remote_id, address.name, cluster_id=_cluster_id(address, lookups))


def _cluster_id(address: Address, lookups: Lookups) -> str:
    return lookups.id_of("cluster", parse_scope(address.scope)[1])


def _fields(spec: Spec) -> dict[str, Any]:
    doc = spec.get("spec", {})
    return {k: copy.deepcopy(doc[k]) for k in SPEC_FIELDS if k in doc}


NODE_POOL = NodePoolKind()
