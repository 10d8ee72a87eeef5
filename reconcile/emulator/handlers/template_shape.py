"""Pure helpers for workload templates: scope placement, spec merging, clearing, runnability.

They read the org collections and the stored template documents but never write, and they
know nothing about HTTP beyond raising ApiProblem for a bad request.
"""

from __future__ import annotations

import copy
from typing import Any

from reconcile.emulator.framework import ApiProblem, EmulatorContext

Doc = dict[str, Any]

TENANT_ID = "1"  # the emulator's single tenant (docs/emulator.md)
COLLECTION = "workload-templates"
# Scope defaults ("policies") merged under a template's spec to form combinedSpec, keyed by
# "<scopeType>/<scopeId>". Nothing is seeded there by default.
POLICY_DEFAULTS = "template-scope-defaults"
# Body members a PATCH `fieldsToClear` path may start with.
CLEARABLE_ROOTS = ("spec", "meta", "master", "masterSpecSameAsWorker")


def place(ctx: EmulatorContext, scope_type: str, scope_id: str | None) -> Doc:
    """The server-filled scope members of meta for a create: scopeId and the tree ids.

    An unknown scope id is a bad request (400 naming meta.scopeId), not a missing resource.
    """
    tree: Doc = {"clusterId": None, "departmentId": None, "projectId": None}
    if scope_type == "system":
        raise ApiProblem(400, "Bad request - meta.scopeType: system templates are Run:ai's own")
    if scope_type == "tenant":
        if scope_id not in (None, "", TENANT_ID):
            raise ApiProblem(400, f"Bad request - meta.scopeId: unknown tenant {scope_id!r}")
        return {"scopeType": "tenant", "scopeId": TENANT_ID, **tree}
    if not scope_id:
        raise ApiProblem(400, f"Bad request - meta.scopeId is required for scope {scope_type}")
    if scope_type == "cluster":
        found = ctx.store.find("clusters", lambda c: c.get("uuid") == scope_id)
        if found:
            tree["clusterId"] = scope_id
    elif scope_type == "department":
        dept = ctx.store.peek("departments", scope_id)
        if dept is not None:
            tree.update(clusterId=dept.get("clusterId"), departmentId=scope_id)
    else:  # project
        project = ctx.store.peek("projects", scope_id)
        if project is not None and scope_id.isdigit():
            tree.update(
                clusterId=project.get("clusterId"),
                departmentId=project.get("parentId"),
                projectId=int(scope_id),
            )
    if all(value is None for value in tree.values()):
        raise ApiProblem(400, f"Bad request - meta.scopeId: no {scope_type} with id {scope_id!r}")
    return {"scopeType": scope_type, "scopeId": scope_id, **tree}


def drop_nulls(value: Any) -> Any:
    """A copy without null object members: null means "not set" (every spec field is
    nullable), so stored documents never carry them."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


def merge(base: Doc, patch: Doc) -> Doc:
    """Deep merge for PATCH: objects merge member by member, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def clear_paths(doc: Doc, paths: list[str]) -> None:
    """Remove dotted paths rooted at the body (`spec.compute.gpuDevicesRequest`,
    `meta.description`); a path that is already absent is a no-op, and objects the clearing
    leaves empty go too (a cleared `compute.gpuDevicesRequest` leaves no `compute: {}`)."""
    for path in paths:
        parts = path.split(".")
        if parts[0] not in CLEARABLE_ROOTS or path in ("meta", "meta.name", "spec"):
            raise ApiProblem(400, f"Bad request - fieldsToClear: cannot clear {path!r}")
        if parts[0] == "meta" and parts[1:] != ["description"]:
            raise ApiProblem(400, f"Bad request - fieldsToClear: cannot clear {path!r}")
        trail: list[Any] = [doc]
        for part in parts[:-1]:
            node = trail[-1].get(part) if isinstance(trail[-1], dict) else None
            trail.append(node)
        if not isinstance(trail[-1], dict) or parts[-1] not in trail[-1]:
            continue
        trail[-1].pop(parts[-1])
        for depth in range(len(parts) - 1, 1, -1):  # prune emptied parents, never a root
            if trail[depth] == {}:
                trail[depth - 1].pop(parts[depth - 1])


def scope_chain(meta: Doc) -> list[str]:
    """Policy keys from the broadest scope down to the template's own."""
    chain = [f"tenant/{TENANT_ID}"]
    if meta.get("clusterId"):
        chain.append(f"cluster/{meta['clusterId']}")
    if meta.get("departmentId"):
        chain.append(f"department/{meta['departmentId']}")
    if meta.get("projectId") is not None:
        chain.append(f"project/{meta['projectId']}")
    return chain


def combined(ctx: EmulatorContext, doc: Doc, member: str = "spec") -> Doc:
    """`doc[member]` over the scope defaults of every scope above and at the template's."""
    own: Doc = doc.get(member) or {}
    if ctx.store.count(POLICY_DEFAULTS) == 0:
        return own  # the common case: no policies, nothing to merge (and no copy)
    out: Doc = {}
    for key in scope_chain(doc["meta"]):
        policy = ctx.store.peek(POLICY_DEFAULTS, key)
        if policy is not None:
            out = merge(out, policy.get(member) or {})
    return merge(out, own)


def runnable(workload_type: str, spec: Doc) -> Doc:
    """Whether the template can be submitted as is: an image (and a framework) is needed."""
    if not spec.get("image"):
        return {"isRunnable": False, "issue": "mandatory image is not provided"}
    if workload_type == "Distributed" and not spec.get("distributedFramework"):
        return {"isRunnable": False, "issue": "mandatory distributedFramework is not provided"}
    return {"isRunnable": True, "issue": None}


def check_master(doc: Doc) -> None:
    if doc.get("masterSpecSameAsWorker") is True and doc.get("master"):
        raise ApiProblem(
            400, "Bad request - master: must not be set when masterSpecSameAsWorker is true"
        )
