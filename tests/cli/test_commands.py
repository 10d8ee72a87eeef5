"""The commands `main` imports on first use are exactly the ones the command modules define,
and a command's run loads only what it needs (`plan` none of the applier's modules)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from reconcile.cli import main
from reconcile.cli.app import COMMAND_MODULES

CLI = Path(__file__).resolve().parent.parent.parent / "reconcile" / "cli"


def test_every_command_module_registers_the_commands_the_table_names() -> None:
    for module in sorted(p.stem for p in CLI.glob("*_cmd.py")):
        importlib.import_module(f"reconcile.cli.{module}")
    assert set(main.commands) == set(COMMAND_MODULES)
    context = click.Context(main)
    for name, module in COMMAND_MODULES.items():
        command = main.get_command(context, name)
        assert command is not None and command.name == name
        assert command.callback is not None
        assert command.callback.__module__ == f"reconcile.cli.{module}"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    assert all(f"  {name} " in listed for name in COMMAND_MODULES)


def _loaded_on_lookup(commands: tuple[str, ...], modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh process has loaded once the CLI has looked `commands` up
    (what a run of them imports before its body starts)."""
    probe = (
        "import sys\n"
        "from reconcile.cli import main\n"
        f"for name in {commands!r}: main.get_command(None, name)\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = ast.literal_eval(done.stdout.strip())
    return loaded


def test_plan_starts_without_the_applier() -> None:
    applier = ("reconcile.applier", "reconcile.apply_steps", "reconcile.cli.apply_cmd")
    modules = (*applier, "reconcile.cli.import_cmd", "reconcile.cli.plan_cmd")
    assert _loaded_on_lookup(("plan",), modules) == ["reconcile.cli.plan_cmd"]


def test_plan_forks_its_config_workers_before_loading_the_rest() -> None:
    """Everything a command's module imports loads before its body runs, and so before the
    config check forks its workers: `plan` and `drift` declare themselves with no more than
    the config check needs, and load the client, planner, state and renderers afterwards."""
    later = ("reconcile.client", "reconcile.planner", "reconcile.state", "reconcile.render.text")
    modules = (*later, "reconcile.workflow", "reconcile.planfile", "requests", "reconcile.config")
    assert _loaded_on_lookup(("plan", "drift"), modules) == ["reconcile.config"]
