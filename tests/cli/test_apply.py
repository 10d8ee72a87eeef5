"""`apply DIR` end to end: the quickstart round trip, confirmation (no TTY, a real pty),
per-step progress, the failure summary with `--keep-going`, and secrets kept out of the
output.
"""

from __future__ import annotations

import errno
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.apply_helpers import STEP_LINE, server_templates, subprocess_env
from tests.cli.helpers import REPO, Cli, addresses, read_state, state_path, write_docs
from tests.emulator.helpers import Api

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _writes(api: Api) -> list[str]:
    """The API writes the server saw (token requests are not writes)."""
    log = api.request_log()["requests"]
    return [
        f"{r['method']} {r['path']}"
        for r in log
        if r["method"] in WRITES and not r["path"].endswith("/token")
    ]


def test_quickstart_apply_then_plan_says_no_changes(cli: Cli, examples_dir: Path) -> None:
    # Exactly the README's commands: `server: embedded`, no RUNAI_URL.
    embedded = {"RUNAI_URL": None}
    run = cli("apply", "--auto-approve", examples_dir, env=embedded)
    assert run.exit_code == 0, run.output
    assert "Server: embedded Run:ai emulator" in run.stderr
    assert "Apply complete: 22 applied." in run.stdout
    state = read_state(examples_dir)
    assert sorted(state.entries) == addresses(examples_dir)
    assert all(e.remote_id and e.status.value == "applied" for e in state.entries.values())

    again = cli("plan", "--detailed-exitcode", examples_dir, env=embedded)
    assert again.exit_code == 0, again.output
    assert again.stdout == "No changes.\n"
    serial = state.serial
    rerun = cli("apply", "--auto-approve", examples_dir, env=embedded)
    assert rerun.exit_code == 0, rerun.output
    assert "No changes." in rerun.stdout and "Apply complete" not in rerun.stdout
    assert read_state(examples_dir).serial == serial  # nothing to do: the state is not rewritten


def test_progress_is_one_line_per_step_without_a_tty(cli: Cli, examples_dir: Path) -> None:
    run = cli("apply", "--auto-approve", examples_dir)
    assert run.exit_code == 0, run.output
    lines = [line for line in run.stdout.splitlines() if line.startswith("[")]
    matches = [re.match(STEP_LINE, line) for line in lines]
    assert all(matches), lines
    steps = [m for m in matches if m is not None]
    assert [int(m[1]) for m in steps] == list(range(1, 23))  # counted in completion order
    assert {int(m[2]) for m in steps} == {22}
    assert sorted(m[3] for m in steps) == sorted(map(str, addresses(examples_dir)))
    actions = {m[3]: m[4] for m in steps}
    assert actions["workload-type/Notebook"] == "update"  # built in: adopted and updated
    assert actions["workspace-template/project=team-a/jupyter-small"] == "create"
    assert "\r" not in run.output  # no progress bar off a terminal


def test_without_a_tty_apply_refuses_and_changes_nothing(
    cli: Cli, examples_dir: Path, api: Api
) -> None:
    run = cli("apply", examples_dir)  # click's runner: stdin is not a terminal
    assert run.exit_code == 1, run.output
    assert "standard input is not a terminal" in run.stderr
    assert "--auto-approve" in run.stderr
    assert "Plan: 20 to add, 2 to change" in run.stdout  # shown, then refused
    assert not state_path(examples_dir).exists()
    assert _writes(api) == []
    assert server_templates(api) == []


def _run_on_pty(url: str, args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; answer its prompt."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconcile", *args],
        cwd=REPO,
        env=subprocess_env(url),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 4096)
        except OSError as error:  # EIO: the child closed the terminal
            assert error.errno == errno.EIO
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(controller, answer.encode() + b"\n")
            answered = True
    os.close(controller)
    code = process.wait(30)
    assert answered, output.decode(errors="replace")
    return code, output.decode(errors="replace").replace("\r\n", "\n")


def test_on_a_terminal_apply_asks_and_shows_a_progress_bar(
    emulator: EmbeddedEmulator, examples_dir: Path, api: Api
) -> None:
    code, out = _run_on_pty(emulator.url, ["apply", str(examples_dir)], "n")
    assert code == 1, out
    assert "Apply these changes? [y/N]" in out and "nothing was changed" in out
    assert _writes(api) == []

    code, out = _run_on_pty(emulator.url, ["apply", str(examples_dir)], "y")
    assert code == 0, out
    assert re.search(r"\[#{30}\] 22/22 ", out), out  # the bar, full, with counts
    assert "Apply complete: 22 applied." in out
    assert not re.search(r"^\[\d+/22\]", out, re.MULTILINE)  # no per-step lines on a terminal


BAD_TYPE = """
kind: WorkloadType
metadata: {name: Notebook}
spec:
  category: Build
  priority: medium
  resourceInterfaces:
    - spec: {structureDefinition: {rootComponent: {kind: {kind: Widget, version: v1}}}}
"""
GOOD_TYPE = """
kind: WorkloadType
metadata: {name: PyTorchJob}
spec: {category: Train, priority: medium-high}
"""
LATER = [
    """
kind: WorkspaceTemplate
metadata: {name: later-1, scope: {project: team-b}}
spec: {image: python:3.11}
""",
    """
kind: TrainingTemplate
metadata: {name: later-2, scope: {project: team-b}}
spec: {image: python:3.11}
""",
]
NOTEBOOK = "workload-type/Notebook"
PYTORCH = "workload-type/PyTorchJob"
LATER_ADDRESSES = [
    "training-template/project=team-b/later-2",
    "workspace-template/project=team-b/later-1",
]


def _failing_config(tmp_path: Path) -> Path:
    """Wave 1: two workload type updates, one of which the server refuses (400: the root
    kind of its resource interface is not its name; only the server checks that).
    Wave 2: two template creates, independent of both."""
    config_dir = tmp_path / "config"
    write_docs(config_dir / "types.yaml", [BAD_TYPE, GOOD_TYPE])
    write_docs(config_dir / "templates.yaml", LATER)
    (config_dir / "runai-reconcile.yaml").write_text(
        "state: ../state/failing.json\n", encoding="utf-8"
    )
    return config_dir


def _summary(stdout: str) -> tuple[str, list[str], list[str]]:
    head = next(line for line in stdout.splitlines() if line.startswith("Apply failed:"))
    failed = re.findall(r"^  failed:  (\S+): ", stdout, re.MULTILINE)
    not_run = re.findall(r"^  not run: (\S+)$", stdout, re.MULTILINE)
    return head, failed, not_run


def test_a_failed_step_stops_dependents_and_the_state_matches_the_server(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config_dir = _failing_config(tmp_path)
    run = cli("apply", "--auto-approve", config_dir)
    assert run.exit_code == 1, run.output
    head, failed, not_run = _summary(run.stdout)
    assert head == "Apply failed: 1 applied, 1 failed, 2 not run."
    assert failed == [NOTEBOOK] and sorted(not_run) == LATER_ADDRESSES
    assert "root kind must be 'Notebook'" in run.stdout
    assert f"{NOTEBOOK}: update FAILED" in run.stdout
    assert "state file records exactly what was applied" in run.stderr
    # The state owns exactly what was done: the one update that went through.
    state = read_state(config_dir)
    assert [str(a) for a in state.entries] == [PYTORCH]
    assert server_templates(api) == []
    drift = cli("drift", config_dir)
    assert drift.exit_code == 0, drift.output  # owned objects are as last applied

    again = cli("apply", "--auto-approve", "--keep-going", config_dir)
    assert again.exit_code == 1, again.output
    head, failed, not_run = _summary(again.stdout)
    assert head == "Apply failed: 2 applied, 1 failed, 0 not run."
    assert failed == [NOTEBOOK] and not_run == []
    state = read_state(config_dir)
    assert sorted(map(str, state.entries)) == sorted([PYTORCH, *LATER_ADDRESSES])
    on_server = {m["name"]: m["id"] for m in server_templates(api)}
    assert on_server == {a.name: state.entries[a].remote_id for a in state.entries if a.scope}

    write_docs(config_dir / "types.yaml", [GOOD_TYPE])  # the cause is fixed
    fixed = cli("apply", "--auto-approve", config_dir)
    assert fixed.exit_code == 0, fixed.output
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0


def test_a_write_whose_state_record_was_lost_is_recorded_next_time(
    cli: Cli, examples_dir: Path
) -> None:
    assert cli("apply", "--auto-approve", examples_dir).exit_code == 0
    path = examples_dir / "templates" / "workspaces.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("VS Code in", "VS Code, in"))
    before = state_path(examples_dir).read_bytes()
    assert cli("apply", "--auto-approve", examples_dir).exit_code == 0
    # As if that run died after its PUT landed, before the state write that records it.
    state_path(examples_dir).write_bytes(before)
    assert cli("drift", examples_dir).exit_code == 2  # the tool's own write looks like drift

    run = cli("apply", "--auto-approve", examples_dir)
    assert run.exit_code == 0, run.output
    assert "[1/1] workspace-template/department=research/vscode: recorded" in run.stdout
    assert cli("drift", examples_dir).exit_code == 0
    plan = cli("plan", "--detailed-exitcode", examples_dir)
    assert plan.exit_code == 0 and plan.stdout == "No changes.\n", plan.output


SECRET_ENV = "K_APPLY_TOKEN"
SECRET = "k-SeCrEt-5e6f7a8b9c"  # only ever in the environment of the run
SECRET_DOC = f"""
kind: TrainingTemplate
metadata: {{name: uses-secret, scope: {{project: team-a}}}}
spec:
  image: python:3.11
  args: --token=${{{SECRET_ENV}}}
  environmentVariables:
    - {{name: TOKEN, value: "${{{SECRET_ENV}}}"}}
"""


def test_env_values_never_reach_apply_output_or_the_plan_file(
    cli: Cli, examples_dir: Path, tmp_path: Path, api: Api
) -> None:
    write_docs(examples_dir / "templates" / "secret.yaml", [SECRET_DOC])
    env = {SECRET_ENV: SECRET}
    applied = cli("apply", "--auto-approve", examples_dir, env=env)
    assert applied.exit_code == 0, applied.output
    sent = next(m for m in server_templates(api) if m["name"] == "uses-secret")
    detail = api.get(f"/api/v1/workload-templates/trainings/{sent['id']}").json()
    assert detail["spec"]["args"] == f"--token={SECRET}"  # the server did get the value

    env = {SECRET_ENV: SECRET + "-rotated"}
    plan_file = tmp_path / "rotate.plan"
    planned = cli("plan", examples_dir, "-out", plan_file, env=env)
    assert planned.exit_code == 0, planned.output
    from_file = cli("apply", plan_file, env=env)
    assert from_file.exit_code == 0, from_file.output
    assert "uses-secret: update done" in from_file.stdout
    shown = cli("state", "show", "-C", examples_dir, "training-template/project=team-a/uses-secret")
    assert shown.exit_code == 0, shown.output
    outputs = [applied.stdout, applied.stderr, planned.stdout, planned.stderr, shown.stdout]
    outputs += [from_file.stdout, from_file.stderr, plan_file.read_text(encoding="utf-8")]
    for text in outputs:
        assert SECRET not in text
