"""GitHub Actions workflow commands: `::error file=...,line=...,col=...::message` for config
problems, so each shows as an annotation on the file and line in the pull request.

Escaping follows GitHub's workflow-command rules: the message escapes `%`, CR and LF; a
property value escapes those and also `:` and `,` (which separate properties). Never prints.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconcile.errors import Problem


def annotation(problem: Problem) -> str:
    """One `::error` command for a problem, with its file, line and column when known."""
    fields = [f"file={_property(problem.file)}"] if problem.file else []
    if problem.line:
        fields += [f"line={problem.line}", f"col={problem.col or 1}"]
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"::error {','.join(fields)}::{_data(problem.message + path)}"


def annotation_lines(problems: Iterable[Problem]) -> str:
    """The commands for every problem, one a line."""
    return "".join(annotation(problem) + "\n" for problem in problems)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
