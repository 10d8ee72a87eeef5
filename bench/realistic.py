"""A realistic tenant and config for benchmarks: many scopes, all four template types, env vars.

What a platform team's repository looks like, rather than 10,000 copies of one small document:
departments over two clusters, projects in them, and templates of every type
(workspace, training, distributed, inference) spread over every project and department, each
with 3 to 10 environment variables (some taken from the environment with `${VAR}`), labels,
compute and node pools. Deterministic: the same arguments write the same files.

A platform team's tenant (`Tenant.of(..., assets=N, org_as_code=True)`) also manages its org
tree and assets as documents: Department and Project documents with GPU quotas, and
environments, computes and data sources (a third of each, per department and per project),
with one template in 20 a legacy AssetTemplate naming its department's assets.

`write_seed` writes the emulator seed (the org tree, unless the config manages it) and
`write_config` the config directory; `changed_every` edits a share of the templates for a plan
with changes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CLUSTERS = ("cluster-a", "cluster-b")
TYPES = ("WorkspaceTemplate", "TrainingTemplate", "DistributedTemplate", "InferenceTemplate")
NODE_POOLS = ("default", "a100", "h100", "cpu")
# The variables the config takes from the environment (a real config's tokens and endpoints);
# a benchmark sets them before running the CLI.
SECRET_VARIABLES = {"HF_TOKEN": "hf_bench_token", "WANDB_API_KEY": "wandb-bench-key"}
PLAIN_VARIABLES = (
    ("NCCL_DEBUG", "WARN"),
    ("HF_HOME", "/data/hf"),
    ("OMP_NUM_THREADS", "8"),
    ("PYTHONUNBUFFERED", "1"),
    ("TORCH_HOME", "/data/torch"),
    ("LOG_LEVEL", "info"),
    ("DATA_DIR", "/data"),
    ("TZ", "UTC"),
)


@dataclass(frozen=True)
class Tenant:
    """The org tree the config's documents are scoped to."""

    departments: tuple[str, ...]
    projects: tuple[tuple[str, str], ...]  # (project, its department)
    assets: int = 0  # environments, computes and data sources, managed by the config
    org_as_code: bool = False  # departments and projects are documents, not seeded

    @classmethod
    def of(
        cls, departments: int, projects: int, *, assets: int = 0, org_as_code: bool = False
    ) -> Tenant:
        names = tuple(f"dept-{d:02d}" for d in range(departments))
        width = max(3, len(str(projects - 1)))
        units = tuple((f"proj-{p:0{width}d}", names[p % departments]) for p in range(projects))
        if assets and assets < 3 * departments:
            raise ValueError(
                "assets: at least an environment, compute and data source per department"
            )
        return cls(names, units, assets, org_as_code)

    def parameters(self) -> dict[str, Any]:
        """What `Tenant.of` makes this tenant from."""
        return {
            "departments": len(self.departments),
            "projects": len(self.projects),
            "assets": self.assets,
            "org_as_code": self.org_as_code,
        }

    def describe(self) -> str:
        managed = " as documents" if self.org_as_code else " (seeded)"
        return (
            f"{len(self.departments)} departments and {len(self.projects)} projects{managed}, "
            f"{self.assets} assets"
        )

    def cluster_of(self, department: str) -> str:
        return CLUSTERS[self.departments.index(department) % len(CLUSTERS)]

    def scopes(self) -> list[dict[str, str]]:
        """Every scope a template may be written at: each project, then each department."""
        projects = [{"project": name} for name, _ in self.projects]
        return projects + [{"department": name} for name in self.departments]


def write_seed(path: Path, tenant: Tenant) -> None:
    """An emulator seed (docs/emulator.md format) holding `tenant` beside the default tenant's."""
    from reconcile.emulator.seed import default_seed_text

    seed = _yaml().load(default_seed_text())
    if not tenant.org_as_code:
        seed["departments"] += [
            {"name": name, "cluster": tenant.cluster_of(name), "gpuQuota": 64}
            for name in tenant.departments
        ]
        seed["projects"] += [
            {"name": name, "department": department, "gpuQuota": 8}
            for name, department in tenant.projects
        ]
    with path.open("w", encoding="utf-8") as out:
        _yaml().dump(seed, out)


def org_documents(tenant: Tenant) -> Iterator[dict[str, Any]]:
    """Department and Project documents with GPU quotas, when the config manages the org tree."""
    if not tenant.org_as_code:
        return
    for name in tenant.departments:
        yield {
            "kind": "Department",
            "metadata": {"name": name, "scope": {"cluster": tenant.cluster_of(name)}},
            "spec": {"resources": {"default": {"gpu": {"deserved": 64}}}},
        }
    for name, department in tenant.projects:
        yield {
            "kind": "Project",
            "metadata": {"name": name, "scope": {"department": department}},
            "spec": {"resources": {"default": {"gpu": {"deserved": 1}}}},
        }


ASSET_KINDS = ("Environment", "Compute", "DataSource")


def asset_documents(tenant: Tenant) -> Iterator[dict[str, Any]]:
    """`tenant.assets` assets, the three kinds in turn: first one of each per department (what
    its AssetTemplates name), then the rest over the projects."""
    scopes = [{"department": d} for d in tenant.departments]
    scopes += [{"project": p} for p, _ in tenant.projects]
    for index in range(tenant.assets):
        kind = ASSET_KINDS[index % len(ASSET_KINDS)]
        yield {
            "kind": kind,
            "metadata": {
                "name": _asset_name(kind, index),
                "scope": scopes[(index // len(ASSET_KINDS)) % len(scopes)],
                "description": f"{kind} {index} for the team",
            },
            "spec": _asset_spec(kind, index),
        }


def _asset_name(kind: str, index: int) -> str:
    return f"{kind.lower()}-{index:05d}"


def _asset_spec(kind: str, index: int) -> dict[str, Any]:
    if kind == "Environment":
        return {
            "image": f"nvcr.io/nvidia/pytorch:24.{(index % 12) + 1:02d}-py3",
            "uidGidSource": "fromTheImage",
            "workloadSupportedTypes": {"workspace": True, "training": index % 2 == 0},
            "connections": [
                {
                    "name": "jupyter",
                    "internalToolInfo": {
                        "toolType": "jupyter-notebook",
                        "connectionType": "ExternalUrl",
                        "containerPort": 8888,
                    },
                }
            ],
        }
    if kind == "Compute":
        return {"gpuDevicesRequest": 1 + index % 8, "cpuCoreRequest": 4, "cpuMemoryRequest": "32G"}
    if index % 2:
        return {
            "type": "git",
            "repository": f"https://git.example.com/team/repo-{index}.git",
            "path": "/code",
        }
    return {
        "type": "pvc",
        "path": "/data",
        "claimName": f"data-{index}",
        "claimInfo": {"size": "10G"},
    }


def documents(count: int, tenant: Tenant, *, version: int = 0) -> Iterator[dict[str, Any]]:
    """`count` template documents, the types and scopes taken in turn; with assets, one in 20
    is an AssetTemplate naming its department's environment, compute and data source."""
    scopes = tenant.scopes()
    department_of = dict(tenant.projects)
    for index in range(count):
        kind = TYPES[index % len(TYPES)]
        scope = scopes[index % len(scopes)]
        if tenant.assets and index % 20 == 1:
            kind = "AssetTemplate"
            department = scope.get("department") or department_of[scope["project"]]
            spec = _asset_template_spec(tenant.departments.index(department), index, version)
        else:
            spec = _spec(kind, index, version)
        yield {
            "kind": kind,
            "metadata": {
                "name": f"{kind.removesuffix('Template').lower()}-{index:05d}",
                "scope": scope,
                "description": f"Template {index} for the team",
            },
            "spec": spec,
        }


def _asset_template_spec(department: int, index: int, version: int) -> dict[str, Any]:
    """The department's own assets are the first three of each department's turn."""
    first = department * len(ASSET_KINDS)
    environment, compute, data = (_asset_name(k, first + i) for i, k in enumerate(ASSET_KINDS))
    kind = _asset_spec("DataSource", first + 2)["type"]
    return {
        "assets": {
            "environment": environment,
            "compute": compute,
            "datasources": [{"name": data, "kind": kind}],
        },
        "specificEnv": {"environmentVariables": _variables(index, version)},
    }


def _spec(kind: str, index: int, version: int) -> dict[str, object]:
    spec: dict[str, object] = {
        "image": f"nvcr.io/nvidia/pytorch:24.{(index % 12) + 1:02d}-py3",
        "compute": {
            "gpuDevicesRequest": 1 + index % 4,
            "cpuCoreRequest": 2,
            "cpuMemoryRequest": "16G",
        },
        "nodePools": list(NODE_POOLS[: 1 + index % len(NODE_POOLS)]),
        "labels": [
            {"name": "team", "value": f"t{index % 50}"},
            {"name": "cost-center", "value": "ml"},
        ],
        "environmentVariables": _variables(index, version),
    }
    if kind == "DistributedTemplate":
        spec["distributedFramework"] = "PyTorch"
        spec["numWorkers"] = 2
    return spec


def _variables(index: int, version: int) -> list[dict[str, str]]:
    count = 3 + index % 8  # 3 to 10 variables
    plain = [{"name": n, "value": v} for n, v in PLAIN_VARIABLES]
    secret = [{"name": n, "value": "${" + n + "}"} for n in SECRET_VARIABLES]
    chosen = (plain + secret)[:count] if index % 3 == 0 else plain[:count]
    if version:
        chosen[0] = {**chosen[0], "value": f"{chosen[0]['value']}-v{version}"}
    return chosen


def write_config(
    config_dir: Path,
    count: int,
    tenant: Tenant,
    *,
    per_file: int = 500,
    changed_every: int = 0,
    changed_from: int = 0,
    state: str = "../state/realistic.json",
) -> None:
    """Settings and `count` documents in files of `per_file`, block style as people write them.

    `changed_every` (say 100) edits one environment variable of every that-many-th template,
    from the `changed_from`-th on. The org tree and assets, when the config manages them, go
    to `org.yaml` and `assets-NNN.yaml`.
    """
    templates = list(documents(count, tenant))
    if changed_every:
        for index in range(changed_from, count, changed_every):
            spec = templates[index]["spec"]
            variables = spec["specificEnv"] if "assets" in spec else spec
            variables["environmentVariables"] = _variables(index, 1)
    write_documents(
        config_dir,
        {"org": list(org_documents(tenant)), "assets": list(asset_documents(tenant))},
        templates,
        per_file=per_file,
        state=state,
    )


def write_documents(
    config_dir: Path,
    groups: dict[str, list[dict[str, Any]]],
    templates: list[dict[str, Any]],
    *,
    per_file: int = 500,
    state: str = "../state/realistic.json",
) -> None:
    """Settings, each group's documents in `GROUP.yaml` (or `GROUP-NNN.yaml` files of
    `per_file` when bigger) and the templates in `templates-NNN.yaml` files of `per_file`."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for old in config_dir.glob("*.yaml"):  # a smaller count leaves none behind
        old.unlink()
    (config_dir / "runai-reconcile.yaml").write_text(
        f"server: embedded\nstate: {state}\nparallelism: 16\n", encoding="utf-8"
    )
    for group, docs in [*groups.items(), ("templates", templates)]:
        for start in range(0, len(docs), per_file):
            many = group == "templates" or len(docs) > per_file
            name = f"{group}-{start // per_file:03d}.yaml" if many else f"{group}.yaml"
            texts = [_document_text(doc) for doc in docs[start : start + per_file]]
            (config_dir / name).write_text("---\n".join(texts), encoding="utf-8")


# Each document's YAML by its JSON: a benchmark rewrites its config many times with a few
# documents changed, and writing YAML costs a millisecond or more a document.
_TEXTS: dict[str, str] = {}


def _document_text(doc: dict[str, Any]) -> str:
    """`doc` as `dump_all` writes it in a stream (the `---` between documents aside)."""
    key = json.dumps(doc)
    text = _TEXTS.get(key)
    if text is None:
        out = io.StringIO()
        _WRITER.dump(doc, out)
        text = _TEXTS[key] = out.getvalue()
    return text


def _yaml() -> YAML:
    """Block style, as people write configs (libyaml reads flow style with `:` slowly);
    libyaml's emitter (the same text as the pure-Python one, in a third of the time)."""
    writer = YAML(typ="safe", pure=False)
    writer.default_flow_style = False
    return writer


_WRITER = _yaml()
