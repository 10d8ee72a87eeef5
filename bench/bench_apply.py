"""Benchmark applying 1,000 workspace-template creates at 50 ms API latency, parallelism 16.

Writes a config directory of N block-style workspace templates (tests/cli/bulk.py), serves an
empty emulator with `runai-reconcile emulator serve --latency-ms 50` as its own process (or,
with `--embedded`, in this process on a background thread), and times:

- `runai-reconcile apply --auto-approve --parallelism 16 DIR` end to end as its own process,
  when the CLI has the `apply` command;
- in-process, the real workflow: `plan_run` (client, planner), then `applier.apply_plan` with a
  real `Client` and `StateStore` (intent journal, a state write after every step, read-back).

Each run starts from an empty server and no state file, and checks afterwards that every
template is on the server once and applied in state. Prints wall times beside the floor:
N / parallelism x latency for one call per create, twice that with the read-back GET.
BENCHMARKS.md records the figures under "## Apply".

    .venv/bin/python bench/bench_apply.py [--count 1000] [--latency-ms 50] [--parallelism 16]
        [--runs 3] [--no-state-file] [--embedded] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconcile.applier import ApplyResult, apply_plan  # noqa: E402
from reconcile.apply_steps import StepRunner  # noqa: E402
from reconcile.client import Client  # noqa: E402
from reconcile.config import load_config  # noqa: E402
from reconcile.credentials import Credentials  # noqa: E402
from reconcile.emulator.framework import EmulatorSettings  # noqa: E402
from reconcile.emulator.server import EmbeddedEmulator  # noqa: E402
from reconcile.model import Change, EntryStatus  # noqa: E402
from reconcile.planner import BindingSource, PlanOptions  # noqa: E402
from reconcile.state import StateStore  # noqa: E402
from reconcile.workflow import plan_run  # noqa: E402
from tests.cli.bulk import write_bulk_config  # noqa: E402
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET  # noqa: E402

EXE = Path(sys.executable).parent / "runai-reconcile"
TEMPLATES_COUNT = "/api/v1/workload-templates/count"


class _NoFileStore(StateStore):
    """Diagnostics only (`--no-state-file`): every write but the file itself (no I/O, no JSON
    text), to show what the state file costs. Never use outside this bench."""

    def _write_file(self, text: str, *, replacing: bool) -> None:
        return None

    def _base(self) -> Any:
        return self._current, self._current is not None


@contextmanager
def emulator(*, embedded: bool, db: Path, latency_ms: int) -> Iterator[tuple[str, int | None]]:
    """An empty emulator with `latency_ms` on every API call; yields its URL and its pid
    when it runs as its own process."""
    if embedded:
        settings = EmulatorSettings(latency_ms=latency_ms)
        with EmbeddedEmulator(
            db=db, settings=settings, client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET
        ) as emu:
            yield emu.url, None
        return
    command = [str(EXE), "emulator", "serve", "--port", "0", "--db", str(db)]
    command += ["--latency-ms", str(latency_ms), "--quiet"]
    command += ["--client-id", TEST_CLIENT_ID, "--client-secret", TEST_CLIENT_SECRET]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # "... listening on http://127.0.0.1:PORT"
        assert "listening on" in banner, banner
        yield banner.rsplit(" ", 1)[-1].strip(), process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def process_cpu(pid: int | None) -> float:
    """CPU seconds a process used so far (Linux /proc), 0.0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{url}/_emulator/{path}", json=body, timeout=60)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def fresh(url: str, state_dir: Path, latency_ms: int) -> None:
    """An empty server (seed only), `latency_ms` on every API call, no state file."""
    admin(url, "POST", "reset")  # also turns every fault off, latency included
    admin(url, "PUT", "faults", {"latency_ms": latency_ms})
    admin(url, "DELETE", "requests")
    shutil.rmtree(state_dir, ignore_errors=True)


def check(url: str, state_path: Path, count: int) -> None:
    """Every template on the server once, and applied in state."""
    state = StateStore(state_path).read()
    applied = [e for e in state.entries.values() if e.status is EntryStatus.APPLIED]
    assert len(applied) == count, f"{len(applied)} applied entries in state, want {count}"
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with Client(url, credentials=credentials) as client:
        total = client.get(TEMPLATES_COUNT).body["count"]
    assert total == count, f"{total} templates on the server, want {count}"


def cli_has_apply() -> bool:
    done = subprocess.run([str(EXE), "apply", "--help"], capture_output=True, text=True)
    return done.returncode == 0 and "--parallelism" in done.stdout


def timed_cli(config_dir: Path, url: str, parallelism: int) -> float:
    env = {**os.environ, "RUNAI_URL": url, "RUNAI_CLIENT_ID": TEST_CLIENT_ID}
    env["RUNAI_CLIENT_SECRET"] = TEST_CLIENT_SECRET
    env.pop("RUNAI_TOKEN", None)
    command = [str(EXE), "apply", "--auto-approve", "--parallelism", str(parallelism)]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, str(config_dir)], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return elapsed


def in_process(
    config_dir: Path, url: str, args: argparse.Namespace
) -> tuple[float, float, float, ApplyResult]:
    """(plan s, apply wall s, apply CPU s, result) of the real workflow in this process."""
    config = load_config(config_dir, env={})
    store_type = _NoFileStore if args.no_state_file else StateStore
    store = store_type(config.settings.state_path)
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with store.lock("apply"), Client(url, credentials=credentials) as client:
        started = time.perf_counter()
        state = store.read()
        planned = plan_run(
            client, config.resources, state, source=BindingSource(url), options=PlanOptions()
        )
        plan_s = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        result = apply_plan(
            planned.plan,
            client=client,
            store=store,
            state=state,
            desired=planned.desired,
            lookups=planned.live.lookups,
            parallelism=args.parallelism,
        )
        apply_s, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.ok, (dict(result.failed), result.not_run)
    return plan_s, apply_s, cpu, result


def cli_runs(config_dir: Path, url: str, state_path: Path, args: argparse.Namespace) -> None:
    times = []
    for _ in range(args.runs):
        fresh(url, config_dir.parent / "state", args.latency_ms)
        times.append(timed_cli(config_dir, url, args.parallelism))
        check(url, state_path, args.count)
    print(
        f"CLI `apply --auto-approve` end to end, {args.runs} runs: wall min "
        f"{min(times):.2f} s, median {statistics.median(times):.2f} s"
    )


def in_process_runs(
    config_dir: Path, url: str, pid: int | None, state_path: Path, args: argparse.Namespace
) -> None:
    runs, server_cpu, requests_made = [], [], 0
    for _ in range(args.runs):
        fresh(url, config_dir.parent / "state", args.latency_ms)
        before = process_cpu(pid)
        runs.append(in_process(config_dir, url, args))
        server_cpu.append(process_cpu(pid) - before)
        requests_made = int(admin(url, "GET", "requests")["total"])
        if not args.no_state_file:
            check(url, state_path, args.count)
    applies = [r[1] for r in runs]
    server = "" if pid is None else f"), {statistics.median(server_cpu):.2f} s (emulator, plan too"
    print(
        f"in-process apply_plan{' (no state file)' if args.no_state_file else ''}, "
        f"{args.runs} runs: "
        f"wall min {min(applies):.2f} s, median {statistics.median(applies):.2f} s; "
        f"CPU median {statistics.median(r[2] for r in runs):.2f} s (this process{server}); "
        f"plan before it {statistics.median(r[0] for r in runs):.2f} s; "
        f"{runs[-1][3].state_writes} state writes; {requests_made} API requests"
    )


def profiled_run(config_dir: Path, url: str, args: argparse.Namespace) -> None:
    """One in-process run with every step profiled on its worker thread (cProfile follows
    one thread only), the profiles merged. Timed by each thread's CPU clock: waits for the
    server, for the GIL and for state writes are not what a step costs."""
    profiles: dict[int, cProfile.Profile] = {}
    original = StepRunner.run

    def run(runner: StepRunner, change: Change) -> None:
        profile = profiles.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))
        profile.enable()
        try:
            original(runner, change)
        finally:
            profile.disable()

    fresh(url, config_dir.parent / "state", args.latency_ms)
    setattr(StepRunner, "run", run)  # noqa: B010 - diagnostics only, undone below
    try:
        in_process(config_dir, url, args)
    finally:
        setattr(StepRunner, "run", original)  # noqa: B010
    stats = pstats.Stats(*profiles.values())
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats("reconcile|requests|urllib3|http", 60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-state-file", action="store_true", help="diagnostics: no file I/O")
    parser.add_argument("--embedded", action="store_true", help="emulator in this process")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI end-to-end runs")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process run")
    args = parser.parse_args()
    floor = args.count / args.parallelism * args.latency_ms / 1000
    print(
        f"{args.count} creates, {args.latency_ms} ms latency, parallelism {args.parallelism}; "
        f"floor {floor:.2f} s (one call per create), {2 * floor:.2f} s (with read-back); "
        f"emulator {'in this process' if args.embedded else 'as its own process'}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp) / "config"  # the state goes beside it, in `state/`
        write_bulk_config(config_dir, args.count)
        state_path = load_config(config_dir, env={}).settings.state_path
        db = Path(tmp) / "emulator.sqlite3"
        with emulator(embedded=args.embedded, db=db, latency_ms=args.latency_ms) as (url, pid):
            if not args.no_cli and not args.embedded and cli_has_apply():
                cli_runs(config_dir, url, state_path, args)
            elif not args.no_cli:
                print("CLI: no `apply --parallelism` command yet (or --embedded): skipped")
            in_process_runs(config_dir, url, pid, state_path, args)
            if args.profile:
                profiled_run(config_dir, url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
