"""Against an older Run:ai the tool reads only the API families its config uses, and a kind
the server lacks fails the plan before any write, naming the version that introduced it;
`validate --api-version` says the same offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.emulator.server import EmbeddedEmulator
from tests.cli.helpers import EXAMPLES, Cli
from tests.emulator.helpers import TEST_CLIENT_ID, TEST_CLIENT_SECRET, Api
from tests.test_client import answering, serve

FILES = {
    "AssetTemplate": EXAMPLES / "templates" / "legacy.yaml",
    "WorkloadType": EXAMPLES / "workload-types.yaml",
    "WorkspaceTemplate": EXAMPLES / "templates" / "workspaces.yaml",
    "InferenceTemplate": EXAMPLES / "templates" / "inference.yaml",
    "Workload": EXAMPLES / "workloads" / "web.yaml",
}
NEEDS = {
    "WorkloadType": "WorkloadType needs Run:ai 2.22 or later: {} does not offer "
    "/api/v1/workload-types",
    "WorkspaceTemplate": "WorkspaceTemplate needs Run:ai 2.23 or later: {} does not offer "
    "/api/v1/workload-templates",
    "InferenceTemplate": "InferenceTemplate needs Run:ai 2.24 or later: {} does not offer "
    "/api/v1/workload-templates/inferences",
    "Workload": "Workload needs Run:ai 2.23 or later: {} does not offer /api/v2/workloads",
}
SINCE = {
    "WorkloadType": "2.22",
    "WorkspaceTemplate": "2.23",
    "InferenceTemplate": "2.24",
    "Workload": "2.23",
}
# The list endpoints of the families and lookups that only some kinds need.
FAMILY_READS = (
    "/api/v1/workload-types",
    "/api/v1/workload-categories",
    "/api/v1/workload-priorities",
    "/api/v1/workload-templates",
    "/api/v1/workloads",
)


@pytest.fixture(scope="module", params=["2.18", "2.20", "2.22", "2.23", "2.24"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, EmbeddedEmulator]]:
    version = str(request.param)
    with EmbeddedEmulator(
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, api_version=version
    ) as emulator:
        yield version, emulator


@pytest.fixture
def older(server: tuple[str, EmbeddedEmulator]) -> tuple[str, Cli, Api]:
    version, emulator = server
    assert emulator.app is not None
    emulator.app.reset()
    return version, Cli(emulator.url), Api(emulator.url)


def _config(tmp_path: Path, *kinds: str) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "runai-reconcile.yaml").write_text("state: ../state.json\n", encoding="utf-8")
    for kind in kinds:
        (config / FILES[kind].name).write_text(FILES[kind].read_text("utf-8"), "utf-8")
    return config


def _sent(api: Api) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in api.request_log()["requests"]]


def _queries(api: Api) -> list[tuple[str, str, str]]:
    return [(r["method"], r["path"], str(r["query"])) for r in api.request_log()["requests"]]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_asset_templates_work_everywhere_and_nothing_else_is_read(
    older: tuple[str, Cli, Api], tmp_path: Path
) -> None:
    _, cli, api = older
    config = _config(tmp_path, "AssetTemplate")
    api.clear_log()
    applied = cli("apply", config, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "asset-template/" in applied.stdout
    sent = _sent(api)
    assert ("POST", "/api/v1/asset/workload-template") in sent
    unused = [(m, p) for m, p in sent if p.startswith(FAMILY_READS)]
    assert unused == [], unused
    again = cli("plan", config, "--detailed-exitcode")
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("kind", sorted(SINCE))
def test_a_kind_the_server_lacks_fails_the_plan_before_any_write(
    older: tuple[str, Cli, Api], tmp_path: Path, kind: str
) -> None:
    version, cli, api = older
    config = _config(tmp_path, "AssetTemplate", kind)
    api.clear_log()
    for command in (("plan",), ("apply", "--auto-approve"), ("drift",)):
        run = cli(*command, config)
        if _key(version) >= _key(SINCE[kind]):
            assert run.exit_code in (0, 2), run.output
            continue
        assert run.exit_code == 1, run.output
        assert NEEDS[kind].format("this server") in run.stderr
        assert "Traceback" not in run.output
    writes = [(m, p) for m, p in _sent(api) if m != "GET" and not p.endswith("/token")]
    if _key(version) < _key(SINCE[kind]):
        assert writes == [], writes


def test_every_lacking_kind_is_named_at_once(older: tuple[str, Cli, Api], tmp_path: Path) -> None:
    version, cli, _ = older
    config = _config(tmp_path, "WorkloadType", "WorkspaceTemplate")
    run = cli("plan", config)
    if _key(version) < (2, 22):
        assert run.exit_code == 1
        assert NEEDS["WorkloadType"].format("this server") in run.stderr
        assert NEEDS["WorkspaceTemplate"].format("this server") in run.stderr
    elif version == "2.22":
        assert run.exit_code == 1
        assert "WorkloadType needs" not in run.stderr
        assert NEEDS["WorkspaceTemplate"].format("this server") in run.stderr
    else:
        assert run.exit_code == 0, run.output
        assert "workspace-template/" in run.stdout and "workload-type/" in run.stdout


def test_workloads_v2_is_probed_once_through_the_template_list(
    older: tuple[str, Cli, Api], tmp_path: Path
) -> None:
    # Workloads V2 has no GET on its collection and is listed through the v1 view every
    # version serves: the workload-template list, of the same version, tells.
    version, cli, api = older
    alone = _config(tmp_path, "Workload")
    api.clear_log()
    run = cli("plan", alone)
    sent = _sent(api)
    assert sent.count(("GET", "/api/v1/workload-templates")) == 1, sent
    assert [p for _, p in sent if p.startswith(FAMILY_READS[1:3])] == [], sent
    if _key(version) < (2, 23):
        assert run.exit_code == 1, run.output
        assert NEEDS["Workload"].format("this server") in run.stderr
        assert ("GET", "/api/v1/workloads") in sent  # the view every version has
        return
    assert run.exit_code == 0, run.output
    assert "workload/project=inference/model-gateway" in run.stdout
    # With templates in the config their own list read answers for both families.
    both = tmp_path / "both"
    both.mkdir()
    config = _config(both, "Workload", "WorkspaceTemplate")
    api.clear_log()
    assert cli("plan", config).exit_code == 0
    templates = [q for m, p, q in _queries(api) if p == "/api/v1/workload-templates"]
    assert len(templates) == 1 and "limit=500" in templates[0], templates


def test_a_token_that_may_not_read_templates_still_manages_workloads(
    emulator: EmbeddedEmulator, tmp_path: Path
) -> None:
    # The probe asks whether the template list is served: a 403 says it is.
    assert emulator.app is not None
    forbidden = {"code": 403, "message": "Forbidden"}
    gateway = answering(403, {"/api/v1/workload-templates"}, forbidden, emulator.app)
    with serve(gateway) as url:
        run = Cli(url)("plan", _config(tmp_path, "Workload"))
    assert run.exit_code == 0, run.output
    assert "workload/project=inference/model-gateway" in run.stdout


def test_validate_says_the_same_offline(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path, "AssetTemplate", "WorkloadType", "WorkspaceTemplate", "Workload")
    old = cli("validate", config, "--api-version", "2.20")
    assert old.exit_code == 1, old.output
    types = config / "workload-types.yaml"
    workspaces = config / "workspaces.yaml"
    assert f"{types}:4:1: error: {NEEDS['WorkloadType'].format('Run:ai 2.20')}" in old.stdout
    assert f"{workspaces}:2:1: error: {NEEDS['WorkspaceTemplate'].format('Run:ai 2.20')}" in (
        old.stdout
    )
    web = config / "web.yaml"
    assert f"{web}:3:1: error: {NEEDS['Workload'].format('Run:ai 2.20')}" in old.stdout
    middle = cli("validate", config, "--api-version", "2.22")
    assert middle.exit_code == 1 and "WorkloadType needs" not in middle.stdout
    assert f"{web}:3:1: error: {NEEDS['Workload'].format('Run:ai 2.22')}" in middle.stdout
    assert cli("validate", config, "--api-version", "2.23").exit_code == 0
    assert cli("validate", config, "--api-version", "2.24").exit_code == 0
    assert cli("validate", config).exit_code == 0
    bad = cli("validate", config, "--api-version", "two")
    assert bad.exit_code == 64 and "--api-version" in bad.stderr


def test_workloads_are_told_at_plan_time_before_workload_types(
    older: tuple[str, Cli, Api], tmp_path: Path
) -> None:
    # A Workload's manifests are checked against the workload types list (2.22+): a server
    # without that list cannot have Workloads V2 (2.23+) either.
    version, cli, _ = older
    config = tmp_path / "config"
    config.mkdir()
    (config / "runai-reconcile.yaml").write_text("state: ../state.json\n", encoding="utf-8")
    (config / "web.yaml").write_text(
        (EXAMPLES / "workloads" / "web.yaml").read_text("utf-8"), "utf-8"
    )
    run = cli("plan", config)
    if _key(version) < _key("2.23"):  # 2.22: the workload-template list probe tells
        assert run.exit_code == 1, run.output
        assert "Workload needs Run:ai 2.23 or later: this server does not offer " in run.stderr
    else:
        assert run.exit_code == 0, run.output
