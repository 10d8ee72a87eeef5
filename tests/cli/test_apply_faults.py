"""500 creates through a faulty API converge: 20 % server errors, 10 % throttling and 5 %
writes committed then failed (the answer lost) leave no duplicate and no unowned object, and a
further apply finishes what the first could not.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from reconcile.model import EntryStatus
from tests.cli.apply_helpers import assert_bulk_owned
from tests.cli.bulk import write_bulk_config
from tests.cli.helpers import Cli, Run, read_state
from tests.emulator.helpers import Api

COUNT = 500
FAULTS = {"error_rate": 0.2, "throttle_rate": 0.1, "commit_then_fail_rate": 0.05}
NO_FAULTS = dict.fromkeys(FAULTS, 0.0)
MAX_APPLIES = 4
# Backoff dominates the run time (tens of seconds a run); more workers shorten the queue
# behind the slow steps. The product's retry rules are untouched.
PARALLELISM = "64"


def _committed_creates(api: Api) -> int:
    """POSTs the server stored: answered 202, or stored and then failed (503 or no answer)."""
    log = api.request_log()["requests"]
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/workspaces")]
    stored = ("commit-then-fail-503", "drop")
    return sum(1 for r in posts if r["status"] == 202 or r.get("fault") in stored)


def test_creates_under_faults_converge_without_duplicates(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, COUNT)
    runs: list[Run] = []
    for attempt in range(MAX_APPLIES):
        api.set_faults(**FAULTS, seed_random=1000 + attempt)
        run = cli("apply", "--auto-approve", "--parallelism", PARALLELISM, config_dir)
        api.set_faults(**NO_FAULTS)  # the checks below read the server without faults
        runs.append(run)
        assert run.exit_code in (0, 1), run.output  # failed steps, never a crash
        assert_bulk_owned(config_dir, api)
        if run.exit_code == 0:
            break
    outcomes = [(r.exit_code, r.stdout.splitlines()[-1:]) for r in runs]
    assert runs[-1].exit_code == 0, f"no convergence in {MAX_APPLIES} applies: {outcomes}"

    on_server = assert_bulk_owned(config_dir, api)
    state = read_state(config_dir)
    assert len(on_server) == len(state.entries) == COUNT
    assert all(e.status is EntryStatus.APPLIED for e in state.entries.values())
    assert {e.remote_id for e in state.entries.values()} == set(on_server.values())
    assert _committed_creates(api) == COUNT  # every template was created exactly once

    faults = Counter(r.get("fault", "") for r in api.request_log()["requests"])
    assert faults["injected-429"] and faults["commit-then-fail-503"] and faults["drop"], faults
    plan = cli("plan", "--detailed-exitcode", config_dir)
    assert plan.exit_code == 0, plan.output
    assert plan.stdout == "No changes.\n"
