"""`--format github`: config problems as workflow annotations, and the Markdown report
appended to the job summary when GitHub Actions names one (`GITHUB_STEP_SUMMARY`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import click

from reconcile.errors import ConfigError
from reconcile.render import github as render_github

GITHUB = "github"
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def annotated(command: Callable[..., int]) -> Callable[..., int]:
    """A command whose `--format github` (its `fmt`) also prints a bad config's problems as
    annotations (on stdout: the runner reads workflow commands there); the error is then
    reported as usual."""

    @functools.wraps(command)
    def run(**options: Any) -> int:
        try:
            return command(**options)
        except ConfigError as error:
            if options.get("fmt") == GITHUB:
                click.echo(render_github.annotation_lines(error.problems), nl=False)
            raise

    return run


def append_summary(fmt: str, markdown: Callable[[], str]) -> None:
    """Append the report `markdown()` makes to the job summary file, with `--format github`
    in a job that has one. Rendered only then: a report of thousands of changes costs a
    run that has no summary to write a noticeable share of its CPU."""
    path = os.environ.get(SUMMARY_ENV, "")
    if fmt != GITHUB or not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown().rstrip("\n") + "\n\n")
