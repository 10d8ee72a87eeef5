"""Plain YAML files read straight into values by a fast parser (yaml-rs), for the files it
surely reads as composing nodes does (config.py's node path), which it skips.

The only yaml_rs user. A file is read here only when it holds nothing the two might read
differently: no tag, anchor, alias or merge key, no directive or document-end marker, no
character but printable ones and line feeds, no empty document, no key that is not a string,
no number JSON cannot carry, no nesting the node path refuses; anything else, and any parser
error, returns None and the caller composes nodes (which words every problem). The parser
gives no positions: each document's own (its first character) and its `metadata.name`'s are
found in the text where that is sure, and left to the node path where it is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

try:  # a Rust extension: where no wheel exists, every file takes the node path
    import yaml_rs

    AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the platform
    AVAILABLE = False

Spot = tuple[int, int]  # line and column, 1-based

# What the fast reader leaves to the node path: a character YAML 1.1 (libyaml) treats unlike
# YAML 1.2 or refuses (tabs, carriage returns, NEL, line and paragraph separators, a BOM
# inside, control characters); where a node may start: a tag, anchor, alias, explicit key
# (`?`, which libyaml also sees without a space after it), a `:`, a `=` (YAML 1.1's value
# key), a block scalar (the two chomp an empty one unalike) or a character no plain value may
# start with; a merge key; a directive; a document-end marker; a document marker with content
# on its line.
_ODD_CHARACTER = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_RARE = "&*!?@`%|>="
_NODE_PROPERTY = re.compile(r"(?<![^\s\[{,:])[&*!?@`%|>=]")
_COLON_STARTS = (" :", "\n:", "[:", "{:", ",:", "::")
_LINE_START = re.compile(r"^(?:%|\.\.\.)", re.MULTILINE)
_MARKER = re.compile(r"---[ ]*(?:#[^\n]*)?")
_CONTENT = re.compile(r"^[ ]*[^ #\n]", re.MULTILINE)  # a line that is neither blank nor a comment
_METADATA = re.compile(r"^metadata:[ ]*(?:#[^\n]*)?$", re.MULTILINE)
_OPENS_QUOTE_OR_FLOW = re.compile(r"[\"'\[{]")
_MAY_SPAN_LINES = re.compile(r"[\"'\[{|>]")  # a quoted, flow or block value
_SCALARS = frozenset({str, int, bool, type(None)})
# Where a value starts: a quoted one (its closing quote captured when it closes on its line:
# the two parsers fold a quoted value's lines unalike) or a plain one that may be a number
# (the two resolvers read some forms unalike: `0B1`), each after a space, a line break or
# flow punctuation (matched, and looked for first: a search for where a value starts would
# try every character). One pass over the text, a line feed put before it, for both.
_VALUE_START = re.compile(
    r"""[\s\[{,:](?=["'\-+.0-9])(?:"(?:[^"\\\n]|\\.)*(")?|'(?:[^'\n]|'')*(')?"""
    r"|([-+.]?[0-9][^\s#,\[\]{}]*))"
)
# The numbers both read alike.
_CANONICAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?:?")
_ALIKE: dict[str, bool] = {}  # plain value -> both resolvers read it alike

Typed = Callable[[str], str]
"""A plain value -> the `repr` of what the node path makes of it ("" when it refuses it)."""


@dataclass(frozen=True)
class PlainDocument:
    """One document as read: its value, where it starts in the text (an index) and ends,
    and where its root and its `metadata.name` value are (None: not found for sure)."""

    value: dict[str, Any]
    start: int
    end: int
    root: Spot
    name: Spot | None


def read_plain(text: str, max_depth: int, typed: Typed) -> list[PlainDocument] | None:
    """The documents of `text`, each a mapping; None when the node path must read it.

    `typed`: how the node path types a plain value, for the values that may be numbers."""
    if not AVAILABLE or _refused(text) or not _values_alike(text, typed):
        return None
    chunks = _chunks(text)
    if chunks is None:
        return None
    try:
        loaded = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # any refusal or parser failure: the node path words the problem
        return None
    values = [loaded] if len(chunks) == 1 else loaded
    if not isinstance(values, list) or len(values) != len(chunks):
        return None
    documents = []
    lines = _Lines(text)
    for value, (start, first, end) in zip(values, chunks, strict=True):
        if type(value) is not dict or not _plain(value, 0, max_depth):
            return None
        root = lines.spot(first)
        name = _name_spot(lines, first, end, value) if root[1] == 1 else None
        documents.append(PlainDocument(value, start, end, root, name))
    return documents


def _refused(text: str) -> bool:
    if "<<" in text or _ODD_CHARACTER.search(text):
        return True
    if any(c in text for c in _RARE) and _NODE_PROPERTY.search(text):
        return True
    if text.startswith(":") or any(pair in text for pair in _COLON_STARTS):
        return True
    return ("%" in text or "..." in text) and _LINE_START.search(text) is not None


def _values_alike(text: str, typed: Typed) -> bool:
    """True when no quoted value goes on past its line and every plain value that may be a
    number is typed alike by both resolvers (a value with a space after its first word is a
    string to both)."""
    for double, single, token in set(_VALUE_START.findall("\n" + text)):
        if not (double or single or token):
            return False  # a quoted value left open at the end of its line
        if not token or _CANONICAL.fullmatch(token):
            continue
        alike = _ALIKE.get(token)
        if alike is None:
            alike = _typed_alike(token.removesuffix(":"), typed)
            if len(_ALIKE) < 10_000:
                _ALIKE[token] = alike
        if not alike:
            return False
    return True


def _typed_alike(token: str, typed: Typed) -> bool:
    try:
        loaded = yaml_rs.loads("- " + token, parse_datetime=False)
    except Exception:
        return False
    return isinstance(loaded, list) and len(loaded) == 1 and repr(loaded[0]) == typed(token)


def _chunks(text: str) -> list[tuple[int, int, int]] | None:
    """Each document's (start, first content character, end) between `---` lines; None when
    one after a marker is empty (the node path reports it) or there is none."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for begin, end in _dash_lines(text):
        if not _MARKER.fullmatch(text, begin, end):
            return None
        bounds.append((start, begin))
        start = end + 1
    bounds.append((start, len(text)))
    chunks = []
    for index, (begin, end) in enumerate(bounds):
        content = _CONTENT.search(text, begin, end)
        if content is None:
            if index == 0 and len(bounds) > 1:  # comments before the first `---`
                continue
            return None
        first = content.end() - 1
        chunks.append((begin, first, end))
    return chunks


def _dash_lines(text: str) -> Iterator[tuple[int, int]]:
    """Where each line that starts with `---` starts and ends (before its line feed): a
    search for the text is quicker than a regex trying every line start."""
    begin: int | None = 0 if text.startswith("---") else None
    search = 0
    while True:
        if begin is None:
            feed = text.find("\n---", search)
            if feed < 0:
                return
            begin = feed + 1
        end = text.find("\n", begin)
        end = len(text) if end < 0 else end
        yield begin, end
        begin, search = None, end


class _Lines:
    """Line and column of indexes into a text asked in increasing order (counted onwards
    from the last one asked, so a file's lines are counted once)."""

    def __init__(self, text: str) -> None:
        self.text, self.index, self.line = text, 0, 1

    def spot(self, index: int) -> Spot:
        if index < self.index:
            self.index, self.line = 0, 1
        self.line += self.text.count("\n", self.index, index)
        self.index = index
        return self.line, index - (self.text.rfind("\n", 0, index) + 1) + 1


def _plain(node: Any, depth: int, max_depth: int) -> bool:
    """True when every key is a string, every number finite and the nesting within bounds
    (what the node path refuses, or types alike only as text, is left to it)."""
    if depth >= max_depth:
        return not node  # an empty collection at the limit has no node below it
    for item in node.values() if type(node) is dict else node:
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is float:
            if item - item != 0:  # inf and nan
                return False
        elif kind is dict or kind is list:
            if not _plain(item, depth + 1, max_depth):
                return False
        else:
            return False
    if type(node) is dict:
        for key in node:
            if type(key) is not str:
                return False
    return True


def _name_spot(lines: _Lines, first: int, end: int, value: dict[str, Any]) -> Spot | None:
    """Where the document's `metadata.name` value starts, found in a block `metadata:` at
    the document's root with the name plainly on its line; None when unsure."""
    metadata = value.get("metadata")
    name = metadata.get("name") if type(metadata) is dict else None
    if type(name) is not str or not name:
        return None
    text = lines.text
    found = _METADATA.search(text, first, end)
    # Quotes or flow collections above it could hide a line that only looks like a key.
    if found is None or _OPENS_QUOTE_OR_FLOW.search(text, first, found.start()):
        return None
    at = found.end() + 1
    indent = 0
    while at < end:
        line_end = text.find("\n", at, end)
        line_end = end if line_end < 0 else line_end
        line = text[at:line_end]
        body = line.lstrip(" ")
        if body and not body.startswith("#"):
            width = len(line) - len(body)
            if width == 0 or (indent and width < indent):
                return None  # the end of `metadata`
            indent = indent or width
            if width == indent and body.startswith("name:"):
                written = body[len("name:") :].lstrip(" ")
                if written in (name, f'"{name}"', f"'{name}'") and written != body[5:]:
                    return lines.spot(line_end - len(written))
                return None
            if _MAY_SPAN_LINES.search(body):
                return None  # a quoted, flow or block value could span lines
        at = line_end + 1
    return None
