"""The one grammar of field paths, and the one rule for matching list items.

A path is dotted keys in the document shape (`spec.compute.gpuDevicesRequest`); a key that
is not a plain word (a dot in a Kubernetes label) reads `["app.kubernetes.io/name"]`; a list
item reads `[key=value]`, the item whose `key` field is `value` (`spec.env[name=HOME]`).
Patterns may also use `*` (any key) and `[*]` (any list item). Diff paths, sensitive-value
patterns, renderers, spec defaults and request building all use this module.

List items are matched one way everywhere (`pair_items`): by their `name` where the items
carry one, else by position. Pure functions over JSON values; imports nothing of ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

JSON = Any  # a JSON-compatible value: dict, list, str, int, float, bool or None
Path = str | Sequence[str]  # a path as text, or already parsed into segments

ANY_ITEM = "[*]"
ANY_KEY = "*"
NAME_KEY = "name"  # the field that names list items (environment variables, data sources)

_TOKEN = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|(\[[^\]]*\])|\.?([^.\["\]]+)')
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-/:@$]+")


def item_segment(key: str, value: object) -> str:
    """The segment of the list item whose `key` field is `value`: `[name=home]`."""
    return f"[{key}={value}]"


def is_item(segment: str) -> bool:
    """True for a list-item segment (`[name=x]`, `[*]`, `[]`), False for a key."""
    return segment.startswith("[") and segment.endswith("]")


def parse_path(path: str) -> tuple[str, ...]:
    """Split a path into segments; item segments keep their brackets. "" is the root: ()."""
    segments: list[str] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or (pos and match.group(3) is not None and path[pos] != "."):
            raise ValueError(f"not a field path: {path!r}")
        quoted, item, plain = match.groups()
        segments.append(json.loads(f'"{quoted}"') if quoted is not None else item or plain)
        pos = match.end()
    return tuple(segments)


def format_path(segments: Iterable[str]) -> str:
    """The text of a parsed path: `format_path(parse_path(p)) == p` for every canonical path."""
    out = ""
    for segment in segments:
        if is_item(segment):
            out += segment
        elif _PLAIN_KEY.fullmatch(segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment)}]"
    return out


def _segments(path: Path) -> Sequence[str]:
    return parse_path(path) if isinstance(path, str) else path


def _segment_matches(a: str, b: str) -> bool:
    if a == b:
        return True
    if a in (ANY_KEY, ANY_ITEM):
        wild, other = a, b
    elif b in (ANY_KEY, ANY_ITEM):
        wild, other = b, a
    else:
        return False
    return other.startswith("[") == (wild == ANY_ITEM)


def path_covers(pattern: str, path: str) -> bool:
    """True when `path` is `pattern` or lies under it (`spec.env` covers `spec.env[name=A]`)."""
    want, have = parse_path(pattern), parse_path(path)
    return len(have) >= len(want) and all(map(_segment_matches, want, have))


def paths_overlap(a: str, b: str) -> bool:
    """True when one path lies at or under the other."""
    return path_covers(a, b) or path_covers(b, a)


def item_matches(segment: str, item: JSON) -> bool:
    """`[*]` (and `[]`) match any list item; `[key=value]` the dict item whose `key` is
    `value` (compared as text, as the path spells it)."""
    if segment in (ANY_ITEM, "[]"):
        return True
    if not (segment.startswith("[") and "=" in segment and isinstance(item, dict)):
        return False
    key, _, name = segment[1:-1].partition("=")
    return key in item and str(item[key]) == name


def item_name(item: JSON) -> str | int | None:
    """The name a list item is known by, or None: a dict item's `name` (a string or number)."""
    if isinstance(item, dict):
        name = item.get(NAME_KEY)
        if type(name) in (str, int):
            return name
    return None


def segment_of(item: JSON) -> str:
    """The segment that names `item` in a path: `[name=x]` where it has a name, else `[*]`."""
    name = item_name(item)
    return ANY_ITEM if name is None else item_segment(NAME_KEY, name)


def pair_items(items: Sequence[JSON], others: Sequence[JSON]) -> list[tuple[JSON, JSON]]:
    """Each of `items` with its counterpart in `others` (None when it has none).

    The one list rule: an item that has a name is paired with the item of `others` of the
    same name (its position does not matter: a reordered list keeps its pairs); an item
    without one is paired with the item at the same position.
    """
    named: dict[str | int, JSON] = {}
    for other in others:
        name = item_name(other)
        if name is not None:
            named.setdefault(name, other)
    pairs: list[tuple[JSON, JSON]] = []
    for index, item in enumerate(items):
        name = item_name(item)
        if name is not None and named:
            pairs.append((item, named.get(name)))
        else:
            pairs.append((item, others[index] if index < len(others) else None))
    return pairs


def lookup(tree: JSON, path: Path) -> tuple[bool, JSON]:
    """(present, value) at `path`: a key descends into a mapping, an item segment picks the
    first matching list item."""
    node = tree
    for segment in _segments(path):
        if is_item(segment) and isinstance(node, list):
            found = next((i for i in node if item_matches(segment, i)), _ABSENT)
            if found is _ABSENT:
                return False, None
            node = found
        elif isinstance(node, dict) and segment in node:
            node = node[segment]
        else:
            return False, None
    return True, node


_ABSENT: Any = object()


def get(tree: JSON, path: Path) -> JSON:
    """The value at `path`, or None when absent."""
    return lookup(tree, path)[1]


def set_value(tree: dict[str, Any], path: Path, value: JSON) -> None:
    """Set `value` at `path` in `tree`, in place, creating the mappings on the way and, for a
    `[key=value]` segment that matches no item, the item `{key: value}` at the list's end."""
    segments = _segments(path)
    if not segments:
        raise ValueError("cannot set the root of a tree")
    node: Any = tree
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if is_item(segment):
            if not isinstance(node, list):
                raise ValueError(f"{format_path(segments[:index])} is not a list")
            found = next((i for i in node if item_matches(segment, i)), None)
            if found is None:
                if "=" not in segment:
                    raise ValueError(f"no list item matches {segment}")
                key, _, name = segment[1:-1].partition("=")
                found = {key: name}
                node.append(found)
            if last:
                if not item_matches(segment, value):
                    raise ValueError(f"the value set at {segment} must be that item")
                node[node.index(found)] = value
                return
            node = found
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{format_path(segments[:index])} is not a mapping")
            if last:
                node[segment] = value
                return
            child = node.get(segment)
            if not isinstance(child, (dict, list)):
                child = [] if is_item(segments[index + 1]) else {}
                node[segment] = child
            node = child


def delete(tree: JSON, path: Path) -> bool:
    """Remove the value at `path` (a key, or every list item the last segment matches);
    True when something was removed."""
    segments = _segments(path)
    if not segments:
        raise ValueError("cannot delete the root of a tree")
    present, parent = lookup(tree, segments[:-1])
    last = segments[-1]
    if not present:
        return False
    if is_item(last) and isinstance(parent, list):
        kept = [i for i in parent if not item_matches(last, i)]
        removed = len(kept) != len(parent)
        parent[:] = kept
        return removed
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


def walk(tree: JSON, base: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], JSON]]:
    """Every node of `tree` with its segments, parents before children, in the tree's order; list
    items by `segment_of` (`[name=x]` where named, else `[*]`)."""
    yield base, tree
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from walk(value, (*base, key))
    elif isinstance(tree, list):
        for item in tree:
            yield from walk(item, (*base, segment_of(item)))
