"""JSON text in C (orjson): a JSON value's text with sorted keys.

Refused (None) where the value is not plain JSON that orjson writes exactly (an integer
outside 64 bits, a lone surrogate, a subclass of a JSON type, a date, a dataclass); a tuple
is written as a list. orjson writes NaN and infinities as `null`, and spells some floats
otherwise than the standard library: `diff.canonical` says where its text can be used.
"""

from __future__ import annotations

import orjson

from reconcile.paths import JSON

_SORTED = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def sorted_text(value: JSON) -> bytes | None:
    """`value` as compact JSON text (UTF-8), keys sorted by code point; None when refused."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return None
