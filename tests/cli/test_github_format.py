"""`--format github` end to end: config problems as annotations GitHub reads back to the
right file, line and column; plan, apply and drift append their Markdown to the job summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.render import markdown
from tests.ci.workflow_commands import parse
from tests.cli.helpers import Cli, put_on_server, write_docs

BAD = """\
kind: WorkspaceTemplate
metadata:
  name: jupyter
  scope: {project: team-a}
spec:
  imagee: "50%: odd,\\r\\nvalue"
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    directory = tmp_path / "cfg, one:two"  # ':' and ',' must be escaped in the property
    write_docs(directory / "ws.yaml", [BAD])
    write_docs(directory / "wt.yaml", ["kind: WorkloadType\nmetadata: {name: J}\nspec: {x: 1}"])
    return directory


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift"])
def test_config_problems_are_annotations_read_back_exactly(
    cli: Cli, broken: Path, command: str
) -> None:
    extra = ["--auto-approve"] if command == "apply" else []
    run = cli(command, "--format", "github", *extra, broken)
    assert run.exit_code == 1, run.output
    commands = parse(run.stdout)
    assert [c.name for c in commands] == ["error", "error"]
    first, second = commands
    assert first.properties == {"file": str(broken / "ws.yaml"), "line": "6", "col": "3"}
    assert first.message == "unknown field 'imagee' (did you mean 'image'?) [$.spec.imagee]"
    assert second.properties["file"] == str(broken / "wt.yaml")
    assert second.properties["line"] == "3"


def test_an_annotation_message_keeps_percent_and_newlines(tmp_path: Path, cli: Cli) -> None:
    write_docs(
        tmp_path / "c" / "a.yaml",
        ['kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n"odd\\nkey%,: x": 1'],
    )
    run = cli("validate", "--format", "github", tmp_path / "c")
    (command,) = parse(run.stdout)
    assert command.message.startswith("unknown field 'odd\\nkey%,: x'")  # shown escaped
    assert command.properties["file"] == str(tmp_path / "c" / "a.yaml")


def test_plan_apply_and_drift_append_markdown_to_the_job_summary(
    cli: Cli, examples_dir: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    plan = cli("plan", "--format", "github", "--detailed-exitcode", examples_dir, env=env)
    assert plan.exit_code == 2, plan.output
    assert "will perform the following actions" in plan.stdout and "\x1b[" not in plan.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n" + markdown.marker("plan", "default") + "\n")
    assert "**Plan: 20 to add, 2 to change," in text and "```mermaid" in text

    applied = cli("apply", "--format", "github", "--auto-approve", examples_dir, env=env)
    assert applied.exit_code == 0, applied.output
    text = summary.read_text()
    assert markdown.marker("apply", "default") + "\n### runai-reconcile apply" in text
    assert "**Apply complete: 22 applied.**" in text

    drift = cli("drift", "--format", "github", examples_dir, env=env)
    assert drift.exit_code == 0, drift.output
    assert summary.read_text().endswith("**No drift.**\n\n")


def test_other_formats_leave_the_job_summary_alone(
    cli: Cli, examples_dir: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    put_on_server(examples_dir, cli.url)
    for fmt in ("text", "json", "markdown"):
        run = cli("plan", "--format", fmt, examples_dir, env={"GITHUB_STEP_SUMMARY": str(summary)})
        assert run.exit_code == 0, run.output
    assert not summary.exists()
