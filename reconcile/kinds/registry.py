"""The one table of the kinds the reconciler manages, and what is derived from it.

Everything the tool knows about a kind is declared in that kind's module (the `Kind`
protocol of kinds/base.py: document kind, slug, API family, scope rules, the kinds it uses,
offline name checks, safety, immutable paths) and collected here, explicitly (no import-time
self-registration), so that what is supported is readable in one place. The planner, applier,
safety, schema and document code ask this module; the apply order is derived from `uses`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

from reconcile.kinds.access_rules import ACCESS_RULE
from reconcile.kinds.asset_templates import ASSET_TEMPLATE
from reconcile.kinds.assets import COMPUTE, DATASOURCE, ENVIRONMENT
from reconcile.kinds.base import Kind
from reconcile.kinds.credentials import CREDENTIAL
from reconcile.kinds.node_pools import NODE_POOL
from reconcile.kinds.org_units import DEPARTMENT, PROJECT
from reconcile.kinds.registries import REGISTRY
from reconcile.kinds.workload_templates import WORKLOAD_TEMPLATE_KINDS
from reconcile.kinds.workload_types import WORKLOAD_TYPE
from reconcile.kinds.workloads import WORKLOAD

# One line per kind. The order is how tables and documentation list them.
REGISTERED: tuple[Kind, ...] = (
    NODE_POOL,
    DEPARTMENT,
    PROJECT,
    CREDENTIAL,
    REGISTRY,
    ACCESS_RULE,
    ENVIRONMENT,
    COMPUTE,
    DATASOURCE,
    WORKLOAD_TYPE,
    WORKLOAD_TEMPLATE_KINDS["WorkspaceTemplate"],
    WORKLOAD_TEMPLATE_KINDS["TrainingTemplate"],
    WORKLOAD_TEMPLATE_KINDS["DistributedTemplate"],
    WORKLOAD_TEMPLATE_KINDS["InferenceTemplate"],
    ASSET_TEMPLATE,
    WORKLOAD,
)

KINDS: dict[str, Kind] = {kind.document_kind: kind for kind in REGISTERED}  # by document kind
BY_SLUG: dict[str, Kind] = {kind.slug: kind for kind in REGISTERED}
DOCUMENT_KINDS: dict[str, str] = {kind.document_kind: kind.slug for kind in REGISTERED}


def dependency_ranks(uses: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Per slug, the length of the longest chain of kinds it uses (0: uses none).

    Kinds of one rank do not use each other, so their steps may run in one wave; a kind's
    creates wait for every kind of a lower rank. Raises ValueError on a cycle or on a use of
    a kind that is not in `uses`.
    """
    unknown = sorted({u for used in uses.values() for u in used} - set(uses))
    if unknown:
        raise ValueError(f"kinds use unregistered kinds: {', '.join(unknown)}")
    sorter = TopologicalSorter({slug: tuple(used) for slug, used in uses.items()})
    ranks: dict[str, int] = {}
    try:
        for slug in sorter.static_order():
            ranks[slug] = max((ranks[u] + 1 for u in uses[slug]), default=0)
    except CycleError as error:
        raise ValueError(f"kinds use each other in a cycle: {' -> '.join(error.args[1])}") from None
    return ranks


def version_key(version: str) -> tuple[int, ...]:
    """`2.20` -> (2, 20), for comparing Run:ai versions; ValueError if not digits and dots."""
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        raise ValueError(f"not a Run:ai version: {version!r} (expected e.g. 2.20)")
    return tuple(int(part) for part in parts)


def needs_newer(kind: Kind, server: str) -> str:
    """The one message for a kind whose API family `server` lacks (docs/runai-api.md
    section 0): it names the version that introduced it."""
    return (
        f"{kind.document_kind} needs Run:ai {kind.since} or later: "
        f"{server} does not offer {kind.family_path}"
    )


def lacking(slugs: Iterable[str], api_version: str) -> list[Kind]:
    """The kinds named by `slugs` that Run:ai `api_version` does not have, in table order."""
    wanted, used = version_key(api_version), set(slugs)
    return [k for k in REGISTERED if k.slug in used and version_key(k.since) > wanted]


APPLY_RANK: dict[str, int] = dependency_ranks({kind.slug: kind.uses for kind in REGISTERED})
