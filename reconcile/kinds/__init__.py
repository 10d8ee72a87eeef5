"""The resource kinds the reconciler manages, keyed by the document `kind` users write.

The table is explicit (no import-time self-registration) so that what is supported is
readable in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconcile.kinds.asset_templates import ASSET_TEMPLATE
from reconcile.kinds.base import Kind
from reconcile.kinds.workload_templates import WORKLOAD_TEMPLATE_KINDS
from reconcile.kinds.workload_types import WORKLOAD_TYPE
from reconcile.kinds.workloads import WORKLOAD

# Document kind -> address slug. Order is dependency order for creates: workload types
# before templates before workloads (docs/design.md, section 4).
DOCUMENT_KINDS: dict[str, str] = {
    "WorkloadType": "workload-type",
    "WorkspaceTemplate": "workspace-template",
    "TrainingTemplate": "training-template",
    "DistributedTemplate": "distributed-template",
    "InferenceTemplate": "inference-template",
    "AssetTemplate": "asset-template",
    "Workload": "workload",
}

# Document kind -> its Kind (kinds/base.py documents the protocol). Same keys and order as
# DOCUMENT_KINDS; each kind's `slug` is the slug above.
KINDS: dict[str, Kind] = {
    "WorkloadType": WORKLOAD_TYPE,
    "WorkspaceTemplate": WORKLOAD_TEMPLATE_KINDS["WorkspaceTemplate"],
    "TrainingTemplate": WORKLOAD_TEMPLATE_KINDS["TrainingTemplate"],
    "DistributedTemplate": WORKLOAD_TEMPLATE_KINDS["DistributedTemplate"],
    "InferenceTemplate": WORKLOAD_TEMPLATE_KINDS["InferenceTemplate"],
    "AssetTemplate": ASSET_TEMPLATE,
    "Workload": WORKLOAD,
}

SCOPE_TYPES = ("tenant", "cluster", "department", "project")


def scope_text(scope: Mapping[str, object]) -> str:
    """The address form of a scope: `{project: a}` -> `project=a`; `{tenant: true}` -> `tenant`."""
    if scope.get("tenant") is True:
        return "tenant"
    for scope_type in ("cluster", "department", "project"):
        if scope_type in scope:
            return f"{scope_type}={scope[scope_type]}"
    raise ValueError(f"not a scope: {dict(scope)!r}")
