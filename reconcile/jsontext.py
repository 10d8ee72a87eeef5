"""JSON text in C (orjson): a parsed value's text with sorted keys, and text parsed back.

Only for values `json.loads` made (dict, list, str, int, float, bool, None): the text is
refused (None) where it could not stand for the value exactly (an integer outside 64 bits, a
lone surrogate, a subclass of a JSON type, a date, a dataclass), but a tuple is written as a
list. orjson writes NaN and infinities as `null`: callers that need them exact look for it.
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


def parse(text: bytes) -> JSON:
    """The value of JSON text that `sorted_text` wrote."""
    return orjson.loads(text)
