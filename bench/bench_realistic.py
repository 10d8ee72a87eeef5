"""Validate, plan and apply a realistic tenant (bench/realistic.py) at 50 ms API latency.

For each count (`--counts 1000,10000,50000`) it sets up an emulator db seeded with the
tenant and holding that many templates of all four types (3-10 environment variables each,
some from `${VAR}`; labels, compute, node pools), in the state as an `apply` leaves them: a
sample (every document but the workload templates, and one of each template shape and
scope) through a real `apply`, the other templates cloned (bench/clone.py, proven equal to a
whole apply by tests/bench/test_clone.py), and a no-change plan to check the result before
anything is timed. Then times, each as its own process and `--runs` times, the `--measures`
chosen: `validate`; `plan`, a no-change `plan --detailed-exitcode` (must exit 0);
`plan-changed`, a plan with 1 % of the templates changed (must exit 2); `apply`, an `apply`
of 1,000 more templates, then of a change to each of them, then of their deletion
(parallelism 16 each). Each row is printed as soon as it is measured: medians of wall and
CPU time (the process and its workers: what a loaded machine does not inflate), the API
requests of one run, the peak RSS of the CLI process, and the load average; at the end the
growth table, one line per count.

`--preset platform` is a platform team's tenant instead: 50 departments and 1,000 projects
managed as documents, 2,000 environments, computes and data sources, 10,000 templates of
which one in 20 is an asset template naming its department's assets.
`--keep DIR` sets the tenant up in DIR and keeps it; `--reuse DIR` measures it again.

    .venv/bin/python bench/bench_realistic.py --counts 1000,10000,50000 --runs 5
    .venv/bin/python bench/bench_realistic.py --preset platform --measures plan --runs 5
    .venv/bin/python bench/bench_realistic.py --counts 50000 --keep /tmp/t50k --measures plan
    .venv/bin/python bench/bench_realistic.py --reuse /tmp/t50k --measures validate,plan-changed
"""

from __future__ import annotations

import argparse
import json
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

from bench.child_usage import run_measured
from bench.clone import clone_rest, sample
from bench.realistic import (
    SECRET_VARIABLES,
    Tenant,
    asset_documents,
    documents,
    org_documents,
    write_config,
    write_documents,
    write_seed,
)
from reconcile.emulator.server import EmbeddedEmulator
from reconcile.state import StateStore

EXE = Path(sys.executable).parent / "runai-reconcile"
CLIENT = {"RUNAI_CLIENT_ID": "bench", "RUNAI_CLIENT_SECRET": "bench-secret"}
MEASURES = ("validate", "plan", "plan-changed", "apply")
STATE = "state/realistic.json"  # under the tenant's directory, as write_config's settings say
PRESETS = {
    "platform": {
        "counts": "10000",
        "departments": 50,
        "projects": 1000,
        "assets": 2000,
        "org_as_code": True,
    },
}


def serve(db: Path, seed: Path) -> tuple[subprocess.Popen[str], str]:
    command = [str(EXE), "emulator", "serve", "--port", "0", "--db", str(db), "--seed", str(seed)]
    command += ["--quiet"]  # no access-log line per request: that CPU is not the tool's
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
    stdout, stderr; measured by bench/child_usage.py (this process's own memory kept out)."""
    env = {**os.environ, **CLIENT, **SECRET_VARIABLES, "RUNAI_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        usage = run_measured([str(EXE), *args], env=env, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        return usage.wall, usage.cpu, usage.peak_kib, usage.code, out.read(), err.read()


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


def set_up(root: Path, count: int, tenant: Tenant) -> None:
    """`root` holding the tenant with `count` templates, as an apply of them leaves it (see
    the module): seed.yaml, emulator.sqlite3, config/, state/ and tenant.json."""
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_seed(root / "seed.yaml", tenant)
    config_dir = root / "config"
    templates = list(documents(count, tenant))
    chosen = sample(templates)
    groups = {"org": list(org_documents(tenant)), "assets": list(asset_documents(tenant))}
    write_documents(config_dir, groups, [templates[i] for i in chosen])
    with EmbeddedEmulator(
        db=root / "emulator.sqlite3", seed=root / "seed.yaml", **_client()
    ) as emu:
        assert emu.app is not None
        *_, code, _, err = run(
            ["apply", "--auto-approve", "--parallelism", "16", str(config_dir)], emu.url
        )
        assert code == 0, err[-3000:]
        applied = time.perf_counter() - started
        states = StateStore(root / STATE)
        states.write(clone_rest(templates, chosen, emu.app.ctx.store, states.read()))
    write_config(config_dir, count, tenant)
    (root / "tenant.json").write_text(json.dumps({"count": count, **tenant.parameters()}) + "\n")
    print(
        f"setup: {sum(map(len, groups.values())) + len(chosen):,} documents applied "
        f"({applied:.1f} s), {count - len(chosen):,} templates cloned; "
        f"{time.perf_counter() - started:.1f} s in all",
        flush=True,
    )


def _client() -> dict[str, str]:
    return {"client_id": CLIENT["RUNAI_CLIENT_ID"], "client_secret": CLIENT["RUNAI_CLIENT_SECRET"]}


def reused(root: Path) -> tuple[int, Tenant]:
    """The count and tenant `set_up` left in `root`; its config written afresh (a run cut
    short may have left it changed)."""
    recorded = json.loads((root / "tenant.json").read_text())
    count = recorded.pop("count")
    tenant = Tenant.of(**recorded)
    write_config(root / "config", count, tenant)
    return count, tenant


def sweep_one(count: int, tenant: Tenant, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """The chosen measures at one count over the tenant in `root`, each row printed when
    measured: rows of wall/CPU/RSS, requests, the highest load seen."""
    config_dir = root / "config"
    process, url = serve(root / "emulator.sqlite3", root / "seed.yaml")
    loads = [os.getloadavg()[0]]
    rows: dict[str, dict[str, float]] = {}
    asked: dict[str, int] = {}

    def record(label: str, row: dict[str, float], total: int | None) -> None:
        rows[label] = row
        if total is not None:
            asked[label] = total
        loads.append(os.getloadavg()[0])
        print_row(count, label, row, asked.get(label, ""), loads[-1])

    try:
        # The db's server listens on a new port: the state says it belongs to it now.
        *_, code, _, err = run(["state", "rebind", "-C", str(config_dir)], url)
        assert code == 0, err[-3000:]
        plan = ["plan", "--detailed-exitcode", str(config_dir)]
        *_, code, out, err = run(plan, url)
        assert code == 0, (
            "the tenant set up is not what its config says",
            out[-3000:],
            err[-3000:],
        )
        admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
        if "validate" in args.measures:
            record("validate", measured(["validate", str(config_dir)], url, args.runs, 0), None)
        if "plan" in args.measures:
            found, total = requests_of(url, lambda: measured(plan, url, args.runs, 0))
            record("plan, no change", found, total // args.runs)
        if "plan-changed" in args.measures:
            write_config(config_dir, count, tenant, changed_every=100)
            try:
                found, total = requests_of(url, lambda: measured(plan, url, args.runs, 2))
            finally:
                write_config(config_dir, count, tenant)
            record("plan, 1 % changed", found, total // args.runs)
        if "apply" in args.measures:
            for label, (found, total) in applies(count, tenant, args, config_dir, url).items():
                record(label, found, total)
    finally:
        process.terminate()
        process.wait()
    return {"rows": rows, "requests": asked, "load": max(loads)}


def applies(
    count: int, tenant: Tenant, args: argparse.Namespace, config_dir: Path, url: str
) -> dict[str, tuple[dict[str, float], int]]:
    """Each run: create `--apply-count` more templates, change each of them, delete them
    (`--force`: changing or deleting 1,000 of a small tenant is over the safety budget)."""
    apply = ["apply", "--auto-approve", "--parallelism", "16", str(config_dir)]
    extra = count + args.apply_count
    steps = {
        f"apply, {args.apply_count} creates": (extra, 0, False),
        f"apply, {args.apply_count} updates": (extra, 1, True),
        f"apply, {args.apply_count} deletes": (count, 0, True),
    }
    samples: dict[str, list[tuple[float, float, int, int]]] = {label: [] for label in steps}
    try:
        for _ in range(args.runs):
            for label, (documents_, every, force) in steps.items():
                write_config(
                    config_dir, documents_, tenant, changed_every=every, changed_from=count
                )
                command = [*apply, "--force"] if force else apply
                (elapsed, cpu, peak, code, _, err), made = requests_of(
                    url, lambda command=command: run(command, url)
                )
                assert code == 0, err[-3000:]
                samples[label].append((elapsed, cpu, peak, made))
    finally:
        write_config(config_dir, count, tenant)
    return {
        label: (
            {
                "median": statistics.median(t[0] for t in taken),
                "min": min(t[0] for t in taken),
                "cpu": statistics.median(t[1] for t in taken),
                "rss_mib": max(t[2] for t in taken) / 1024,
            },
            sum(t[3] for t in taken) // args.runs,
        )
        for label, taken in samples.items()
    }


def print_row(
    count: int, label: str, row: dict[str, float], requests_: object, load: float
) -> None:
    print(
        f"| {count:,} | {label} | {row['median']:.2f} s | {row['min']:.2f} s "
        f"| {row['cpu']:.2f} s | {row['rss_mib']:.0f} MiB | {requests_} | {load:.1f} |",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a tenant's shape (see above)")
    parser.add_argument("--counts", default="10000", help="comma-separated template counts")
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument(
        "--assets", type=int, default=0, help="environments, computes, data sources"
    )
    parser.add_argument(
        "--org-as-code", action="store_true", help="departments and projects as documents"
    )
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apply-count", type=int, default=1000)
    parser.add_argument(
        "--measures",
        default=",".join(MEASURES),
        help=f"comma-separated, of: {', '.join(MEASURES)}",
    )
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, metavar="DIR", help="set the tenant up in DIR, keep it")
    kept.add_argument("--reuse", type=Path, metavar="DIR", help="measure the tenant kept in DIR")
    if "--preset" in sys.argv:
        preset = sys.argv[sys.argv.index("--preset") + 1]
        parser.set_defaults(**PRESETS.get(preset, {}))
    args = parser.parse_args()
    args.measures = args.measures.split(",")
    unknown = set(args.measures) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures: {', '.join(sorted(unknown))}")
    counts = [int(c) for c in args.counts.split(",")]
    if args.keep and len(counts) > 1:
        parser.error("--keep takes one count")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: not empty (measure a kept tenant with --reuse)")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    tenant = Tenant.of(
        args.departments, args.projects, assets=args.assets, org_as_code=args.org_as_code
    )
    if args.reuse:  # the count and tenant it was set up with
        count, tenant = reused(args.reuse)
        counts = [count]
    print(
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, commit {commit}, {os.cpu_count()} cores; "
        f"{args.latency_ms} ms latency, {args.runs} runs each, medians; {tenant.describe()}",
        flush=True,
    )
    print("| templates | run | wall median | wall min | CPU median | peak RSS | requests | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    growth: dict[int, dict[str, Any]] = {}
    for count in counts:
        root = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="bench-realistic-"))
        try:
            if not args.reuse:
                set_up(root, count, tenant)
            growth[count] = sweep_one(count, tenant, args, root)
        finally:
            if not (args.keep or args.reuse):
                shutil.rmtree(root, ignore_errors=True)
    print_growth(growth, args.apply_count)
    return 0


def print_growth(growth: dict[int, dict[str, Any]], apply_count: int) -> None:
    """How cost grows: one line per count, wall median (CPU median) of each measure taken, and
    the peak RSS of every run at that count."""
    labels = ["plan, no change", "plan, 1 % changed", f"apply, {apply_count} creates", "validate"]
    labels = [k for k in labels if any(k in found["rows"] for found in growth.values())]
    print()
    print("| templates | " + " | ".join(labels) + " | peak RSS | load |")
    print("| --- " * (len(labels) + 3) + "|")
    for count, found in growth.items():
        rows = found["rows"]
        cells = [
            f"{rows[k]['median']:.2f} s ({rows[k]['cpu']:.2f} s CPU)" if k in rows else ""
            for k in labels
        ]
        peak = max((row["rss_mib"] for row in rows.values()), default=0.0)
        print(f"| {count:,} | " + " | ".join(cells) + f" | {peak:.0f} MiB | {found['load']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
