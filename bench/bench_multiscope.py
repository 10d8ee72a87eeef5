"""One document for many scopes against the same objects written one by one: validate and a
no-change plan of 10,000 templates, as 500 documents of 20 scopes each and as 10,000
documents (the goal: the folded form no slower).

Both config directories describe the same objects of a realistic tenant (bench/realistic.py:
all four template types, environment variables, labels) and share one state, so an `apply`
of one sets up both. Each command runs as its own process `--runs` times; the medians of wall
and CPU time (the process and its workers: what a loaded machine does not inflate) are
printed with the load average. Figures go to BENCHMARKS.md, "One document for many scopes".

    .venv/bin/python bench/bench_multiscope.py [--documents 500] [--scopes 20] [--runs 5]
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
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_realistic import admin, run, serve
from bench.realistic import Tenant, documents, write_documents, write_seed
from reconcile.expand import expand

STATE = "../state/multiscope.json"


def folded_documents(count: int, scopes: int, tenant: Tenant) -> list[dict[str, Any]]:
    """`count` realistic documents, each listing `scopes` distinct scopes of the tenant."""
    every = tenant.scopes()
    step = max(1, len(every) // scopes)
    assert step * scopes <= len(every), "the tenant needs more scopes"
    folded = []
    for index, document in enumerate(documents(count, tenant)):
        metadata = cast(dict[str, Any], document["metadata"])
        listed = [every[(index + j * step) % len(every)] for j in range(scopes)]
        folded.append({**document, "metadata": {**metadata, "scope": listed}})
    return folded


def write(config_dir: Path, docs: list[dict[str, Any]], per_file: int) -> None:
    write_documents(config_dir, {}, docs, per_file=per_file, state=STATE)


def interleaved(
    command: list[str], forms: dict[str, Path], url: str, runs: int
) -> dict[str, dict[str, float]]:
    """Medians per form, the forms' runs taken in turn (so a change of load hits both)."""
    walls: dict[str, list[float]] = {form: [] for form in forms}
    cpus: dict[str, list[float]] = {form: [] for form in forms}
    rss = dict.fromkeys(forms, 0)
    for _ in range(runs):
        for form, directory in forms.items():
            elapsed, cpu, peak, code, out, err = run([*command, str(directory)], url)
            assert code == 0, (command, form, code, out[-2000:], err[-2000:])
            walls[form].append(elapsed)
            cpus[form].append(cpu)
            rss[form] = max(rss[form], peak)
    return {
        form: {
            "wall": statistics.median(walls[form]),
            "cpu": statistics.median(cpus[form]),
            "rss_mib": rss[form] / 1024,
        }
        for form in forms
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--scopes", type=int, default=20)
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tenant = Tenant.of(args.departments, args.projects)
    folded = folded_documents(args.documents, args.scopes, tenant)
    flat = [one for document in folded for one in expand(document)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-multiscope-"))
    forms = {"folded": tmp / "folded", "one by one": tmp / "flat"}
    # The same number of files in both forms: only the documents' shape differs.
    files = max(1, args.documents // 25)
    write(forms["folded"], folded, max(1, len(folded) // files))
    write(forms["one by one"], flat, max(1, len(flat) // files))
    write_seed(tmp / "seed.yaml", tenant)
    process, url = serve(tmp / "emulator.sqlite3", tmp / "seed.yaml")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        started = time.perf_counter()
        *_, code, _, err = run(["apply", "--auto-approve", str(forms["folded"])], url)
        assert code == 0, err[-3000:]
        print(f"setup: apply of {len(flat)} templates in {time.perf_counter() - started:.1f} s")
        admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
        print(
            f"{time.strftime('%Y-%m-%d', time.gmtime())}, commit {commit}, {os.cpu_count()} "
            f"cores; {len(flat):,} objects as {len(folded)} documents x {args.scopes} scopes "
            f"or one by one; {args.runs} runs each, medians"
        )
        print("| run | form | wall median | CPU median | peak RSS | load before | load after |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        commands = {"validate": ["validate"], "plan, no change": ["plan", "--detailed-exitcode"]}
        for label, command in commands.items():
            before = os.getloadavg()[0]
            rows = interleaved(command, forms, url, args.runs)
            after = os.getloadavg()[0]
            for form, row in rows.items():
                print(
                    f"| {label} | {form} | {row['wall']:.2f} s | {row['cpu']:.2f} s "
                    f"| {row['rss_mib']:.0f} MiB | {before:.1f} | {after:.1f} |",
                    flush=True,
                )
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
