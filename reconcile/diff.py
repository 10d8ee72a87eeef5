"""The owned-field diff of two normalized specs, and the canonical-JSON digest helpers.

Only paths the tool owns (present in desired or in `last_applied`) are compared; everything
else on a live object is server-owned. This is the only deepdiff user; it knows no kind.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import repeat
from operator import eq
from typing import Any

from reconcile.jsonfast import sorted_text
from reconcile.model import (
    JSON,
    FieldChange,
    FieldChangeKind,
    Spec,
)
from reconcile.paths import format_path, is_item, item_segment, paths_overlap

DEFAULT_LIST_KEY = "name"
ListKeys = Mapping[str, str | None]
"""Per list path (item segments left out, e.g. `spec.storage.pvc`): the field that names its
items, or None to compare that list as one whole value. Unlisted lists use `name` when every
item carries a unique one."""

_MISSING: Any = object()


def _deepdiff() -> Any:
    """The `DeepDiff` class, imported on first use: a plan without changes never needs it
    (its import is slow enough to matter at start-up). Tests may replace `diff.DeepDiff`."""
    found = globals().get("DeepDiff")
    if found is None:
        from deepdiff import DeepDiff as found

        globals()["DeepDiff"] = found
    return found


def __getattr__(name: str) -> Any:
    if name == "DeepDiff":
        return _deepdiff()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Made once: json.dumps builds a new encoder on every call that passes options.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_PLAIN = json.JSONEncoder(separators=(",", ":"))


# orjson writes what the standard encoder does, but for floats below 1e-4 (`0.00001` or
# `1e-7` where it writes `1e-05`, `1e-07`) and NaN and infinities (null): text with an
# exponent, a `0.0000` or a null takes the standard encoder (strings holding them too).
# An exponent is a digit, `e` or `E`, then a sign (names hold `e-` often: `workspace-1`).
# Digits become "0", `e` and `E` "e", signs "-", all else " ": one C pass, then one search.
_EXPONENT_SHAPE = bytes(
    48 if 48 <= byte <= 57 else 101 if byte in b"eE" else 45 if byte in b"+-" else 32
    for byte in range(256)
)


def _standard(text: bytes) -> bool:
    """True when `text` (orjson's) holds no null, no `0.0000` and no exponent."""
    if b"null" in text or b"0.0000" in text:
        return False
    return b"0e-" not in text.translate(_EXPONENT_SHAPE)


def canonical(obj: JSON) -> str:
    """Canonical JSON: sorted keys, no whitespace; equal text means equal JSON."""
    text = _canonical_in_c(obj)
    return _CANONICAL.encode(obj) if text is None else text.decode("utf-8")


def _canonical_in_c(obj: JSON) -> bytes | None:
    """`canonical(obj)` as UTF-8, written in C; None where that text would not be the same."""
    text = sorted_text(obj)
    return text if text is not None and _standard(text) else None


def _text(obj: JSON) -> str:
    return _PLAIN.encode(obj)


def identical(first: JSON, *others: JSON) -> bool:
    """True when every value is the very same JSON as `first`, keys in any order: the same
    types (True, 1 and 1.0 all differ, where `==` takes them for one). Identical specs leave
    the diff and the drift check nothing to find (neither sees key order); anything else,
    even equal JSON, takes the full diff. Values are JSON as `json.loads` makes it.

    Compared as JSON texts written in C with sorted keys, where each scalar is written as its
    own type: the cheapest exact walk. A text holding a null (NaN and the infinities are
    written as null too), and a value orjson cannot write (a subclass of a JSON type, an
    integer beyond 64 bits), are compared as marshal format 2 bytes instead: a C walk that
    writes each value with its exact type, and no object references or interning marks
    (formats 3 and later add those, so equal values could differ), keys in order. It refuses
    types other than the built-in ones (a str subclass): those are not identical here.
    """
    text = sorted_text(first)
    if text is not None and b"null" not in text:
        # map, not a generator: this runs for every planned spec
        return all(map(eq, repeat(text), map(sorted_text, others)))
    try:
        data = marshal.dumps(first, 2)
        for other in others:
            if marshal.dumps(other, 2) != data:
                return False
    except ValueError:
        return False
    return True


def digest(obj: JSON) -> str:
    """The sha256 hex digest of `canonical(obj)` (desired-set digests, live fingerprints)."""
    text = _canonical_in_c(obj)
    return hashlib.sha256(canonical(obj).encode("utf-8") if text is None else text).hexdigest()


class _Whole(str):
    """A value deepdiff must compare as one (an unnamed list): its canonical JSON text."""


class _Item(str):
    """The dict key standing for a named list item, spelled as its path segment."""

    key: str
    name: JSON


def _item(key: str, name: JSON) -> _Item:
    seg = _Item(item_segment(key, name))
    seg.key, seg.name = key, name
    return seg


def _whole(value: JSON) -> _Whole:
    return _Whole(canonical(_numbers(value)))


def _numbers(value: JSON) -> JSON:
    """Integral floats as ints, so `[1.0]` and `[1]` compare equal inside whole values."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _Lists:
    """Decides, per list path, which field (if any) names the items."""

    overrides: ListKeys

    def key(self, where: tuple[str, ...], desired: list[Any]) -> str | None:
        """The field naming the items of the desired list at `where`, or None (whole value).

        Decided on desired alone, so every walk agrees; an empty list is a whole value."""
        key: str | None = DEFAULT_LIST_KEY
        if self.overrides:
            dotted = format_path(s for s in where if not is_item(s))
            key = self.overrides.get(dotted, DEFAULT_LIST_KEY)
        if key is None or not desired:
            return None
        names = [i.get(key) if isinstance(i, dict) else None for i in desired]
        if not all(type(n) in (str, int) for n in names):  # not bool, not None
            return None
        return key if len(set(names)) == len(names) else None


def _by_name(items: JSON, key: str) -> dict[Any, JSON]:
    if not isinstance(items, list):
        return {}
    return {i[key]: i for i in items if isinstance(i, dict) and key in i}


def diff_owned(
    desired: Spec,
    live: Spec | None,
    last_applied: Spec | None,
    *,
    sensitive: Iterable[str] = frozenset(),
    list_keys: ListKeys | None = None,
) -> tuple[FieldChange, ...]:
    """The changes that turn `live` into `desired`, on owned paths only, sorted by path.

    ADD: absent (or null) on the server; CHANGE: differs (before = live, after = desired);
    CLEAR: in `last_applied`, gone from desired, still set on the server (send as
    fieldsToClear). A new sub-object is one ADD at its root. `live=None` means no object.
    """
    lists = _Lists(list_keys or {})
    server = live if live is not None else {}
    clears: list[FieldChange] = []
    if last_applied is not None and last_applied != desired:
        clears = _clears(desired, server, last_applied, lists, ())
    # The fast path: the projection keeps desired's key and item order, so plain JSON text
    # (unsorted, which is cheaper) is equal exactly when the owned values are; deepdiff only
    # runs on objects that differ. A server object with the very same text (the common
    # no-change case) projects onto desired as it is, so it needs no projection; `==` first
    # is nearly free and rules out a server object with more fields (True == 1 there, so
    # the text still decides).
    if not clears:
        wanted = _text(desired)
        if server == desired and _text(server) == wanted:
            return ()
        if _text(_project(desired, server, lists, ())) == wanted:
            return ()
    changes = _deep(desired, server, lists) + clears
    patterns = tuple(sensitive)
    flagged = (
        replace(c, sensitive=True) if any(paths_overlap(p, c.path) for p in patterns) else c
        for c in changes
    )
    return tuple(sorted(flagged, key=lambda c: c.path))


def drift(
    last_applied: Spec,
    live: Spec,
    *,
    sensitive: Iterable[str] = frozenset(),
    list_keys: ListKeys | None = None,
) -> tuple[FieldChange, ...]:
    """Where `live` moved away from what we last applied, on the paths we applied.

    CHANGE: before = last applied, after = live now; CLEAR: removed on the server.
    """
    found = diff_owned(last_applied, live, None, sensitive=sensitive, list_keys=list_keys)
    return tuple(
        FieldChange(c.path, FieldChangeKind.CLEAR, c.after, None, c.sensitive)
        if c.kind is FieldChangeKind.ADD
        else FieldChange(c.path, FieldChangeKind.CHANGE, c.after, c.before, c.sensitive)
        for c in found
    )


def _project(desired: JSON, live: JSON, lists: _Lists, where: tuple[str, ...]) -> JSON:
    """`live` cut down to the shape of `desired` (named items in desired's order)."""
    if isinstance(desired, dict) and isinstance(live, dict):
        out: dict[str, JSON] = {}
        for key, want in desired.items():
            if key not in live:
                if want is None:
                    out[key] = None  # a null in desired means absent
            elif isinstance(want, (dict, list)):
                out[key] = _project(want, live[key], lists, (*where, key))
            else:
                out[key] = live[key]
        return out
    if isinstance(desired, list) and isinstance(live, list):
        key = lists.key(where, desired)
        if key is not None:
            have = _by_name(live, key)
            # Item segments do not take part in list-key lookups, so none are added here.
            return [_project(i, have[i[key]], lists, where) for i in desired if i[key] in have]
    return live


def _clears(
    desired: JSON, live: JSON, last: JSON, lists: _Lists, where: tuple[str, ...]
) -> list[FieldChange]:
    """Owned paths in `last` that desired dropped and the server still holds."""
    if isinstance(last, dict) and isinstance(desired, dict) and isinstance(live, dict):
        pairs = [((*where, k), desired.get(k), live.get(k), v) for k, v in last.items()]
    elif isinstance(last, list) and isinstance(desired, list) and isinstance(live, list):
        key = lists.key(where, desired)
        if key is None:
            return []
        want, have = _by_name(desired, key), _by_name(live, key)
        pairs = [
            ((*where, _item(key, n)), want.get(n), have.get(n), v)
            for n, v in _by_name(last, key).items()
        ]
    else:
        return []
    found: list[FieldChange] = []
    for path, wanted, held, sent in pairs:
        if wanted is None and held is not None:
            found.append(FieldChange(format_path(path), FieldChangeKind.CLEAR, held, None))
        elif wanted is not None:
            found.extend(_clears(wanted, held, sent, lists, path))
    return found


def _deep(desired: Spec, live: Spec, lists: _Lists) -> list[FieldChange]:
    """Run deepdiff on the aligned trees and translate its report into FieldChanges."""
    want, have = _align(desired, live, lists, ())
    # threshold 0: always descend, so a new key is one ADD at its own path, never a rewrite
    # of its parent (deepdiff reports a whole dict changed when few keys are shared).
    report = _deepdiff()(have, want, view="tree", threshold_to_diff_deeper=0)
    found: list[FieldChange] = []
    for level in report.get("dictionary_item_added", ()):
        segments = level.path(output_format="list")
        found.append(
            FieldChange(format_path(segments), FieldChangeKind.ADD, None, _at(desired, segments))
        )
    for group in ("values_changed", "type_changes"):
        for level in report.get(group, ()):
            segments = level.path(output_format="list")
            before, after = _at(live, segments), _at(desired, segments)
            if not _same_number(before, after):
                found.append(
                    FieldChange(format_path(segments), FieldChangeKind.CHANGE, before, after)
                )
    return found


def _align(desired: JSON, live: JSON, lists: _Lists, where: tuple[str, ...]) -> tuple[JSON, JSON]:
    """(desired, live) as deepdiff should see them: owned keys only, named lists as dicts
    keyed by item segment, other lists as whole values, and parts equal on both sides left
    out (deepdiff is slow; it only ever sees what differs). Absent or null live parts are
    `_MISSING`, so deepdiff reports them as added."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return _align(desired, {}, lists, where)[0], _atom(live)
        want: dict[str, JSON] = {}
        have: dict[str, JSON] = {}
        for key, value in desired.items():
            if value is not None:  # null means absent; clears are found from last_applied
                pair = _align(value, live.get(key, _MISSING), lists, (*where, key))
                _file(want, have, key, pair)
        return want, have
    if isinstance(desired, list):
        key = lists.key(where, desired)
        if key is None:
            return _whole(desired), _atom(live)
        named = _by_name(live, key)
        want, have = {}, {}
        for item in desired:
            seg = _item(key, item[key])
            pair = _align(item, named.get(item[key], _MISSING), lists, (*where, seg))
            _file(want, have, seg, pair)
        return want, (have if isinstance(live, list) else _atom(live))
    return desired, _atom(live)


def _file(want: dict[str, JSON], have: dict[str, JSON], key: str, pair: tuple[JSON, JSON]) -> None:
    """Keep an aligned pair unless both sides are equal (then deepdiff need not see it)."""
    wanted, held = pair
    if held is _MISSING:
        want[key] = wanted
    elif not _equal(wanted, held):
        want[key], have[key] = wanted, held


def _equal(wanted: JSON, held: JSON) -> bool:
    """Equal aligned parts: two dicts pruned empty, or the same JSON scalar or whole value."""
    if isinstance(wanted, dict) or isinstance(held, dict):
        return wanted == {} and held == {} and isinstance(held, dict)
    return (type(wanted) is type(held) and wanted == held) or _same_number(wanted, held)


def _atom(live: JSON) -> JSON:
    if live is None or live is _MISSING:
        return _MISSING
    return _whole(live) if isinstance(live, list) else live


def _at(tree: JSON, segments: list[Any]) -> JSON:
    """The original value at a deepdiff path (item segments pick the named list item)."""
    for seg in segments:
        if isinstance(seg, _Item):
            tree = _by_name(tree, seg.key).get(seg.name)
        else:
            tree = tree.get(seg) if isinstance(tree, dict) else None
    return tree


def _same_number(a: JSON, b: JSON) -> bool:
    """1 and 1.0 are the same JSON number; True and 1 are not."""
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return isinstance(a, numbers) and isinstance(b, numbers) and a == b
