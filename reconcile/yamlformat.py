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
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

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
    return out.getvalue()


def _order(document: CommentedMap) -> None:
    """`kind`, `metadata`, `spec` first; the rest keep their order (and their comments,
    which ruamel keys by the key they follow)."""
    first = [key for key in FIRST_KEYS if key in document]
    rest = [key for key in document if key not in FIRST_KEYS]
    if list(document)[: len(first)] == first:
        return  # already in order: moving keys could only disturb comments
    for key in [*first, *rest]:
        document.move_to_end(key)


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
