"""Shared bases: the one rule that lays a document over the bases it extends, and the order
in which bases apply (docs/design.md, section 3).

Pure: values in, values out. A merge also says, for every node of its result, which layer's
node it came from, so a problem in a merged document is reported where its value was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.paths import item_name, pair_items
from reconcile.schema import JsonPath

BASE_KIND = "Base"  # the kind of a base document
Place = tuple[int, JsonPath]  # a layer (0 the lowest base, the last the document) and a path in it
# Keys a base document holds that are about the base itself, never merged into a document.
OWN_KEYS = ("kind", "metadata")


@dataclass(frozen=True)
class Merged:
    """The merged value and, for each of its nodes, the nodes it came from (nearest first:
    the document before its bases; a mapping merged from several layers has them all)."""

    value: Any
    places: Mapping[JsonPath, tuple[Place, ...]]

    def origin(self, path: JsonPath) -> tuple[int, JsonPath]:
        """The layer and path that wrote `path` (or its nearest written parent, plus the rest
        of `path`: a problem may name a field no layer wrote)."""
        for end in range(len(path), -1, -1):
            places = self.places.get(path[:end])
            if places:
                layer, at = places[0]
                return layer, (*at, *path[end:])
        raise KeyError(path)  # unreachable: the root always has a place

    def carried(self, layer: int, paths: Sequence[JsonPath]) -> list[JsonPath]:
        """Where `paths` of one layer sit in the merged value (a value another layer replaced
        is gone, so a mark on it does not carry over)."""
        wanted = set(paths)
        return [
            m
            for m, places in self.places.items()
            for p in places
            if p[0] == layer and p[1] in wanted
        ]


def merge(layers: Sequence[Any]) -> Merged:
    """The layers merged, each over those before it: mappings key by key, lists whose items
    all carry a name item by item (`paths.pair_items`), anything else replaced whole."""
    places: dict[JsonPath, tuple[Place, ...]] = {}
    root: JsonPath = ()
    parts = [(index, root, value) for index, value in enumerate(layers)]
    value = _merge(parts, (), places) if parts else None
    return Merged(value, places)


def _merge(
    parts: list[tuple[int, JsonPath, Any]], at: JsonPath, places: dict[JsonPath, tuple[Place, ...]]
) -> Any:
    """`parts` (the layers' values at `at`, lowest first) merged; records `places[at]`."""
    run = _run(parts)
    places[at] = tuple((layer, path) for layer, path, _ in reversed(run))
    top = run[-1][2]
    if isinstance(top, dict):
        keys = list(dict.fromkeys(key for _, _, value in run for key in value))
        return {
            key: _merge(
                [(layer, (*path, key), value[key]) for layer, path, value in run if key in value],
                (*at, key),
                places,
            )
            for key in keys
        }
    if isinstance(top, list):
        groups = _item_groups(run)
        return [_merge(group, (*at, index), places) for index, group in enumerate(groups)]
    return top


def _run(parts: list[tuple[int, JsonPath, Any]]) -> list[tuple[int, JsonPath, Any]]:
    """The parts that merge into the top one: going down, while they are mappings (or lists
    of named items) as it is; the first other value and all below it are replaced."""
    top = parts[-1][2]
    run = [parts[-1]]
    for part in reversed(parts[:-1]):
        if not _merges(part[2], top):
            break
        run.append(part)
    return run[::-1]


def _merges(under: Any, over: Any) -> bool:
    if isinstance(over, dict):
        return isinstance(under, dict)
    if isinstance(over, list) and isinstance(under, list) and over:
        return all(item_name(item) is not None for item in [*under, *over])
    return False


def _item_groups(run: list[tuple[int, JsonPath, Any]]) -> list[list[tuple[int, JsonPath, Any]]]:
    """The items of named lists grouped by name: the lowest list's order, then each higher
    list's new names in its order."""
    groups: list[list[tuple[int, JsonPath, Any]]] = []
    firsts: list[Any] = []  # each group's first item, which pair_items matches against
    for layer, path, items in run:
        group_of = {id(first): group for first, group in zip(firsts, groups, strict=True)}
        for index, (item, known) in enumerate(pair_items(items, firsts)):
            part = (layer, (*path, index), item)
            if known is None:
                groups.append([part])
                firsts.append(item)
            else:
                group_of[id(known)].append(part)
    return groups


# --- which bases apply ---------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """A base as the resolver sees it: its name, the document kind it is for, the bases it
    extends (in order), and where it is written (`file:line`, for messages)."""

    name: str
    kind: str
    extends: tuple[str, ...]
    at: str


def extends_of(value: Any) -> tuple[str, ...]:
    """`metadata.extends` as a tuple of names (one name or a list; the schema checks types)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def chain(
    kind: str, extends: Sequence[str], bases: Mapping[str, Base]
) -> tuple[list[Base], list[str]]:
    """The bases a document of `kind` that extends `extends` takes, lowest first (each base
    after the bases it extends; one that several reach applies once, where first reached),
    and what is wrong: an unknown base, a base for another kind, a cycle."""
    order: list[Base] = []
    problems: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[Base, ...]) -> None:
        base = bases.get(name)
        if base is None:
            user = f"base {path[-1].name} ({path[-1].at})" if path else "this document"
            known = ", ".join(sorted(bases)) or "none"
            problems.append(f"unknown base {name!r}, extended by {user} (bases: {known})")
            return
        if base in path:
            loop = [*path[path.index(base) :], base]
            problems.append(
                "bases extend each other in a cycle: "
                + " -> ".join(f"{b.name} ({b.at})" for b in loop)
            )
            return
        if name in done:
            return
        if base.kind != kind:
            problems.append(f"base {name} ({base.at}) is for {base.kind}, not {kind}")
            return
        for parent in base.extends:
            visit(parent, (*path, base))
        done.add(name)
        order.append(base)

    for name in extends:
        visit(name, ())
    return order, list(dict.fromkeys(problems))
