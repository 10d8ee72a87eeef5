"""A no-change plan over 10,000 templates stays within ceil(N/500) + 15 API requests, counted
by the emulator's own request log. Timing: bench/bench_plan.py.
"""

from __future__ import annotations

import math
from pathlib import Path

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.bulk import seed_bulk
from tests.cli.helpers import Cli
from tests.emulator.helpers import Api

COUNT = 10_000


def test_no_change_plan_over_10000_templates_reads_in_pages(
    cli: Cli, emulator: EmbeddedEmulator, api: Api, tmp_path: Path
) -> None:
    assert emulator.app is not None
    config_dir = tmp_path / "bulk"
    seed_bulk(config_dir, emulator.url, emulator.app.ctx.store, COUNT)
    api.clear_log()
    run = cli("plan", config_dir, "--detailed-exitcode")
    assert (run.exit_code, run.stdout) == (0, "No changes.\n"), run.output
    log = api.request_log()
    assert log["total"] <= math.ceil(COUNT / 500) + 15, log["counters"]
    lists = [e for e in log["requests"] if e["path"] == "/api/v1/workload-templates"]
    assert len(lists) == math.ceil(COUNT / 500)
    assert all("limit=500" in e["query"] for e in lists)
    assert not any(e["method"] != "GET" for e in log["requests"] if e["path"] != "/api/v1/token")
