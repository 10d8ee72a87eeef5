"""`validate DIR`: every problem of a config directory, offline, in text, JSON or GitHub form."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconcile.cli.app import main
from reconcile.config import Config, read_config
from reconcile.errors import ExitCode, Problem, UsageError
from reconcile.gcpause import gc_paused
from reconcile.kinds.registry import lacking, needs_newer, version_key
from reconcile.render import github as render_github
from reconcile.settings import SETTINGS_FILES


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:col lines; json: one document; github: workflow annotations.",
)
@click.option(
    "--api-version",
    metavar="VERSION",
    help="Also fail on kinds this Run:ai version (e.g. 2.20) does not offer.",
)
@gc_paused()
def validate(paths: tuple[Path, ...], output_format: str, api_version: str | None) -> int:
    """Check DIRECTORY offline (YAML, schemas, names, manifests); exit 1 on any problem.

    Given FILEs instead (as a pre-commit hook is), reads each one's config directory (the
    nearest one above it holding runai-reconcile.yaml, else its own) and reports only the
    problems in those files.
    """
    if api_version is not None:
        try:
            version_key(api_version)
        except ValueError as error:
            raise UsageError(f"--api-version: {error}") from None
    if len(paths) == 1 and not paths[0].is_file():
        config = read_config(paths[0])
        counts = f"{config.documents} documents in {config.files} files under {paths[0]}"
        problems = _sorted(config.problems + _version_problems(config, api_version))
        report = _Report(problems, counts, config.files, config)
    else:
        report = _files_report(paths, api_version)
    if output_format == "json":
        click.echo(json.dumps(_validation_document(report), indent=2, sort_keys=True))
    else:
        line = render_github.annotation if output_format == "github" else _text_line
        for problem in report.problems:
            click.echo(line(problem))
        if report.problems:
            click.echo(f"{len(report.problems)} problem(s) in {report.counts}.", err=True)
        else:
            click.echo(f"Valid: {report.counts} (checked offline).")
    return ExitCode.ERROR if report.problems else ExitCode.OK


@dataclass(frozen=True)
class _Report:
    problems: tuple[Problem, ...]
    counts: str  # what was read, for the closing line
    files: int
    config: Config | None = None  # the directory read, when one was given


def _version_problems(config: Config, api_version: str | None) -> tuple[Problem, ...]:
    """One problem per kind of the config that Run:ai `api_version` lacks, at its first
    document (the same words plan uses against such a server)."""
    if api_version is None:
        return ()
    problems = []
    for kind in lacking({address.kind for address in config.resources}, api_version):
        origins = [r.origin for r in config.resources.values() if r.address.kind == kind.slug]
        first = min((o for o in origins if o), key=lambda o: (o.file, o.line), default=None)
        message = needs_newer(kind, f"Run:ai {api_version}")
        if first is None:
            problems.append(Problem(message))
        else:
            problems.append(Problem(message, file=first.file, line=first.line, col=first.col))
    return tuple(problems)


def _sorted(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message)))


def _files_report(paths: tuple[Path, ...], api_version: str | None) -> _Report:
    """The problems of the given files, each read within its config directory (so checks
    across files, such as duplicate addresses, still hold), and those naming a given file
    as related (a problem in a base that a given document uses)."""
    wanted = {path.resolve() for path in paths}
    problems = [Problem("not a file", file=str(p)) for p in paths if not p.is_file()]
    for directory in sorted({_config_dir(path) for path in paths if path.is_file()}):
        config = read_config(directory)
        found = config.problems + _version_problems(config, api_version)
        problems += [
            p for p in found if any(Path(f).resolve() in wanted for f in (p.file, *p.related) if f)
        ]
    counts = f"{len(paths)} given files, each read within its config directory"
    return _Report(_sorted(tuple(problems)), counts, len(paths))


def _config_dir(file: Path) -> Path:
    """The nearest directory above `file`, up to the working directory, with a settings
    file; else the file's own directory. Relative when it can be, as problems name files."""
    cwd = Path.cwd().resolve()
    found = file.resolve().parent
    for directory in file.resolve().parents:
        if any((directory / name).is_file() for name in SETTINGS_FILES):
            found = directory
            break
        if directory == cwd:
            break
    return Path(os.path.relpath(found)) if found.is_relative_to(cwd) else found


def _text_line(problem: Problem) -> str:
    where = problem.location() or "."
    path = f" [{problem.json_path}]" if problem.json_path else ""
    return f"{where}: error: {problem.message}{path}"


def _validation_document(report: _Report) -> dict[str, Any]:
    config = report.config
    return {
        "format_version": "1.0",
        "valid": not report.problems,
        "directory": str(config.directory) if config else None,
        "files": config.files if config else report.files,
        "documents": config.documents if config else 0,
        "addresses": [str(address) for address in config.resources] if config else [],
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "col": p.col,
                "json_path": p.json_path,
                "message": p.message,
                "severity": "error",
            }
            for p in report.problems
        ],
    }
