"""`import OUT_DIR`: write the config directory that describes what the server already holds.

Reads everything first (all lists, then the details of summary-only kinds), so a server that
fails half-way leaves nothing written; then writes each YAML file whole, the settings file of
a new directory, and the state that records the imported objects as adopted.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from pathlib import Path

import click

from reconcile.cli.app import main
from reconcile.cli.common import connect
from reconcile.cli.options import server_options
from reconcile.client import Client
from reconcile.config import load_settings, read_config
from reconcile.errors import ExitCode, UsageError
from reconcile.gcpause import gc_paused
from reconcile.importer import (
    ImportResult,
    Selection,
    Variable,
    collect,
    document_kinds,
    render_files,
    write_files,
)
from reconcile.kinds.registry import BY_SLUG
from reconcile.live import read_live
from reconcile.live_view import LiveView
from reconcile.model import State, StateEntry
from reconcile.sensitive import redact
from reconcile.settings import SETTINGS_FILES, Settings
from reconcile.state import StateBackend, open_store
from reconcile.yamlwrite import dump_documents


@main.command("import")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--add",
    is_flag=True,
    help="OUT_DIR is an existing config: add only objects no document describes, in new files.",
)
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind (repeatable).")
@click.option(
    "--scope", "scopes", multiple=True, metavar="SCOPE", help="Only this scope: project=team-a."
)
@click.option("--name", "names", multiple=True, metavar="GLOB", help="Only names matching GLOB.")
@click.option(
    "--all", "builtin", is_flag=True, help="Also Run:ai's own objects (built-in workload types)."
)
@click.option("--no-state", is_flag=True, help="Write YAML only; record nothing in state.")
@click.option(
    "--fold",
    is_flag=True,
    help="Write objects identical but for their scope as one document listing the scopes.",
)
@server_options
@gc_paused()
def import_command(
    *,
    out_dir: Path,
    add: bool,
    kinds: tuple[str, ...],
    scopes: tuple[str, ...],
    names: tuple[str, ...],
    builtin: bool,
    no_state: bool,
    fold: bool,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """Write YAML for the objects the server holds into OUT_DIR, and adopt them in its state."""
    try:
        slugs = document_kinds(kinds)
    except ValueError as error:
        raise UsageError(str(error)) from None
    selection = Selection(slugs=slugs, scopes=scopes, names=names, builtin=builtin)
    existing = _existing_files(out_dir)
    if existing and not add:
        raise UsageError(
            f"{out_dir} exists and is not empty",
            hint="pass --add to add what no document there describes yet, or name a new directory",
        )
    settings = load_settings(out_dir)
    described = set(read_config(out_dir).resources) if add and existing else set()
    with connect(settings, ca_bundle=ca_bundle, insecure=insecure) as server:
        live = _read_everything(server.client, selection.slugs or frozenset(BY_SLUG))
    result = collect(live, selection, described=described)
    files, clashes, variables = render_files(result.objects, existing=existing, fold=fold)
    written = len(files)
    if not any(name in existing for name in SETTINGS_FILES):
        files[SETTINGS_FILES[0]] = _settings_text(settings)
    write_files(out_dir, files)
    if not no_state and result.objects:
        with closing(open_store(load_settings(out_dir), bind=True)) as store:
            _adopt(store, result)
    _report(out_dir, result, clashes, files=written, variables=variables, recorded=not no_state)
    return ExitCode.ERROR if result.skipped else ExitCode.OK


def _existing_files(directory: Path) -> set[str]:
    """Files under `directory`, relative (empty when it does not exist)."""
    if not directory.exists():
        return set()
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def _read_everything(client: Client, slugs: frozenset[str]) -> LiveView:
    """Every live object of `slugs`, details of summary-only kinds (Workloads V2) included."""
    listed = read_live(client, slugs=slugs, interesting=())
    if not listed.unread:
        return listed
    return read_live(client, slugs=slugs, interesting=set(listed.unread), known=listed)


def _settings_text(settings: Settings) -> str:
    """The new directory's settings: the server it came from, never credentials."""
    header = "# runai-reconcile settings; credentials come from the environment only.\n"
    return dump_documents([{"server": settings.server}], header=header)


def _adopt(store: StateBackend, result: ImportResult) -> None:
    """Record the imported objects as owned (adopted), secrets as salted hashes."""

    def add(state: State) -> State:
        entries = dict(state.entries)
        for imported in result.objects:
            if imported.address in entries:
                continue  # owned already: its entry (and what it last applied) stays
            stored = redact(imported.spec, imported.sensitive, state.lineage)
            entries[imported.address] = StateEntry(imported.address, imported.remote_id, stored)
        return replace(state, entries=entries)

    with store.lock("import"):
        store.update(add)


def _report(
    out_dir: Path,
    result: ImportResult,
    clashes: list[str],
    *,
    files: int,
    variables: list[Variable],
    recorded: bool,
) -> None:
    what = "and recorded them in state as adopted" if recorded else "(state not written)"
    click.echo(f"Imported {len(result.objects)} objects into {files} files in {out_dir} {what}.")
    if result.described:
        click.echo(f"{result.described} objects already described by documents were left alone.")
    if result.builtin:
        click.echo(f"{result.builtin} built-in objects left as shipped were skipped (--all).")
    for clash in clashes:
        click.echo(f"Clash: {clash}", err=True)
    shown = [v for v in variables if not v.unread]
    if shown:
        click.echo("Set these environment variables (credentials are not written) before `plan`:")
        for variable in shown:
            click.echo(f"  {variable.name}  ({variable.address} {variable.path})")
    unread = [v for v in variables if v.unread]
    if unread:
        click.echo(
            "Set these to the secrets the objects hold (the server never shows them; the first "
            "apply records their hashes and sends nothing, `--replace` sends them):"
        )
        for variable in unread:
            click.echo(f"  {variable.name}  ({variable.address} {variable.path})")
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} objects that cannot be represented:", err=True)
        for skipped in result.skipped:
            click.echo(f"  {skipped.address}: {skipped.reason}", err=True)
