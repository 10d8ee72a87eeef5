"""Pure helpers on normalized specs: pruning, sorting and filling schema defaults.

Shared by the kind modules; knows no particular kind and performs no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any

from reconcile.jsonfast import exact_value, sorted_text
from reconcile.kinds.defaults import SCHEMA_DEFAULTS
from reconcile.model import JSON
from reconcile.paths import parse_path

# Exact types of JSON scalars: they skip the (slow) abstract Mapping check. Every spec of a
# plan goes through prune and sort_keys, 20,000 of them for 10,000 templates.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def prune(value: JSON) -> JSON:
    """Drop mapping entries that are None, {} or [] (recursively); the server treats them as
    absent. List elements are kept (their order and count are meaningful) but pruned inside."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(item) not in _SCALARS:  # a scalar needs no pruning (and is not {} or [])
                item = prune(item)
                if item is None or item == {} or item == []:
                    continue
            elif item is None:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [prune(item) for item in value]
    return value


def sort_keys(value: JSON) -> JSON:
    """A copy with every mapping's keys sorted (deterministic output)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {k: v if type(v := value[k]) in _SCALARS else sort_keys(v) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(item) for item in value]
    return value


def prune_sorted(value: JSON) -> JSON:
    """`sort_keys(prune(value))`, new containers throughout (every document's spec goes
    through it, 10,000 of them for 10,000 templates).

    A mapping of plain JSON types with nothing to prune is sorted in C: its JSON text with
    sorted keys, read back (a property test holds this equal to the walk, types included);
    the rest takes the walk. Specs hold JSON values only (no tuples: the text would make
    one a list).
    """
    if type(value) is dict:
        text = sorted_text(value)
        # Text without null, {} or [] has nothing to prune (a string holding one of them
        # only sends its spec the slower way).
        if text is not None and b"null" not in text and b"{}" not in text and b"[]" not in text:
            return exact_value(text)
    return prune_sorted_walk(value)


def prune_sorted_walk(value: JSON) -> JSON:
    """`prune_sorted` as one walk in Python: its copy shares every string (and other scalar)
    with `value`, where the C way's holds its own (for a server object the live view keeps
    anyway, that matters to a plan's peak memory)."""
    kind = type(value)
    if kind is dict:
        out = {}
        for key in sorted(value):
            item = value[key]
            if type(item) not in _SCALARS:
                item = prune_sorted_walk(item)
                if item == {} or item == []:
                    continue
            if item is not None:
                out[key] = item
        return out
    if kind is list:
        return [item if type(item) in _SCALARS else prune_sorted_walk(item) for item in value]
    if kind in _SCALARS:
        return value
    return sort_keys(prune(value))  # another Mapping type: the general walks


def fill_defaults(target: JSON, defaults: Defaults, *, keep_sorted: bool = False) -> None:
    """Fill schema defaults (dotted paths, `[]` = every list item) into `target`, in place.

    Only absent properties of objects that exist are filled, as the server does: a default
    never creates its parent object. `keep_sorted`: `target`'s keys are sorted (see
    `sort_keys`) and stay so, defaults included.
    """
    if defaults.tree is not None:
        _fill_tree(target, defaults.tree, keep_sorted=keep_sorted)
        return
    for path, default in defaults.paths.items():
        _fill(target, _tokens(path), default)
    if keep_sorted:
        _sort_in_place(target)


def _sort_in_place(node: JSON) -> None:
    if isinstance(node, dict):
        _resort(node)
        for item in node.values():
            _sort_in_place(item)
    elif isinstance(node, list):
        for item in node:
            _sort_in_place(item)


# A default tree: per key (or `[]` for every list item), the default to set there (or
# _NOTHING) and the tree to fill below it. The paths of one schema become a tree once, so an
# object is walked once, only where it has the keys, instead of once per path.
_Tree = dict[str, tuple[Any, "_Tree | None"]]
_NOTHING: Any = object()


def _compile_tree(defaults: Mapping[str, JSON]) -> _Tree | None:
    paths = [_tokens(path) for path in defaults]
    if any(not p or p[-1] == "[]" for p in paths):
        return None
    every = set(paths)
    if any(p[:end] in every for p in paths for end in range(1, len(p))):
        return None  # a default inside another default: only the path order says what wins
    tree: _Tree = {}
    for tokens, default in zip(paths, defaults.values(), strict=True):
        node = tree
        for token in tokens[:-1]:
            _, child = node.get(token, (_NOTHING, None))
            child = {} if child is None else child
            node[token] = (_NOTHING, child)
            node = child
        node[tokens[-1]] = (default, None)
    return tree


class Defaults:
    """A schema's defaults (dotted path -> value), compiled once into the tree that
    `fill_defaults` and `drop_defaults` walk. A snapshot: later changes to the mapping it
    was made from do not reach it."""

    __slots__ = ("paths", "tree")

    def __init__(self, paths: Mapping[str, JSON]) -> None:
        self.paths: Mapping[str, JSON] = MappingProxyType(copy.deepcopy(dict(paths)))
        # None when the paths do not fit one (a path inside another's default, a path ending
        # in `[]`): each path is then walked on its own, in the mapping's order.
        self.tree: _Tree | None = _compile_tree(self.paths)

    def __repr__(self) -> str:
        return f"Defaults({dict(self.paths)!r})"


NO_DEFAULTS = Defaults({})


@cache  # keyed by schema name: one entry per generated schema, never more
def schema_defaults(schema: str) -> Defaults:
    """The compiled defaults of the 2.24 schema `schema` (kinds/defaults.py)."""
    return Defaults(SCHEMA_DEFAULTS[schema])


def _fill_tree(node: JSON, tree: _Tree, *, keep_sorted: bool) -> None:
    added = False
    for head, (default, below) in tree.items():
        if head == "[]":
            if isinstance(node, list) and below is not None:
                for item in node:
                    _fill_tree(item, below, keep_sorted=keep_sorted)
        elif isinstance(node, dict):
            if default is not _NOTHING:
                if head not in node:
                    # sort_keys copies containers (and leaves scalars, which are immutable).
                    node[head] = sort_keys(default) if keep_sorted else copy.deepcopy(default)
                    added = True
            elif below is not None and head in node:
                _fill_tree(node[head], below, keep_sorted=keep_sorted)
    if added and keep_sorted and isinstance(node, dict):
        _resort(node)


def _resort(node: dict[str, Any]) -> None:
    """`node`'s own keys sorted, in place (its values untouched)."""
    items = sorted(node.items())
    node.clear()
    node.update(items)


@lru_cache(maxsize=4096)  # a few hundred default paths, parsed for every object normalized
def _tokens(path: str) -> tuple[str, ...]:
    """`storage.pvc[].readOnly` -> (`storage`, `pvc`, `[]`, `readOnly`): `[]` is every item."""
    return parse_path(path) if path else ("",)  # "": the empty key, not the root


def _fill(node: JSON, tokens: tuple[str, ...], default: JSON) -> None:
    head, rest = tokens[0], tokens[1:]
    if head == "[]":
        if isinstance(node, list):
            for item in node:
                _fill(item, rest, default)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        node.setdefault(head, copy.deepcopy(default))
    elif head in node:
        _fill(node[head], rest, default)


def drop_defaults(target: JSON, defaults: Defaults) -> JSON:
    """A copy of `target` without the values `fill_defaults(…, defaults)` would put back.

    The inverse the importer needs: a default is left out only where its object stays
    non-empty (an emptied object is pruned, and a default never creates its parent); list
    items may empty, as they are kept and refilled. Defaults that do not form a tree (see
    `Defaults.tree`) are all kept.
    """
    result = sort_keys(target)  # a copy (normalized specs are sorted already)
    if defaults.tree is not None:
        _drop_tree(result, defaults.tree, may_empty=False)
    return result


def _drop_tree(node: JSON, tree: _Tree, *, may_empty: bool) -> None:
    for head, (default, below) in tree.items():
        if head == "[]":
            if isinstance(node, list) and below is not None:
                for item in node:
                    _drop_tree(item, below, may_empty=True)
        elif isinstance(node, dict) and head in node:
            child = node[head]
            if default is not _NOTHING:
                same = type(child) is type(default) and child == default
                if same and (may_empty or len(node) > 1):
                    del node[head]
            elif below is not None:
                _drop_tree(child, below, may_empty=False)
