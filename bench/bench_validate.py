"""Benchmark `runai-reconcile validate` on 10,000 generated documents (target: under 3 s).

Writes a config directory of every document kind (100 files of 100 documents, by default)
to a temporary directory, then times the real CLI end to end (interpreter start included)
and the loader in-process, serial and with its process pool; CPU seconds (all processes)
are printed beside wall time because a shared machine makes wall time noisy. Peak memory is
the largest process's maximum resident set size. `--repeat N` runs each measurement N times
and prints medians. The last line is the CPU cost of compiling every schema's check, in a
fresh process. Figures go to BENCHMARKS.md, "## Validate".

    .venv/bin/python bench/bench_validate.py [--documents 10000] [--per-file 100] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconcile.config import YAML_BACKEND, read_config  # noqa: E402

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


def timed_cli(directory: Path) -> tuple[float, float, dict[str, object]]:
    exe = Path(sys.executable).parent / "runai-reconcile"
    started, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [str(exe), "validate", str(directory), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    report: dict[str, object] = json.loads(done.stdout)
    return elapsed, _cpu() - cpu, report


def compile_cpu() -> float:
    """CPU seconds a fresh process spends compiling every schema's check."""
    code = (
        "import time; from reconcile import schema; t = time.process_time(); "
        "schema.warm_up(); print(time.process_time() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(done.stdout)


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
            f"{size:.1f} MB; YAML parser: {YAML_BACKEND}"
        )
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores: above 1 means sharing)")
        runs = []
        for _ in range(args.repeat):
            elapsed, cpu, report = timed_cli(directory)
            assert report["valid"] is True, report["problems"]
            assert report["documents"] == args.documents
            runs.append((elapsed, cpu))
        elapsed, cpu = _median(runs)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
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
        cpu = statistics.median(compile_cpu() for _ in range(args.repeat))
        print(f"{'schema checks compiled:':<36}{cpu:5.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
