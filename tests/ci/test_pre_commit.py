"""The pre-commit hooks through the real `pre-commit`: `try-repo` against a commit of this
working tree installs the tool into pre-commit's own environment and runs both hooks on a
config repository (one slow test: the install reaches the package index once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci.conftest import REPO
from tests.cli.helpers import copy_examples

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
MESSY = "spec: {category: Train, priority: low}\nmetadata: {name: Messy}\nkind: WorkloadType\n"


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def _hooks_repo(destination: Path) -> Path:
    """This working tree (committed or not, as git would see it) as a fresh one-commit repo."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith(("tests/", "bench/")):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(destination, "init", "-q")
    _git(destination, "add", "-A")
    _git(destination, "commit", "-q", "-m", "hooks under test")
    return destination


@pytest.mark.slow
def test_both_hooks_through_pre_commit_try_repo(tmp_path: Path) -> None:
    hooks = _hooks_repo(tmp_path / "hooks")
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    config = copy_examples(consumer / "config")
    shutil.rmtree(config / "ci")
    (config / "bad.yaml").write_text("kind: WorkloadType\nmetadata: {name: Bad}\nspec: {x: 1}\n")
    (config / "messy.yaml").write_text(MESSY)
    _git(consumer, "init", "-q")
    _git(consumer, "add", "-A")
    env = {
        **os.environ,
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
    }

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), "try-repo", str(hooks), "--all-files"],
            cwd=consumer,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    first = try_repo()
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert "runai-reconcile validate" in out and "runai-reconcile fmt" in out
    assert "config/bad.yaml:3:" in out and "unknown field 'x'" in out  # file:line messages
    assert "would reformat config/messy.yaml" in out
    assert "workloads/web.yaml" not in out  # a valid file raises nothing

    (config / "bad.yaml").write_text("kind: WorkloadType\nmetadata: {name: Bad}\nspec: {}\n")
    fmt = [str(Path(sys.executable).parent / "runai-reconcile"), "fmt", str(config)]
    subprocess.run(fmt, check=True, capture_output=True, timeout=120)
    _git(consumer, "add", "-A")
    second = try_repo()
    assert second.returncode == 0, second.stdout + second.stderr
