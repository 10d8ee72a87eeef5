"""The embedded emulator's Run:ai version: `emulator.api_version` in the settings file, or
RUNAI_EMULATOR_API_VERSION, makes `server: embedded` an older control plane."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import EXAMPLES, Cli

EMBEDDED = {"RUNAI_URL": None, "RUNAI_EMULATOR_API_VERSION": None}


def _config(tmp_path: Path, version: str) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    settings = (
        f'server: embedded\nstate: state/default.json\nemulator: {{api_version: "{version}"}}\n'
    )
    (config / "runai-reconcile.yaml").write_text(settings, encoding="utf-8")
    workspaces = (EXAMPLES / "templates" / "workspaces.yaml").read_text(encoding="utf-8")
    (config / "workspaces.yaml").write_text(workspaces, encoding="utf-8")
    return config


def test_the_settings_file_makes_the_embedded_emulator_older(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path, "2.20")
    old = cli("plan", config, env=EMBEDDED)
    assert old.exit_code == 1, old.output
    assert "Run:ai 2.20" in old.stderr  # no workload-template API before 2.23
    newer = cli("plan", config, env={**EMBEDDED, "RUNAI_EMULATOR_API_VERSION": "2.24"})
    assert newer.exit_code == 0, newer.output
    assert "Run:ai 2.24" in newer.stderr and "workspace-template/" in newer.stdout


def test_an_unknown_version_is_refused(cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path, "2.24")
    bad_env = cli("plan", config, env={**EMBEDDED, "RUNAI_EMULATOR_API_VERSION": "2.17"})
    assert bad_env.exit_code == 64
    assert "RUNAI_EMULATOR_API_VERSION: unknown Run:ai API version '2.17'" in bad_env.stderr
    (config / "runai-reconcile.yaml").write_text(
        "emulator: {api_version: '3.0'}\n", encoding="utf-8"
    )
    bad_file = cli("validate", config, env=EMBEDDED)
    assert bad_file.exit_code == 1 and "api_version" in bad_file.output
