"""Composed YAML nodes -> plain JSON values, and where a JSON path was written.

Works on ruamel.yaml's node objects through their attributes only (`id`, `value`, `ctag`,
`start_mark`), so config.py stays the one module that imports ruamel. Refuses what JSON cannot
hold, alias bombs, recursion and deep nesting; never reads files.
"""

from __future__ import annotations

import re
from typing import Any

from reconcile.errors import Problem
from reconcile.schema import JsonPath, json_path

MAX_DEPTH = 100  # nesting levels a document may have (configs need ~15)
MAX_ALIAS_EXPANSION = 10_000  # extra nodes aliases may add to a document ("billion laughs")
C_STACK_SAFE_DEPTH = 2_000  # deeper than this may be, the pure-Python parser reads it
SCALAR, SEQUENCE, MAPPING = "scalar", "sequence", "mapping"  # ruamel's node ids
_TAG = "tag:yaml.org,2002:"
SENSITIVE_TAG = "!sensitive"  # the user's mark on a value that must never be shown
_SHOWN = 12  # path segments a problem shows (a too-deep document has hundreds)
_BLOCK_PREFIX = re.compile(r"^[ \t?:-]*", re.MULTILINE)


def maybe_deep(text: str) -> bool:
    """True unless the nesting surely stays shallow enough for libyaml's composer, which
    recurses in C (a crash past ~20,000 levels) and slows down quadratically with depth.

    A bound, not a measure: every flow level needs a bracket, and a block level needs its
    indentation or an indicator at the start of a line. Deep files go to the pure-Python
    parser, whose recursion is checked."""
    openers = text.count("[") + text.count("{")
    if openers > C_STACK_SAFE_DEPTH:
        return True
    prefix = max((len(m) for m in _BLOCK_PREFIX.findall(text)), default=0)
    return openers + prefix + 1 > C_STACK_SAFE_DEPTH


_FLOW_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[\[\]{}]')


def flow_depth(text: str) -> int:
    """The flow nesting, skipping quoted text (an estimate: the parser still checks)."""
    depth = deepest = 0
    for match in _FLOW_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth = max(0, depth - 1)
    return deepest


class NodeProblem(Exception):
    """A node the builder refuses; the document it is in is not used."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


class Builder:
    """Nodes -> plain JSON values, refusing what JSON cannot hold and alias bombs."""

    def __init__(self, *, guard: bool, str_tag: object, marks: bool = False) -> None:
        self.guard = guard  # the file has anchors and aliases: count expansions
        self.str_tag = str_tag  # the parser's shared tag object for plain strings
        self.marks = marks  # the file may tag values `!sensitive`: look at collections' tags
        self.marked: list[Any] = []  # the nodes tagged `!sensitive`, in document order
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.visits = 0
        self.problems: list[tuple[Any, str]] = []

    def build(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise NodeProblem(node, f"nested deeper than {MAX_DEPTH} levels")
        if node.id == SCALAR:
            return node.value if node.ctag is self.str_tag else self._scalar(node)
        if self.marks and str(node.tag) == SENSITIVE_TAG:
            self.marked.append(node)
        if not self.guard:  # no anchors and aliases in the file: no recursion either
            if node.id == SEQUENCE:
                return [self.build(item, depth + 1) for item in node.value]
            return self._mapping(node, depth)
        self._count(node)
        self.active.add(id(node))
        try:
            if node.id == SEQUENCE:
                return [self.build(item, depth + 1) for item in node.value]
            return self._mapping(node, depth)
        finally:
            self.active.discard(id(node))

    def _count(self, node: Any) -> None:
        if id(node) in self.active:
            raise NodeProblem(node, "an alias refers to its own parent (a recursive document)")
        self.visits += 1
        self.seen.add(id(node))
        if self.visits - len(self.seen) > MAX_ALIAS_EXPANSION:
            raise NodeProblem(
                node, f"aliases expand past {MAX_ALIAS_EXPANSION} extra nodes; not read"
            )

    def _mapping(self, node: Any, depth: int) -> dict[str, Any]:
        own: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key, value in node.value:
            if key.id != SCALAR:
                raise NodeProblem(key, "a mapping key must be a plain value, not a collection")
            if (
                key.ctag is not self.str_tag and str(key.tag) == _TAG + "merge"
            ):  # `<<:` explicit keys win
                for part in value.value if value.id == SEQUENCE else [value]:
                    built = self.build(part, depth + 1)
                    if not isinstance(built, dict):
                        raise NodeProblem(part, "'<<' merges mappings only")
                    merged.update({k: v for k, v in built.items() if k not in merged})
                continue
            if key.value in own:
                self.problems.append((key, f"duplicate key '{key.value}'"))
            own[key.value] = self.build(value, depth + 1)
        return {**merged, **own} if merged else own

    def _scalar(self, node: Any) -> Any:
        tag, text = str(node.tag), node.value
        if tag == _TAG + "str" or tag == _TAG + "timestamp":  # dates stay as written
            return text
        if tag == SENSITIVE_TAG:  # the value as written, as a string: it is never resolved
            self.marked.append(node)
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() == "true"
        if tag == _TAG + "int":
            return _integer(node, text)
        if tag == _TAG + "float":
            return _number(node, text)
        raise NodeProblem(node, f"unsupported YAML tag {tag.replace(_TAG, '!!')}")


def _integer(node: Any, text: str) -> int:
    digits = text.replace("_", "")
    unsigned = digits.lstrip("+-")
    try:
        if unsigned[:2].lower() in ("0x", "0o", "0b"):
            return int(digits, 0)
        return int(digits)
    except ValueError:
        raise NodeProblem(node, f"not a number: {text}") from None


def _number(node: Any, text: str) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = float("nan")  # .inf, .nan and friends: JSON cannot carry them
    if value != value or value in (float("inf"), float("-inf")):
        raise NodeProblem(node, "not a finite number (JSON cannot carry it)")
    return value


def problem_at(file: str, root: Any, node: Any, message: str) -> Problem:
    """A problem at `node`, with its JSON path when the node is found under `root`."""
    mark = node.start_mark
    path = _path_to(root, node, (), set())
    shown = "" if path is None else json_path(path[:_SHOWN]) + ("..." if len(path) > _SHOWN else "")
    return Problem(message, file=file, line=mark.line + 1, col=mark.column + 1, json_path=shown)


def paths_of(root: Any, nodes: list[Any]) -> tuple[JsonPath, ...]:
    """Every JSON path at which one of `nodes` sits under `root`, each place an alias
    repeats it included (the builder has refused recursive documents already)."""
    wanted = {id(node) for node in nodes}
    found: list[JsonPath] = []

    def visit(node: Any, path: JsonPath) -> None:
        if id(node) in wanted:
            found.append(path)
        if node.id == SEQUENCE:
            for index, item in enumerate(node.value):
                visit(item, (*path, index))
        elif node.id == MAPPING:
            for key, value in node.value:
                visit(value, (*path, str(key.value)))

    visit(root, ())
    return tuple(dict.fromkeys(found))


def _path_to(node: Any, target: Any, path: JsonPath, seen: set[int]) -> JsonPath | None:
    """The path from `node` down to `target` (a value, or a mapping key), depth first."""
    if node is target:
        return path
    if id(node) in seen or len(path) > MAX_DEPTH:
        return None
    seen.add(id(node))
    children: list[tuple[str | int, Any, Any]] = []
    if node.id == SEQUENCE:
        children = [(i, None, item) for i, item in enumerate(node.value)]
    elif node.id == MAPPING:
        children = [(str(k.value), k, v) for k, v in node.value]
    for step, key, child in children:
        if key is target:  # a key: its own path, or the mapping's when it is no plain key
            return (*path, step) if key.id == SCALAR else path
        found = _path_to(child, target, (*path, step), seen)
        if found is not None:
            return found
    return None


def locator(root: Any) -> Any:
    """Where(path, at_key) -> (line, col) of the deepest node on `path` (1-based)."""

    def where(path: JsonPath, at_key: bool) -> tuple[int, int]:
        node, key = root, None
        for part in path:
            child = _child(node, part)
            if child is None:
                key = None
                break
            key, node = child
        target = key if at_key and key is not None else node
        return target.start_mark.line + 1, target.start_mark.column + 1

    return where


def _child(node: Any, part: str | int) -> tuple[Any, Any] | None:
    if node.id == SEQUENCE and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    if node.id != MAPPING:
        return None
    for key, value in reversed(node.value):  # the last duplicate wins, as when building
        if key.id == SCALAR and key.value == part and str(key.tag) != _TAG + "merge":
            return key, value
    for key, value in node.value:
        if key.id == SCALAR and str(key.tag) == _TAG + "merge":
            for part_node in value.value if value.id == SEQUENCE else [value]:
                found = _child(part_node, part)
                if found is not None:
                    return found
    return None
