"""`state list|show|rm|mv` and `force-unlock`: the state file, without touching the server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from reconcile.cli.app import main
from reconcile.config import load_settings
from reconcile.errors import ExitCode, StateError, UsageError
from reconcile.model import Address, EntryStatus
from reconcile.state import StateStore


def _state_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Where the state file is: the config directory's settings, or an explicit --state."""
    function = click.option(
        "--state",
        "state_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The state file (default: the one the config directory's settings name).",
    )(function)
    return click.option(
        "-C",
        "--config-dir",
        default=".",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The config directory whose settings name the state file.",
    )(function)


def _store(config_dir: Path, state_file: Path | None) -> StateStore:
    if state_file is not None:
        return StateStore(state_file)
    return StateStore(load_settings(config_dir).state_path)


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


@main.group("state")
def state_group() -> None:
    """Inspect and edit the state file (what the tool owns) without touching the server."""


@state_group.command("list")
@_state_options
def state_list(*, config_dir: Path, state_file: Path | None) -> int:
    """List the owned addresses, one a line, sorted."""
    state = _store(config_dir, state_file).read()
    for address in sorted(state.entries):
        entry = state.entries[address]
        pending = "  (pending-create)" if entry.status is EntryStatus.PENDING_CREATE else ""
        click.echo(f"{address}{pending}")
    return ExitCode.OK


@state_group.command("show")
@click.argument("address")
@_state_options
def state_show(*, address: str, config_dir: Path, state_file: Path | None) -> int:
    """Show one entry: its remote id, status and what was last applied."""
    state = _store(config_dir, state_file).read()
    entry = state.entries.get(_address(address))
    if entry is None:
        raise StateError(f"{address} is not in the state")
    click.echo(json.dumps({str(entry.address): entry.to_dict()}, indent=2, sort_keys=True))
    return ExitCode.OK


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@_state_options
def state_rm(
    *, addresses: tuple[str, ...], lock_timeout: float, config_dir: Path, state_file: Path | None
) -> int:
    """Stop managing ADDRESSES: drop them from state; the server objects stay as they are."""
    store = _store(config_dir, state_file)
    wanted = [_address(a) for a in addresses]
    with store.lock("state rm", timeout=lock_timeout):
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
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(min=0), metavar="SECONDS")
@_state_options
def state_mv(
    *, source: str, destination: str, lock_timeout: float, config_dir: Path, state_file: Path | None
) -> int:
    """Rename an owned address (after renaming its document) without destroying the object."""
    store = _store(config_dir, state_file)
    old, new = _address(source), _address(destination)
    if old.kind != new.kind:
        raise UsageError(f"cannot move {old} to another kind ({new.kind})")
    with store.lock("state mv", timeout=lock_timeout):
        state = store.read()
        entry = state.entries.get(old)
        if entry is None:
            raise StateError(f"{old} is not in the state")
        if new in state.entries:
            raise StateError(f"{new} is already in the state")
        store.write(state.without(old).with_entry(replace(entry, address=new)))
    click.echo(f"Moved {old} to {new}.")
    return ExitCode.OK


@main.command("force-unlock")
@click.argument("lock_id")
@_state_options
def force_unlock_command(*, lock_id: str, config_dir: Path, state_file: Path | None) -> int:
    """Remove a stale state lock; LOCK_ID must match the holder's (see the locked error)."""
    holder = _store(config_dir, state_file).force_unlock(lock_id)
    click.echo(f"Removed the lock held by {holder.describe()}.")
    return ExitCode.OK
