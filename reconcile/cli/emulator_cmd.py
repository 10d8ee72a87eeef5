"""`emulator serve`: the Run:ai API emulator as a standalone server."""

from __future__ import annotations

from typing import Any

import click

from reconcile.cli.app import main
from reconcile.emulator.versions import LATEST, VERSIONS

_RATE = click.FloatRange(0.0, 1.0)
_MS = click.IntRange(min=0)


@main.group()
def emulator() -> None:
    """The Run:ai API emulator (a stand-in for a Run:ai control plane, for tests and CI)."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", default=":memory:", show_default=True, help="SQLite file, or :memory:.")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), help="Tenant seed YAML.")
@click.option("--client-id", help="Accepted client id (else RUNAI_CLIENT_ID, else 'emulator').")
@click.option("--client-secret", help="Accepted secret (else RUNAI_CLIENT_SECRET, else default).")
@click.option("--token-ttl", default=3600, show_default=True, type=click.IntRange(min=1))
@click.option("--latency-ms", default=0, type=_MS, help="Fixed delay added to every API call.")
@click.option("--error-rate", default=0.0, type=_RATE, help="Share of calls answered 500/503.")
@click.option("--throttle-rate", default=0.0, type=_RATE, help="Share answered 429.")
@click.option(
    "--commit-then-fail-rate", default=0.0, type=_RATE, help="Share of writes stored, then failed."
)
@click.option("--visibility-delay-ms", default=0, type=_MS, help="New objects hidden from reads.")
@click.option("--seed-random", type=int, help="Seed the fault RNG for repeatable runs.")
@click.option("--sync-delay-ms", default=0, type=_MS, help="Workloads V2 time to Synced.")
@click.option("--allow-remote", is_flag=True, help="Permit a non-loopback --host.")
@click.option("--quiet", is_flag=True, help="No access log line per request on stderr.")
@click.option(
    "--api-version",
    type=click.Choice(VERSIONS),
    default=LATEST,
    show_default=True,
    help="Be this Run:ai version: serve only the API families it has.",
)
def emulator_serve(
    *,
    host: str,
    port: int,
    db: str,
    seed: str | None,
    client_id: str | None,
    client_secret: str | None,
    token_ttl: int,
    allow_remote: bool,
    quiet: bool,
    api_version: str,
    **faults: Any,
) -> None:
    """Serve the Run:ai API emulator until interrupted (Ctrl-C)."""
    from reconcile.emulator.auth import Credentials
    from reconcile.emulator.cli_support import is_loopback_host, settings_from_flags
    from reconcile.emulator.server import serve

    if not allow_remote and not is_loopback_host(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address; pass --allow-remote to expose the emulator"
        )
    credentials = Credentials.resolve(client_id, client_secret)

    def ready(url: str) -> None:
        click.echo(
            f"Run:ai {api_version} API emulator (not a real control plane) listening on {url}"
        )
        click.echo(f"  db: {db}   client id: {credentials.client_id}   token ttl: {token_ttl}s")
        click.echo("  admin API: /_emulator/ (loopback only); Ctrl-C stops")

    try:
        serve(
            host=host,
            port=port,
            on_ready=ready,
            quiet=quiet,
            db=db,
            seed=seed,
            credentials=credentials,
            token_ttl=token_ttl,
            settings=settings_from_flags(**faults),
            api_version=api_version,
        )
    except OSError as error:
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from error
    except KeyboardInterrupt:
        click.echo("Emulator stopped.")
