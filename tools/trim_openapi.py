"""Cut the slice of the Run:ai 2.24 OpenAPI spec that runai-reconcile uses, and store it as data.

The emulator validates bodies against this slice and the schema generator builds the
document schemas from it, so neither needs the full specs at run time (docs/design.md,
section 2).

Sources (docs/runai-api.md, section 0):
- the runapy spec (key R24): `.generator/swagger.json` of runai-professional-services/runapy
  @ 06000dd8f189375cbbeae0c92196c191af7e3a3e
- the Workloads V2 spec (key D24V2): NVIDIA's published 2.24 Workloads V2 spec, newer than the
  runapy build (it adds `dryRun` and `metadata.configuration`). Its operations replace the
  runapy ones for /api/v2/workloads; its components are kept under a `D24V2_` prefix so the
  two sets never collide.

Usage: python tools/trim_openapi.py --runapy-spec FILE --workloads-v2-spec FILE [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reconcile" / "emulator" / "data" / "runai-2.24-openapi-slice.json"

# (path, methods) the project uses. Everything they reference is kept, nothing else.
USED: dict[str, tuple[str, ...]] = {
    "/api/v1/token": ("post",),
    "/api/v2/token": ("post",),
    "/api/v1/workload-templates": ("get",),
    "/api/v1/workload-templates/count": ("get",),
    "/api/v1/workload-templates/name-availability": ("get",),
    "/api/v1/workload-templates/{templateId}": ("get",),
    "/api/v1/workload-templates/workspaces": ("get", "post"),
    "/api/v1/workload-templates/workspaces/{templateId}": ("get", "put", "patch", "delete"),
    "/api/v1/workload-templates/trainings": ("get", "post"),
    "/api/v1/workload-templates/trainings/{templateId}": ("get", "put", "patch", "delete"),
    "/api/v1/workload-templates/distributed": ("get", "post"),
    "/api/v1/workload-templates/distributed/{templateId}": ("get", "put", "patch", "delete"),
    "/api/v1/workload-templates/inferences": ("get", "post"),
    "/api/v1/workload-templates/inferences/{templateId}": ("get", "delete"),
    "/api/v1/asset/workload-template": ("get", "post"),
    "/api/v1/asset/workload-template/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/environment": ("get", "post"),
    "/api/v1/asset/environment/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/compute": ("get", "post"),
    "/api/v1/asset/compute/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/datasource": ("get",),
    "/api/v1/asset/credentials": ("get",),
    "/api/v1/asset/credentials/access-key": ("get", "post"),
    "/api/v1/asset/credentials/access-key/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/credentials/password": ("get", "post"),
    "/api/v1/asset/credentials/password/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/credentials/docker-registry": ("get", "post"),
    "/api/v1/asset/credentials/docker-registry/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/credentials/generic-secret": ("get", "post"),
    "/api/v1/asset/credentials/generic-secret/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/credentials/ngc-api-key": ("get", "post"),
    "/api/v1/asset/credentials/ngc-api-key/{AssetId}": ("get", "put", "delete"),
    "/api/v1/asset/registries": ("get", "post"),
    "/api/v1/asset/registries/{AssetId}": ("get", "put", "delete"),
    "/api/v1/authorization/roles": ("get",),
    "/api/v1/authorization/roles/{roleIdPath}": ("get",),
    "/api/v1/authorization/access-rules": ("get", "post"),
    "/api/v1/authorization/access-rules/{accessRuleId}": ("get", "delete"),
    **{
        f"/api/v1/asset/datasource/{segment}{tail}": methods
        for segment in ("pvc", "git", "s3", "nfs", "host-path", "config-map", "secrets")
        for tail, methods in (("", ("post",)), ("/{AssetId}", ("get", "put", "delete")))
    },
    "/api/v1/workload-types": ("get", "post"),
    "/api/v1/workload-types/{workloadTypeId}": ("get", "put", "delete"),
    "/api/v1/workload-categories": ("get",),
    "/api/v1/workload-categories/{categoryId}": ("get",),
    "/api/v1/workload-priorities": ("get",),
    "/api/v1/workloads": ("get",),
    "/api/v1/workloads/count": ("get",),
    "/api/v1/workloads/{workloadId}": ("get",),
    "/api/v1/org-unit/projects": ("get", "post"),
    "/api/v1/org-unit/projects/{projectId}": ("get", "put", "delete"),
    "/api/v1/org-unit/projects/{projectId}/resources": ("put",),
    "/api/v1/org-unit/departments": ("get", "post"),
    "/api/v1/org-unit/departments/{departmentId}": ("get", "put", "delete"),
    "/api/v1/org-unit/departments/{departmentId}/resources": ("put",),
    "/api/v1/node-pools": ("get", "post"),
    "/api/v1/node-pools/{nodepoolId}": ("get", "put", "delete"),
    "/api/v1/clusters": ("get",),
    "/api/v1/clusters/{clusterUuid}": ("get",),
}
FROM_D24V2 = ("/api/v2/workloads", "/api/v2/workloads/{WorkloadV2Id}")
D24V2_PREFIX = "D24V2_"
REF = re.compile(r"^#/components/(\w+)/(.+)$")


def _refs(node: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                match = REF.match(value)
                if match:
                    found.append((match.group(1), match.group(2)))
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


def _prefix_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and (m := REF.match(value)):
                out[key] = f"#/components/{m.group(1)}/{D24V2_PREFIX}{m.group(2)}"
            else:
                out[key] = _prefix_refs(value)
        return out
    if isinstance(node, list):
        return [_prefix_refs(item) for item in node]
    return node


def trim(full: dict[str, Any], v2: dict[str, Any]) -> dict[str, Any]:
    components: dict[str, dict[str, Any]] = {}
    for section, entries in v2.get("components", {}).items():
        for name, value in entries.items():
            components.setdefault(section, {})[D24V2_PREFIX + name] = _prefix_refs(value)
    source_components = {**full["components"]}
    for section, entries in components.items():
        source_components[section] = {**source_components.get(section, {}), **entries}

    paths: dict[str, Any] = {}
    for path, methods in USED.items():
        item = full["paths"][path]
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    for path in FROM_D24V2:
        paths[path] = _prefix_refs(v2["paths"][path])

    keep: dict[str, dict[str, Any]] = {}
    pending = _refs(paths) + [("securitySchemes", n) for n in full["components"]["securitySchemes"]]
    while pending:
        section, name = pending.pop()
        if name in keep.get(section, {}):
            continue
        value = source_components[section][name]
        keep.setdefault(section, {})[name] = value
        pending.extend(_refs(value))

    return {
        "openapi": full["openapi"],
        "info": {
            "title": "Run:ai control plane 2.24, the slice runai-reconcile uses",
            "version": "2.24",
            "x-sources": [
                "runai-professional-services/runapy@06000dd8f189375cbbeae0c92196c191af7e3a3e"
                ":.generator/swagger.json",
                "run-ai-docs.nvidia.com/api/2.24/workloads/workloads-v2 (paths under "
                "/api/v2/workloads, components prefixed D24V2_)",
            ],
        },
        "security": full.get("security", []),
        "paths": dict(sorted(paths.items())),
        "components": {s: dict(sorted(v.items())) for s, v in sorted(keep.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runapy-spec", type=Path, required=True, help="R24's swagger.json")
    parser.add_argument("--workloads-v2-spec", type=Path, required=True, help="D24V2 as JSON")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    full = json.loads(args.runapy_spec.read_text(encoding="utf-8"))
    v2 = json.loads(args.workloads_v2_spec.read_text(encoding="utf-8"))
    sliced = trim(full, v2)
    args.out.write_text(json.dumps(sliced, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    count = sum(len(v) for v in sliced["components"].values())
    print(f"wrote {args.out} ({len(sliced['paths'])} paths, {count} components)")


if __name__ == "__main__":
    main()
