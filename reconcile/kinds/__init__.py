"""The resource kinds the reconciler manages, keyed by the document `kind` users write.

The table is explicit (no import-time self-registration) so that what is supported is
readable in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

# Document kind -> address slug. Order is dependency order for creates: workload types
# before templates before workloads (DESIGN.md section 4).
DOCUMENT_KINDS: dict[str, str] = {
    "WorkloadType": "workload-type",
    "WorkspaceTemplate": "workspace-template",
    "TrainingTemplate": "training-template",
    "DistributedTemplate": "distributed-template",
    "InferenceTemplate": "inference-template",
    "AssetTemplate": "asset-template",
    "Workload": "workload",
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
