"""The exact text of a state file, assembled from per-entry fragments that are cached.

The format is `json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\\n"`, byte for byte;
only the cost changes: an apply writes the state after every step, and json's indenting
encoder (pure Python) took 10-20 ms per write of 1,000 entries. Performs no I/O.
"""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import compress, count, repeat
from operator import is_not, itemgetter
from typing import Any

from reconcile import jsonfast
from reconcile.model import Address, State, StateEntry

# The resources mapping's line in the text of a state without entries. JSON strings hold no
# raw newline, so this text (a newline, then a key two spaces in) only ever is that line.
_EMPTY_RESOURCES = '\n  "resources": {}'
# An entry sits two levels deep (document -> "resources" -> entry): its lines get 4 spaces.
_ENTRY_INDENT = "\n    "

_Row = tuple[Address, StateEntry, str, str]  # address, entry, key text, its line(s) in the file
_MISS: Any = (None, None, "", "")  # a row no address is
_ADDRESS, _NAME, _LINE = itemgetter(0), itemgetter(2), itemgetter(3)


def document_text(state: State) -> str:
    """`json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\\n"`, without a cache."""
    return StateText().render(state)


class StateText:
    """Renders states to their file text, reusing the text of entries it rendered last time.

    Entries are frozen and replaced (never edited) when they change, and nothing edits a
    spec in place once it is an entry's `last_applied`, so an entry object (at the same
    address object) has the same text for as long as it lives. The cache keeps the address
    and entry each text was made from (so their ids cannot be reused while cached), and only
    the entries of the last state rendered. Not thread-safe: the store calls it under its
    write lock.
    """

    def __init__(self) -> None:
        self._cache: dict[int, _Row] = {}  # id(entry) -> its row

    def render(self, state: State) -> str:
        text = json.dumps(replace(state, entries={}).to_dict(), indent=2, sort_keys=True) + "\n"
        if not state.entries:
            return text
        prefix, found, suffix = text.partition(_EMPTY_RESOURCES)
        if not found:  # to_dict changed shape: fall back to the plain (slow) encoding
            return json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
        # One join makes the whole text: every extra concatenation of a text this size costs
        # more than the join itself (a fresh allocation, page faults and all).
        lines = self._lines(state)
        lines[0] = f'{prefix}\n  "resources": {{\n{lines[0]}'
        lines[-1] = f"{lines[-1]}\n  }}{suffix}"
        return ",\n".join(lines)

    def _lines(self, state: State) -> list[str]:
        """Each entry's line(s) of the resources mapping, in key order."""
        # A cached row counts only when made for this very address object too. The work per
        # unchanged entry stays in C (map, sort by key, join).
        addresses, entries = list(state.entries), list(state.entries.values())
        ids = list(map(id, entries))
        rows: list[_Row] = list(map(self._cache.get, ids, repeat(_MISS, len(ids))))
        for index in compress(count(), map(is_not, map(_ADDRESS, rows), addresses)):
            rows[index] = _row(addresses[index], entries[index])
        self._cache = dict(zip(ids, rows, strict=True))
        # Entries keep their insertion order (sorted when read from a file, new ones at the
        # end), so this sort mostly merges runs.
        rows.sort(key=_NAME)
        if len(set(map(_NAME, rows))) != len(rows):
            rows = _last_per_name(rows)
        return list(map(_LINE, rows))


def _row(address: Address, entry: StateEntry) -> _Row:
    """An entry's row: its key text, and its line(s) in the resources block."""
    name = str(address)
    value: Any = entry.to_dict()
    encoded = jsonfast.dumps_indented(value).replace("\n", _ENTRY_INDENT)
    return (address, entry, name, f"    {json.dumps(name)}: {encoded}")


def _last_per_name(rows: list[_Row]) -> list[_Row]:
    """Rows sorted by key text, one per key: of two addresses with the same text (a `/` in a
    name), to_dict keeps the one that sorts last, as it builds its dict in address order."""
    kept: dict[str, _Row] = {}
    for row in rows:
        other = kept.get(row[2])
        if other is None or other[0] < row[0]:
            kept[row[2]] = row
    return list(kept.values())
