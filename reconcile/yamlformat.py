"""The canonical layout of a YAML file for `fmt`: in each document `kind`, `metadata` and
`spec` first (after `apiVersion` in a Kubernetes manifest file; then the other keys as
written), two-space mappings, sequences indented under
their key, comments and quoting as written.

A sibling of config.py, the other ruamel.yaml user: config.py only reads; this module
round-trips (ruamel's round-trip mode keeps comments, anchors, flow style and quotes).
Pure text in, text out; never touches files.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconcile.errors import Problem

FIRST_KEYS = ("apiVersion", "kind", "metadata", "spec")
_WIDTH = 4096  # never re-wrap long scalars: a fold is noise in a review


class UnformattableError(Exception):
    """The text is not YAML that can be formatted; `problem` says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def format_yaml(text: str, *, file: str = "") -> str:
    """`text` in the canonical layout; the same text again when it already is."""
    yaml = _yaml()
    try:
        documents = list(yaml.load_all(text))
    except YAMLError as error:
        raise UnformattableError(_problem(error, file)) from None
    if not documents:
        return text
    for document in documents:
        if isinstance(document, CommentedMap):
            _order(document)
    out = io.StringIO()
    explicit = text.lstrip().startswith("---")
    yaml.explicit_start = explicit or None
    yaml.dump_all(documents, out)
    formatted = out.getvalue()
    if not _same_meaning(text, formatted):
        message = "fmt cannot keep this file's meaning (a recursive alias?); left as it is"
        raise UnformattableError(Problem(message, file=file, line=1, col=1))
    return formatted


def _order(document: CommentedMap) -> None:
    """`kind`, `metadata`, `spec` first; the rest keep their order (and their comments,
    which ruamel keys by the key they follow)."""
    first = [key for key in FIRST_KEYS if key in document]
    rest = [key for key in document if key not in FIRST_KEYS]
    if list(document)[: len(first)] == first:
        return  # already in order: moving keys could only disturb comments
    for key in [*first, *rest]:
        document.move_to_end(key)


def _same_meaning(before: str, after: str) -> bool:
    """True when both texts compose to the same documents, mapping keys in any order.

    Compares node graphs, each pair once: aliases make them graphs (shared, even recursive
    nodes), which a comparison of the loaded values would walk again and again.
    """
    yaml = YAML(typ="safe", pure=True)
    try:
        nodes = list(yaml.compose_all(before)), list(yaml.compose_all(after))
        return _same_nodes(*nodes, scalar=yaml.constructor.construct_object)
    except (YAMLError, RecursionError):
        return False


def _same_nodes(a: list[Node], b: list[Node], *, scalar: Callable[[Node], Any]) -> bool:
    """`scalar`: a scalar node's value (`null` and `Null` are one value)."""
    if len(a) != len(b):
        return False
    seen: set[tuple[int, int]] = set()
    pending = list(zip(a, b, strict=True))
    while pending:
        x, y = pending.pop()
        if (id(x), id(y)) in seen:
            continue
        seen.add((id(x), id(y)))
        if type(x) is not type(y) or str(x.tag) != str(y.tag):
            return False
        if isinstance(x, ScalarNode):
            if x.value != y.value and scalar(x) != scalar(y):
                return False
        elif isinstance(x, SequenceNode):
            if len(x.value) != len(y.value):
                return False
            pending += zip(x.value, y.value, strict=True)
        elif isinstance(x, MappingNode) and isinstance(y, MappingNode):
            pairs = _by_key(x), _by_key(y)
            if pairs[0] is None or pairs[1] is None or pairs[0].keys() != pairs[1].keys():
                return False
            pending += [(pairs[0][k], pairs[1][k]) for k in pairs[0]]
    return True


def _by_key(node: MappingNode) -> dict[tuple[str, str], Node] | None:
    """A mapping's values by their scalar keys; None when a key is not a scalar."""
    found = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            return None
        found[(str(key.tag), str(key.value))] = value
    return found


def _yaml() -> Any:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    return yaml


def _problem(error: YAMLError, file: str) -> Problem:
    mark = getattr(error, "problem_mark", None)
    if isinstance(error, MarkedYAMLError) and mark is not None:
        message = f"YAML syntax: {error.problem}"
        return Problem(message, file=file, line=mark.line + 1, col=mark.column + 1)
    return Problem(f"YAML syntax: {str(error).splitlines()[0]}", file=file, line=1, col=1)
