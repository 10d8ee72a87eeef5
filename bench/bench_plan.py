"""Benchmark a no-change `runai-reconcile plan` over 10,000 templates at 50 ms API latency.

Builds the setup of `tests/cli/test_plan_scale.py` (templates desired, on the server and in
state; see tests/cli/bulk.py) in an emulator db file, serves that db with
`runai-reconcile emulator serve` as its own process, injects 50 ms of latency into every API
call (`PUT /_emulator/faults {"latency_ms": 50}`), then times the real CLI end to end
(interpreter start included) and, in-process, each phase of the command. Prints the figures;
BENCHMARKS.md records them under "## Plan" (target: under 1.5 s).

    .venv/bin/python bench/bench_plan.py [--count 10000] [--latency-ms 50] [--runs 3] [--profile]
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconcile.client import Client  # noqa: E402
from reconcile.config import Config, load_config  # noqa: E402
from reconcile.credentials import Credentials  # noqa: E402
from reconcile.emulator.server import EmbeddedEmulator  # noqa: E402
from reconcile.gcpause import gc_paused  # noqa: E402
from reconcile.live_view import LiveView  # noqa: E402
from reconcile.model import Plan, State  # noqa: E402
from reconcile.planner import BindingSource, PlanOptions  # noqa: E402
from reconcile.render import text as render_text  # noqa: E402
from reconcile.state import StateStore  # noqa: E402
from reconcile.workflow import plan_run, read_owned  # noqa: E402
from tests.cli.bulk import seed_bulk  # noqa: E402
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET  # noqa: E402

T = TypeVar("T")
EXE = Path(sys.executable).parent / "runai-reconcile"


def build(tmp: Path, count: int) -> tuple[Path, Path]:
    """The config dir (state beside it) and an emulator db holding the matching templates."""
    db, config_dir = tmp / "emulator.sqlite3", tmp / "config"
    with EmbeddedEmulator(db=db, client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET) as emu:
        assert emu.app is not None
        seed_bulk(config_dir, emu.url, emu.app.ctx.store, count)
    return config_dir, db


def serve(db: Path) -> tuple[subprocess.Popen[str], str]:
    command = [str(EXE), "emulator", "serve", "--port", "0", "--db", str(db), "--quiet"]
    command += ["--client-id", TEST_CLIENT_ID, "--client-secret", TEST_CLIENT_SECRET]
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


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children only
    return usage.ru_utime + usage.ru_stime


def timed_cli(config_dir: Path, url: str) -> tuple[float, float, int]:
    """Wall and CPU seconds of one `plan --detailed-exitcode` process, and its API requests.

    CPU counts the CLI and its config-reading workers (the emulator is not reaped yet)."""
    env = {**os.environ, "RUNAI_URL": url, "RUNAI_CLIENT_ID": TEST_CLIENT_ID}
    env["RUNAI_CLIENT_SECRET"] = TEST_CLIENT_SECRET
    admin(url, "DELETE", "requests")
    cpu, started = _child_cpu(), time.perf_counter()
    done = subprocess.run(
        [str(EXE), "plan", str(config_dir), "--detailed-exitcode"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed, cpu = time.perf_counter() - started, _child_cpu() - cpu
    assert done.returncode == 0 and done.stdout == "No changes.\n", (done.stdout, done.stderr)
    return elapsed, cpu, int(admin(url, "GET", "requests")["total"])


def profiled_cli(config_dir: Path, url: str, out: Path) -> None:
    """One CLI run under cProfile; prints where its time went."""
    env = {**os.environ, "RUNAI_URL": url, "RUNAI_CLIENT_ID": TEST_CLIENT_ID}
    env["RUNAI_CLIENT_SECRET"] = TEST_CLIENT_SECRET
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "reconcile", "plan"]
    subprocess.run([*command, str(config_dir)], env=env, capture_output=True, check=True)
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(r"reconcile/", 25)


def clock(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    print(f"  {label + ':':<44}{time.perf_counter() - started:6.2f} s")
    return result


def plan_over(client: Client, config: Config, state: State, known: LiveView, url: str) -> Plan:
    """The plan of `config` the `plan` command makes once it has read `state` and `known`."""
    return plan_run(
        client,
        config.resources,
        state,
        source=BindingSource(url),
        options=PlanOptions(),
        known=known,
    ).plan


def phases(config_dir: Path, url: str) -> None:
    """The plan command's steps, timed one by one in this process (the CLI overlaps the first
    with the next two: see reconcile/cli/session.py)."""
    print("phases (in-process, one after another):")
    config = clock("load config (read, check, normalize)", lambda: load_config(config_dir, env={}))
    state = clock("read state", lambda: StateStore(config.settings.state_path).read())
    credentials = Credentials(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    with gc_paused(), Client(url, credentials=credentials) as client:  # as the CLI does
        known = clock("read live (token, lookups, lists)", lambda: read_owned(client, state))
        plan = clock("diff, order, bind", lambda: plan_over(client, config, state, known, url))
    assert not plan.has_changes
    clock("render text", lambda: render_text.render(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile one CLI run")
    args = parser.parse_args()
    # Bytecode up to date, as an installed package has it: with PYTHONDONTWRITEBYTECODE set
    # (it is, on some machines) every run would otherwise compile each edited module again.
    compileall.compile_dir(ROOT / "reconcile", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config_dir, db = build(Path(tmp), args.count)
        print(
            f"setup: {args.count} templates desired, on the server and in state "
            f"({time.perf_counter() - started:.1f} s)"
        )
        process, url = serve(db)
        try:
            admin(url, "PUT", "faults", {"latency_ms": args.latency_ms})
            runs = [timed_cli(config_dir, url) for _ in range(args.runs)]
            times, cpus = [r[0] for r in runs], [r[1] for r in runs]
            budget = math.ceil(args.count / 500) + 15
            print(
                f"CLI `plan --detailed-exitcode` end to end, {args.latency_ms} ms latency, "
                f"{args.runs} runs: wall min {min(times):.2f} s, median "
                f"{statistics.median(times):.2f} s; CPU median {statistics.median(cpus):.2f} s; "
                f"{runs[0][2]} API requests (budget {budget})"
            )
            phases(config_dir, url)
            if args.profile:
                profiled_cli(config_dir, url, Path(tmp) / "plan.prof")
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
