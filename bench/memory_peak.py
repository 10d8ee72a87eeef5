"""Where a command's peak memory goes: tracemalloc snapshots taken as the traced total climbs.

Runs one `runai-reconcile` command in this process (same argv as the CLI) with tracemalloc
on; a watcher thread snapshots the heap whenever the traced total passes its previous high by
`--step` MiB, so the last snapshot is the heap within a step of its peak. Prints the peak, the
top allocation sites (file:line) and the top modules holding memory then. The RSS it reports
includes tracemalloc's own bookkeeping, so compare it with the CLI's peak RSS only roughly.

    .venv/bin/python bench/memory_peak.py [--frames 1] [--top 25] -- plan --detailed-exitcode DIR

`--phases DIR` instead runs a no-change plan's steps one after another in this process (as
bench/bench_plan.py times them) and prints what each step's result holds once it is done:
the desired set, the state, the live view (its raw server objects apart), the plan.
Needs RUNAI_URL and the client credentials in the environment, as the CLI does.
"""

from __future__ import annotations

import argparse
import linecache
import resource
import sys
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


class PeakWatcher(threading.Thread):
    """Snapshots the heap each time the traced total climbs `step` bytes above its last high."""

    def __init__(self, step: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.step, self.interval = step, interval
        self.high = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            current, _ = tracemalloc.get_traced_memory()
            if current > self.high + self.step:
                self.snapshot = tracemalloc.take_snapshot()
                self.high = tracemalloc.get_traced_memory()[0]


def report(snapshot: tracemalloc.Snapshot, top: int) -> None:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    snapshot = snapshot.filter_traces(ignore)
    total = sum(s.size for s in snapshot.statistics("filename"))
    print(f"heap at the last snapshot: {total / MIB:.1f} MiB traced")
    modules: Counter[str] = Counter()
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        short = name.split("site-packages/")[-1] if "site-packages" in name else name
        modules[short.replace(str(ROOT) + "/", "")] += stat.size
    print("\nby file (where the live objects were allocated):")
    for name, size in modules.most_common(top):
        print(f"  {size / MIB:8.1f} MiB  {name}")
    print("\nby line:")
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        line = linecache.getline(frame.filename, frame.lineno).strip()
        where = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        print(
            f"  {stat.size / MIB:8.1f} MiB {stat.count:9,d} blocks  {where}:{frame.lineno}  {line}"
        )


def phases(config_dir: Path) -> None:
    """The memory each step's result holds (traced, after the step, with what came before)."""
    import os

    from bench.bench_plan import plan_over
    from reconcile.client import Client
    from reconcile.config import load_config
    from reconcile.credentials import Credentials
    from reconcile.state import StateStore
    from reconcile.workflow import read_owned

    tracemalloc.start()
    held: list[tuple[str, float]] = []

    def step(label: str, before: int) -> int:
        now = tracemalloc.get_traced_memory()[0]
        held.append((label, (now - before) / MIB))
        return now

    mark = tracemalloc.get_traced_memory()[0]
    config = load_config(config_dir)
    mark = step("desired set (checked config)", mark)
    state = StateStore(config.settings.state_path).read()
    mark = step("state (entries with last_applied)", mark)
    url = os.environ["RUNAI_URL"]
    credentials = Credentials(
        client_id=os.environ["RUNAI_CLIENT_ID"], client_secret=os.environ["RUNAI_CLIENT_SECRET"]
    )
    with Client(url, credentials=credentials) as client:
        known = read_owned(client, state)
        mark = step("live view (raw server objects and normalized specs)", mark)
        plan = plan_over(client, config, state, known, url)
        mark = step("plan (and any further reads)", mark)
    assert not plan.has_changes
    raw = sum(1 for live in known.resources.values() if live.raw is not None)
    lists = sum(len(items) for items in known.lists.values())
    peak = tracemalloc.get_traced_memory()[1] / MIB
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for label, size in held:
        print(f"  {size:8.1f} MiB  {label}")
    print(f"traced peak {peak:.1f} MiB, peak RSS {rss:.0f} MiB (tracemalloc's own included)")
    print(f"live view: {raw:,} resources with their raw object, {lists:,} raw list items")
    print(f"live raw objects alone: {_size_of([r.raw for r in known.resources.values()]):.1f} MiB")


def _size_of(value: object) -> float:
    """Deep size of a JSON value in MiB (shared objects counted once)."""
    seen: set[int] = set()
    stack, total = [value], 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total / MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1, help="traceback depth (slower when >1)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--step", type=float, default=25.0, help="MiB between snapshots")
    parser.add_argument("--phases", type=Path, metavar="DIR", help="see above")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.phases:
        phases(args.phases)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    from reconcile.cli import main as cli_main

    tracemalloc.start(args.frames)
    watcher = PeakWatcher(int(args.step * MIB))
    watcher.start()
    sys.argv = ["runai-reconcile", *command]
    code: object = 0
    try:
        cli_main()
    except SystemExit as exit_:
        code = exit_.code
    watcher.stopped.set()
    watcher.join()
    _, peak = tracemalloc.get_traced_memory()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nexit {code}; traced peak {peak / MIB:.1f} MiB; peak RSS {rss:.0f} MiB", file=sys.stderr
    )
    if watcher.snapshot is not None:
        sys.stdout.flush()
        report(watcher.snapshot, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
