"""Benchmark the emulator: create 10,000 workload templates through the API, list them back.

Starts `runai-reconcile emulator serve` as a separate process on a free loopback port over a
temporary SQLite db, creates the templates from a few client threads, lists them with
limit=500 (asserting at most 20 list requests, read from the request log), then lists again
with 50 ms injected latency, sequentially and with concurrent pages. Prints the figures;
records nothing by itself.

    .venv/bin/python bench/bench_emulator.py [--count 10000] [--threads 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret"
TEMPLATES = "/api/v1/workload-templates"


def start_server(db: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "reconcile", "emulator", "serve", "--port", "0"]
    command += ["--db", str(db), "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    banner = process.stdout.readline()
    return process, banner.rsplit(" ", 1)[-1].strip()


def token(url: str) -> dict[str, str]:
    body = {"grantType": "client_credentials", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    answer = requests.post(f"{url}/api/v1/token", json=body, timeout=30).json()
    return {"Authorization": f"Bearer {answer['accessToken']}"}


def create_all(url: str, headers: dict[str, str], count: int, threads: int) -> float:
    kinds = ("workspaces", "trainings", "distributed", "inferences")
    session = requests.Session()

    def one(i: int) -> None:
        body = {
            "meta": {"name": f"bench-{i:05d}", "scopeType": "project", "scopeId": "42"},
            "spec": {"image": "python:3.11", "compute": {"gpuDevicesRequest": 1}},
        }
        response = session.post(f"{url}{TEMPLATES}/{kinds[i % 4]}", json=body, headers=headers)
        assert response.status_code == 202, response.text

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def list_all(url: str, headers: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, list requests made, templates seen) for a full limit=500 walk."""
    requests.delete(f"{url}/_emulator/requests", timeout=30).raise_for_status()
    started, offset, seen = time.perf_counter(), 0, 0
    while True:
        params: dict[str, Any] = {"limit": 500, "offset": offset}
        body = requests.get(f"{url}{TEMPLATES}", params=params, headers=headers, timeout=60).json()
        seen += len(body["entries"])
        if "nextOffset" not in body["pagination"]:
            break
        offset = body["pagination"]["nextOffset"]
    elapsed = time.perf_counter() - started
    log = requests.get(f"{url}/_emulator/requests", timeout=30).json()
    return elapsed, log["counters"].get(f"GET {TEMPLATES}", 0), seen


def list_parallel(url: str, headers: dict[str, str], threads: int) -> tuple[float, int]:
    """(seconds, templates seen) when the pages are fetched concurrently after a count."""
    started = time.perf_counter()
    total = requests.get(f"{url}{TEMPLATES}/count", headers=headers, timeout=60).json()["count"]

    def fetch(offset: int) -> int:
        params = {"limit": 500, "offset": offset}
        response = requests.get(f"{url}{TEMPLATES}", params=params, headers=headers, timeout=60)
        return len(response.json()["entries"])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        seen = sum(pool.map(fetch, range(0, total, 500)))
    return time.perf_counter() - started, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp) / "bench.sqlite3")
        try:
            headers = token(url)
            created = create_all(url, headers, options.count, options.threads)
            listed, calls, seen = list_all(url, headers)
            assert seen == options.count, seen
            assert calls <= 20, f"{calls} list requests"
            requests.put(f"{url}/_emulator/faults", json={"latency_ms": 50}, timeout=30)
            slow, slow_calls, _ = list_all(url, headers)
            fast, fast_seen = list_parallel(url, headers, options.threads)
            assert fast_seen == options.count, fast_seen
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"created {options.count} templates with {options.threads} threads: {created:.2f} s "
        f"({options.count / created:.0f}/s, {created / options.count * 1000:.2f} ms each)"
    )
    print(f"listed {seen} templates, limit=500: {calls} requests, {listed:.3f} s")
    print(f"listed again at 50 ms latency: {slow_calls} requests, {slow:.3f} s")
    print(f"at 50 ms latency, count + {options.threads} concurrent pages: {fast:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
