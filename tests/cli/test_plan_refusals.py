"""`plan` refuses, before any write, what the server would refuse (tests/data/refused/).

Each fixture directory holds `config/` (the config planned), optionally `before/` (applied
first, into the same state unless its own settings say otherwise), and `expect.yaml`: the
refused `address`, the text `plan` must print and the text of the server's own refusal.
The check is shown to be honest by sending the request the tool would make for that
address (built with the checks collecting instead of refusing) to the emulator, which must
refuse it with its reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconcile.config import load_config
from reconcile.kinds.calls import HttpRequest
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Address
from tests.cli.helpers import Cli
from tests.emulator.helpers import Api
from tests.kinds.driver import KindDriver

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "refused"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN = "/api/v1/token"


def _setup(case: str, tmp_path: Path) -> tuple[Path, Path | None, dict[str, Any]]:
    """The fixture copied under tmp_path, every config directory sharing one state."""
    shutil.copytree(FIXTURES / case, tmp_path / case)
    root = tmp_path / case
    for part in ("before", "config"):
        settings = root / part / "runai-reconcile.yaml"
        if (root / part).is_dir() and not settings.exists():
            settings.write_text("state: ../state.json\n", encoding="utf-8")
    before = root / "before" if (root / "before").is_dir() else None
    expect: dict[str, Any] = YAML(typ="safe").load((root / "expect.yaml").read_text("utf-8"))
    return root / "config", before, expect


def _request(config: Path, address: Address, api: Api) -> HttpRequest:
    """What the tool sends for `address` with its checks collecting instead of refusing:
    the create of a desired address, else the delete of the live object."""
    kind = BY_SLUG[address.kind]
    driver = KindDriver(api)
    lookups = driver.lookups().collecting()
    desired = load_config(config, env={}).resources
    if address in desired:
        return kind.create_request(address, desired[address].spec, lookups)
    live = driver.live(kind, lookups)
    return kind.delete_request(live[str(address)][1].remote_id)


def test_every_refusal_has_a_fixture() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_plan_refuses_what_the_server_would_refuse(
    case: str, cli: Cli, api: Api, tmp_path: Path
) -> None:
    config, before, expect = _setup(case, tmp_path)
    if before is not None:
        assert cli("apply", "--auto-approve", before).exit_code == 0
    api.clear_log()

    run = cli("plan", config)

    assert run.exit_code == 1, run.output
    assert expect["plan"] in run.stderr
    log = api.request_log()["requests"]
    assert not [r for r in log if r["method"] in WRITES and r["path"] != TOKEN]
    # The same request, sent: the server refuses it with its own reason.
    request = _request(config, Address.parse(expect["address"]), api)
    answer = api.call(request.method, request.path, params=request.query or None, json=request.body)
    assert 400 <= answer.status_code < 500, answer.text
    assert expect["server"] in answer.json()["message"]


def test_every_unknown_name_of_a_config_is_reported_in_one_error(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "all"
    config.mkdir()
    (config / "runai-reconcile.yaml").write_text("state: ../state.json\n", encoding="utf-8")
    for case in CASES:
        if not (FIXTURES / case / "before").exists():
            for document in (FIXTURES / case / "config").iterdir():
                shutil.copy(document, config / f"{case}-{document.name}")

    run = cli("plan", config)

    assert run.exit_code == 1
    lines = [line.strip() for line in run.stderr.splitlines() if line.startswith("  ")]
    assert f"\nError: {len(lines)} problems:\n" in run.stderr
    assert len(lines) == 7  # one per fixture above
    located = [line.split(": ", 2) for line in lines]
    # Each at its document (file:line:col), sorted by address.
    assert all(where.endswith(":1:1") for where, _, _ in located)
    addresses = [address for _, address, _ in located]
    assert addresses == sorted(addresses)


def test_names_the_plan_creates_count_as_existing(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "planned"
    config.mkdir()
    (config / "org.yaml").write_text(
        """
kind: WorkloadType
metadata: {name: Widget}
spec: {group: example.com, category: Train, priority: low}
---
kind: Workload
metadata: {name: spinner, scope: {project: vision-a}}
spec:
  manifest: {apiVersion: example.com/v1, kind: Widget, metadata: {name: spinner}}
---
kind: Department
metadata: {name: vision, scope: {cluster: cluster-a}}
spec: {}
---
kind: Project
metadata: {name: vision-a, scope: {department: vision}}
spec: {}
""",
        encoding="utf-8",
    )

    run = cli("plan", config)

    assert run.exit_code == 0, run.output
    assert "workload/project=vision-a/spinner" in run.stdout
