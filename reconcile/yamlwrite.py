"""Writes JSON-shaped values as block-style YAML documents that read back as the same values.

A small emitter rather than ruamel's: ruamel spends about a millisecond per document in its
Python representer and emitter, and an imported tenant of 10,000 templates must be written in
well under a second. The output is deliberately conservative: a string is written plain only
when no YAML 1.1 or 1.2 resolver could take it for anything but a string, else double-quoted
with escapes. tests/test_yamlwrite.py reads the output back through config.py's parsers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# Plain scalars: a conservative alphabet (no indicators; `:` only inside, never before a
# space), not starting with a character that begins a number, a date, `.inf` or an indicator.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9 _./@+=():-]*")
_NOT_PLAIN = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
# Characters YAML cannot hold raw (controls, surrogates, non-characters, BOM): escaped.
_ESCAPED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def dump_documents(documents: Sequence[Mapping[str, Any]], *, header: str = "") -> str:
    """A YAML stream of `documents` (separated by `---`), each mapping in its own key order.

    `header` (comment lines, each starting with `#`) goes first.
    """
    parts = ["\n".join(_mapping(doc, 0)) + "\n" for doc in documents]
    return header + "---\n".join(parts)


def _mapping(value: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        head = f"{pad}{_scalar(str(key))}:"
        if isinstance(item, dict) and item:
            lines.append(head)
            lines.extend(_mapping(item, indent + 2))
        elif isinstance(item, list) and item:
            lines.append(head)
            lines.extend(_sequence(item, indent))
        else:
            lines.append(f"{head} {_scalar(item)}")
    return lines


def _sequence(items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            inner = _mapping(item, indent + 2)
        elif isinstance(item, list) and item:
            inner = _sequence(item, indent + 2)
        else:
            lines.append(f"{pad}- {_scalar(item)}")
            continue
        lines.append(f"{pad}- {inner[0][indent + 2 :]}")
        lines.extend(inner[1:])
    return lines


def _scalar(value: Any) -> str:
    if type(value) is str:  # the common case first: most values are strings
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Mapping):
        return "{}"  # an empty mapping (non-empty ones are blocks)
    if isinstance(value, list):
        return "[]"
    return _string(str(value))


@lru_cache(maxsize=65536)  # names, images and scopes repeat across thousands of documents
def _string(text: str) -> str:
    if (
        _PLAIN.fullmatch(text)
        and text[-1] not in " :"
        and ": " not in text
        and text.lower() not in _NOT_PLAIN
    ):
        return text
    return _quoted(text)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # YAML 1.1 floats need the dot: `1e-05` would read as a string
    if e and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}{e}{exponent}"


def _quoted(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPED:
            out.append(_ESCAPED[char])
        elif _unprintable(code):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _unprintable(code: int) -> bool:
    """Outside YAML's printable set (controls, surrogates, non-characters), or a BOM."""
    controls = code < 0x20 or 0x7F <= code <= 0x9F
    return controls or 0xD800 <= code <= 0xDFFF or code in (0xFEFF, 0xFFFE, 0xFFFF)
