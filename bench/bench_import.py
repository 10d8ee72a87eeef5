"""Benchmark `runai-reconcile import` of 10,000 templates at 50 ms API latency.

Builds 10,000 project-scoped workspace templates in an emulator db file (the setup of
bench/bench_plan.py), serves it with `runai-reconcile emulator serve` as its own process,
injects 50 ms of latency into every API call, then times the real CLI end to end
(interpreter start included) into a new directory, several times, and counts its API
requests from the emulator's request log. BENCHMARKS.md records the figures under "## Import"
(target: at most 3 s end to end and 40 requests).

    .venv/bin/python bench/bench_import.py [--count 10000] [--latency-ms 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_plan import EXE, _child_cpu, admin, build, serve  # noqa: E402
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET  # noqa: E402


def timed_import(out: Path, url: str, count: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of one `import OUT` process, and its API requests."""
    env = {**os.environ, "RUNAI_URL": url, "RUNAI_CLIENT_ID": TEST_CLIENT_ID}
    env["RUNAI_CLIENT_SECRET"] = TEST_CLIENT_SECRET
    admin(url, "DELETE", "requests")
    cpu, started = _child_cpu(), time.perf_counter()
    done = subprocess.run(
        [str(EXE), "import", str(out)], env=env, capture_output=True, text=True, check=False
    )
    elapsed, cpu = time.perf_counter() - started, _child_cpu() - cpu
    assert done.returncode == 0, done.stderr
    # The templates, and the seed's org tree and assets beside them.
    imported = re.search(r"Imported (\d+) objects", done.stdout)
    assert imported is not None and int(imported.group(1)) >= count, done.stdout
    return elapsed, cpu, int(admin(url, "GET", "requests")["total"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "reconcile", quiet=1)  # as an installed package has it
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        _, db = build(Path(tmp), args.count)
        print(
            f"setup: {args.count} templates on the server ({time.perf_counter() - started:.1f} s)"
        )
        process, url = serve(db)
        try:
            admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
            runs, loads = [], []
            for run in range(args.runs):
                loads.append(os.getloadavg()[0])
                runs.append(timed_import(Path(tmp) / f"out-{run}", url, args.count))
            times, cpus = [r[0] for r in runs], [r[1] for r in runs]
            print(
                f"CLI `import` end to end, {args.latency_ms} ms latency, {args.runs} runs: "
                f"wall median {statistics.median(times):.2f} s (min {min(times):.2f} s); "
                f"CPU median {statistics.median(cpus):.2f} s; {runs[0][2]} API requests; "
                f"load average {min(loads):.1f}-{max(loads):.1f}"
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
