"""Pure helpers on normalized specs: pruning, schema defaults, reading and writing paths.

Shared by the kind modules; knows no particular kind and performs no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from reconcile.model import JSON


def prune(value: JSON) -> JSON:
    """Drop mapping entries that are None, {} or [] (recursively); the server treats them as
    absent. List elements are kept (their order and count are meaningful) but pruned inside."""
    if isinstance(value, Mapping):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [prune(item) for item in value]
    return value


def sort_keys(value: JSON) -> JSON:
    """A copy with every mapping's keys sorted (deterministic output)."""
    if isinstance(value, Mapping):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(item) for item in value]
    return value


def fill_defaults(target: JSON, defaults: Mapping[str, JSON]) -> None:
    """Fill schema defaults (dotted paths, `[]` = every list item) into `target`, in place.

    Only absent properties of objects that exist are filled, as the server does: a default
    never creates its parent object.
    """
    for path, default in defaults.items():
        _fill(target, _tokens(path), default)


@lru_cache(maxsize=4096)  # a few hundred default paths, parsed for every object normalized
def _tokens(path: str) -> tuple[str, ...]:
    """`storage.pvc[].readOnly` -> (`storage`, `pvc`, `[]`, `readOnly`)."""
    tokens: list[str] = []
    for part in path.split("."):
        name = part
        while name.endswith("[]"):
            name = name[:-2]
        tokens.append(name)
        tokens.extend(["[]"] * ((len(part) - len(name)) // 2))
    return tuple(tokens)


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


def get_path(spec: JSON, keys: list[str]) -> tuple[bool, JSON]:
    """(present, value) of the field at `keys` (plain field names, no selectors)."""
    node = spec
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def set_path(target: dict[str, Any], keys: list[str], value: JSON) -> None:
    """Set `value` at `keys` in `target`, creating intermediate objects."""
    node = target
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = copy.deepcopy(value)
