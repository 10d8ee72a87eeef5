"""SIGKILL of `apply` at random moments: the state file always parses, the server never holds
an object twice nor one the state (the file and the commit log a killed run leaves) does not
know, and the next apply converges, leaving the file alone. The CLI
runs as its own process against the test run's emulator, so a kill
takes down the client only; the emulator adds latency so that kills land mid-run.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from reconcile.state.commit_log import log_path
from tests.cli.apply_helpers import (
    CliProcess,
    assert_bulk_owned,
    assert_state_parses,
    server_templates,
    write_settings,
)
from tests.cli.bulk import DOC, PROJECT, name_of
from tests.cli.helpers import Cli, read_state, state_path
from tests.emulator.helpers import Api

KILLS = 20  # SIGKILLs that must land (a run that ended first does not count)
MID_APPLY = 10  # of which at least this many after some steps were done
MAX_ROUNDS = 45
WINDOW, SHIFT = 50, 5  # templates desired per round, and how far the window moves
SETTINGS = """server: embedded
state: ../state/kill.json
# Every round updates every template: the budget would (rightly) stop that.
safety: {max_delete_fraction: 1.0, max_update_fraction: 1.0}
"""


def _write_round(config_dir: Path, round_no: int) -> set[str]:
    """Round `round_no`'s desired set: a window of names moved by SHIFT (creates and
    deletes), each with a new description (updates). Returns the names."""
    write_settings(config_dir, SETTINGS)
    names = [name_of(i) for i in range(round_no * SHIFT, round_no * SHIFT + WINDOW)]
    docs = [
        DOC.format(name=name, project=PROJECT).replace(
            "description: bulk template", f"description: round {round_no}"
        )
        for name in names
    ]
    (config_dir / "templates.yaml").write_text("---\n".join(docs), encoding="utf-8")
    return set(names)


def _check_invariants(config_dir: Path, api: Api) -> bool:
    """The state file (and its backup) parse; no duplicates; the server holds nothing the
    state does not know (a create in flight is journaled as pending before its POST).
    Returns whether the killed run left commits in the log that the file lacks."""
    serial = assert_state_parses(config_dir)
    backup = state_path(config_dir).with_name("kill.json.backup")
    if backup.exists():
        json.loads(backup.read_text(encoding="utf-8"))
    assert_bulk_owned(config_dir, api)
    path = state_path(config_dir)
    return path.exists() and serial > json.loads(path.read_text(encoding="utf-8"))["serial"]


def _kill_somewhere(process: CliProcess, rng: random.Random) -> None:
    """SIGKILL at a random moment: a random time after start (startup, lock, settling,
    planning or applying), or a few milliseconds after the k-th step finished."""
    if rng.random() < 0.3:
        time.sleep(rng.uniform(0.2, 2.0))
    else:
        step = rng.randint(1, WINDOW - SHIFT)
        pattern = re.compile(rf"^\[{step}/\d+\] ")
        process.wait_for_line(lambda line: bool(pattern.match(line)))
        time.sleep(rng.uniform(0.0, 0.03))
    process.kill()


def _converge(cli: Cli, config_dir: Path, desired: set[str], api: Api) -> None:
    """An apply left alone finishes the job; the plan after it is empty."""
    run = CliProcess(cli.url, "apply", "--auto-approve", config_dir)
    assert run.wait() == 0, run.output
    plan = cli("plan", "--detailed-exitcode", config_dir)
    assert plan.exit_code == 0 and plan.stdout == "No changes.\n", plan.output
    entries = read_state(config_dir).entries
    on_server = {m["name"]: m["id"] for m in server_templates(api)}
    assert set(on_server) == desired == {a.name for a in entries}
    assert {e.remote_id for e in entries.values()} == set(on_server.values())
    assert not log_path(state_path(config_dir)).exists()  # folded as the run finished


@pytest.mark.slow
def test_sigkill_at_random_moments_never_corrupts_or_duplicates(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = tmp_path / "kill"
    api.set_faults(latency_ms=20)
    rng = random.Random(20240605)
    kills = mid_apply = logged = 0
    desired: set[str] = set()
    for round_no in range(MAX_ROUNDS):
        if round_no % 6 == 5:  # now and then, the killed run's config is applied to the end
            _converge(cli, config_dir, desired, api)
            continue
        desired = _write_round(config_dir, round_no)
        process = CliProcess(cli.url, "apply", "--auto-approve", config_dir)
        _kill_somewhere(process, rng)
        if process.process.returncode == -9:
            kills += 1
            mid_apply += any(line.startswith("[") for line in process.lines)
        logged += _check_invariants(config_dir, api)
        if kills >= KILLS and mid_apply >= MID_APPLY and logged:
            break
    # Some kills left acknowledged commits only in the log: reads and the next run used it.
    assert kills >= KILLS and mid_apply >= MID_APPLY and logged, (kills, mid_apply, logged)
    _converge(cli, config_dir, desired, api)
