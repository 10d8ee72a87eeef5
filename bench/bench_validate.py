"""Benchmark `runai-reconcile validate` on 10,000 generated documents (target: under 3 s).

Writes a config directory of every document kind (100 files of 100 documents, by default)
to a temporary directory, then times the real CLI end to end (interpreter start included)
and the loader in-process, serial and with its process pool; CPU seconds (all processes)
are printed beside wall time because a shared machine makes wall time noisy. Peak memory is
the largest process's maximum resident set size. `--repeat N` runs each measurement N times
and prints medians. The last two lines compare reconcile.schema's generated yes/no check with
fastjsonschema's on the same compacted schemas (the CPU cost of preparing every schema, and of
checking one document, on the first pass over the documents too: reconcile.schema compiles
each part of its check when a document first needs it). Figures go to BENCHMARKS.md,
"## Validate".

    .venv/bin/python bench/bench_validate.py [--documents 10000] [--per-file 100] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.child_usage import run_measured  # noqa: E402
from reconcile import schema  # noqa: E402
from reconcile.config import PLAIN_READER, YAML_BACKEND, parse_file, read_config  # noqa: E402
from reconcile.configdir import scan  # noqa: E402

SCOPES = ("{project: team-a}", "{department: research}", "{tenant: true}", "{cluster: cluster-a}")
DOCUMENTS = (
    """kind: WorkspaceTemplate
metadata:
  name: jupyter-{i}
  scope: {scope}
  description: Jupyter workspace number {i}
spec:
  image: jupyter/scipy-notebook:{i}
  command: start-notebook.sh
  args: "--NotebookApp.base_url=/$${{RUNAI_PROJECT}} --NotebookApp.token=''"
  compute: {{gpuDevicesRequest: 1, cpuCoreRequest: 2, cpuMemoryRequest: 8G}}
  environmentVariables:
    - {{name: HOME, value: /home/jovyan}}
    - {{name: MODE, value: dev}}
  exposedUrls:
    - {{name: jupyter, container: 8888, toolType: jupyter-notebook, toolName: Jupyter}}
  storage:
    pvc:
      - {{name: home, claimName: home-pvc, existingPvc: true, path: /home/jovyan}}
""",
    """kind: TrainingTemplate
metadata: {{name: train-{i}, scope: {scope}}}
spec:
  image: nvcr.io/nvidia/pytorch:24.05-py3
  compute: {{gpuDevicesRequest: 1, cpuCoreRequest: 4, cpuMemoryRequest: 16G}}
  parallelism: 4
  completions: 32
  backoffLimit: 3
""",
    """kind: DistributedTemplate
metadata: {{name: ddp-{i}, scope: {scope}}}
spec:
  distributedFramework: PyTorch
  numWorkers: 4
  image: nvcr.io/nvidia/pytorch:24.05-py3
  compute: {{gpuDevicesRequest: 8}}
masterSpecSameAsWorker: false
master:
  spec: {{image: busybox, compute: {{cpuCoreRequest: 1}}}}
""",
    """kind: InferenceTemplate
metadata: {{name: serve-{i}, scope: {scope}}}
spec:
  image: vllm/vllm-openai:v0.5.3
  compute: {{gpuDevicesRequest: 1}}
  servingPort: {{container: 8000, protocol: http}}
  autoscaling: {{minReplicas: 1, maxReplicas: 4, metric: concurrency, metricThreshold: 8}}
""",
    """kind: AssetTemplate
metadata: {{name: legacy-{i}, scope: {scope}}}
spec:
  assets: {{environment: jupyter-lab, compute: one-gpu, datasources: [{{name: home, kind: pvc}}]}}
  specificEnv: {{args: --debug, backoffLimit: 2}}
""",
    """kind: Workload
metadata: {{name: web-{i}, scope: {{project: inference}}}}
spec:
  priority: high
  category: Deploy
  manifest:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web-{i}}}
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: web-{i}}}}}
      template:
        metadata: {{labels: {{app: web-{i}}}}}
        spec:
          containers: [{{name: web, image: "nginx:1.27"}}]
""",
)


def generate(directory: Path, documents: int, per_file: int) -> None:
    for start in range(0, documents, per_file):
        docs = [
            DOCUMENTS[i % len(DOCUMENTS)].format(i=i, scope=SCOPES[i % len(SCOPES)])
            for i in range(start, min(start + per_file, documents))
        ]
        (directory / f"docs-{start // per_file:04d}.yaml").write_text("---\n".join(docs))


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (workers too)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_cli(directory: Path) -> tuple[float, float, int, dict[str, object]]:
    """`validate --format json` as its own process: wall s, CPU s (it and its workers), peak
    RSS KiB (bench/child_usage.py: this process's own memory kept out), its report."""
    exe = Path(sys.executable).parent / "runai-reconcile"
    with tempfile.TemporaryFile("w+") as out:
        usage = run_measured([str(exe), "validate", str(directory), "--format", "json"], stdout=out)
        out.seek(0)
        report: dict[str, object] = json.loads(out.read())
    return usage.wall, usage.cpu, usage.peak_kib, report


def compare_checks(directory: Path, documents: int, repeat: int) -> None:
    """reconcile.schema's compiled check and fastjsonschema's, on the same compacted schemas."""
    import fastjsonschema  # for this comparison only: the tool does not use it

    docs = [value for found in scan(directory).files for value, _ in parse_file(found).documents]
    docs = docs[:documents]
    names = sorted({schema.schema_name(doc["kind"]) for doc in docs})
    compact = {name: schema._compact_schema(name) for name in names}  # shared by both

    def fast(name: str) -> Callable[[Any], bool]:
        check = fastjsonschema.compile(
            _consts_as_enums(compact[name]),
            use_default=False,
            use_formats=False,
            detailed_exceptions=False,  # needs `const` as `enum` (it fails to compile `const`)
        )

        def accepts(doc: Any) -> bool:
            try:
                check(doc)
            except fastjsonschema.JsonSchemaException:
                return False
            return True

        return accepts

    def ours(name: str) -> Callable[[Any], bool]:
        return schema._Generator(compact[name], name).check()

    for label, build in (("reconcile.schema", ours), ("fastjsonschema", fast)):
        compiles, firsts, checks = [], [], []
        for _ in range(repeat):
            cpu = time.process_time()
            by_name = {name: build(name) for name in names}
            compiles.append(time.process_time() - cpu)
            for passes in (firsts, checks):  # ours compiles its code during the first
                cpu = time.process_time()
                assert all(by_name[schema.schema_name(doc["kind"])](doc) for doc in docs)
                passes.append((time.process_time() - cpu) / len(docs))
        print(
            f"{'check compiled, ' + label + ':':<36}{statistics.median(compiles):5.2f} s CPU; "
            f"per document {statistics.median(checks) * 1e6:.0f} us CPU "
            f"({statistics.median(firsts) * 1e6:.0f} us on the first pass)"
        )


def _consts_as_enums(node: Any) -> Any:
    if isinstance(node, list):
        return [_consts_as_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _consts_as_enums(value) for key, value in node.items() if key != "const"}
    if "const" in node:
        out["enum"] = [node["const"]]
    return out


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        generate(directory, args.documents, args.per_file)
        size = sum(p.stat().st_size for p in directory.iterdir()) / 1e6
        print(
            f"{args.documents} documents in {args.documents // args.per_file} files, "
            f"{size:.1f} MB; YAML parser: {'yaml-rs, else ' if PLAIN_READER else ''}{YAML_BACKEND}"
        )
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores: above 1 means sharing)")
        runs, peak = [], 0.0
        for _ in range(args.repeat):
            elapsed, cpu, peak_kib, report = timed_cli(directory)
            assert report["valid"] is True, report["problems"]
            assert report["documents"] == args.documents
            runs.append((elapsed, cpu))
            peak = max(peak, peak_kib / 1024)
        elapsed, cpu = _median(runs)
        print(
            f"{'CLI end to end, pool of workers:':<36}{elapsed:5.2f} s wall, {cpu:5.2f} s CPU, "
            f"peak RSS {peak:.0f} MiB"
        )
        for workers, label in ((None, "in-process, pool of workers:"), (1, "in-process, one:")):
            runs = []
            for _ in range(args.repeat):
                started, cpu = time.perf_counter(), _cpu()
                config = read_config(directory, env={}, workers=workers)
                runs.append((time.perf_counter() - started, _cpu() - cpu))
                assert config.ok and len(config.resources) == args.documents
            took, cpu = _median(runs)
            print(f"{label:<36}{took:5.2f} s wall, {cpu:5.2f} s CPU")
        compare_checks(directory, 2_000, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
