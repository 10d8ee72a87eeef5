"""`validate DIR`: every problem of a config directory, offline, in text, JSON or GitHub form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconcile.cli.app import main
from reconcile.config import Config, read_config
from reconcile.errors import ExitCode, Problem


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:col lines; json: one document; github: workflow annotations.",
)
def validate(directory: Path, output_format: str) -> int:
    """Check DIRECTORY offline (YAML, schemas, names, manifests); exit 1 on any problem."""
    config = read_config(directory)
    if output_format == "json":
        click.echo(json.dumps(_validation_document(config), indent=2, sort_keys=True))
    else:
        line = _github_line if output_format == "github" else _text_line
        for problem in config.problems:
            click.echo(line(problem))
        counts = f"{config.documents} documents in {config.files} files under {directory}"
        if config.problems:
            click.echo(f"{len(config.problems)} problem(s) in {counts}.", err=True)
        else:
            click.echo(f"Valid: {counts} (checked offline).")
    return ExitCode.OK if config.ok else ExitCode.ERROR


def _text_line(problem: Problem) -> str:
    where = problem.location() or "."
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"{where}: error: {problem.message}{path}"


def _github_line(problem: Problem) -> str:
    """A workflow command: data escapes %, CR, LF; property values also ':' and ','."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    fields = [f"file={prop(problem.file)}"] if problem.file else []
    if problem.line:
        fields += [f"line={problem.line}", f"col={problem.col or 1}"]
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"::error {','.join(fields)}::{data(problem.message + path)}"


def _validation_document(config: Config) -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "valid": config.ok,
        "directory": str(config.directory),
        "files": config.files,
        "documents": config.documents,
        "addresses": [str(address) for address in config.resources],
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "col": p.col,
                "json_path": p.json_path,
                "message": p.message,
                "severity": "error",
            }
            for p in config.problems
        ],
    }
