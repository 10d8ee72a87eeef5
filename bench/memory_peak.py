"""Where a command's peak memory goes: tracemalloc snapshots taken as the traced total climbs.

Runs one `runai-reconcile` command in this process (same argv as the CLI) with tracemalloc
on; a watcher thread snapshots the heap whenever the traced total passes its previous high by
`--step` MiB, so the last snapshot is the heap within a step of its peak. Prints the peak, the
top allocation sites (file:line) and the top modules holding memory then. The RSS it reports
includes tracemalloc's own bookkeeping, so compare it with the CLI's peak RSS only roughly.

    .venv/bin/python bench/memory_peak.py [--frames 1] [--top 25] -- plan --detailed-exitcode DIR
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1, help="traceback depth (slower when >1)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--step", type=float, default=4.0, help="MiB between snapshots")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
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
