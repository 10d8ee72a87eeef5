"""What the server commands share: the connection to the server (the embedded emulator or a
Run:ai URL) and plan rendering. Their options are in `options.py`.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from reconcile.cli.options import RUN_TIMEOUT
from reconcile.client import Client
from reconcile.config import Config
from reconcile.credentials import Credentials
from reconcile.errors import UsageError
from reconcile.model import Plan, Selection
from reconcile.planner import PlanOptions
from reconcile.render import json as render_json
from reconcile.render import markdown as render_markdown
from reconcile.render import text as render_text
from reconcile.settings import EMULATOR_VERSION_ENV, Settings


@dataclass(frozen=True)
class Server:
    """The server a command talks to: its client, and how plans name it."""

    client: Client
    label: str  # the URL, or `embedded:<db path>` (the emulator's port changes every run)


def _client_limits(settings: Settings) -> dict[str, Any]:
    """The Client's time and size limits from the settings (and --run-timeout)."""
    context = click.get_current_context(silent=True)
    run_timeout = settings.run_timeout_seconds
    if context is not None:
        run_timeout = context.meta.get(RUN_TIMEOUT, run_timeout)
    return {
        "request_timeout": settings.request_timeout_seconds,
        "run_timeout": run_timeout or None,
        "max_response_bytes": settings.max_response_mib * 1024 * 1024,
    }


@contextmanager
def connect(
    settings: Settings, *, ca_bundle: str | None, insecure: bool, quiet: bool = False
) -> Iterator[Server]:
    """The server of `settings`: the embedded emulator, or a Run:ai URL with env credentials.

    Says which one in the run's first line (on stderr, so stdout stays machine-readable),
    unless `quiet`: then the caller calls `announce` when the time is right.
    """
    if settings.embedded:
        from reconcile.emulator.server import EmbeddedEmulator

        db = settings.emulator_db
        db.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(24)  # per process: nothing else can call this server
        embedded = EmbeddedEmulator(
            db=db,
            client_id="runai-reconcile",
            client_secret=secret,
            api_version=_emulator_version(settings),
        )
        with embedded as emu:
            if not quiet:
                announce(settings, insecure=insecure)
            creds = Credentials(client_id="runai-reconcile", client_secret=secret)
            with Client(emu.url, credentials=creds, **_client_limits(settings)) as client:
                yield Server(client=client, label=settings.server_label)
        return
    creds = Credentials.from_env()
    if not quiet:
        announce(settings, insecure=insecure)
    with Client(
        settings.server,
        credentials=creds,
        ca_bundle=ca_bundle,
        insecure=insecure,
        **_client_limits(settings),
    ) as client:
        yield Server(client=client, label=settings.server_label)


def _emulator_version(settings: Settings) -> str:
    """The embedded emulator's Run:ai version, checked (the file's is checked by its schema;
    RUNAI_EMULATOR_API_VERSION only here)."""
    from reconcile.emulator.versions import check

    try:
        return check(settings.emulator_api_version)
    except ValueError as error:
        raise UsageError(f"{EMULATOR_VERSION_ENV}: {error}") from None


def announce(settings: Settings, *, insecure: bool) -> None:
    """The run's first lines: which server, and a warning when TLS is not verified."""
    if settings.embedded:
        where = f"Run:ai {settings.emulator_api_version}, db {settings.emulator_db}"
        click.echo(
            f"Server: embedded Run:ai emulator (not a real control plane), {where}", err=True
        )
        return
    if insecure:
        click.echo("Warning: --insecure: the server's TLS certificate is NOT verified.", err=True)
    click.echo(f"Server: {settings.server}", err=True)


def use_color(stream: Any) -> bool:
    """Colour only on a terminal that can show it: never when NO_COLOR is set to anything but
    "" (no-color.org) nor on a `TERM=dumb` terminal (Emacs shells, some CI logs), which would
    print the escape codes."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def render_plan(plan: Plan, fmt: str, *, environment: str | None = None) -> str:
    if fmt == "json":
        return render_json.render(plan)
    if fmt == "markdown":
        return render_markdown.render(plan, environment=environment)
    return render_text.render(plan, color=fmt == "text" and use_color(sys.stdout))


def plan_options(config: Config, selection: Selection) -> PlanOptions:
    """The planner's options: what the user selected, and the config's budget and TTL."""
    return PlanOptions(
        adopt=selection.adopt,
        targets=selection.targets,
        excludes=selection.excludes,
        replacements=selection.replacements,
        safety=config.settings.safety,
        ttl_seconds=config.settings.plan_ttl_seconds,
    )
