"""`state list|show|rm|mv|pull|push|rebind` and `force-unlock`: the state, without touching
the server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import click

from reconcile.cli.app import main
from reconcile.config import load_settings
from reconcile.errors import ExitCode, StateError, UsageError
from reconcile.gcpause import gc_paused
from reconcile.model import Address, EntryStatus
from reconcile.settings import check_state_url, is_state_url
from reconcile.state import StateBackend, StateStore, open_store
from reconcile.state.base import state_from_data
from reconcile.state_text import document_text


def _state_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Where the state is: the config directory's settings, or an explicit --state."""
    function = click.option(
        "--state",
        "state_location",
        metavar="FILE|URL",
        help="The state file, or a postgresql:// URL (default: what the config directory's "
        "settings and RUNAI_RECONCILE_STATE name).",
    )(function)
    return click.option(
        "-C",
        "--config-dir",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The config directory whose settings name the state.",
    )(function)


def _lock_timeout(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS"
    )(function)


@contextmanager
def _store(config_dir: Path, state_location: str | None) -> Iterator[StateBackend]:
    """The state these commands edit; they never talk to the server, so it is not bound."""
    if state_location is not None and not is_state_url(state_location):
        store: StateBackend = StateStore(Path(state_location))
    else:
        settings = load_settings(config_dir)
        if state_location is not None:
            check_state_url(state_location)
            settings = replace(settings, state_url=state_location)
        store = open_store(settings, bind=False)
    with gc_paused(), closing(store):
        yield store


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


@main.group("state")
def state_group() -> None:
    """Inspect and edit the state (what the tool owns) without touching the server."""


@state_group.command("list")
@_state_options
def state_list(*, config_dir: Path, state_location: str | None) -> int:
    """List the owned addresses, one a line, sorted."""
    with _store(config_dir, state_location) as store:
        state = store.read()
    for address in sorted(state.entries):
        entry = state.entries[address]
        pending = "  (pending-create)" if entry.status is EntryStatus.PENDING_CREATE else ""
        click.echo(f"{address}{pending}")
    return ExitCode.OK


@state_group.command("show")
@click.argument("address")
@_state_options
def state_show(*, address: str, config_dir: Path, state_location: str | None) -> int:
    """Show one entry: its remote id, status and what was last applied."""
    with _store(config_dir, state_location) as store:
        state = store.read()
    entry = state.entries.get(_address(address))
    if entry is None:
        raise StateError(f"{address} is not in the state")
    click.echo(json.dumps({str(entry.address): entry.to_dict()}, indent=2, sort_keys=True))
    return ExitCode.OK


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@_lock_timeout
@_state_options
def state_rm(
    *, addresses: tuple[str, ...], lock_timeout: float, config_dir: Path, state_location: str | None
) -> int:
    """Stop managing ADDRESSES: drop them from state; the server objects stay as they are."""
    wanted = [_address(a) for a in addresses]
    with _store(config_dir, state_location) as store, store.lock("state rm", timeout=lock_timeout):
        state = store.read()
        missing = [str(a) for a in wanted if a not in state.entries]
        if missing:
            raise StateError(f"not in the state: {', '.join(missing)}")
        for address in wanted:
            state = state.without(address)
        store.write(state)
    for address in wanted:
        click.echo(f"Removed {address} from the state (the server object was not touched).")
    return ExitCode.OK


@state_group.command("mv")
@click.argument("source")
@click.argument("destination")
@_lock_timeout
@_state_options
def state_mv(
    *,
    source: str,
    destination: str,
    lock_timeout: float,
    config_dir: Path,
    state_location: str | None,
) -> int:
    """Rename an owned address after renaming its document. The entry keeps the object's id,
    so the next plan renames that very object (or replaces it where the name cannot change)
    instead of creating another one beside it."""
    old, new = _address(source), _address(destination)
    if old.kind != new.kind:
        raise UsageError(f"cannot move {old} to another kind ({new.kind})")
    with _store(config_dir, state_location) as store, store.lock("state mv", timeout=lock_timeout):
        state = store.read()
        entry = state.entries.get(old)
        if entry is None:
            raise StateError(f"{old} is not in the state")
        if new in state.entries:
            raise StateError(f"{new} is already in the state")
        store.write(state.without(old).with_entry(replace(entry, address=new)))
    click.echo(f"Moved {old} to {new}.")
    return ExitCode.OK


@state_group.command("pull")
@_state_options
def state_pull(*, config_dir: Path, state_location: str | None) -> int:
    """Print the whole state as JSON on stdout (the state file's format)."""
    with _store(config_dir, state_location) as store:
        state = store.read()
    click.echo(document_text(state), nl=False)
    return ExitCode.OK


@state_group.command("push")
@click.argument("source", type=click.File("rb"), metavar="FILE")
@click.option("--force", is_flag=True, help="Replace a state of another lineage or newer serial.")
@_lock_timeout
@_state_options
def state_push(
    *,
    source: IO[bytes],
    force: bool,
    lock_timeout: float,
    config_dir: Path,
    state_location: str | None,
) -> int:
    """Replace the state with FILE (`-`: stdin), as `state pull` prints it. Refused when it is
    another lineage or an older serial than the state it replaces, unless --force."""
    name = "standard input" if source.name == "<stdin>" else f"state file {source.name}"
    try:
        data = json.loads(source.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise StateError(f"{name} is not JSON text: {error}") from None
    pushed = state_from_data(data, name)
    with (
        _store(config_dir, state_location) as store,
        store.lock("state push", timeout=lock_timeout),
    ):
        written = store.replace_state(pushed, force=force)
    count = len(written.entries)
    click.echo(f"Pushed {count} entries (lineage {written.lineage}, serial {written.serial}).")
    return ExitCode.OK


@state_group.command("rebind")
@_lock_timeout
@_state_options
def state_rebind(*, lock_timeout: float, config_dir: Path, state_location: str | None) -> int:
    """Bind the state to the server the config directory names now (RUNAI_URL, settings).

    Runs against another server than a state's are refused; after a real move (a tenant
    renamed, the emulator's database moved), this says the state belongs to the new one.
    """
    server = load_settings(config_dir).server_label
    with (
        _store(config_dir, state_location) as store,
        store.lock("state rebind", timeout=lock_timeout),
    ):
        state = store.read()
        before = state.server or "no server"
        store.write(replace(state, server=server))
    click.echo(f"The state is bound to {server} (it was bound to {before}).")
    return ExitCode.OK


@main.command("force-unlock")
@click.argument("lock_id")
@_state_options
def force_unlock_command(*, lock_id: str, config_dir: Path, state_location: str | None) -> int:
    """Take the state lock LOCK_ID (see the locked error) away from its holder: a stale lock
    is removed, and a live holder stops before its next state write, saying so."""
    with _store(config_dir, state_location) as store:
        holder = store.force_unlock(lock_id)
    click.echo(f"Removed the lock held by {holder.describe()}.")
    return ExitCode.OK
