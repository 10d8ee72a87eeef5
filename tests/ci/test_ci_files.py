"""The CI files users copy: every workflow, the action and the GitLab pipeline valid against
their published schemas (check-jsonschema's built-in copies: no network), the Dockerfile and
the Kubernetes CronJob holding what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci.conftest import CI, REPO, load_all_yaml, load_yaml

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
WORKFLOWS = sorted((CI / "github").glob("*.yml"))
ACTION = REPO / "action.yml"


def _check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_github_workflows_match_the_published_schema() -> None:
    assert [p.name for p in WORKFLOWS] == ["runai-apply.yml", "runai-drift.yml", "runai-plan.yml"]
    result = _check("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_matches_the_published_schema() -> None:
    result = _check("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gitlab_pipeline_matches_the_published_schema() -> None:
    result = _check("vendor.gitlab-ci", CI / "gitlab" / ".gitlab-ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_does_fail_on_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "workflow.yml"
    broken.write_text("on: push\njobs:\n  plan:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert _check("vendor.github-workflows", broken).returncode == 1


def test_the_action_has_the_inputs_and_outputs_it_documents() -> None:
    action = load_yaml(ACTION)
    assert {"command", "config-dir", "environment", "version"} <= set(action["inputs"])
    assert set(action["outputs"]) == {"exit-code", "markdown-file"}
    assert action["runs"]["using"] == "composite"


def test_the_workflows_use_this_action_for_each_command() -> None:
    used = {
        (path.name, step["with"]["command"])
        for path in WORKFLOWS
        for job in load_yaml(path)["jobs"].values()
        for step in job["steps"]
        if "runai-reconcile@" in step.get("uses", "")
    }
    assert used == {
        ("runai-plan.yml", "validate"),
        ("runai-plan.yml", "fmt"),
        ("runai-plan.yml", "plan"),
        ("runai-apply.yml", "apply"),
        ("runai-drift.yml", "drift"),
    }
    apply_steps = load_yaml(CI / "github" / "runai-apply.yml")["jobs"]["apply"]["steps"]
    download = next(s for s in apply_steps if "download-artifact" in s.get("uses", ""))
    assert download["with"]["name"] == "runai-plan"  # the artifact the plan job uploads


def test_the_gitlab_pipeline_has_its_stages_and_a_manual_apply_of_the_saved_plan() -> None:
    pipeline = load_yaml(CI / "gitlab" / ".gitlab-ci.yml")
    assert pipeline["stages"] == ["validate", "plan", "apply", "drift"]
    apply = pipeline["apply"]
    assert apply["rules"][0]["when"] == "manual" and "CI_DEFAULT_BRANCH" in apply["rules"][0]["if"]
    assert apply["script"] == ['runai-reconcile apply runai.plan.json "$CONFIG_DIR"']
    assert "runai.plan.json" in pipeline["plan"]["artifacts"]["paths"]
    assert pipeline["drift"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]


def test_the_dockerfile_installs_this_repository_and_runs_as_a_non_root_user() -> None:
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    instructions = [line.split(None, 1) for line in lines]
    assert re.fullmatch(r"python:3\.\d+-slim", instructions[0][1])
    copied = {source for op, args in instructions if op == "COPY" for source in args.split()[:-1]}
    assert {"pyproject.toml", "reconcile", "schemas"} <= copied
    assert all((REPO / source).exists() for source in copied)
    user = [args for op, args in instructions if op == "USER"]
    assert user and user[-1] not in ("0", "root")
    last_run = max(i for i, (op, _) in enumerate(instructions) if op == "RUN")
    assert [op for op, _ in instructions].index("USER") > last_run  # nothing runs as root after
    assert instructions[-2:] == [
        ["ENTRYPOINT", '["runai-reconcile"]'],
        ["CMD", '["--help"]'],
    ]


def test_the_cronjob_reads_credentials_from_a_secret_as_a_non_root_user() -> None:
    (cronjob,) = load_all_yaml(CI / "kubernetes" / "drift-cronjob.yaml")
    assert (cronjob["apiVersion"], cronjob["kind"]) == ("batch/v1", "CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["args"][:3] == ["drift", "--format", "json"]
    assert container["envFrom"] == [{"secretRef": {"name": "runai-reconcile-credentials"}}]
    mounted = {m["name"] for c in [*pod["initContainers"], container] for m in c["volumeMounts"]}
    assert mounted <= {v["name"] for v in pod["volumes"]}


@pytest.mark.parametrize("name", ["runai-reconcile-validate", "runai-reconcile-fmt"])
def test_the_pre_commit_hooks_are_declared(name: str) -> None:
    hooks = {hook["id"]: hook for hook in load_yaml(REPO / ".pre-commit-hooks.yaml")}
    assert hooks[name]["language"] == "python"
    assert hooks[name]["entry"].startswith("runai-reconcile ")


def test_a_folder_marked_ignored_is_not_read_as_config(tmp_path: Path) -> None:
    # examples/ci/ sits inside the examples' config directory; its marker file keeps the
    # workflows and manifests out of what validate and fmt read.
    assert (CI / ".runai-reconcile-ignore").exists()
    (tmp_path / "types.yaml").write_text("kind: WorkloadType\nmetadata: {name: J}\nspec: {}\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "cronjob.yaml").write_text("apiVersion: batch/v1\nkind: CronJob\n")
    exe = str(Path(sys.executable).parent / "runai-reconcile")
    run = [exe, "validate", str(tmp_path)]
    assert subprocess.run(run, capture_output=True, timeout=120, check=False).returncode == 1
    (tmp_path / "deploy" / ".runai-reconcile-ignore").touch()
    result = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 documents in 1 files" in result.stdout
