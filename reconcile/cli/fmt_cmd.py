"""`fmt [--check] [DIR|FILE...]`: rewrite YAML files into the canonical layout, or (with
`--check`) list the ones that are not in it."""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.cli.app import main
from reconcile.configdir import YAML_SUFFIXES, scan
from reconcile.errors import ConfigError, ExitCode, Problem
from reconcile.yamlformat import UnformattableError, format_yaml


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 listing files that would.")
def fmt_command(*, paths: tuple[Path, ...], check: bool) -> int:
    """Rewrite the YAML files of DIR (default: .) or the FILEs given into canonical form."""
    changed: list[Path] = []
    problems: list[Problem] = []
    for path in _files(paths or (Path("."),)):
        try:
            text = path.read_text(encoding="utf-8")
            formatted = format_yaml(text, file=str(path))
        except UnformattableError as error:
            problems.append(error.problem)
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(f"cannot read the file as UTF-8 text: {error}", file=str(path)))
            continue
        if formatted == text:
            continue
        changed.append(path)
        if not check:
            path.write_text(formatted, encoding="utf-8")
    verb = "would reformat" if check else "reformatted"
    for path in changed:
        click.echo(f"{verb} {path}")
    if problems:
        raise ConfigError(problems, hint="fix the YAML syntax, then run fmt again")
    if check and changed:
        message = f"{len(changed)} file(s) not in canonical form; run `runai-reconcile fmt`."
        click.echo(message, err=True)
        return ExitCode.ERROR
    return ExitCode.OK


def _files(paths: tuple[Path, ...]) -> list[Path]:
    """The YAML files given, and those a config directory given holds (as `validate` reads
    them), each once, in a stable order."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            listing = scan(path)
            extra = [listing.settings.path] if listing.settings else []
            found.update(dict.fromkeys([*(f.path for f in listing.files), *extra]))
        elif path.name.endswith(YAML_SUFFIXES):
            found[path] = None
    return sorted(found)
