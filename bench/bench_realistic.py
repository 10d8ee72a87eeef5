"""Plan and validate a realistic tenant (bench/realistic.py) at 50 ms API latency.

Sets up, through the tool itself: an emulator process seeded with the tenant's departments and
projects, and `apply` of N templates of all four types (3-10 environment variables each, some
from `${VAR}`; labels, compute, node pools). Then times, each as its own process: `validate`,
a no-change `plan --detailed-exitcode` (must print "No changes." and exit 0), and a plan with
1 % of the documents changed (must exit 2). Reports medians, the API requests of one plan, the
peak RSS of the CLI process, and the load average beside them.

    .venv/bin/python bench/bench_realistic.py      # --count 10000 --latency-ms 50 --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realistic import SECRET_VARIABLES, Tenant, write_config, write_seed

EXE = Path(sys.executable).parent / "runai-reconcile"
CLIENT = {"RUNAI_CLIENT_ID": "bench", "RUNAI_CLIENT_SECRET": "bench-secret"}


def serve(db: Path, seed: Path) -> tuple[subprocess.Popen[str], str]:
    command = [str(EXE), "emulator", "serve", "--port", "0", "--db", str(db), "--seed", str(seed)]
    command += ["--client-id", CLIENT["RUNAI_CLIENT_ID"]]
    command += ["--client-secret", CLIENT["RUNAI_CLIENT_SECRET"]]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    banner = process.stdout.readline()  # "... listening on http://127.0.0.1:PORT"
    return process, banner.rsplit(" ", 1)[-1].strip()


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{url}/_emulator/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def run(args: list[str], url: str) -> tuple[float, float, int, int, str, str]:
    """One command as its own process: wall s, CPU s (it and its workers), peak RSS KiB, exit code,
    stdout, stderr. wait4 on its pid gives its own usage (and its reaped workers')."""
    env = {**os.environ, **CLIENT, **SECRET_VARIABLES, "RUNAI_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([str(EXE), *args], env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return elapsed, cpu, usage.ru_maxrss, process.returncode, out.read(), err.read()


def measured(args: list[str], url: str, runs: int, expect: int) -> dict[str, float]:
    walls, cpus, rss = [], [], 0
    for _ in range(runs):
        elapsed, cpu, peak, code, out, err = run(args, url)
        assert code == expect, (args, code, out[-2000:], err[-2000:])
        walls.append(elapsed)
        cpus.append(cpu)
        rss = max(rss, peak)
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "cpu": statistics.median(cpus),
        "rss_mib": rss / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-realistic-"))
    tenant = Tenant.of(args.departments, args.projects)
    config_dir = tmp / "config"
    write_seed(tmp / "seed.yaml", tenant)
    write_config(config_dir, args.count, tenant)
    process, url = serve(tmp / "emulator.sqlite3", tmp / "seed.yaml")
    try:
        started = time.perf_counter()
        *_, code, _, err = run(["apply", "--auto-approve", str(config_dir)], url)
        assert code == 0, err[-3000:]
        print(f"setup: apply of {args.count} templates in {time.perf_counter() - started:.1f} s")
        admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
        load = os.getloadavg()[0]
        rows = {"validate": measured(["validate", str(config_dir)], url, args.runs, 0)}
        admin(url, "DELETE", "requests")
        rows["plan, no change"] = measured(
            ["plan", "--detailed-exitcode", str(config_dir)], url, args.runs, 0
        )
        requests_per_plan = int(admin(url, "GET", "requests")["total"]) // args.runs
        write_config(config_dir, args.count, tenant, changed_every=100)
        rows["plan, 1 % changed"] = measured(
            ["plan", "--detailed-exitcode", str(config_dir)], url, args.runs, 2
        )
        load = max(load, os.getloadavg()[0])
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"{args.count} templates, {len(tenant.scopes())} scopes, {args.latency_ms} ms latency, "
        f"{args.runs} runs, load average up to {load:.1f}; "
        f"no-change plan: {requests_per_plan} requests"
    )
    print("| run | wall median | wall min | CPU median | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    for label, row in rows.items():
        print(
            f"| {label} | {row['median']:.2f} s | {row['min']:.2f} s | {row['cpu']:.2f} s "
            f"| {row['rss_mib']:.0f} MiB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
