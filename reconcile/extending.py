"""Lays documents over the shared bases they extend (docs/design.md, section 3).

Finds the `kind: Base` documents of a config directory and checks them once; gives each
document that names bases in `metadata.extends` its merged value, and a source that reports a
problem where the value was written: in the base (naming the document that uses it) or in the
document. The merge rule itself is bases.py's. Plain data, so worker processes receive it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from reconcile.bases import BASE_KIND, OWN_KEYS, Base, Merged, chain, extends_of, merge
from reconcile.documents import Checked, Source
from reconcile.errors import Problem
from reconcile.kinds.registry import DOCUMENT_KINDS
from reconcile.schema import JsonPath, json_path, validate_instance

EXTENDS = ("metadata", "extends")
Spot = tuple[int, int, int, int]  # line and column of a value, then of its key


@dataclass(frozen=True)
class BaseDocument:
    """One base as read: what the resolver needs, the values it gives, and where they are."""

    base: Base
    body: dict[str, Any]  # the document without kind and metadata: what documents take
    file: str
    spots: dict[JsonPath, Spot]  # every path of the body
    marked: tuple[JsonPath, ...]  # paths tagged !sensitive
    has_vars: bool

    def where(self, path: JsonPath, at_key: bool) -> tuple[int, int]:
        for end in range(len(path), -1, -1):
            spot = self.spots.get(path[:end])
            if spot is not None:
                return (spot[2], spot[3]) if at_key and end == len(path) else (spot[0], spot[1])
        return 1, 1


@dataclass(frozen=True)
class Library:
    """The bases of a config directory by name, and the problems of the bases themselves."""

    bases: dict[str, BaseDocument] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @cached_property
    def _index(self) -> dict[str, Base]:
        return {name: read.base for name, read in self.bases.items()}

    def resolve(self, kind: str, extends: tuple[str, ...]) -> tuple[list[BaseDocument], list[str]]:
        order, problems = chain(kind, extends, self._index)
        return [self.bases[b.name] for b in order], problems


def might_hold_bases(text: bytes) -> bool:
    """A cheap test that spares parsing twice the files that surely hold no base."""
    return BASE_KIND.encode() in text


def is_base(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") == BASE_KIND


def read_bases(documents: Iterable[tuple[Any, Source]]) -> Library:
    """The bases among `documents`, each checked against its schema, by name (a repeated
    name is a problem naming both places), with each base's own extends resolved."""
    bases: dict[str, BaseDocument] = {}
    problems: list[Problem] = []
    for value, source in documents:
        if not is_base(value):
            continue
        found = validate_instance("base", value)
        problems.extend(source.problem(p.path, p.message, at_key=p.at_key) for p in found)
        if any(p.path[:1] in ((), ("kind",), ("metadata",)) for p in found):
            continue
        read = _base_document(value, source)
        first = bases.get(read.base.name)
        if first is not None:
            message = f"duplicate base {read.base.name} (first defined at {first.base.at})"
            problems.append(source.problem(("metadata", "name"), message))
            continue
        bases[read.base.name] = read
    library = Library(bases)
    for read in bases.values():
        _, messages = library.resolve(read.base.kind, read.base.extends)
        line, col = read.where(EXTENDS, False)
        problems.extend(Problem(m, read.file, line, col, json_path(EXTENDS)) for m in messages)
    return Library(bases, tuple(problems))


def _base_document(value: dict[str, Any], source: Source) -> BaseDocument:
    metadata = value["metadata"]
    line = source.where(("metadata", "name"), False)[0]
    base = Base(
        str(metadata["name"]),
        str(metadata["for"]),
        extends_of(metadata.get("extends")),
        f"{source.file}:{line}",
    )
    spots: dict[JsonPath, Spot] = {}
    for path in merge([value]).places:  # every path of the value
        spots[path] = (*source.where(path, False), *source.where(path, True))
    body = {k: v for k, v in value.items() if k not in OWN_KEYS}
    marked = tuple(p for p in source.marked if p[:1] not in (("kind",), ("metadata",)))
    return BaseDocument(base, body, source.file, spots, marked, source.has_vars)


@dataclass(frozen=True)
class MergedSource(Source):
    """A merged document's source: a problem is reported where its value was written."""

    bases: tuple[BaseDocument, ...] = ()
    merged: Merged | None = None

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> Problem:
        if self.merged is None:
            return super().problem(path, message, at_key=at_key)
        layer, at = self.merged.origin(path)
        if layer == len(self.bases):  # the document's own value
            return super().problem(at, message, at_key=at_key)
        base = self.bases[layer]
        line, col = base.where(at, at_key)
        used_by = f"{self.file}:{self.where(('metadata', 'name'), False)[0]}"
        message = f"{message} (in base {base.base.name}, used by {used_by})"
        return Problem(message, base.file, line, col, json_path(at), related=(self.file,))


def check_extended(
    value: Any, source: Source, library: Library, check: Callable[[Any, Source], Checked]
) -> Checked | None:
    """`check` of a document laid over its bases; None for a base (it is not an object)."""
    if is_base(value):
        return None
    extends = _extends(value)
    kind = value.get("kind") if extends else None
    if not isinstance(kind, str) or kind not in DOCUMENT_KINDS:
        # no bases named (well), or an unknown kind: the schema says what is wrong
        return check(value, source)
    order, messages = library.resolve(kind, extends)
    if messages:
        named = tuple(sorted({library.bases[n].file for n in extends if n in library.bases}))
        located = (source.problem(EXTENDS, m) for m in messages)
        return Checked((), [replace(p, related=named) for p in located])
    merged = merge([*(b.body for b in order), value])
    layers: list[tuple[JsonPath, ...]] = [*(b.marked for b in order), source.marked]
    marked = [m for index, paths in enumerate(layers) for m in merged.carried(index, paths)]
    doc = merged.value
    doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k != "extends"}
    laid = MergedSource(
        source.file,
        source.where,
        has_vars=source.has_vars or any(b.has_vars for b in order),
        marked=tuple(dict.fromkeys(marked)),
        bases=tuple(order),
        merged=merged,
    )
    return check(doc, laid)


def _extends(value: Any) -> tuple[str, ...]:
    """The bases a document names, when it names them well (else the schema says why)."""
    metadata = value.get("metadata") if isinstance(value, dict) else None
    named = metadata.get("extends") if isinstance(metadata, dict) else None
    if isinstance(named, str) or (
        isinstance(named, list) and named and all(isinstance(n, str) for n in named)
    ):
        return extends_of(named)
    return ()
