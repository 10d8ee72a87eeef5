"""The bodies of `plan`, `show` and `drift` (plan_cmd.py declares the commands).

Imported by a command once its config workers are forked: the workers need none of these
modules (the client, the planner, the renderers, the state), so a big config's check starts
without waiting for them to load, and they load while it runs.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from reconcile import planfile
from reconcile.cli.common import plan_options, render_plan, use_color
from reconcile.cli.github import append_summary
from reconcile.cli.session import read_session
from reconcile.config import ConfigReading, load_settings
from reconcile.errors import ExitCode, ReconcileError
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


def plan(
    reading: ConfigReading,
    *,
    out: Path | None,
    detailed_exitcode: bool,
    fmt: str,
    server_dry_run: bool | None,
    selection: Selection,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """`plan` of the config `reading` checks."""
    with read_session(reading, ca_bundle=ca_bundle, insecure=insecure) as session:
        config = session.config
        result = plan_run(
            session.server.client,
            config.resources,
            session.state,
            source=BindingSource(
                session.server.label, planfile.recorded_config_dir(config.directory, Path.cwd())
            ),
            options=plan_options(config, selection),
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


def show(plan_file: Path, fmt: str) -> int:
    """`show` of a saved plan."""
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


def drift(reading: ConfigReading, *, fmt: str, ca_bundle: str | None, insecure: bool) -> int:
    """`drift` of the config `reading` checks."""
    # Read-only: the state is read without the lock.
    with read_session(reading, ca_bundle=ca_bundle, insecure=insecure) as session:
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
