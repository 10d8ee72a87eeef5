"""The click group every command hangs on, and the one handler that maps errors to exit codes.

click's own usage errors exit 64 so that 2 always means "changes present" (docs/design.md
section 6); an unexpected exception is reported in one line (its traceback with
RUNAI_RECONCILE_DEBUG=1).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from reconcile import __version__
from reconcile.errors import ExitCode, ReconcileError
from reconcile.settings import ENVIRONMENT_ENV


def _report(error: ReconcileError) -> None:
    """Print an error, every collected problem, and a hint; never a traceback."""
    click.echo(f"Error: {error.message}", err=True)
    for problem in getattr(error, "problems", ()):
        where = problem.location()
        path = f" [{problem.json_path}]" if problem.json_path else ""
        click.echo(f"  {where + ': ' if where else ''}{problem.message}{path}", err=True)
    if error.hint:
        click.echo(f"Hint: {error.hint}", err=True)


# Each command's module, imported when a run names the command (or lists them all): a
# command's start-up then pays only for the imports it needs (`plan` never loads the applier's).
COMMAND_MODULES = {
    "apply": "apply_cmd",
    "drift": "plan_cmd",
    "emulator": "emulator_cmd",
    "fmt": "fmt_cmd",
    "force-unlock": "state_cmd",
    "get": "get_cmd",
    "import": "import_cmd",
    "plan": "plan_cmd",
    "show": "plan_cmd",
    "state": "state_cmd",
    "validate": "validate_cmd",
}


class _Group(click.Group):
    """A click group whose errors become the project's exit codes, and whose commands are
    imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"reconcile.cli.{module}")
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.UsageError as error:
            error.show()
            sys.exit(ExitCode.USAGE)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except click.ClickException as error:
            error.show()
            sys.exit(ExitCode.ERROR)
        except ReconcileError as error:
            _report(error)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except Exception as error:  # a bug of ours: say so plainly, traceback only on request
            if os.environ.get("RUNAI_RECONCILE_DEBUG"):
                raise
            click.echo(f"Error: internal error: {type(error).__name__}: {error}", err=True)
            click.echo(
                "Hint: set RUNAI_RECONCILE_DEBUG=1 for the traceback, and report it.", err=True
            )
            sys.exit(ExitCode.ERROR)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runai-reconcile")
@click.option(
    "--environment",
    metavar="NAME",
    help=f"The environment (its state, and its values in the settings file); "
    f"default: {ENVIRONMENT_ENV}, else the settings file's `environment`.",
)
def main(environment: str | None) -> None:
    """Declarative configuration for the NVIDIA Run:ai control plane."""
    if environment is None:
        return
    # Settings read the environment from ENVIRONMENT_ENV wherever a command loads them; set
    # it for this command only (in-process callers run several).
    previous = os.environ.get(ENVIRONMENT_ENV)
    os.environ[ENVIRONMENT_ENV] = environment

    def restore() -> None:
        if previous is None:
            os.environ.pop(ENVIRONMENT_ENV, None)
        else:
            os.environ[ENVIRONMENT_ENV] = previous

    click.get_current_context().call_on_close(restore)
