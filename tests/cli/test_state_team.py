"""Team state end to end: the CLI against the emulator with the state in a real PostgreSQL,
states bound to their server, environments, `state pull`/`push`, and force-unlock of a
live apply (file and PostgreSQL).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconcile.model import Address
from reconcile.settings import STATE_ENV
from reconcile.state import StateStore
from reconcile.state.postgres import PostgresStore
from tests.cli.apply_helpers import (
    CliProcess,
    assert_unique_names,
    server_templates,
    subprocess_env,
)
from tests.cli.bulk import PROJECT, name_of, write_bulk_config
from tests.cli.helpers import Cli, read_state, state_path
from tests.emulator.helpers import Api
from tests.postgres import Cluster, remove_cluster, start_cluster

COUNT = 20


def _bulk(tmp_path: Path, count: int = COUNT) -> Path:
    config_dir = tmp_path / "bulk"
    write_bulk_config(config_dir, count)
    return config_dir


def _address(index: int) -> Address:
    return Address("workspace-template", f"project={PROJECT}", name_of(index))


def test_apply_plan_and_pull_with_postgresql_state(
    cli: Cli, tmp_path: Path, pg_url: str, api: Api
) -> None:
    config_dir = _bulk(tmp_path)
    env = {STATE_ENV: pg_url}
    plan_file = tmp_path / "plan.json"  # planned in one job, applied in the next
    planned = cli("plan", "-out", plan_file, config_dir, env=env)
    assert planned.exit_code == 0, planned.output
    applied = cli("apply", plan_file, env=env)
    assert applied.exit_code == 0, applied.output
    assert not state_path(config_dir).exists()  # the state went to the database
    again = cli("plan", "--detailed-exitcode", config_dir, env=env)
    assert again.exit_code == 0 and "No changes." in again.stdout, again.output
    pulled = cli("state", "pull", "-C", config_dir, env=env)
    document = pulled.json()
    assert len(document["resources"]) == COUNT and document["server"] == cli.url.rstrip("/")
    assert cli("state", "list", "-C", config_dir, env=env).stdout.count("\n") == COUNT
    assert len(server_templates(api)) == COUNT


def test_moving_a_team_from_the_file_to_postgresql_is_two_commands(
    cli: Cli, tmp_path: Path, pg_url: str
) -> None:
    config_dir = _bulk(tmp_path, 3)
    assert cli("apply", "--auto-approve", config_dir).exit_code == 0
    pulled = tmp_path / "state.json"
    pulled.write_text(cli("state", "pull", "-C", config_dir).stdout)
    pushed = cli("state", "push", "-C", config_dir, pulled, env={STATE_ENV: pg_url})
    assert pushed.exit_code == 0, pushed.output
    plan = cli("plan", "--detailed-exitcode", config_dir, env={STATE_ENV: pg_url})
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output
    # Pushing a state of another lineage over it is refused without --force.
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({**json.loads(pulled.read_text()), "lineage": "another"}))
    refused = cli("state", "push", "-C", config_dir, stranger, env={STATE_ENV: pg_url})
    assert refused.exit_code == 1 and "lineage" in refused.stderr, refused.output
    assert "--force" in refused.stderr


def test_unreachable_database_sends_nothing_to_run_ai(cli: Cli, tmp_path: Path, api: Api) -> None:
    config_dir = _bulk(tmp_path, 2)
    api.clear_log()
    env = {STATE_ENV: "postgresql://ci@127.0.0.1:1/runai"}
    for command in (("apply", "--auto-approve"), ("plan",)):
        run = cli(*command, config_dir, env=env)
        assert run.exit_code == 1, run.output
        assert "127.0.0.1:1" in run.stderr and "Traceback" not in run.output
    assert api.request_log()["total"] == 0


def test_a_password_in_the_state_url_is_refused_unechoed(cli: Cli, tmp_path: Path) -> None:
    config_dir = _bulk(tmp_path, 1)
    run = cli("plan", config_dir, env={STATE_ENV: "postgresql://ci:hunter2@db:5432/runai"})
    assert run.exit_code == 1 and "PGPASSWORD" in run.stderr, run.output
    assert "hunter2" not in run.output


def test_a_state_is_bound_to_its_server(cli: Cli, tmp_path: Path, api: Api) -> None:
    config_dir = _bulk(tmp_path, 2)
    assert cli("apply", "--auto-approve", config_dir).exit_code == 0
    assert read_state(config_dir).server == cli.url.rstrip("/")
    other = "http://127.0.0.1:9"  # nothing may be sent there: the refusal comes first
    for command in (("plan",), ("apply", "--auto-approve"), ("drift",)):
        run = cli(*command, config_dir, env={"RUNAI_URL": other})
        assert run.exit_code == 1, run.output
        assert cli.url.rstrip("/") in run.stderr and other in run.stderr
        assert "state rebind" in run.stderr
    rebound = cli("state", "rebind", "-C", config_dir, env={"RUNAI_URL": other})
    assert rebound.exit_code == 0, rebound.output
    assert read_state(config_dir).server == other
    back = cli("state", "rebind", "-C", config_dir)
    assert back.exit_code == 0 and read_state(config_dir).server == cli.url.rstrip("/")
    assert cli("plan", "--detailed-exitcode", config_dir).exit_code == 0


def test_environments_select_the_state_and_their_settings(cli: Cli, tmp_path: Path) -> None:
    config_dir = _bulk(tmp_path, 2)
    settings = config_dir / "runai-reconcile.yaml"
    settings.write_text(
        "server: embedded\n"
        "environments:\n"
        "  staging:\n"
        "    state: ../state/staging-bulk.json\n"
        "  production:\n"
        "    server: https://production.invalid\n"
    )
    staged = cli("--environment", "staging", "apply", "--auto-approve", config_dir)
    assert staged.exit_code == 0, staged.output
    staging = tmp_path / "state" / "staging-bulk.json"
    assert len(StateStore(staging).read().entries) == 2
    assert not (config_dir / "state" / "default.json").exists()
    by_env = cli(
        "plan", "--detailed-exitcode", config_dir, env={"RUNAI_RECONCILE_ENVIRONMENT": "staging"}
    )
    assert by_env.exit_code == 0, by_env.output
    # The production environment's own server (RUNAI_URL unset): its state is its own file.
    prod = cli(
        "--environment", "production", "state", "list", "-C", config_dir, env={"RUNAI_URL": None}
    )
    assert prod.exit_code == 0 and prod.stdout == ""
    bad = cli("--environment", "no/such", "plan", config_dir)
    assert bad.exit_code == 1 and "not a name" in bad.stderr


def _force_unlock_live_apply(
    cli: Cli, config_dir: Path, env: dict[str, str], holder_id: str
) -> None:
    unlocked = cli("force-unlock", "-C", config_dir, holder_id, env=env)
    assert unlocked.exit_code == 0, unlocked.output


@pytest.mark.parametrize("backend", ["file", "postgresql"])
def test_force_unlock_of_a_live_apply_stops_it_cleanly(
    cli: Cli, tmp_path: Path, api: Api, backend: str, request: pytest.FixtureRequest
) -> None:
    config_dir = _bulk(tmp_path)
    env: dict[str, str] = {}
    if backend == "postgresql":
        env[STATE_ENV] = request.getfixturevalue("pg_url")
    api.set_faults(latency_ms=100)
    first = CliProcess(
        cli.url,
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        config_dir,
        env=subprocess_env(cli.url, **env),
    )
    assert first.wait_for_line(lambda line: line.startswith(f"[2/{COUNT}] ")), first.output
    if backend == "postgresql":
        holder = PostgresStore(env[STATE_ENV], "default").read_holder()
    else:
        holder = StateStore(state_path(config_dir)).read_holder()
    assert holder is not None
    _force_unlock_live_apply(cli, config_dir, env, holder.id)
    code = first.wait()
    assert code == 1, first.output
    assert "taken away by force-unlock" in first.output
    assert "Traceback" not in first.output and "internal error" not in first.output
    api.set_faults(latency_ms=0)
    # The next run converges: nothing twice on the server.
    final = cli("apply", "--auto-approve", config_dir, env=env)
    assert final.exit_code == 0, final.output
    metas = server_templates(api)
    assert_unique_names(metas)
    assert len(metas) == COUNT


def test_database_stopped_in_the_middle_of_an_apply(cli: Cli, tmp_path: Path, api: Api) -> None:
    cluster: Cluster = start_cluster()
    try:
        url = cluster.url()
        config_dir = _bulk(tmp_path)
        api.set_faults(latency_ms=100)
        run = CliProcess(
            cli.url,
            "apply",
            "--auto-approve",
            "--parallelism",
            "2",
            config_dir,
            env=subprocess_env(cli.url, **{STATE_ENV: url}),
        )
        assert run.wait_for_line(lambda line: line.startswith(f"[4/{COUNT}] ")), run.output
        cluster.stop()
        assert run.wait() == 1, run.output
        assert "Traceback" not in run.output and "internal error" not in run.output
        assert f"127.0.0.1:{cluster.port}" in run.output
        cluster.start()
        api.set_faults(latency_ms=0)
        again = cli("apply", "--auto-approve", config_dir, env={STATE_ENV: url})
        assert again.exit_code == 0, again.output
        metas = server_templates(api)
        assert_unique_names(metas)
        assert len(metas) == COUNT
        state = PostgresStore(url, "default").read()
        assert {m["id"] for m in metas} == {e.remote_id for e in state.entries.values()}
        assert json.loads(cli("state", "pull", "-C", config_dir, env={STATE_ENV: url}).stdout)
    finally:
        remove_cluster(cluster)
