"""A document whose `metadata.scope` is a list stands for one object per scope: expanding it
into one document per scope, and folding documents that differ only in their scope back into
one (what `import --fold` writes).

Pure: no YAML, no schema, no I/O. Each object of a list inherits the document's
`protect` and `ignoreChanges`; a `movedFrom` address applies to the object of its own
scope (a rename), and one in a scope the list does not name is an error, as it would not
say which object moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from reconcile.errors import Problem
from reconcile.kinds.scopes import scope_text
from reconcile.model import Address, Origin, Resource
from reconcile.schema import JsonPath


class Located(Protocol):
    """Where a document was written (documents.Source)."""

    @property
    def file(self) -> str: ...

    @property
    def where(self) -> Callable[[JsonPath, bool], tuple[int, int]]: ...

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> Problem: ...


@dataclass(frozen=True)
class Placed:
    """A resource a document yields, and where its identity is written (duplicate reports):
    the document's `metadata.name`, or its item of a scope list."""

    resource: Resource
    line: int = 0
    col: int = 0
    json_path: str = "$.metadata.name"


def scope_list(doc: Any) -> list[Any] | None:
    """The document's list of scopes; None when it names one scope (or none)."""
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    scope = metadata.get("scope") if isinstance(metadata, dict) else None
    return scope if isinstance(scope, list) else None


def with_scope(doc: dict[str, Any], scope: Any) -> dict[str, Any]:
    """`doc` naming `scope` (a shallow copy: the spec is shared, never copied)."""
    return {**doc, "metadata": {**doc["metadata"], "scope": scope}}


def expand(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One document per scope of a scope list, in the list's order; a document naming one
    scope is itself."""
    scopes = scope_list(doc)
    if scopes is None:
        return [doc]
    return [with_scope(doc, scope) for scope in scopes]


def fold(
    docs: Sequence[dict[str, Any]], *, keys: Sequence[str] | None = None
) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
    """Documents identical but for their one scope, as one document listing their scopes
    (sorted by their address form, so the output does not depend on the input's order),
    each with the positions in `docs` it stands for: the first is the document written. A
    document alone in its group, or one without a scope, stays as it is. Groups come in the
    order of their first document.

    `keys`: what documents must share to fold, one per document (default: all of the
    document but its scope)."""
    groups: dict[str, list[int]] = {}
    for index, doc in enumerate(docs):
        scope = doc["metadata"].get("scope")
        if not isinstance(scope, dict):
            groups[f"#{index}"] = [index]  # nothing to fold it with
            continue
        key = _without_scope(doc) if keys is None else "=" + keys[index]
        groups.setdefault(key, []).append(index)
    folded: list[tuple[dict[str, Any], tuple[int, ...]]] = []
    for members in groups.values():
        if len(members) == 1:
            folded.append((docs[members[0]], (members[0],)))
            continue
        members.sort(key=lambda i: scope_text(docs[i]["metadata"]["scope"]))
        scopes = [docs[i]["metadata"]["scope"] for i in members]
        folded.append((with_scope(docs[members[0]], scopes), tuple(members)))
    return folded


def _without_scope(doc: dict[str, Any]) -> str:
    """What two documents must share to fold: all of it but the scope, key order aside."""
    return json.dumps(with_scope(doc, None), sort_keys=True, separators=(",", ":"))


def per_scope(
    resource: Resource, scopes: Sequence[Any], source: Located
) -> tuple[tuple[Placed, ...], list[Problem]]:
    """The objects of a document listing `scopes`: `resource` (built from the document, its
    address without a scope) at each scope, placed at that scope's item of the list. A
    repeated scope yields its object twice: the duplicate check reports both places."""
    texts = [scope_text(scope) for scope in scopes]
    moved = resource.lifecycle.moved_from
    problems = []
    if len(texts) > 1:
        for old in moved:
            if old.scope not in texts:
                message = (
                    f"lifecycle.movedFrom {old}: with a list of scopes, an old address must "
                    "lie in one of the listed scopes (it renames the object of that scope); "
                    "move an object between scopes in a document of its own"
                )
                problems.append(source.problem(("lifecycle", "movedFrom"), message))
    placed = []
    for index, text in enumerate(texts):
        line, col = source.where(("metadata", "scope", index), False)
        lifecycle = resource.lifecycle
        if len(texts) > 1 and moved:
            lifecycle = replace(lifecycle, moved_from=tuple(a for a in moved if a.scope == text))
        scoped = replace(
            resource,
            address=Address(resource.address.kind, text, resource.address.name),
            origin=Origin(source.file, line, col),
            lifecycle=lifecycle,
        )
        placed.append(Placed(scoped, line, col, f"$.metadata.scope[{index}]"))
    return tuple(placed), problems
