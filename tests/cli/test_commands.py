"""The commands `main` imports on first use are exactly the ones the command modules define,
and a command's run loads only what it needs (`plan` none of the applier's modules)."""

from __future__ import annotations

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


def test_plan_starts_without_the_applier() -> None:
    probe = (
        "import sys\n"
        "from reconcile.cli import main\n"
        "main.get_command(None, 'plan')\n"
        "print(sorted(m for m in ('reconcile.applier', 'reconcile.apply_steps', "
        "'reconcile.cli.apply_cmd', 'reconcile.cli.import_cmd') "
        "if m in sys.modules))\n"
        "print('reconcile.cli.plan_cmd' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_plan_forks_its_config_workers_before_loading_the_rest() -> None:
    """Everything a command's module imports loads before its body runs, and so before the
    config check forks its workers: `plan` and `drift` declare themselves with no more than
    the config check needs, and load the client, planner, state and renderers afterwards."""
    probe = (
        "import sys\n"
        "from reconcile.cli import main\n"
        "main.get_command(None, 'plan')\n"
        "main.get_command(None, 'drift')\n"
        "print(sorted(m for m in ('reconcile.client', 'reconcile.planner', 'reconcile.state', "
        "'reconcile.render.text', 'reconcile.workflow', 'reconcile.planfile', 'requests') "
        "if m in sys.modules))\n"
        "print('reconcile.config' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
