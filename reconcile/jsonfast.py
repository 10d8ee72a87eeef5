"""JSON parsed and encoded in C (orjson), with exactly the results of the standard `json`.

The only orjson user. orjson is several times faster than `json` on big texts (a state of
10,000 entries; `json` indents in pure Python), but differs at the edges: it writes floats
and non-ASCII text its own way and NaN as null; it reads an integer beyond 64 bits as a
float, and refuses NaN, Infinity and lone surrogates, which `json` reads. So `loads` hands
every text orjson refuses, or that may hold such an integer, to `json`: what it returns, and
every error it raises (with `json`'s line and column), is `json.loads`'s (only nesting deeper
than `json`'s recursion allows, within orjson's 1,024 levels, reads where `json` fails). And
`dumps_indented` keeps orjson's text only where its compact form is `json`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

# A run of 19 digits may be an integer orjson cannot hold (below -2**63 or above 2**64 - 1;
# every 18-digit one fits). Digits become "0", all else " ": one C pass, then one search.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_RUN = b"0" * 19


def loads(data: bytes | str) -> Any:
    """`json.loads(data)`, bytes read as UTF-8 text (else a `UnicodeDecodeError`; `json` would
    guess UTF-16 or UTF-32 too, which no file of ours is)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.translate(_DIGITS_ONLY).find(_LONG_RUN) < 0:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # NaN, a lone surrogate, or not JSON at all: `json` decides, and words it
    return json.loads(data if isinstance(data, str) else data.decode("utf-8"))


def loads_each(texts: Sequence[bytes], refused: Callable[[bytes], Any]) -> list[Any]:
    """`[loads(text) for text in texts]`, each text parsed on its own, where a text that
    `loads` refuses (ValueError, RecursionError) gives `refused(text)` instead.

    One search for long digit runs covers them all (joined by a space, a run never spans two
    texts), and orjson reads them in one C loop: for many small texts (a state's rows) the
    per-text checks of `loads` cost as much as parsing."""
    if b" ".join(texts).translate(_DIGITS_ONLY).find(_LONG_RUN) < 0:
        try:
            return list(map(orjson.loads, texts))
        except orjson.JSONDecodeError:
            pass  # some text needs `loads`'s closer look: each gets it
    return [_loads_or(text, refused) for text in texts]


def _loads_or(text: bytes, refused: Callable[[bytes], Any]) -> Any:
    try:
        return loads(text)
    except (ValueError, RecursionError):
        return refused(text)


_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, indent=2, sort_keys=True)`, character for character.

    Both indent alike (a property test holds them to it), so where the compact forms are
    equal (the same keys in the same order, every scalar written alike, only ASCII) the
    indented ones are too."""
    try:
        compact = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a key that is not a string, an integer beyond 64 bits
        return json.dumps(value, indent=2, sort_keys=True)
    if compact.decode("utf-8") != json.dumps(value, sort_keys=True, separators=(",", ":")):
        return json.dumps(value, indent=2, sort_keys=True)
    return orjson.dumps(value, option=_INDENTED).decode("ascii")


def dumps(value: Any) -> bytes:
    """Compact JSON of `value`, for searching in (not for files: not `json.dumps`'s bytes).

    A string holding some ASCII text without quotes, backslashes or control characters holds
    it here exactly when it does in `json.dumps(value)`."""
    try:
        return orjson.dumps(value)
    except TypeError:  # a key that is not a string, an integer beyond 64 bits
        return json.dumps(value).encode("ascii")


_SORTED = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def sorted_text(value: Any) -> bytes | None:
    """`value` (one `json.loads` could make) as compact JSON text (UTF-8), keys sorted by code
    point; None where the text could not stand for it exactly (an integer beyond 64 bits, a
    lone surrogate, a subclass of a JSON type, a date, a dataclass). A tuple is written as a
    list; NaN and infinities as `null`, so callers that need them exact look for it."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return None


_EXACT = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
_EXACT |= orjson.OPT_PASSTHROUGH_DATACLASS


def exact_text(value: Any) -> bytes | None:
    """`value` as compact JSON text that `exact_value` reads back equal to it, every type kept
    (to hand values to another process: for about half what pickling dicts costs); None
    where JSON cannot stand for it exactly.

    orjson refuses a key that is not a string, an integer beyond 64 bits, a lone surrogate and
    (with these options) a subclass, a date or a dataclass; it writes a tuple as a list and
    NaN as null, which reading the text back and comparing finds (a list never equals a
    tuple, NaN equals nothing). Where the values are equal the types are too: an integer, a
    float and a boolean are each written their own way."""
    try:
        text = orjson.dumps(value, option=_EXACT)
    except orjson.JSONEncodeError:
        return None
    return text if orjson.loads(text) == value else None


def exact_value(text: bytes) -> Any:
    """The value `exact_text` wrote, or `sorted_text` (its keys then in sorted order): orjson
    reads every text it writes exactly, and neither writes an integer beyond 64 bits, so the
    checks of `loads` are not needed."""
    return orjson.loads(text)
