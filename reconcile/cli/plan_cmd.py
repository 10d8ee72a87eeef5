"""`plan`, `show` and `drift`: what would change, a saved plan, and edits made behind our back.

The commands only: each starts checking its config (worker processes, for a big one) before
it imports what it runs (read_commands.py), so the workers are forked without waiting for
those modules to load.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.cli.app import main
from reconcile.cli.github import annotated
from reconcile.cli.options import FORMATS, selection_options, server_options
from reconcile.config import start_config
from reconcile.gcpause import gc_paused
from reconcile.model import Selection


@main.command("plan")
@click.argument("config_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-out",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for `apply PLANFILE`.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--server-dry-run/--no-server-dry-run",
    default=None,
    help="Send each create the API can validate (Workloads V2) as a dry run, one request "
    "each; exit 1 on a refusal. Default: the settings' server_dry_run.",
)
@selection_options
@server_options
@annotated
@gc_paused()
def plan_command(
    *,
    config_dir: Path,
    out: Path | None,
    detailed_exitcode: bool,
    fmt: str,
    server_dry_run: bool | None,
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    adopt: bool,
    replacements: tuple[str, ...],
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """Show the API calls that would bring the server to CONFIG_DIR."""
    with start_config(config_dir) as reading:
        from reconcile.cli import read_commands  # after the fork (module doc)

        selection = Selection(target, exclude, adopt, replacements)
        return read_commands.plan(
            reading,
            out=out,
            detailed_exitcode=detailed_exitcode,
            fmt=fmt,
            server_dry_run=server_dry_run,
            selection=selection,
            ca_bundle=ca_bundle,
            insecure=insecure,
        )


@main.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def show_command(*, plan_file: Path, fmt: str) -> int:
    """Show a plan saved by `plan -out FILE` (sensitive values stay hidden)."""
    from reconcile.cli import read_commands

    return read_commands.show(plan_file, fmt)


@main.command("drift")
@click.argument("config_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@server_options
@annotated
@gc_paused()
def drift_command(*, config_dir: Path, fmt: str, ca_bundle: str | None, insecure: bool) -> int:
    """Report owned objects changed or deleted outside the tool (read-only; exit 2 on drift)."""
    with start_config(config_dir) as reading:
        from reconcile.cli import read_commands  # after the fork (module doc)

        return read_commands.drift(reading, fmt=fmt, ca_bundle=ca_bundle, insecure=insecure)
