"""The options the server commands share: output format, TLS and time limit, selection.

Only click here: a command module declares its options at import, and `plan` imports the
rest of what it runs only once its config workers are forked (plan_cmd.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

# github: the text view, with annotations for config problems and the job summary in Markdown.
FORMATS = click.Choice(["text", "json", "markdown", "github"])
RUN_TIMEOUT = "runai_reconcile.run_timeout"


def server_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """TLS and time-limit options shared by every command that talks to a server."""
    function = click.option(
        "--run-timeout",
        type=click.IntRange(min=0),
        metavar="SECONDS",
        expose_value=False,  # read by `connect`, so each command need not pass it on
        callback=_keep_run_timeout,
        help="Stop talking to the server after this long (0: no limit; overrides "
        "run_timeout_seconds).",
    )(function)
    function = click.option(
        "--insecure", is_flag=True, help="Skip TLS certificate verification (never in CI)."
    )(function)
    return click.option(
        "--ca-bundle",
        type=click.Path(exists=True, dir_okay=False),
        help="CA bundle to verify the server's certificate with.",
    )(function)


def _keep_run_timeout(context: click.Context, _: click.Parameter, value: int | None) -> None:
    if value is not None:
        context.meta[RUN_TIMEOUT] = value


def selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Which addresses a plan covers, whether it adopts unowned live objects, and which it
    replaces though nothing differs."""
    function = click.option(
        "--replace",
        "replacements",
        multiple=True,
        metavar="ADDR",
        help="Replace this object (delete + create) even when nothing differs.",
    )(function)
    function = click.option(
        "--adopt", is_flag=True, help="Manage live objects that match desired addresses."
    )(function)
    function = click.option(
        "--exclude", multiple=True, metavar="ADDR", help="Leave these addresses out."
    )(function)
    return click.option(
        "--target",
        multiple=True,
        metavar="ADDR",
        help="Only these addresses (an address, or its leading parts: KIND or KIND/SCOPE).",
    )(function)
