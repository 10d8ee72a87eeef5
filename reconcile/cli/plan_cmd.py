"""`plan`, `show` and `drift`: what would change, a saved plan, and edits made behind our back."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from reconcile import planfile
from reconcile.cli.app import main
from reconcile.cli.common import (
    FORMATS,
    plan_options,
    render_plan,
    selection_options,
    server_options,
    use_color,
)
from reconcile.cli.github import annotated, append_summary
from reconcile.cli.session import read_session
from reconcile.config import load_settings
from reconcile.errors import ExitCode, ReconcileError
from reconcile.gcpause import gc_paused
from reconcile.model import Plan, Selection
from reconcile.planner import BindingSource
from reconcile.render import json as render_json
from reconcile.render import markdown as render_markdown
from reconcile.render import text as render_text
from reconcile.workflow import drift_run, plan_run


def _write_plan_file(path: Path, plan: Plan, key: bytes | None) -> None:
    """A saved plan: JSON, sensitive values as salted hashes, readable by the owner only."""
    text = planfile.encode(plan, salt=secrets.token_hex(16), key=key)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The mode above applies only to a new file: an existing one keeps its own until chmod.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _plan_exit(plan: Plan, *, detailed: bool) -> int:
    if plan.safety_violations:
        return ExitCode.OVER_BUDGET
    if detailed and plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


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
    with read_session(config_dir, ca_bundle=ca_bundle, insecure=insecure) as session:
        config = session.config
        result = plan_run(
            session.server.client,
            config.resources,
            session.state,
            source=BindingSource(
                session.server.label, planfile.recorded_config_dir(config.directory, Path.cwd())
            ),
            options=plan_options(config, Selection(target, exclude, adopt, replacements)),
            known=session.known,
            server_dry_run=(
                config.settings.server_dry_run if server_dry_run is None else server_dry_run
            ),
        )
    environment = config.settings.environment
    click.echo(render_plan(result.plan, fmt, environment=environment), nl=False)
    append_summary(fmt, lambda: render_markdown.render(result.plan, environment=environment))
    if out is not None:
        key = planfile.plan_key()
        _write_plan_file(out, result.plan, key)
        signed = f" (signed with {planfile.PLAN_KEY_ENV})" if key is not None else ""
        click.echo(
            f"Saved the plan to {out}{signed}; apply it with `runai-reconcile apply {out}`.",
            err=True,
        )
    return _plan_exit(result.plan, detailed=detailed_exitcode)


@main.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def show_command(*, plan_file: Path, fmt: str) -> int:
    """Show a plan saved by `plan -out FILE` (sensitive values stay hidden)."""
    saved = planfile.read(plan_file)
    environment = _environment_of(saved)
    click.echo(render_plan(saved.plan, fmt, environment=environment), nl=False)
    return ExitCode.OK


def _environment_of(saved: planfile.SavedPlan) -> str | None:
    """The environment a saved plan was made for, as its config directory's settings say
    (None when they cannot be read from here: the plan file does not record it)."""
    try:
        directory = planfile.config_directory(saved, override=None, cwd=Path.cwd())
        return load_settings(directory).environment
    except ReconcileError:
        return None


@main.command("drift")
@click.argument("config_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@server_options
@annotated
@gc_paused()
def drift_command(*, config_dir: Path, fmt: str, ca_bundle: str | None, insecure: bool) -> int:
    """Report owned objects changed or deleted outside the tool (read-only; exit 2 on drift)."""
    # Read-only: the state is read without the lock.
    with read_session(config_dir, ca_bundle=ca_bundle, insecure=insecure) as session:
        found = drift_run(
            session.server.client, session.config.resources, session.state, known=session.known
        )
    markdown = render_markdown.render_drift(
        found, server=session.server.label, environment=session.config.settings.environment
    )
    if fmt == "json":
        click.echo(render_json.render_drift(found), nl=False)
    elif fmt == "markdown":
        click.echo(markdown, nl=False)
    else:
        color = fmt == "text" and use_color(sys.stdout)
        click.echo(render_text.render_drift(found, color=color), nl=False)
    append_summary(fmt, lambda: markdown)
    return ExitCode.CHANGES if found else ExitCode.OK
