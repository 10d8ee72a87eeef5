"""`plan --server-dry-run` (and `server_dry_run:` in the settings) against the emulator: each
Workloads V2 create is sent with `dryRun=true`, a refusal fails the plan with the server's
message, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.helpers import Cli, write_docs
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api, get_token

V2 = "/api/v2/workloads"
TOKEN = "/api/v1/token"


def _workload(name: str, container: str) -> str:
    return f"""
kind: Workload
metadata: {{name: {name}, scope: {{project: team-a}}}}
spec:
  manifest:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: {name}}}
    spec:
      template:
        spec:
          containers: [{container}]
"""


def _config(tmp_path: Path, *, settings: str = "") -> Path:
    config = tmp_path / "config"
    # The cluster refuses a container without an image: no list the plan reads can tell.
    write_docs(
        config / "workloads.yaml",
        [_workload("good", "{name: app, image: nginx:1.27}"), _workload("bad", "{name: app}")],
    )
    (config / "runai-reconcile.yaml").write_text(f"state: ../state.json\n{settings}", "utf-8")
    return config


def _writes(api: Api) -> list[tuple[str, str, str]]:
    log = api.request_log()["requests"]
    return [(r["method"], r["path"], r["query"]) for r in log if r["method"] != "GET"]


def test_a_create_the_server_refuses_fails_the_plan_with_its_message(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    api.clear_log()

    run = cli("plan", "--server-dry-run", "-out", tmp_path / "plan.json", config)

    assert run.exit_code == 1, run.output
    assert "the server refuses 1 of the plan's creates (dry run):" in run.stderr
    lines = (config / "workloads.yaml").read_text("utf-8").splitlines()
    line = lines.index("kind: Workload", 1) + 1  # the second document's
    assert (
        f"{config / 'workloads.yaml'}:{line}:1: workload/project=team-a/bad: POST {V2}: "
        "HTTP 400: Bad request - manifest spec.template.spec.containers[0].image: Required value"
    ) in run.stderr
    assert "workload/project=team-a/good" not in run.stderr
    # One dry run per create, at once; nothing stored, no plan file.
    sent = [w for w in _writes(api) if w[1] != TOKEN]
    assert sorted(sent) == [("POST", V2, "dryRun=true")] * 2
    assert api.get("/api/v1/workloads/count").json() == {"count": 0}
    assert not (tmp_path / "plan.json").exists()


def test_without_the_dry_run_the_plan_succeeds_and_sends_nothing(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    config = _config(tmp_path, settings="server_dry_run: true\n")
    api.clear_log()

    run = cli("plan", "--no-server-dry-run", config)

    assert run.exit_code == 0, run.output
    assert "Plan: 2 to add" in run.stdout
    assert [w for w in _writes(api) if w[1] != TOKEN] == []


def test_the_settings_make_the_dry_run_the_default_per_environment(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    settings = "environments:\n  ci: {server_dry_run: true}\n"
    config = _config(tmp_path, settings=settings)

    assert cli("plan", config).exit_code == 0
    refused = cli("--environment", "ci", "plan", config)

    assert refused.exit_code == 1
    assert "containers[0].image: Required value" in refused.stderr
    assert api.get("/api/v1/workloads/count").json() == {"count": 0}


def test_a_server_older_than_the_dry_run_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """Run:ai 2.23 serves Workloads V2 but documents no `dryRun`: it might create the
    workloads, so the dry run is refused, naming the version that has it."""
    with EmbeddedEmulator(
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, api_version="2.23"
    ) as emulator:
        cli, api = Cli(emulator.url), Api(emulator.url, get_token(emulator.url))
        config = _config(tmp_path)
        api.clear_log()
        run = cli("plan", "--server-dry-run", config)
        assert run.exit_code == 1, run.output
        assert "--server-dry-run needs Run:ai 2.24 or later" in run.stderr
        assert "nothing was sent" in run.stderr and "Traceback" not in run.output
        assert [w for w in _writes(api) if w[1] != TOKEN] == []
        assert api.get("/api/v1/workloads/count").json() == {"count": 0}
        # Without the dry run, a 2.23 server plans the workloads as usual.
        assert cli("plan", config).exit_code == 0
