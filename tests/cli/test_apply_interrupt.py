"""Ctrl-C during `apply`: the steps in flight finish and are recorded, nothing else starts,
the report lists applied / failed / not run, and the exit code is 130 (docs/design.md
sections 5 and 6)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.cli.apply_helpers import (
    CliProcess,
    assert_bulk_owned,
    assert_state_parses,
    write_settings,
)
from tests.cli.bulk import DOC, PROJECT, name_of
from tests.cli.helpers import Cli
from tests.emulator.helpers import Api

SETTINGS = "server: embedded\nstate: ../state/interrupt.json\n"


def test_ctrl_c_finishes_what_is_in_flight_and_reports_the_rest(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = tmp_path / "interrupt"
    write_settings(config_dir, SETTINGS)
    docs = [DOC.format(name=name_of(i), project=PROJECT) for i in range(40)]
    (config_dir / "templates.yaml").write_text("---\n".join(docs), encoding="utf-8")
    api.set_faults(latency_ms=30)

    run = CliProcess(cli.url, "apply", "--auto-approve", "--parallelism", "2", config_dir)
    assert run.wait_for_line(lambda line: bool(re.match(r"^\[3/\d+\] ", line)))
    run.process.send_signal(signal.SIGINT)
    assert run.wait() == 130, run.output
    assert re.search(r"Apply interrupted: \d+ applied, 0 failed, \d+ not run\.", run.output)
    assert "not run:" in run.output
    assert_state_parses(config_dir)
    assert_bulk_owned(config_dir, api)

    again = CliProcess(cli.url, "apply", "--auto-approve", config_dir)
    assert again.wait() == 0, again.output
    assert "Apply complete" in again.output
