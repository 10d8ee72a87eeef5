"""What every state backend shares: the holder of a lock, the format's migrations and schema,
and the rules on lineage, serial and server that hold whatever the state is kept in.

A backend (file.py, postgres.py) only stores and locks; it calls these rules so that they
live in one place. Knows nothing of kinds or of the API, and never prints.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cache
from typing import Any, Protocol

from reconcile.errors import StateError, StateLockedError
from reconcile.model import (
    STATE_VERSION,
    STATUS_OF_TEXT,
    Address,
    State,
    StateEntry,
    frozen_instance,
)
from reconcile.schema import json_path, load_schema, validate_instance

Migration = Callable[[dict[str, Any]], dict[str, Any]]
StateChange = Callable[[State], State]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 records the server a state is bound to; a version 1 state is not bound yet."""
    return {**data, "version": 2, "server": ""}


# Version N -> N+1 upgrades of the raw state dict.
MIGRATIONS: Mapping[int, Migration] = {1: _v1_to_v2}
STATE_SCHEMA = "state"  # schemas/state.json: the current version's shape


def migrate(
    data: Mapping[str, Any],
    *,
    migrations: Mapping[int, Migration] = MIGRATIONS,
    target: int = STATE_VERSION,
) -> dict[str, Any]:
    """Upgrade a raw state dict to `target`, one version at a time; refuse newer versions."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError("state file has no integer 'version'")
    if version > target:
        raise StateError(
            f"state file version {version} is newer than this tool understands ({target})",
            hint="upgrade runai-reconcile",
        )
    upgraded = dict(data)
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise StateError(f"no migration from state file version {version} to {target}")
        upgraded = step(upgraded)
        if upgraded.get("version") != version + 1:
            raise StateError(f"the migration from state version {version} did not bump it")
        version += 1
    return upgraded


def state_from_data(
    data: Any, source: str, *, migrations: Mapping[int, Migration] = MIGRATIONS, hint: str = ""
) -> State:
    """A state from its JSON document: migrated, then checked against schemas/state.json.

    Every problem names `source` (the file or database), the JSON path and what was expected.
    The state takes the document's values as its own (callers hand it freshly parsed JSON).
    """
    if not isinstance(data, dict):
        raise StateError(f"{source} does not hold a JSON object", hint=hint)
    try:
        upgraded = migrate(data, migrations=migrations)
    except StateError as error:
        raise StateError(f"{source}: {error.message}", hint=error.hint or hint) from None
    plain = _plain_state(upgraded)
    if plain is not None:
        return plain
    problems = validate_instance(STATE_SCHEMA, upgraded)
    if problems:
        shown = "; ".join(f"{json_path(p.path)}: {p.message}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise StateError(f"{source} is not a valid state: {shown}{more}", hint=hint)
    try:
        return State.from_dict(upgraded)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise StateError(f"{source} is not a valid state: {error}", hint=hint) from None


_ENTRY_FIELDS = frozenset({"remote_id", "last_applied", "status", "protect"})
_ABSENT: Any = object()


def _plain_state(document: dict[str, Any]) -> State | None:
    """The state of a (migrated) document whose entries all have the plain shape the tool
    writes, checked and built in one pass; None when any part does not, and the schema check
    decides (and words the problems). Every document accepted here is one the schema accepts,
    read as `State.from_dict` reads it (a property test holds both): checking the whole
    document with the generated schema check, then building it, cost about half again as
    much as this loop."""
    resources = document.get("resources")
    if type(resources) is not dict or validate_instance(
        STATE_SCHEMA, {**document, "resources": {}}
    ):
        return None
    if not all(map(_address_pattern().fullmatch, resources)):
        return None
    entries: dict[Address, StateEntry] = {}
    parse, status_of, fields = Address.parse, STATUS_OF_TEXT.get, _ENTRY_FIELDS
    for text, value in resources.items():
        if type(value) is not dict or not value.keys() <= fields:
            return None
        remote_id = value.get("remote_id")
        last_applied = value.get("last_applied", _ABSENT)
        status = value.get("status", "applied")
        protected = value.get("protect", False) is True
        if type(remote_id) is not str or type(status) is not str:
            return None
        if last_applied is _ABSENT:
            last_applied = {}
        elif type(last_applied) is not dict:
            return None
        entry_status = status_of(status)
        if entry_status is None or (not protected and "protect" in value):
            return None
        address = parse(text)
        entries[address] = StateEntry.of(address, remote_id, last_applied, entry_status, protected)
    return frozen_instance(
        State,
        {
            "lineage": str(document["lineage"]),
            "serial": int(document.get("serial", 0)),  # the schema's integer may be 3.0
            "tool_version": str(document.get("tool_version", "")),
            "entries": entries,
            "version": document["version"],
            "server": str(document.get("server", "")),
        },
    )


@cache
def _address_pattern() -> re.Pattern[str]:
    """The schema's pattern of an address, matched against a whole key: its `^` and `$`
    then hold only at the ends, as JSON Schema's (ECMA-262) do."""
    schema = load_schema(STATE_SCHEMA)
    return re.compile(schema["properties"]["resources"]["propertyNames"]["pattern"])


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock: shown in the exit-4 message and matched by force-unlock."""

    id: str
    operation: str
    who: str
    pid: int
    when: str

    @classmethod
    def new(cls, operation: str) -> LockInfo:
        when = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(str(uuid.uuid4()), operation, _who(), os.getpid(), when)

    def to_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "operation": self.operation,
            "who": self.who,
            "pid": str(self.pid),
            "when": self.when,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LockInfo:
        return cls(
            id=str(data["id"]),
            operation=str(data.get("operation", "")),
            who=str(data.get("who", "")),
            pid=int(data.get("pid", 0)),
            when=str(data.get("when", "")),
        )

    def describe(self) -> str:
        return (
            f"{self.who} (pid {self.pid}) since {self.when} for {self.operation!r}, "
            f"lock id {self.id}"
        )


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment nor the passwd database
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def locked_error(location: str, holder: LockInfo | None) -> StateLockedError:
    """The exit-4 error, naming the holder when it is known."""
    if holder is None:
        return StateLockedError(f"state {location} is locked by another run")
    return StateLockedError(
        f"state {location} is locked by {holder.describe()}", holder=holder.to_dict()
    )


def lock_lost_error(location: str, lock: LockInfo) -> StateError:
    """A writer whose lock was taken away (force-unlock) must stop without writing."""
    return StateError(
        f"the lock on state {location} (lock id {lock.id}) was taken away by force-unlock "
        "while this run held it; nothing more was written",
        hint="check what the other run did, then plan again",
    )


def unlock_mismatch(location: str, lock_id: str, holder: LockInfo | None) -> StateError:
    """force-unlock named a lock that is not the current one: nothing changes."""
    if holder is None:
        return StateError(f"state {location} is not locked; nothing to unlock")
    return StateError(
        f"lock id {lock_id!r} does not match the lock on {location} "
        f"(held by {holder.describe()}); nothing was unlocked"
    )


# --- the rules every backend applies --------------------------------------------------------


def next_state(base: State | None, state: State, *, location: str, tool_version: str) -> State:
    """`state` as the next write stores it: serial one above the larger of the stored one
    and `state`'s (it only ever grows), the stored server binding kept.

    A state of another lineage than the stored one is refused: it would overwrite a stranger.
    """
    if base is not None and base.lineage != state.lineage:
        raise StateError(
            f"refusing to overwrite state {location}: its lineage {base.lineage} "
            f"is not the lineage being written ({state.lineage})"
        )
    serial = max(state.serial, base.serial if base is not None else 0) + 1
    server = state.server or (base.server if base is not None else "")
    return replace(
        state, serial=serial, tool_version=tool_version, version=STATE_VERSION, server=server
    )


def check_push(current: State | None, incoming: State, *, location: str, force: bool) -> None:
    """`state push` replaces the state only with the same lineage and a serial not lower."""
    if current is None or force or (not current.entries and current.serial == 0):
        return
    if current.lineage != incoming.lineage:
        raise StateError(
            f"refusing to push: state {location} is lineage {current.lineage}, the pushed "
            f"state is {incoming.lineage}",
            hint="pass --force to replace it anyway",
        )
    if incoming.serial < current.serial:
        raise StateError(
            f"refusing to push: the pushed state has serial {incoming.serial}, lower than "
            f"{location}'s {current.serial} (it is older)",
            hint="pass --force to replace it anyway",
        )


def check_server(state: State, server: str, *, location: str) -> None:
    """A state belongs to the server it was first written against: any other is refused."""
    if state.server and server and state.server != server:
        raise StateError(
            f"state {location} belongs to server {state.server}, not {server}; nothing was "
            "sent to either",
            hint="check the server and environment; if the state really moved to this server, "
            "run `runai-reconcile state rebind` to bind it there",
        )


class StateBackend(Protocol):
    """Where one environment's state is kept: read it, write it, and lock it for a run.

    `server` is the server label runs bind the state to ("" for commands that never talk to
    a server); reads check it (`check_server`) and the first write records it.
    """

    location: str
    server: str

    def read(self, *, new_lineage: str | None = None) -> State:
        """The stored state; none stored is an empty state with a new random lineage (or
        `new_lineage`, which a saved plan made before the first write bound)."""
        ...

    def write(self, state: State) -> State:
        """Store `state` with the next serial (`next_state`), as one atomic step."""
        ...

    def update(self, change: StateChange) -> State:
        """Apply `change` to the latest state and write the result, as one writer."""
        ...

    def replace_state(self, state: State, *, force: bool) -> State:
        """`state push`: store `state` in place of the current one (`check_push`)."""
        ...

    def lock(self, operation: str, *, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        """Hold the run lock for the `with` block; a held lock raises StateLockedError."""
        ...

    def read_holder(self) -> LockInfo | None:
        """Who holds the lock, as recorded (None: nobody)."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Take the lock `lock_id` away from its holder (which then stops before writing)."""
        ...

    def close(self) -> None:
        """Release what the backend holds open (connections)."""
        ...


def bound(state: State, server: str) -> State:
    """`state` with `server` as its binding when it has none yet."""
    return state if state.server or not server else replace(state, server=server)


def entries_changed(old: State, new: State) -> Iterator[str]:
    """Addresses (as text) whose entry differs between two states; entries are frozen and
    replaced when they change, so identity is enough."""
    for address, entry in new.entries.items():
        if old.entries.get(address) is not entry:
            yield str(address)
    for address in old.entries.keys() - new.entries.keys():
        yield str(address)
