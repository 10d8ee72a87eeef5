"""Workloads V2 (`/api/v2/workloads`): create, get, update, delete and the sync status.

A V2 workload is a Kubernetes manifest plus Run:ai metadata; writes are accepted (202) and
reach the cluster asynchronously, so `syncInfo.status` is derived from the time since the last
write and `settings.sync_delay_ms`. Its routes include the v1 view (`workloads_v1.py`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route
from reconcile.emulator.handlers import org, workloads_v1
from reconcile.emulator.handlers import workload_sync as state
from reconcile.emulator.store import Store

PROJECT_LABEL = "run.ai/project"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet


class _ManifestConstructor(SafeConstructor):
    """Kubernetes reads YAML timestamps as strings; so does the emulator (JSON has no dates)."""


_ManifestConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str
)


def _live(call: Call) -> dict[str, Any]:
    """The stored workload of the path id, 404 when unknown or fully deleted."""
    workload_id = call.path_params["WorkloadV2Id"]
    stored = call.ctx.store.get(state.WORKLOADS, workload_id)
    if stored is None or state.sync_status(stored) == "Gone":
        raise ApiProblem(404, f"Workload {workload_id!r} not found")
    return stored


# --- manifests ------------------------------------------------------------------------------


def _decode(encoded: str) -> dict[str, Any]:
    try:
        text = base64.b64decode(encoded, validate=True).decode("utf-8")
        yaml = YAML(typ="safe", pure=True)
        yaml.Constructor = _ManifestConstructor
        documents = [doc for doc in yaml.load_all(text) if doc is not None]
    except (binascii.Error, UnicodeDecodeError, YAMLError) as exc:
        raise ApiProblem(
            400, "Bad request - manifestBase64Encoded is not base64-encoded YAML", str(exc)
        ) from None
    if len(documents) != 1:
        raise ApiProblem(
            400, f"Bad request - manifestBase64Encoded must hold one object, got {len(documents)}"
        )
    return documents[0]  # type: ignore[no-any-return]


def _manifest(body: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
    """The request's manifest (`manifest` xor `manifestBase64Encoded`), checked to be one
    Kubernetes object with apiVersion, kind and metadata.name."""
    given = [key for key in ("manifest", "manifestBase64Encoded") if body.get(key) is not None]
    if len(given) == 2:
        raise ApiProblem(400, "Bad request - manifest and manifestBase64Encoded are exclusive")
    if not given:
        if required:
            raise ApiProblem(400, "Bad request - manifest or manifestBase64Encoded is required")
        return None
    manifest = body["manifest"] if given == ["manifest"] else _decode(body[given[0]])
    if not isinstance(manifest, dict):
        raise ApiProblem(400, "Bad request - the manifest must be a Kubernetes object")
    metadata = manifest.get("metadata")
    for field, value in (
        ("apiVersion", manifest.get("apiVersion")),
        ("kind", manifest.get("kind")),
        ("metadata.name", metadata.get("name") if isinstance(metadata, dict) else None),
    ):
        if not isinstance(value, str) or not value:
            raise ApiProblem(400, f"Bad request - manifest.{field} is required")
    return manifest


def _check_containers(node: Any, path: str = "") -> None:
    """What the cluster's own validation refuses of a manifest, as a dry run there answers
    (docs/emulator.md): a container (in any `containers` or `initContainers` list) without
    a `name` or an `image`. Nothing in the control plane's lists can tell this in advance."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_containers(item, f"{path}[{index}]")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{path}.{key}" if path else str(key)
        if key in ("containers", "initContainers") and isinstance(value, list):
            for index, container in enumerate(value):
                for field in ("name", "image"):
                    if not isinstance(container, dict) or not container.get(field):
                        raise ApiProblem(400, f"Bad request - manifest {where}[{index}].{field}: "
                                         "Required value")  # fmt: skip
        else:
            _check_containers(value, where)


def _gvk(manifest: dict[str, Any]) -> dict[str, str]:
    group, _, version = str(manifest["apiVersion"]).rpartition("/")
    return {"group": group, "version": version, "kind": str(manifest["kind"])}


def _mutated(raw: dict[str, Any], name: str, project: dict[str, Any]) -> dict[str, Any]:
    """What Run:ai applies: the workload's name, the project namespace and project label."""
    out = copy.deepcopy(raw)
    metadata = out.setdefault("metadata", {})
    metadata["name"] = name
    metadata["namespace"] = project["status"]["namespace"]
    metadata.setdefault("labels", {})[PROJECT_LABEL] = project["name"]
    return out


# --- metadata -------------------------------------------------------------------------------


def _check_names(store: Store, metadata: dict[str, Any]) -> None:
    """Priority and category, when given, must name seeded priorities and categories."""
    for key, collection in (("priority", org.PRIORITIES), ("category", org.CATEGORIES)):
        value = metadata.get(key)
        if value is not None and org.find_by_name(store, collection, value) is None:
            known = ", ".join(item["name"] for item in store.all(collection))
            raise ApiProblem(400, f"Bad request - metadata.{key}: unknown {value!r}", known)


def _project(store: Store, metadata: dict[str, Any]) -> dict[str, Any]:
    project_id = metadata.get("projectId")
    if not project_id:
        raise ApiProblem(400, "Bad request - metadata.projectId is required")
    project = store.get(org.PROJECTS, str(project_id))
    if project is None:
        raise ApiProblem(400, f"Bad request - metadata.projectId: no project {project_id!r}")
    cluster_id = metadata.get("clusterId")
    if cluster_id is not None and cluster_id != project["clusterId"]:
        raise ApiProblem(400, f"Bad request - metadata.clusterId: project {project['name']!r} "
                         f"is in cluster {project['clusterId']}")  # fmt: skip
    return project


def _final_name(call: Call, metadata: dict[str, Any], manifest: dict[str, Any]) -> str:
    name = str(metadata.get("name") or manifest["metadata"]["name"])
    if metadata.get("useGivenNameAsPrefix"):
        name += "-" + "".join(call.ctx.random.choice(_SUFFIX_ALPHABET) for _ in range(5))
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise ApiProblem(400, f"Bad request - metadata.name {name!r} is not a DNS-1123 label "
                         "(lowercase alphanumerics and '-', at most 63 characters)")  # fmt: skip
    return name


def _new_workload(call: Call) -> dict[str, Any]:
    """Validate a create request completely and build the stored workload (not yet stored)."""
    store, body = call.ctx.store, call.body
    metadata: dict[str, Any] = dict(body["metadata"])
    raw = _manifest(body, required=True)
    assert raw is not None
    project = _project(store, metadata)
    name = _final_name(call, metadata, raw)
    gvk = _gvk(raw)
    state.workload_type(store, gvk)
    _check_names(store, metadata)
    _check_containers(raw)
    for other in store.find(state.WORKLOADS, lambda w: w["metadata"]["name"] == name):
        if other["metadata"]["projectId"] == project["id"] and state.sync_status(other) != "Gone":
            raise ApiProblem(409, f"Workload {name!r} already exists in project {project['name']}")
    department = store.get(org.DEPARTMENTS, project["parentId"]) or {}
    now = call.ctx.now()
    kept = {k: v for k, v in metadata.items() if k not in ("useGivenNameAsPrefix", "clusterId")}
    return {
        "metadata": {
            **kept, "name": name, "projectId": project["id"], "id": call.ctx.new_id(),
            "gvk": gvk, "projectName": project["name"], "clusterId": project["clusterId"],
            "tenantId": org.tenant_id(store), "departmentId": project["parentId"],
            "departmentName": department.get("name", ""), "createdAt": now,
            "createdBy": call.subject, "updatedAt": now, "updatedBy": call.subject,
            "deletedAt": None, "deletedBy": None,
        },
        "desiredPhase": "Running",
        "rawManifest": raw,
        "workloadManifest": _mutated(raw, name, project),
    }  # fmt: skip


# --- V2 routes ---------------------------------------------------------------------------------


def _create(call: Call) -> Reply:
    workload = _new_workload(call)
    if (call.args.get("dryRun") or "false").lower() == "true":
        return Reply(202, workload)  # validated, nothing stored
    state.start_sync(call, workload, "create")
    call.ctx.store.insert(state.WORKLOADS, workload["metadata"]["id"], workload)
    return Reply(202, org.public(workload))


def _get(call: Call) -> Reply:
    stored = _live(call)
    status = state.sync_status(stored)
    message = {"Queued": "Waiting to be applied", "Applying": "Applying the manifest"}
    info = {"status": status, "message": message.get(status, status)}
    return Reply(200, {"workload": org.public(stored), "syncInfo": info})


def _update(call: Call) -> Reply:
    store, stored = call.ctx.store, _live(call)
    if stored[state.SYNC]["op"] == "delete":
        raise ApiProblem(409, f"Workload {stored['metadata']['name']!r} is being deleted")
    metadata = dict(call.body.get("metadata") or {})
    _check_names(store, metadata)
    raw = _manifest(call.body, required=False)
    if raw is not None:
        old, new = stored["metadata"]["gvk"], _gvk(raw)
        if (old["group"], old["kind"]) != (new["group"], new["kind"]):
            raise ApiProblem(400, f"Bad request - the manifest kind cannot change from "
                             f"{old['kind']} to {new['kind']}")  # fmt: skip
        _check_containers(raw)
        project = store.get(org.PROJECTS, stored["metadata"]["projectId"]) or {}
        stored["metadata"]["gvk"] = new
        stored["rawManifest"] = raw
        stored["workloadManifest"] = _mutated(raw, stored["metadata"]["name"], project)
    for key in ("priority", "category"):
        if key in metadata:  # null clears the value; absence keeps it
            stored["metadata"][key] = metadata[key]
            if metadata[key] is None:
                del stored["metadata"][key]
    stored["metadata"].update(updatedAt=call.ctx.now(), updatedBy=call.subject)
    state.start_sync(call, stored, "update")
    store.replace(state.WORKLOADS, stored["metadata"]["id"], stored)
    return Reply(202, org.public(stored))


def _delete(call: Call) -> Reply:
    stored = _live(call)
    if stored[state.SYNC]["op"] != "delete":  # a repeated DELETE does not restart the clock
        stored["desiredPhase"] = "Deleted"
        stored["metadata"].update(deletedAt=call.ctx.now(), deletedBy=call.subject)
        state.start_sync(call, stored, "delete")
        call.ctx.store.replace(state.WORKLOADS, stored["metadata"]["id"], stored)
    return Reply(202, org.public(stored))


def routes() -> list[Route]:
    one = "/api/v2/workloads/<WorkloadV2Id>"
    return [
        Route("/api/v2/workloads", ("POST",), org.serialized(_create),
              request_schema="D24V2_WorkloadV2CreateRequest", response_schema="D24V2_WorkloadV2"),
        Route(one, ("GET",), _get, response_schema="D24V2_WorkloadV2GetResponse"),
        Route(one, ("PUT",), org.serialized(_update),
              request_schema="D24V2_WorkloadV2UpdateRequest", response_schema="D24V2_WorkloadV2"),
        Route(one, ("DELETE",), org.serialized(_delete), response_schema="D24V2_WorkloadV2"),
        *workloads_v1.routes(),  # the same objects as seen by the v1 workloads API
    ]  # fmt: skip
