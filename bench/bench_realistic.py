"""Validate, plan and apply a realistic tenant (bench/realistic.py) at 50 ms API latency.

For each count (`--counts 1000,10000,50000`) it sets up, through the tool itself, an emulator
process seeded with the tenant's departments and projects and an `apply` of that many
templates of all four types (3-10 environment variables each, some from `${VAR}`; labels,
compute, node pools). Then times, each as its own process and `--runs` times: `validate`, a
no-change `plan --detailed-exitcode` (must print "No changes." and exit 0), a plan with 1 %
of the documents changed (must exit 2), and an `apply` of 1,000 more templates, then of a
change to each of them, then of their deletion (parallelism 16 each). Reports medians of wall
and CPU time (the process and its workers: what a loaded machine does not inflate), the API
requests of one run, the peak RSS of the CLI process, and the load average beside them; then
the growth table, one line per count.

    .venv/bin/python bench/bench_realistic.py --counts 1000,10000,50000 --runs 5
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


def requests_of(url: str, action: Any) -> tuple[Any, int]:
    """`action()` and the API requests the emulator saw during it."""
    admin(url, "DELETE", "requests")
    result = action()
    return result, int(admin(url, "GET", "requests")["total"])


def sweep_one(count: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every measure at one count: rows of wall/CPU/RSS, requests, the highest load seen."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-realistic-"))
    tenant = Tenant.of(args.departments, args.projects)
    config_dir = tmp / "config"
    write_seed(tmp / "seed.yaml", tenant)
    write_config(config_dir, count, tenant)
    process, url = serve(tmp / "emulator.sqlite3", tmp / "seed.yaml")
    loads = [os.getloadavg()[0]]
    rows: dict[str, dict[str, float]] = {}
    asked: dict[str, int] = {}
    try:
        started = time.perf_counter()
        *_, code, _, err = run(["apply", "--auto-approve", str(config_dir)], url)
        assert code == 0, err[-3000:]
        print(f"setup: apply of {count} templates in {time.perf_counter() - started:.1f} s")
        admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
        rows["validate"] = measured(["validate", str(config_dir)], url, args.runs, 0)
        plan = ["plan", "--detailed-exitcode", str(config_dir)]
        rows["plan, no change"], total = requests_of(url, lambda: measured(plan, url, args.runs, 0))
        asked["plan, no change"] = total // args.runs
        loads.append(os.getloadavg()[0])
        write_config(config_dir, count, tenant, changed_every=100)
        rows["plan, 1 % changed"], total = requests_of(
            url, lambda: measured(plan, url, args.runs, 2)
        )
        asked["plan, 1 % changed"] = total // args.runs
        write_config(config_dir, count, tenant)
        apply = ["apply", "--auto-approve", "--parallelism", "16", str(config_dir)]
        extra = count + args.apply_count
        # Each run: create the extra templates, change each of them, delete them (`--force`:
        # changing or deleting 1,000 of a small tenant is over the safety budget).
        steps = {
            f"apply, {args.apply_count} creates": (extra, 0, False),
            f"apply, {args.apply_count} updates": (extra, 1, True),
            f"apply, {args.apply_count} deletes": (count, 0, True),
        }
        samples: dict[str, list[tuple[float, float, int, int]]] = {label: [] for label in steps}
        for _ in range(args.runs):
            for label, (documents, every, force) in steps.items():
                write_config(config_dir, documents, tenant, changed_every=every, changed_from=count)
                command = [*apply, "--force"] if force else apply
                (elapsed, cpu, peak, code, _, err), made = requests_of(
                    url, lambda command=command: run(command, url)
                )
                assert code == 0, err[-3000:]
                samples[label].append((elapsed, cpu, peak, made))
        loads.append(os.getloadavg()[0])
        for label, taken in samples.items():
            rows[label] = {
                "median": statistics.median(t[0] for t in taken),
                "min": min(t[0] for t in taken),
                "cpu": statistics.median(t[1] for t in taken),
                "rss_mib": max(t[2] for t in taken) / 1024,
            }
            asked[label] = sum(t[3] for t in taken) // args.runs
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": rows, "requests": asked, "load": max(loads)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000", help="comma-separated template counts")
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apply-count", type=int, default=1000)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, commit {commit}, {os.cpu_count()} cores; "
        f"{args.latency_ms} ms latency, {args.runs} runs each, medians"
    )
    print("| objects | run | wall median | wall min | CPU median | peak RSS | requests | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    growth: dict[int, dict[str, Any]] = {}
    for count in counts:
        found = growth[count] = sweep_one(count, args)
        for label, row in found["rows"].items():
            print(
                f"| {count:,} | {label} | {row['median']:.2f} s | {row['min']:.2f} s "
                f"| {row['cpu']:.2f} s | {row['rss_mib']:.0f} MiB "
                f"| {found['requests'].get(label, '')} | {found['load']:.1f} |",
                flush=True,
            )
    print_growth(growth, args.apply_count)
    return 0


def print_growth(growth: dict[int, dict[str, Any]], apply_count: int) -> None:
    """How cost grows: one line per count, wall median (CPU median) of each measure, and the
    peak RSS of every run at that count."""
    labels = ["plan, no change", "plan, 1 % changed", f"apply, {apply_count} creates", "validate"]
    print()
    print("| objects | " + " | ".join(labels) + " | peak RSS | load |")
    print("| --- " * (len(labels) + 3) + "|")
    for count, found in growth.items():
        rows = found["rows"]
        cells = [f"{rows[k]['median']:.2f} s ({rows[k]['cpu']:.2f} s CPU)" for k in labels]
        peak = max(row["rss_mib"] for row in rows.values())
        print(f"| {count:,} | " + " | ".join(cells) + f" | {peak:.0f} MiB | {found['load']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
