"""A realistic tenant and config for benchmarks: many scopes, all four template types, env vars.

What a platform team's repository looks like, rather than 10,000 copies of one small document:
departments over two clusters, projects in them, and templates of every type
(workspace, training, distributed, inference) spread over every project and department, each
with 3 to 10 environment variables (some taken from the environment with `${VAR}`), labels,
compute and node pools. Deterministic: the same arguments write the same files.

`write_seed` writes the emulator seed (the tenant's org tree) and `write_config` the config
directory; `changed` edits a share of the documents for a plan with changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

    @classmethod
    def of(cls, departments: int, projects: int) -> Tenant:
        names = tuple(f"dept-{d:02d}" for d in range(departments))
        return cls(names, tuple((f"proj-{p:03d}", names[p % departments]) for p in range(projects)))

    def scopes(self) -> list[dict[str, str]]:
        """Every scope a template may be written at: each project, then each department."""
        projects = [{"project": name} for name, _ in self.projects]
        return projects + [{"department": name} for name in self.departments]


def write_seed(path: Path, tenant: Tenant) -> None:
    """An emulator seed (docs/emulator.md format) holding `tenant` beside the default tenant's."""
    from reconcile.emulator.seed import default_seed_text

    seed = _yaml().load(default_seed_text())
    cluster_of = {name: CLUSTERS[i % len(CLUSTERS)] for i, name in enumerate(tenant.departments)}
    seed["departments"] += [
        {"name": name, "cluster": cluster_of[name], "gpuQuota": 64} for name in tenant.departments
    ]
    seed["projects"] += [
        {"name": name, "department": department, "gpuQuota": 8}
        for name, department in tenant.projects
    ]
    with path.open("w", encoding="utf-8") as out:
        _yaml().dump(seed, out)


def documents(count: int, tenant: Tenant, *, version: int = 0) -> Iterator[dict[str, object]]:
    """`count` template documents, the types and scopes taken in turn."""
    scopes = tenant.scopes()
    for index in range(count):
        kind = TYPES[index % len(TYPES)]
        yield {
            "kind": kind,
            "metadata": {
                "name": f"{kind.removesuffix('Template').lower()}-{index:05d}",
                "scope": scopes[index % len(scopes)],
                "description": f"Template {index} for the team",
            },
            "spec": _spec(kind, index, version),
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

    `changed_every` (say 100) edits one environment variable of every that-many-th document,
    from the `changed_from`-th on.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    for old in config_dir.glob("templates-*.yaml"):  # a smaller count leaves none behind
        old.unlink()
    (config_dir / "runai-reconcile.yaml").write_text(
        f"server: embedded\nstate: {state}\nparallelism: 16\n", encoding="utf-8"
    )
    docs = list(documents(count, tenant))
    if changed_every:
        for index in range(changed_from, count, changed_every):
            docs[index]["spec"]["environmentVariables"] = _variables(index, 1)  # type: ignore[index]
    for start in range(0, count, per_file):
        with (config_dir / f"templates-{start // per_file:03d}.yaml").open("w") as out:
            _yaml().dump_all(docs[start : start + per_file], out)


def _yaml() -> YAML:
    """Block style, as people write configs (libyaml reads flow style with `:` slowly)."""
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    return writer
