"""`runai-reconcile validate`: the examples pass, the three output formats, no secret leaks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SECRET = "s3cr3t-Value-42"

TWO_PROBLEMS = """\
kind: WorkspaceTemplate
metadata:
  name: jupyter
  scope: {project: team-a}
spec:
  imagee: jupyter/scipy-notebook
  imagePullPolicy: "${PULL_POLICY}"
"""


def _run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_examples_are_valid(fmt: str) -> None:
    code, out, err = _run(str(EXAMPLES), "--format", fmt)
    assert code == 0, out + err
    if fmt == "json":
        document = json.loads(out)
        assert document["valid"] is True
        assert (document["documents"], document["files"], document["problems"]) == (23, 11, [])
    elif fmt == "text":
        assert out == f"Valid: 23 documents in 11 files under {EXAMPLES} (checked offline).\n"
    else:
        assert "::error" not in out


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "ws.yaml").write_text(TWO_PROBLEMS)
    return directory


def test_text_format(broken: Path) -> None:
    code, out, err = _run(str(broken), env={"PULL_POLICY": SECRET})
    assert code == 1
    assert out.splitlines() == [
        f"{broken / 'ws.yaml'}:6:3: error: unknown field 'imagee' (did you mean 'image'?) "
        "[$.spec.imagee]",
        f"{broken / 'ws.yaml'}:7:20: error: must be one of: Always, Never, IfNotPresent "
        "[$.spec.imagePullPolicy]",
    ]
    assert "2 problem(s)" in err


def test_json_format(broken: Path) -> None:
    code, out, _ = _run(str(broken), "--format", "json", env={"PULL_POLICY": SECRET})
    assert code == 1
    document = json.loads(out)
    assert document["valid"] is False
    assert document["format_version"] == "1.0"
    assert [(p["line"], p["col"], p["json_path"]) for p in document["problems"]] == [
        (6, 3, "$.spec.imagee"),
        (7, 20, "$.spec.imagePullPolicy"),
    ]
    assert {p["severity"] for p in document["problems"]} == {"error"}
    assert document["addresses"] == ["workspace-template/project=team-a/jupyter"]


def test_github_format(broken: Path) -> None:
    code, out, _ = _run(str(broken), "--format", "github", env={"PULL_POLICY": SECRET})
    assert code == 1
    file = str(broken / "ws.yaml").replace(":", "%3A").replace(",", "%2C")
    assert out.splitlines()[0] == (
        f"::error file={file},line=6,col=3::unknown field 'imagee' (did you mean 'image'?) "
        "[$.spec.imagee]"
    )


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_env_values_never_appear(broken: Path, fmt: str) -> None:
    # The same value written inline would be echoed ("got '...'"); from the environment never.
    code, out, err = _run(str(broken), "--format", fmt, env={"PULL_POLICY": SECRET})
    assert code == 1
    assert SECRET not in out + err
    inline = broken.parent / "inline"
    inline.mkdir()
    (inline / "ws.yaml").write_text(TWO_PROBLEMS.replace('"${PULL_POLICY}"', SECRET))
    _, shown, _ = _run(str(inline), "--format", fmt)
    assert SECRET in shown


def test_github_escapes_newlines_and_percent(tmp_path: Path) -> None:
    (tmp_path / "a,b.yaml").write_text(
        'kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n"odd\\nkey%": 1\n'
    )
    _, out, _ = _run(str(tmp_path), "--format", "github")
    file = str(tmp_path / "a,b.yaml").replace(":", "%3A").replace(",", "%2C")
    assert out.splitlines() == [
        # the message shows the key escaped, as the JSON path does
        f"::error file={file},line=4,col=1::unknown field 'odd\\nkey%25' " + r'[$["odd\nkey%25"]]'
    ]


def test_validate_needs_no_server(tmp_path: Path) -> None:
    # An unreachable server in the settings changes nothing: validate is offline.
    (tmp_path / "runai-reconcile.yaml").write_text("server: https://unreachable.invalid\n")
    (tmp_path / "a.yaml").write_text("kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n")
    code, out, _ = _run(str(tmp_path))
    assert code == 0, out


def test_given_files_only_their_problems_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "config")
    config = tmp_path / "config"
    (config / "bad.yaml").write_text("kind: WorkloadType\nmetadata: {name: Bad}\nspec: {x: 1}\n")
    (config / "also-bad.yaml").write_text("kind: WorkloadType\nmetadata: {name: B2}\nspec: []\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run("config/bad.yaml", "config/templates/workspaces.yaml")
    assert code == 1
    assert out.splitlines() == ["config/bad.yaml:3:8: error: unknown field 'x' [$.spec.x]"]
    code, out, _ = _run("config/templates/workspaces.yaml", "config/workload-types.yaml")
    assert code == 0, out
    assert out == "Valid: 2 given files, each read within its config directory (checked offline).\n"


def test_a_given_file_is_checked_with_its_whole_directory(tmp_path: Path) -> None:
    # Duplicate addresses are found across files, even when only one of them is given.
    doc = "kind: WorkloadType\nmetadata: {name: Same}\nspec: {}\n"
    (tmp_path / "a.yaml").write_text(doc)
    (tmp_path / "b.yaml").write_text(doc)
    code, out, _ = _run(str(tmp_path / "b.yaml"))
    assert code == 1 and "b.yaml" in out and "workload-type/Same" in out


def test_the_environment_variable_overrides_the_settings(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: WorkloadType\nmetadata: {name: Job}\nspec: {}\n")
    assert _run(str(tmp_path), env={"RUNAI_RECONCILE_ENVIRONMENT": "staging"})[0] == 0
    code, out, err = _run(str(tmp_path), env={"RUNAI_RECONCILE_ENVIRONMENT": "../escape"})
    assert code == 1
    assert "environment '../escape' is not a name" in out + err
