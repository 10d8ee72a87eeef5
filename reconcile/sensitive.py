"""Sensitive values: finding them by path pattern, masking them, and salted hashes of them.

Values from `${ENV}` and fields the schemas mark sensitive are never shown (renderers mask
them with a placeholder) and never stored (plan and state files keep a salted hash). Pure
functions over JSON; paths in the grammar of reconcile/paths.py.

The hash is scrypt, salted with the state's lineage (a plan file's own salt there): whoever
reads a state file holds its salt, so a fast hash would let them test guesses of a weak
password by the billion; scrypt's cost in time and memory makes each guess expensive. A run
hashes each distinct value once (memoized), so the cost is per secret, not per object.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat

from reconcile.model import JSON
from reconcile.paths import (
    format_path,
    item_matches,
    lookup,
    pair_items,
    parse_path,
    path_covers,
    set_value,
    walk,
)

MARKER = "sensitive_sha256"
_MARKER_KEY = json.dumps(MARKER)  # as it reads in JSON text: a key has no escapes
_ENCODER = json.JSONEncoder()
Mask = Callable[[JSON], JSON]


# scrypt's cost: 2**14 rounds of 8 KiB blocks (16 MiB), the strength its authors advise
# for interactive logins; a run pays it once per distinct secret.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


def salted_hash(salt: str, value: JSON) -> str:
    """scrypt over the value's canonical JSON, salted (64 hex digits)."""
    return _scrypt(salt, _canonical(value))


def _canonical(value: JSON) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _scrypt(salt: str, text: str) -> str:
    return hashlib.scrypt(text.encode(), salt=salt.encode(), **_SCRYPT).hex()


def _legacy_hash(salt: str, value: JSON) -> str:
    """The plain salted sha256 older state files hold: still recognised, so an upgrade sees
    no change; state records the stronger hash when it next writes the entry."""
    return hashlib.sha256(f"{salt}\n{_canonical(value)}".encode()).hexdigest()


def same_secret(salt: str, value: JSON, stored: str) -> bool:
    """True when `value` is the secret whose hash is `stored` (either hash)."""
    expected = stored.encode()  # bytes: a state file's text need not be ASCII
    return hmac.compare_digest(salted_hash(salt, value).encode(), expected) or (
        hmac.compare_digest(_legacy_hash(salt, value).encode(), expected)
    )


def hash_marker(salt: str) -> Mask:
    """The storage mask: `{"sensitive_sha256": salted_hash(salt, value)}`."""

    def mask(value: JSON) -> JSON:
        return {MARKER: salted_hash(salt, value)}

    return mask


def is_marker(value: JSON) -> bool:
    return isinstance(value, dict) and set(value) == {MARKER}


def hide(value: JSON, path: str, paths: Sequence[str], mask: Mask) -> JSON:
    """`value` (found at `path`) with every sensitive part replaced by `mask(part)`.

    What no path reaches is shared with `value`, not copied (`value` itself when nothing is
    masked): callers treat both as read-only."""
    if value is None:
        return None
    if not path:  # a whole spec (every redaction): the patterns are its tails
        tails = _parsed(paths)
        return _walk(value, tails, mask) if tails else value
    if any(path_covers(p, path) for p in paths if p):
        return mask(value)
    depth = len(parse_path(path))
    found = []
    for pattern in paths:
        segments = parse_path(pattern)
        if len(segments) > depth and path_covers(format_path(segments[:depth]), path):
            found.append(segments[depth:])
    return _walk(value, found, mask) if found else value


def _walk(value: JSON, tails: Sequence[tuple[str, ...]], mask: Mask) -> JSON:
    """`value` with the parts `tails` reach masked; `value` itself where nothing is (copied
    only on the way to a masked part)."""
    if any(not tail for tail in tails):
        return mask(value)
    if isinstance(value, dict):
        out: dict[str, JSON] | None = None
        for key, item in value.items():
            below = [t[1:] for t in tails if t[0] == key or t[0] == "*"]
            if below and (masked := _walk(item, below, mask)) is not item:
                if out is None:
                    out = dict(value)
                out[key] = masked
        return value if out is None else out
    if isinstance(value, list):
        items: list[JSON] | None = None
        for index, item in enumerate(value):
            below = [t[1:] for t in tails if item_matches(t[0], item)]
            if below and (masked := _walk(item, below, mask)) is not item:
                if items is None:
                    items = list(value)
                items[index] = masked
        return value if items is None else items
    return value


def redact(spec: JSON, paths: Sequence[str], salt: str) -> JSON:
    """`spec` as a state file may hold it: sensitive values replaced by salted hashes.

    `spec` itself when no path reaches a value in it (the usual case: the schema marks a
    path sensitive, and the spec does not set it), so a comparison with it stays cheap."""
    return hide(spec, "", paths, hash_marker(salt)) if paths else spec


def reaches(value: JSON, paths: Iterable[str]) -> bool:
    """True when some path (patterns allowed) names a part of `value`, null included: the
    parts `hide` would mask."""
    if not paths:
        return False
    return any(map(_reach, repeat(value), _parsed(paths)))


def _parsed(paths: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """The segments of each non-empty path, parsed once per set of paths."""
    key = paths if isinstance(paths, (tuple, frozenset)) else tuple(paths)
    tails = _TAILS.get(key)
    if tails is None:
        if len(_TAILS) >= _TAILS_KEPT:
            _TAILS.clear()
        tails = _TAILS[key] = tuple(parse_path(p) for p in key if p)
    return tails


# Parsed path sets: a run asks about a few sets of schema patterns once per planned spec (a
# dict, not lru_cache: its key building cost as much as the walk).
_TAILS: dict[tuple[str, ...] | frozenset[str], tuple[tuple[str, ...], ...]] = {}
_TAILS_KEPT = 1024


def _reach(value: JSON, tail: tuple[str, ...]) -> bool:
    """As `_walk` descends: a key or `*` into a mapping, a matching item into a list."""
    for index, head in enumerate(tail):
        if isinstance(value, dict):
            if head == "*":
                return any(_reach(item, tail[index + 1 :]) for item in value.values())
            if head not in value:
                return False
            value = value[head]
        elif isinstance(value, list):
            rest = tail[index + 1 :]
            return any(_reach(item, rest) for item in value if item_matches(head, item))
        else:
            return False
    return True


def reveal(stored: JSON, candidate: JSON, salt: str, *, verify: bool) -> JSON:
    """`stored` with each hash marker replaced by the value at the same place in `candidate`.

    With `verify`, only where the candidate hashes the same (a drift check: an unchanged
    secret is no drift); without, wherever the candidate has a value (what matters then is
    that the path is present, e.g. for fields to clear). Other markers stay as they are.
    List items are paired as `paths.pair_items` says: by name where named, else by position.
    """
    if _has_no_marker(stored):
        return stored  # nothing to reveal: the usual case, checked in C rather than walked
    return _reveal(stored, candidate, salt, verify=verify)


def _has_no_marker(value: JSON) -> bool:
    """True when no mapping inside `value` has the marker key (its JSON text lacks the key's
    text); False when unsure."""
    try:
        return _MARKER_KEY not in _ENCODER.encode(value)
    except (TypeError, ValueError):  # not JSON: let the walk decide
        return False


def _reveal(stored: JSON, candidate: JSON, salt: str, *, verify: bool) -> JSON:
    if is_marker(stored):
        if candidate is None:
            return stored
        if verify and not same_secret(salt, candidate, str(stored[MARKER])):
            return stored
        return candidate
    if isinstance(stored, dict):
        source = candidate if isinstance(candidate, dict) else {}
        return {k: _reveal(v, source.get(k), salt, verify=verify) for k, v in stored.items()}
    if isinstance(stored, list):
        pairs = pair_items(stored, candidate if isinstance(candidate, list) else [])
        return [_reveal(item, match, salt, verify=verify) for item, match in pairs]
    return stored


def marker_paths(stored: JSON) -> tuple[str, ...]:
    """The field paths at which `stored` holds hash markers (a state entry's secrets), as
    patterns: list items by `[name=x]` where named, else `[*]`. For a resource that left the
    config, these say which of its live values must not be shown."""
    found = (format_path(path) for path, value in walk(stored) if is_marker(value))
    return tuple(dict.fromkeys(found))


def as_applied(live: JSON, paths: Sequence[str], stored: JSON, desired: JSON, salt: str) -> JSON:
    """`live` with the values state says were applied at `paths`, which the server never
    answers with (write-only secrets): the desired value where it hashes as stored (no
    change), else the stored marker (a change, shown without either value).

    Where state holds no value at a path (an imported or adopted object), nothing tells the
    server's secret from the desired one: it is taken to be the desired one, and apply
    records its hash (`--replace` sends it)."""
    if not paths or not isinstance(live, dict):
        return live
    applied = reveal(stored, desired, salt, verify=True) if desired is not None else stored
    out = copy.deepcopy(live)
    for path in paths:
        found, value = lookup(applied, path)
        if not found or value is None:
            found, value = lookup(desired, path)
        if found and value is not None:
            set_value(out, path, copy.deepcopy(value))
    # Keys sorted again, as a normalized spec has them (the fast comparisons read text).
    sorted_copy: JSON = json.loads(json.dumps(out, sort_keys=True))
    return sorted_copy
