"""The file backend's commit log: `<state>.log`, one JSON line per commit since the file.

A commit made while the run lock is held appends what it changed (the lineage, the new
serial, the header fields that changed, the entries set and the addresses removed) instead
of rewriting the whole state file, so its cost follows the commit, not the state's size.
The state is the file, then the log's records in order, each the next serial of the file's
lineage. A last line without its newline, or that is not JSON, is a crash mid-append: its
commit was never acknowledged (the append's fsync had not returned), so it is ignored.

Knows nothing of kinds or of the API, and never prints; `file.py` decides when to append
and when to fold the log into the file.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import compress, count, islice
from operator import is_not
from pathlib import Path
from typing import Any

from reconcile import jsonfast
from reconcile.errors import StateError
from reconcile.model import Address, State
from reconcile.state.base import Migration, state_from_data

Signature = tuple[int, int, int]  # (inode, size, mtime_ns) of a file as last seen

_HEADER = ("version", "tool_version", "server")  # what a record carries when it changed


def log_path(state_path: Path) -> Path:
    """Where the commit log of the state file `state_path` lives."""
    return state_path.with_name(state_path.name + ".log")


def signature_of(info: os.stat_result) -> Signature:
    return (info.st_ino, info.st_size, info.st_mtime_ns)


# --- what changed ---------------------------------------------------------------------------


def changed_entries(old: State, new: State) -> tuple[list[Address], list[Address]]:
    """(addresses whose entry `new` sets, addresses `new` no longer has) going from `old`.

    Entries are frozen and replaced when they change, so an entry equal to the old one (the
    same object, mostly) is unchanged. A change keeps the entries' order (a copy of the
    mapping, replaced values in place, new keys at the end, removed keys gone), so the two
    mappings are compared in C, by halves or walked side by side in runs; only where they
    part (a removal, a moved key) does Python look a key up. The set part may name an
    unchanged entry (a key moved to the end), never miss a changed one.
    """
    old_keys, new_keys = list(old.entries), list(new.entries)
    old_values, new_values = list(old.entries.values()), list(new.entries.values())
    kept = len(old_keys)
    if len(new_keys) >= kept and old_keys == new_keys[:kept]:
        # The usual commit: keys in place, new ones at the end. List equality skips
        # identical items in C, so halving finds the few replaced entries cheaply.
        replaced = _differing(old_values, new_values, 0, kept)
        return [*(new_keys[index] for index in replaced), *new_keys[kept:]], []
    setting: list[Address] = []
    removed: list[Address] = []
    i = j = 0
    while i < len(old_keys) and j < len(new_keys):
        limit = min(len(old_keys) - i, len(new_keys) - j)
        parted = map(is_not, islice(old_keys, i, None), islice(new_keys, j, None))
        run = next(compress(count(), parted), limit)
        changed = map(is_not, islice(old_values, i, i + run), islice(new_values, j, j + run))
        setting.extend(compress(islice(new_keys, j, j + run), changed))
        i, j = i + run, j + run
        if i < len(old_keys) and j < len(new_keys):
            if old_keys[i] not in new.entries:
                removed.append(old_keys[i])
            i += 1  # removed, or moved: then it is set where the new mapping has it
    removed.extend(key for key in islice(old_keys, i, None) if key not in new.entries)
    setting.extend(islice(new_keys, j, None))
    return setting, removed


def _differing(old: list[Any], new: list[Any], low: int, high: int) -> Iterator[int]:
    """Positions in [low, high) where the two lists' items differ (unequal), by halving."""
    if old[low:high] == new[low:high]:
        return
    if high - low == 1:
        yield low
        return
    middle = (low + high) // 2
    yield from _differing(old, new, low, middle)
    yield from _differing(old, new, middle, high)


def record_line(old: State, new: State) -> bytes:
    """The log line of the commit from `old` to `new` (compact JSON, ASCII, one line)."""
    setting, removed = changed_entries(old, new)
    before, after = _header(old), _header(new)
    record: dict[str, Any] = {
        "lineage": new.lineage,
        "serial": new.serial,
        "header": {key: value for key, value in after.items() if before.get(key) != value},
        "set": {str(address): new.entries[address].to_dict() for address in setting},
        "remove": sorted(map(str, removed)),
    }
    # json's C encoder, not orjson: this text must read back exactly (NaN, big integers).
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"


def _header(state: State) -> dict[str, Any]:
    return {"version": state.version, "tool_version": state.tool_version, "server": state.server}


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    text: bytes


def acknowledged_length(raw: bytes) -> int:
    """How many leading bytes of the log `raw` hold acknowledged commits: all but a torn last
    line (no newline, or not JSON)."""
    end = raw.rfind(b"\n") + 1  # a tail after the last newline is torn
    if end == 0:
        return 0
    start = raw.rfind(b"\n", 0, end - 1) + 1
    if _json_or_none(raw[start : end - 1]) is None:
        return start
    return end


def _json_or_none(text: bytes) -> Any:
    try:
        return jsonfast.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _lines(raw: bytes) -> Iterator[_Line]:
    kept = raw[: acknowledged_length(raw)]
    for number, text in enumerate(kept.split(b"\n")[:-1], start=1):
        yield _Line(number, text)


def replay(
    base: State,
    raw: bytes,
    *,
    source: str,
    migrations: Mapping[int, Migration],
    hint: str,
) -> State:
    """`base` (the state file's state) with the log `raw`'s records applied in order.

    Records not above the file's serial were folded into it already (a crash between the
    fold and the log's removal) and are skipped; any other record that is not the next
    serial of the same lineage, or not a valid record, is a StateError naming its line.
    """
    entries = dict(base.entries)
    state = base
    for line in _lines(raw):
        where = f"{source} line {line.number}"
        data = _json_or_none(line.text)
        if not isinstance(data, dict):
            raise StateError(f"{where} is not a JSON object", hint=hint)
        lineage, serial = data.get("lineage"), data.get("serial")
        if lineage != base.lineage:
            raise StateError(
                f"{where} is a commit of lineage {lineage!r}, not the state's {base.lineage}",
                hint=hint,
            )
        if not isinstance(serial, int) or isinstance(serial, bool):
            raise StateError(f"{where} has no integer 'serial'", hint=hint)
        if serial <= base.serial:
            continue
        if serial != state.serial + 1:
            raise StateError(
                f"{where} is serial {serial}, but the next commit is {state.serial + 1}",
                hint=hint,
            )
        changes = _record_state(state, data, where, migrations=migrations, hint=hint)
        for address in _removed(data, where, hint):
            entries.pop(address, None)
        entries.update(changes.entries)
        state = replace(changes, entries=entries)  # a mapping of its own, unlike `base`'s
    return state


def _record_state(
    previous: State,
    data: dict[str, Any],
    where: str,
    *,
    migrations: Mapping[int, Migration],
    hint: str,
) -> State:
    """The record `data` as a state holding the entries it sets, under its new header:
    checked by the same migration and schema as a whole state file."""
    header, setting = data.get("header", {}), data.get("set", {})
    if not isinstance(header, dict) or not set(header) <= set(_HEADER):
        raise StateError(f"{where}: 'header' is not a mapping of {', '.join(_HEADER)}", hint=hint)
    if not isinstance(setting, dict):
        raise StateError(f"{where}: 'set' is not a mapping", hint=hint)
    document = {
        **_header(previous),
        **header,
        "lineage": previous.lineage,
        "serial": data["serial"],
        "resources": setting,
    }
    return state_from_data(document, where, migrations=migrations, hint=hint)


def _removed(data: dict[str, Any], where: str, hint: str) -> list[Address]:
    removed = data.get("remove", [])
    if not isinstance(removed, list) or not all(isinstance(text, str) for text in removed):
        raise StateError(f"{where}: 'remove' is not a list of addresses", hint=hint)
    try:
        return [Address.parse(text) for text in removed]
    except ValueError as error:
        raise StateError(f"{where}: {error}", hint=hint) from None


# --- the file -------------------------------------------------------------------------------


class CommitLog:
    """The log file's I/O. Appends come from the lock holder only, one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def signature(self) -> Signature | None:
        try:
            return signature_of(self.path.stat())
        except FileNotFoundError:
            return None

    def read(self) -> tuple[bytes, Signature | None]:
        """The log's bytes (empty when there is none) and the signature of what was read (the
        size may be below what was read: a later look then reads it again)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return b"", None
        with os.fdopen(fd, "rb") as handle:
            signature = signature_of(os.fstat(fd))
            return handle.read(), signature

    def append(self, line: bytes) -> Signature:
        """Append `line` durably; the signature of the log after it."""
        # O_CREAT with mode 0600: the log, like the state, never exists world-readable.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):  # a full disk
                    raise OSError(f"short write to {self.path} ({written} of {len(line)} bytes)")
                os.fsync(fd)
            except OSError:
                # Not acknowledged: cut what was written, or the next append would follow a
                # torn line (readers skip it only as the last line).
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
            signature = signature_of(os.fstat(fd))
        finally:
            os.close(fd)
        created = size == 0
        if created:  # the new directory entry must reach the disk too
            fsync_dir(self.path.parent)
        return signature

    def cut_torn_tail(self) -> None:
        """Drop a torn last line (a crash mid-append) so that the next append starts on a line
        of its own. Only the lock holder calls this."""
        raw, _ = self.read()
        keep = acknowledged_length(raw)
        if keep < len(raw):
            os.truncate(self.path, keep)

    def remove(self) -> None:
        """Remove the log (its records are in the state file now)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def fsync_dir(directory: Path) -> None:
    """Make a directory entry durable: a created, renamed or removed file's name."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
