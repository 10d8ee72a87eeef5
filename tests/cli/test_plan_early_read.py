"""`plan` and `drift` on a big config read the state and the server while worker processes
check the documents (reconcile/cli/session.py); what a user sees must not change: a bad config
is reported first, a failing server never delays that report with retries, and a failure of
the early read is met again, retried and in order, once the config is known to be good.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reconcile.desired import PARALLEL_BYTES
from tests.cli.helpers import Cli, put_on_server, state_path
from tests.emulator.helpers import Api

BAD_DOC = """
kind: WorkspaceTemplate
metadata:
  name: broken
  scope: {project: team-a}
spec:
  image: 42
"""


def make_big(config_dir: Path) -> None:
    """Pad one file past the size at which documents are read by worker processes."""
    path = config_dir / "templates" / "workspaces.yaml"
    padding = "# padding\n" * (PARALLEL_BYTES // 10 + 1)
    path.write_text(path.read_text(encoding="utf-8") + padding, encoding="utf-8")


def break_config(config_dir: Path) -> None:
    (config_dir / "broken.yaml").write_text(BAD_DOC.lstrip(), encoding="utf-8")


def repeated(api: Api) -> list[str]:
    seen = Counter(f"{e['method']} {e['path']}" for e in api.request_log()["requests"])
    return [call for call, times in seen.items() if times > 1]


@pytest.fixture
def big(examples_dir: Path) -> Path:
    make_big(examples_dir)
    return examples_dir


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_big_bad_config_is_reported_before_a_failing_server(
    cli: Cli, api: Api, big: Path, command: str
) -> None:
    break_config(big)
    api.set_faults(error_rate=1.0)
    run = cli(command, big)
    assert run.exit_code == 1, run.output
    assert "broken.yaml:6:10" in run.stderr and "$.spec.image" in run.stderr
    assert "Server:" not in run.stderr and "HTTP 5" not in run.output
    assert repeated(api) == [], "a failing call was retried before the config was reported"


def test_a_failed_early_read_is_read_again_with_retries(cli: Cli, api: Api, big: Path) -> None:
    put_on_server(big, cli.url)
    api.clear_log()
    # The early read's token request fails (no retry); the real read's first one too, and
    # its retry succeeds.
    api.set_faults(fail_next=2)
    run = cli("plan", big, "--detailed-exitcode")
    assert (run.exit_code, run.stdout) == (0, "No changes.\n"), run.output
    tokens = [e["status"] for e in api.request_log()["requests"] if e["path"] == "/api/v1/token"]
    assert tokens == [503, 503, 200]


def test_refused_credentials_are_reported_after_the_server_line(cli: Cli, big: Path) -> None:
    run = cli("plan", big, env={"RUNAI_CLIENT_SECRET": "wrong"})
    assert run.exit_code == 1, run.output
    assert run.stderr.index("Server:") < run.stderr.index("token request failed")


def test_a_big_bad_config_is_reported_before_an_unreadable_state(cli: Cli, big: Path) -> None:
    path = state_path(big)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    break_config(big)
    run = cli("plan", big)
    assert run.exit_code == 1 and "broken.yaml" in run.stderr and "state file" not in run.stderr
    make_big(big)  # still big; now only the state is wrong
    (big / "broken.yaml").unlink()
    run = cli("plan", big)
    assert run.exit_code == 1 and "state file" in run.stderr, run.output


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_state_of_another_server_is_refused_before_the_documents_are_known(
    cli: Cli, api: Api, big: Path, command: str
) -> None:
    put_on_server(big, cli.url)
    break_config(big)  # a bad config is reported only once the documents are checked
    api.clear_log()
    other = "http://127.0.0.1:9"  # nothing listens there, and nothing may be sent
    run = cli(command, big, env={"RUNAI_URL": other})
    assert run.exit_code == 1, run.output
    assert "belongs to server" in run.stderr and other in run.stderr
    assert "broken.yaml" not in run.stderr, "the refusal waited for the documents"
    assert api.request_log()["total"] == 0


def test_a_big_bad_config_is_reported_before_missing_credentials(cli: Cli, big: Path) -> None:
    no_credentials = {"RUNAI_CLIENT_ID": None, "RUNAI_CLIENT_SECRET": None, "RUNAI_TOKEN": None}
    break_config(big)
    run = cli("plan", big, env=no_credentials)
    assert run.exit_code == 1 and "broken.yaml" in run.stderr
    assert "RUNAI_" not in run.stderr, run.stderr
    (big / "broken.yaml").unlink()
    run = cli("plan", big, env=no_credentials)
    assert run.exit_code == 1 and "RUNAI_" in run.stderr, run.output


def test_a_big_config_plans_as_a_small_one(cli: Cli, api: Api, examples_dir: Path) -> None:
    put_on_server(examples_dir, cli.url)
    small = cli("plan", examples_dir, "--format", "json").json()
    api.clear_log()
    make_big(examples_dir)
    big = cli("plan", examples_dir, "--format", "json", "--detailed-exitcode")
    assert big.exit_code == 0 and big.json()["summary"] == small["summary"]
    assert repeated(api) == [], "what the early read fetched is not fetched again"


def test_kinds_the_state_does_not_own_yet_are_read_after_the_config(
    cli: Cli, api: Api, examples_dir: Path
) -> None:
    # State owns the templates only; the config also wants the workloads (detail reads).
    put_on_server(examples_dir, cli.url, only=["workspace-template/", "training-template/"])
    make_big(examples_dir)
    api.clear_log()
    run = cli("plan", examples_dir, "--format", "json")
    assert run.exit_code == 0, run.output
    creates = {c["address"] for c in run.json()["changes"] if c["action"] == "create"}
    assert {a for a in creates if a.startswith("workload/")} == {
        "workload/project=inference/model-gateway",
        "workload/project=team-b/pytorch-mnist",
    }
    assert repeated(api) == [], "each list is read once, early or after the config"
    paths = {e["path"] for e in api.request_log()["requests"]}
    assert {"/api/v1/workloads", "/api/v1/workload-types"} <= paths
