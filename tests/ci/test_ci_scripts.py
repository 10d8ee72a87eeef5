"""The shell the CI examples run, run for real against the emulator: the action's command
step (exit codes and the Markdown report caught for the comment), its exit-code step, and
the cron drift script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from reconcile.model import Address
from tests.ci.conftest import CI, REPO, load_yaml
from tests.ci.workflow_commands import parse
from tests.cli.helpers import cli_env, copy_examples, put_on_server, write_docs
from tests.emulator.helpers import Api

BIN = Path(sys.executable).parent
BATCH = "training-template/tenant/batch-1gpu"


def _step(step_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    steps = load_yaml(REPO / "action.yml")["runs"]["steps"]
    if step_id is not None:
        return next(s for s in steps if s.get("id") == step_id)
    return next(s for s in steps if s.get("name") == name)


def _environment(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNAI_", "GITHUB_"))}
    env.update({k: v for k, v in cli_env(url).items() if v is not None})
    env.pop("RUNAI_RECONCILE_DEBUG", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


class ActionRun:
    """The action's command step in a workspace, as the runner runs it (bash, its env)."""

    def __init__(self, workspace: Path, url: str) -> None:
        self.workspace, self.url = workspace, url
        self.summary = workspace / "summary.md"
        self.output = workspace / "github-output"

    def __call__(self, command: str, **inputs: str) -> tuple[dict[str, str], str]:
        self.output.write_text("")
        temp = self.workspace / "runner-temp"
        temp.mkdir(exist_ok=True)
        env = _environment(
            self.url,
            COMMAND=command,
            CONFIG_DIR=inputs.get("config_dir", "config"),
            PLAN_FILE=inputs.get("plan_file", ""),
            INPUT_ENVIRONMENT=inputs.get("environment", ""),
            RUNNER_TEMP=str(temp),
            GITHUB_OUTPUT=str(self.output),
            GITHUB_STEP_SUMMARY=str(self.summary),
        )
        script = _step(step_id="run")["run"]
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr  # the step itself succeeds
        outputs = dict(line.split("=", 1) for line in self.output.read_text().splitlines())
        return outputs, result.stdout


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy_examples(tmp_path / "config")
    return tmp_path


def test_the_action_plans_applies_and_checks_drift(
    workspace: Path, emulator: EmbeddedEmulator
) -> None:
    run = ActionRun(workspace, emulator.url)
    outputs, _ = run("plan", plan_file="runai.plan.json", environment="staging")
    assert outputs["exit-code"] == "2"  # changes present
    report = Path(outputs["markdown-file"]).read_text()
    assert report.splitlines()[0] == "<!-- runai-reconcile plan environment=staging -->"
    assert report in run.summary.read_text()  # the job summary gets it too
    assert (workspace / "runai.plan.json").exists()

    outputs, stdout = run("apply", plan_file="runai.plan.json", environment="staging")
    assert outputs["exit-code"] == "0", stdout
    assert "Apply complete" in stdout

    outputs, _ = run("drift")
    assert outputs["exit-code"] == "0"
    assert "**No drift.**" in Path(outputs["markdown-file"]).read_text()

    outputs, _ = run("apply", plan_file="runai.plan.json")  # applied already: stale
    assert outputs["exit-code"] == "1"


def test_the_action_passes_config_problems_as_annotations(
    workspace: Path, emulator: EmbeddedEmulator
) -> None:
    write_docs(workspace / "config" / "bad.yaml", ["kind: WorkloadType\nmetadata: {name: J}"])
    run = ActionRun(workspace, emulator.url)
    for command in ("validate", "plan"):
        outputs, stdout = run(command)
        assert outputs["exit-code"] == "1"
        assert "markdown-file" not in outputs
        (annotation,) = parse(stdout)
        assert annotation.properties["file"] == "config/bad.yaml"
    outputs, stdout = run("fmt")
    assert outputs["exit-code"] == "0", stdout


@pytest.mark.parametrize(
    ("command", "code", "step_exit"),
    [("plan", 0, 0), ("plan", 2, 0), ("plan", 1, 1), ("drift", 2, 2), ("apply", 3, 3)],
)
def test_the_action_passes_exit_codes_through(command: str, code: int, step_exit: int) -> None:
    script = _step(name="Exit code")["run"]
    env = {**os.environ, "CODE": str(code), "COMMAND": command}
    result = subprocess.run(["bash", "-e", "-c", script], env=env, timeout=30, check=False)
    assert result.returncode == step_exit


def test_the_cron_script_reports_drift_in_json_and_exit_codes(
    workspace: Path, emulator: EmbeddedEmulator, api: Api
) -> None:
    config, reports = workspace / "config", workspace / "reports"
    script = CI / "cron" / "drift-check.sh"
    env = _environment(emulator.url, RUNAI_RECONCILE=str(BIN / "runai-reconcile"))

    def check(*args: Path) -> int:
        run = [str(script), *map(str, args)]
        result = subprocess.run(run, env=env, capture_output=True, timeout=300, check=False)
        return result.returncode

    assert check() == 64
    state = put_on_server(config, emulator.url)
    assert check(config, reports) == 0
    assert json.loads((reports / "drift.json").read_text())["drift"] == []

    remote = state.entries[Address.parse(BATCH)].remote_id
    path = f"/api/v1/workload-templates/trainings/{remote}"
    edit = api.patch(path, {"spec": {"backoffLimit": 9}})
    assert edit.status_code == 200, edit.text
    assert check(config, reports) == 2
    report = json.loads((reports / "drift.json").read_text())
    assert [d["address"] for d in report["drift"]] == [BATCH]

    (config / "broken.yaml").write_text("kind: [\n")
    assert check(config, reports) == 1
    assert "YAML syntax" in (reports / "drift.log").read_text()
    assert json.loads((reports / "drift.json").read_text()) == report  # the last report is kept
