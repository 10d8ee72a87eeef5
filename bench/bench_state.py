"""Benchmark the state backends: a 1,000-create apply with file state and with PostgreSQL
state, and reading a 10,000-entry state from each.

- Apply: `runai-reconcile apply --auto-approve --parallelism 16 DIR` end to end as its own
  process against an emulator process with 50 ms latency (bench_apply.py's setup), once
  with the file state and once with `RUNAI_RECONCILE_STATE` naming PostgreSQL; each run
  starts from an empty server and an empty state, and is checked afterwards.
- Read: a 10,000-entry state (workspace-template entries as apply writes them, or the state
  file `--read-file` names, e.g. a realistic tenant's) read by `StateStore.read` and by
  `PostgresStore.read`, as a no-change plan reads it (collector paused, as in the CLI).

PostgreSQL: `--state postgresql://USER@HOST:PORT/DBNAME` (password from PGPASSWORD), or by
default a throwaway cluster started the way the tests start one (tests/postgres.py). Prints
medians and the load average; BENCHMARKS.md records the figures under "## State".

    .venv/bin/python bench/bench_state.py [--count 1000] [--read-count 10000] [--runs 3]
        [--latency-ms 50] [--parallelism 16] [--state postgresql://...] [--skip-apply]
        [--read-file STATE.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_apply import admin, emulator, timed_cli  # noqa: E402

from reconcile.gcpause import gc_paused  # noqa: E402
from reconcile.model import Address, State, StateEntry  # noqa: E402
from reconcile.state import StateStore  # noqa: E402
from reconcile.state.postgres import PostgresStore  # noqa: E402
from tests.cli.bulk import PROJECT, name_of, write_bulk_config  # noqa: E402
from tests.postgres import remove_cluster, start_cluster  # noqa: E402


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The database URL to use: the one given, or a throwaway cluster's."""
    if url:
        yield url
        return
    cluster = start_cluster()
    try:
        yield cluster.url(schema="bench")
    finally:
        remove_cluster(cluster)


def fresh_schema(url: str) -> str:
    """`url` with a schema of its own: every run starts from empty tables."""
    base = url.split("?", 1)[0]
    return f"{base}?schema=bench_{uuid.uuid4().hex[:10]}"


def timed_apply(config_dir: Path, url: str, parallelism: int, state: str | None) -> float:
    """bench_apply's CLI run, with the state where `state` says (None: the file)."""
    os.environ.pop("RUNAI_RECONCILE_STATE", None)
    if state:
        os.environ["RUNAI_RECONCILE_STATE"] = state
    try:
        return timed_cli(config_dir, url, parallelism)
    finally:
        os.environ.pop("RUNAI_RECONCILE_STATE", None)


def apply_runs(args: argparse.Namespace, db_url: str, work: Path) -> dict[str, list[float]]:
    config_dir = work / "bulk"
    write_bulk_config(config_dir, args.count)
    times: dict[str, list[float]] = {"file": [], "postgresql": []}
    with emulator(embedded=False, db=work / "emu.sqlite3", latency_ms=args.latency_ms) as (
        url,
        _,
    ):
        for _ in range(args.runs):
            for backend in times:  # alternate, so load changes hit both alike
                admin(url, "POST", "reset")
                admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
                for leftover in (work / "state").glob("*"):
                    leftover.unlink()
                state = fresh_schema(db_url) if backend == "postgresql" else None
                times[backend].append(timed_apply(config_dir, url, args.parallelism, state))
    return times


def big_state(count: int) -> State:
    entries = {}
    for index in range(count):
        address = Address("workspace-template", f"project={PROJECT}", name_of(index))
        spec = {
            "metadata": {"description": "bulk template", "name": name_of(index)},
            "spec": {"compute": {"cpuCoreRequest": 0.5, "gpuDevicesRequest": 1}, "image": "x"},
        }
        entries[address] = StateEntry(address, str(uuid.uuid4()), spec)
    return State(lineage=str(uuid.uuid4()), entries=entries)


def read_runs(args: argparse.Namespace, db_url: str, work: Path) -> dict[str, list[float]]:
    """Wall and CPU seconds of each read (keys `file`, `file cpu`, ...): on a shared machine
    the CPU time says what the read costs, the wall time what a run waited.

    Each read runs with the cyclic collector paused, as every CLI command that reads the state
    runs (reconcile/gcpause.py): with it on, whether a full collection fell inside the read
    made runs vary twofold."""
    state = StateStore(args.read_file).read() if args.read_file else big_state(args.read_count)
    StateStore(work / "big.json").write(state)
    pg_url = fresh_schema(db_url)
    writer = PostgresStore(pg_url, "default")
    writer.replace_state(state, force=True)
    writer.close()
    times: dict[str, list[float]] = {}
    for _ in range(args.runs * 3):
        store = PostgresStore(pg_url, "default")
        # Connect and prepare the tables first, as a run does before planning; not by a
        # read, whose state the timed read would free (a run reads once before it plans).
        store.read_holder()
        for name, backend in (("file", StateStore(work / "big.json")), ("postgresql", store)):
            with gc_paused():
                wall, cpu = time.perf_counter(), time.process_time()
                read = backend.read()
                times.setdefault(name, []).append(time.perf_counter() - wall)
                times.setdefault(f"{name} cpu", []).append(time.process_time() - cpu)
            assert len(read.entries) == len(state.entries)
            del read
        store.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--read-count", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--state", help="postgresql://USER@HOST:PORT/DBNAME (default: a temp one)")
    parser.add_argument(
        "--read-file", help="time reading this state file's entries (not --read-count generated)"
    )
    parser.add_argument("--skip-apply", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp, database(args.state) as db_url:
        work = Path(tmp)
        reads = read_runs(args, db_url, work)
        what = args.read_file or f"{args.read_count:,}-entry"
        for backend, samples in reads.items():
            print(
                f"read {what} state, {backend}: median "
                f"{statistics.median(samples):.3f} s (min {min(samples):.3f} s)"
            )
        if not args.skip_apply:
            applies = apply_runs(args, db_url, work)
            medians = {b: statistics.median(t) for b, t in applies.items()}
            for backend, samples in applies.items():
                print(
                    f"apply {args.count:,} creates at {args.latency_ms} ms, parallelism "
                    f"{args.parallelism}, {backend} state: median {medians[backend]:.2f} s "
                    f"(runs {', '.join(f'{t:.2f}' for t in samples)})"
                )
            print(f"ratio postgresql / file: {medians['postgresql'] / medians['file']:.3f}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
