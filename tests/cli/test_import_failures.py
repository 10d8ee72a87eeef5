"""`import` against servers that fail or hold what a document cannot name: nothing is left
half-written, and what is skipped is listed with a non-zero exit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.emulator.seed import default_seed_text
from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.helpers import Cli
from tests.cli.tenant import create_tenant
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api, get_token
from tests.test_client import WSGI, answering, serve


def _refusing_details(app: WSGI) -> WSGI:
    """A gateway in front of the emulator that refuses every Workloads V2 detail read: the
    lists all succeed, and the server fails half-way through the import's reads."""

    def gateway(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith(
            "/api/v2/workloads/"
        ):
            return answering(
                403, {environ["PATH_INFO"]}, {"code": 403, "message": "Forbidden"}, app
            )(environ, start_response)
        return app(environ, start_response)

    return gateway


@pytest.fixture
def failing_proxy(emulator: EmbeddedEmulator) -> Iterator[str]:
    assert emulator.app is not None
    with serve(_refusing_details(emulator.app)) as url:
        yield url


def test_a_server_failing_half_way_leaves_nothing_written(
    cli: Cli, api: Api, failing_proxy: str, tmp_path: Path
) -> None:
    create_tenant(api)
    out = tmp_path / "config"
    run = cli("import", out, env={"RUNAI_URL": failing_proxy})
    assert run.exit_code == 1, run.output
    assert "403" in run.stderr
    assert not out.exists()


def test_what_cannot_be_represented_is_skipped_and_listed(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    odd = '  - {id: "9", name: "r&d lab", cluster: cluster-a}\n'
    seed.write_text(default_seed_text().replace("departments:\n", "departments:\n" + odd, 1))
    with EmbeddedEmulator(
        seed=seed, client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET
    ) as emulator:
        api = Api(emulator.url, get_token(emulator.url))
        for name, scope_type, scope_id in [("odd", "department", "9"), ("fine", "tenant", "1")]:
            body = {
                "meta": {"name": name, "scopeType": scope_type, "scopeId": scope_id},
                "spec": {"image": "python:3.11"},
            }
            assert api.post("/api/v1/workload-templates/workspaces", body).status_code == 202
        out = tmp_path / "config"
        run = Cli(emulator.url)("import", out)
    assert run.exit_code == 1, run.output
    # The department itself is imported too, and its name breaks the API's name pattern.
    assert "Skipped 2 objects that cannot be represented" in run.stderr
    assert "department/cluster=cluster-a/r&d lab" in run.stderr
    assert "workspace-template/department=r&d lab/odd: its scope" in run.stderr
    assert "not a safe file name" in run.stderr
    written = (out / "workspace-templates" / "tenant.yaml").read_text()
    assert "name: fine" in written
    assert sorted(p.name for p in (out / "workspace-templates").iterdir()) == ["tenant.yaml"]


def test_a_value_that_looks_like_an_unknown_id_is_imported(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    """`id:...` is how a name the lookups lack is shown; a user's own value may read the
    same and is imported like any other."""
    body = {
        "meta": {"name": "looks-odd", "scopeType": "tenant", "scopeId": "1"},
        "spec": {"image": "python:3.11", "args": "id:"},
    }
    assert api.post("/api/v1/workload-templates/workspaces", body).status_code == 202
    out = tmp_path / "config"
    run = cli("import", out, "--kind", "WorkspaceTemplate")
    assert run.exit_code == 0, run.output
    written = (out / "workspace-templates" / "tenant.yaml").read_text()
    assert "looks-odd" in written and "id:" in written, written
    plan = cli("plan", "--detailed-exitcode", out)
    assert plan.exit_code == 0 and "No changes." in plan.stdout, plan.output
