"""Reading a plan file: every problem names the file, the JSON path and what was expected
(checked against the published schema, then for what a schema cannot say); signed plan files
(`RUNAI_RECONCILE_PLAN_KEY`); plan files of older formats still show and apply.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconcile.diff import digest
from tests.cli.helpers import REPO, Cli
from tests.cli.planfile_helpers import Saved, managed, planned, server_writes, state_bytes
from tests.emulator.helpers import Api

KEY = "plan-signing-key-7d1f0c"
KEY_ENV = "RUNAI_RECONCILE_PLAN_KEY"
SCHEMA = REPO / "schemas" / "plan-file.json"


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_saved_plan_file_holds_to_the_published_schema(
    saved: Saved,
) -> None:
    plan_file = saved.plan_file
    command = [sys.executable, "-m", "check_jsonschema", "--schemafile", SCHEMA, plan_file]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = plan_file.with_name("broken.json")
    broken.write_text(plan_file.read_text(encoding="utf-8").replace('"wave"', '"waves"'))
    refused = subprocess.run([*command[:-1], broken], capture_output=True, text=True, check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["changes"][0].update(action="obliterate"),
            "must be one of: create, update, replace, delete, forget, no-op "
            "(got 'obliterate') [$.changes[0].action]",
        ),
        (
            lambda d: d["binding"].update(state_serial="7"),
            "expected integer, got string [$.binding.state_serial]",
        ),
        (
            lambda d: d["binding"].pop("desired_digest"),
            "missing required field 'desired_digest' [$.binding.desired_digest]",
        ),
        (
            lambda d: d["changes"][0].update(wave=-1),
            "must be at least 0 [$.changes[0].wave]",
        ),
        (
            lambda d: d.update(surprise=1),
            "unknown field 'surprise' [$.surprise]",
        ),
        (
            lambda d: d["changes"][0].update(address="bogus-kind/project=team-a/x"),
            "unknown kind 'bogus-kind' [$.changes[0].address]",
        ),
        (
            lambda d: d["changes"][0].update(actions=["forget"]),
            'must be ["create"] for action create [$.changes[0].actions]',
        ),
        (
            lambda d: d["summary"].update(add=9),
            "must be 1 (what the changes count) [$.summary.add]",
        ),
        (
            lambda d: d["binding"].update(config_dir="/abs/config"),
            "must be relative to where `plan` ran [$.binding.config_dir]",
        ),
    ],
    ids=[
        "enum",
        "type",
        "required",
        "minimum",
        "unknown-field",
        "unknown-kind",
        "actions",
        "summary",
        "absolute-dir",
    ],
)
def test_each_problem_names_the_file_the_path_and_what_was_expected(
    cli: Cli, api: Api, saved: Saved, edit: Any, expected: str
) -> None:
    plan_file, document = saved.plan_file, saved.document
    document["changes"].sort(key=lambda c: c["action"] != "create")  # the create first
    edit(document)
    document["binding"]["changes_digest"] = digest(document["changes"])
    _write(plan_file, document)
    api.clear_log()
    for command in ("show", "apply"):
        run = cli(command, plan_file)
        assert run.exit_code == 1, run.output
        assert f"Error: {plan_file} is not a valid plan file" in run.stderr
        assert f"  {plan_file}: {expected}" in run.stderr, run.stderr
    assert server_writes(api) == []


def test_a_signed_plan_applies_only_with_its_key(cli: Cli, api: Api, tmp_path: Path) -> None:
    config = tmp_path / "config"
    managed(cli, config)
    plan_file = tmp_path / "signed.json"
    run = cli("plan", config, "-out", plan_file, env={KEY_ENV: KEY})
    assert run.exit_code == 0, run.output
    assert f"Saved the plan to {plan_file} (signed with {KEY_ENV})" in run.stderr
    planned(cli, config, plan_file, env={KEY_ENV: KEY})
    text = plan_file.read_text(encoding="utf-8")
    assert json.loads(text)["signature"]["algorithm"] == "hmac-sha256"
    assert KEY not in text and KEY not in run.output
    state = state_bytes(config)
    api.clear_log()

    wrong = cli("apply", plan_file, env={KEY_ENV: "another-key"})
    assert wrong.exit_code == 1, wrong.output
    assert f"{plan_file} has a bad signature" in wrong.stderr
    assert "another-key" not in wrong.output

    document = json.loads(text)
    document["binding"]["ttl_seconds"] = 10**9  # signed: no edit passes, harmless or not
    edited = tmp_path / "edited.json"
    _write(edited, document)
    tampered = cli("apply", edited, env={KEY_ENV: KEY})
    assert tampered.exit_code == 1 and "bad signature" in tampered.stderr
    assert server_writes(api) == [] and state_bytes(config) == state

    good = cli("apply", plan_file, env={KEY_ENV: KEY})
    assert good.exit_code == 0, good.output
    assert KEY not in good.output and KEY not in (state_bytes(config) or b"").decode()


def test_an_unsigned_plan_is_refused_where_a_key_is_set(cli: Cli, api: Api, saved: Saved) -> None:
    plan_file, document = saved.plan_file, saved.document
    assert "signature" not in document
    api.clear_log()
    run = cli("apply", plan_file, env={KEY_ENV: KEY})
    assert run.exit_code == 1, run.output
    assert f"{plan_file} is not signed, and {KEY_ENV} is set" in run.stderr
    assert server_writes(api) == []
    assert cli("apply", plan_file, env={KEY_ENV: None}).exit_code == 0  # no key: no check


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_older_plan_formats_still_show_and_apply(cli: Cli, saved: Saved, version: str) -> None:
    plan_file, document = saved.plan_file, saved.document
    document["format_version"] = version
    for key in ("changes_digest", "selection"):
        del document["binding"][key]
    if version == "1.0":
        for change in document["changes"]:
            del change["records_state"]
        del document["summary"]["record"]
    _write(plan_file, document)
    shown = cli("show", plan_file)
    assert shown.exit_code == 0, shown.output
    applied = cli("apply", plan_file)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 3 applied." in applied.stdout
