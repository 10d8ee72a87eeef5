"""`plan -out FILE` and `show FILE` end to end: owner-only plan files without secret values,
rendered back in every format; `--format json` holds the JSON contract.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.helpers import PLAN_SCHEMA, Cli, put_on_server, state_path, write_docs

SECRET_ENV = "H_TEST_API_KEY"
SECRET = "sEcReT-value-9f8e7d6c"  # only ever in the environment of the run
OTHER_SECRET = "another-SeCrEt-1a2b3c"
MARKED = "mArKeD-value-5e4d3c"  # written in the config, tagged `!sensitive`
OTHER_MARKED = "oThEr-MaRkEd-6f5e4d"
ADDRESS = "training-template/project=team-a/with-secret"
DOC = f"""
kind: TrainingTemplate
metadata:
  name: with-secret
  scope: {{project: team-a}}
spec:
  image: python:3.11
  args: --api-key=${{{SECRET_ENV}}}
  environmentVariables:
    - {{name: API_KEY, value: "${{{SECRET_ENV}}}"}}
    - {{name: MODE, value: batch}}
    - {{name: DB_PASSWORD, value: !sensitive {MARKED}}}
"""


def _schema() -> Any:
    return json.loads(PLAN_SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture
def secret_dir(examples_dir: Path) -> Path:
    write_docs(examples_dir / "templates" / "secret.yaml", [DOC])
    return examples_dir


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET, OTHER_SECRET, MARKED, OTHER_MARKED):
            assert secret not in text


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_saved_plan_is_private_secret_free_and_shows_as_planned(
    cli: Cli, secret_dir: Path, tmp_path: Path, fmt: str
) -> None:
    plan_file = tmp_path / "out" / "the.plan"
    plan_file.parent.mkdir()
    env = {SECRET_ENV: SECRET}
    run = cli("plan", secret_dir, "-out", plan_file, "--format", fmt, env=env)
    assert run.exit_code == 0, run.output
    assert f"Saved the plan to {plan_file}" in run.stderr
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    saved = plan_file.read_text(encoding="utf-8")
    _no_secret(run.stdout, run.stderr, saved)
    document = json.loads(saved)
    jsonschema.validate(document, _schema())
    change = next(c for c in document["changes"] if c["address"] == ADDRESS)
    assert set(change["after"]["spec"]["args"]) == {"sensitive_sha256"}  # a salted hash
    assert "sensitive_salt" in document

    shown = cli("show", plan_file, "--format", fmt, env={SECRET_ENV: None})
    assert shown.exit_code == 0, shown.output
    _no_secret(shown.stdout, shown.stderr)
    assert shown.stdout == run.stdout  # the same plan, rendered the same way
    assert ADDRESS in shown.stdout and "(sensitive)" in shown.stdout


def test_plan_file_is_private_even_when_it_existed(
    cli: Cli, examples_dir: Path, tmp_path: Path
) -> None:
    plan_file = tmp_path / "old.plan"
    plan_file.write_text("{}", encoding="utf-8")
    plan_file.chmod(0o644)
    assert cli("plan", examples_dir, "-out", plan_file).exit_code == 0
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600


def test_changed_secret_shows_as_a_change_of_hidden_values(
    cli: Cli, secret_dir: Path, tmp_path: Path
) -> None:
    put_on_server(secret_dir, cli.url, env={SECRET_ENV: SECRET})
    env = {SECRET_ENV: OTHER_SECRET}
    plan_file = tmp_path / "rotate.plan"
    out: dict[str, str] = {}
    for fmt in ("text", "json", "markdown"):
        run = cli(
            "plan", secret_dir, "--format", fmt, "--detailed-exitcode", "-out", plan_file, env=env
        )
        assert run.exit_code == 2, run.output
        drift = cli("drift", secret_dir, "--format", fmt, env=env)
        out[fmt] = run.stdout
        out[f"{fmt} file"] = plan_file.read_text(encoding="utf-8")
        out[f"{fmt} rest"] = run.stderr + drift.stdout + drift.stderr
    _no_secret(*out.values())
    assert f"~ {ADDRESS}" in out["text"]
    assert "~ spec.args: (sensitive) -> (sensitive)" in out["text"]
    plan = json.loads(out["json"])
    jsonschema.validate(plan, _schema())
    (change,) = [c for c in plan["changes"] if c["action"] != "no-op"]
    assert change["address"] == ADDRESS
    assert {f["path"]: f["sensitive"] for f in change["fields"]} == {
        "spec.args": True,
        "spec.environmentVariables[name=API_KEY].value": True,
    }


def test_plain_values_show_and_hidden_values_stay_hidden_in_every_format(
    cli: Cli, secret_dir: Path, tmp_path: Path
) -> None:
    put_on_server(secret_dir, cli.url, env={SECRET_ENV: SECRET})
    changed = DOC.replace("value: batch", "value: stream").replace(MARKED, OTHER_MARKED)
    write_docs(secret_dir / "templates" / "secret.yaml", [changed])
    env = {SECRET_ENV: OTHER_SECRET}
    plan_file = tmp_path / "changed.plan"
    out: dict[str, str] = {}
    for fmt in ("text", "json", "markdown"):
        run = cli("plan", secret_dir, "--format", fmt, "-out", plan_file, env=env)
        assert run.exit_code == 0, run.output
        out[fmt] = run.stdout
        out[f"{fmt} file"] = plan_file.read_text(encoding="utf-8")
        shown = cli("show", plan_file, "--format", fmt, env={SECRET_ENV: None})
        assert shown.stdout == run.stdout, shown.output
    _no_secret(*out.values(), state_path(secret_dir).read_text(encoding="utf-8"))
    mode = "spec.environmentVariables[name=MODE].value"
    assert f'~ {mode}: "batch" -> "stream"' in out["text"]
    assert (
        "~ spec.environmentVariables[name=DB_PASSWORD].value: (sensitive) -> (sensitive)"
        in (out["text"])
    )
    assert "batch" in out["markdown"] and "stream" in out["markdown"]
    (change,) = [c for c in json.loads(out["json"])["changes"] if c["action"] != "no-op"]
    fields = {f["path"]: f for f in change["fields"]}
    assert (fields[mode]["before"], fields[mode]["after"], fields[mode]["sensitive"]) == (
        "batch",
        "stream",
        False,
    )
    assert fields["spec.environmentVariables[name=API_KEY].value"]["sensitive"] is True
    assert fields["spec.environmentVariables[name=DB_PASSWORD].value"]["sensitive"] is True
    saved = json.loads(out["json file"])
    (stored,) = [c for c in saved["changes"] if c["action"] != "no-op"]
    variables = {e["name"]: e["value"] for e in stored["after"]["spec"]["environmentVariables"]}
    assert variables["MODE"] == "stream"
    assert set(variables["API_KEY"]) == set(variables["DB_PASSWORD"]) == {"sensitive_sha256"}


def test_show_refuses_what_is_not_a_plan_file(cli: Cli, tmp_path: Path) -> None:
    not_json = tmp_path / "notes.txt"
    not_json.write_text("hello", encoding="utf-8")
    run = cli("show", not_json)
    assert run.exit_code == 1 and "not a plan file" in run.stderr
    missing = cli("show", tmp_path / "missing.plan")
    assert missing.exit_code in (1, 64) and "missing.plan" in missing.stderr


def test_secret_values_never_reach_the_state_file(cli: Cli, secret_dir: Path) -> None:
    put_on_server(secret_dir, cli.url, env={SECRET_ENV: SECRET})
    _no_secret(state_path(secret_dir).read_text(encoding="utf-8"))


def test_hashed_secrets_in_state_still_plan_and_drift_correctly(
    cli: Cli, secret_dir: Path, api: Any
) -> None:
    """State keeps salted hashes: an unchanged secret is no change and no drift, a changed
    one (in config or on the server) is, and neither value is ever shown."""
    env = {SECRET_ENV: SECRET}
    put_on_server(secret_dir, cli.url, env=env)
    entry = json.loads(state_path(secret_dir).read_text(encoding="utf-8"))["resources"][ADDRESS]
    stored = entry["last_applied"]["spec"]["environmentVariables"]
    # Values from `${ENV}` and tagged `!sensitive` are hashed; a plain value is kept.
    values = {e["name"]: e["value"] for e in stored}
    assert values["MODE"] == "batch"
    assert set(values["API_KEY"]) == set(values["DB_PASSWORD"]) == {"sensitive_sha256"}
    assert set(entry["last_applied"]["spec"]["args"]) == {"sensitive_sha256"}

    same = cli("plan", "--detailed-exitcode", "--target", ADDRESS, secret_dir, env=env)
    assert same.exit_code == 0 and "No changes." in same.stdout, same.output
    assert cli("drift", secret_dir, env=env).exit_code == 0

    rotated = cli(
        "plan",
        "--detailed-exitcode",
        "--target",
        ADDRESS,
        secret_dir,
        env={SECRET_ENV: OTHER_SECRET},
    )
    assert rotated.exit_code == 2, rotated.output
    assert "(sensitive)" in rotated.stdout
    _no_secret(rotated.output)

    template_id = entry["remote_id"]
    api.patch(
        f"/api/v1/workload-templates/trainings/{template_id}",
        {
            "spec": {
                "environmentVariables": [
                    {"name": "API_KEY", "value": OTHER_SECRET},
                    {"name": "MODE", "value": "batch"},
                    {"name": "DB_PASSWORD", "value": MARKED},
                ]
            }
        },
    )
    drifted = cli("drift", secret_dir, env=env)
    assert drifted.exit_code == 2, drifted.output
    assert ADDRESS in drifted.stdout and "(sensitive)" in drifted.stdout
    _no_secret(drifted.output)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_removed_document_keeps_its_secrets_hidden(
    cli: Cli, secret_dir: Path, tmp_path: Path, fmt: str
) -> None:
    """Once the document is gone, only the state's hashes say which live values are secret."""
    put_on_server(secret_dir, cli.url, env={SECRET_ENV: SECRET})
    (secret_dir / "templates" / "secret.yaml").unlink()
    plan_file = tmp_path / "delete.plan"
    run = cli("plan", secret_dir, "-out", plan_file, "--format", fmt, "--target", ADDRESS)
    assert run.exit_code == 0, run.output
    assert ADDRESS in run.stdout
    _no_secret(run.output, plan_file.read_text(encoding="utf-8"))
