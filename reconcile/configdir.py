"""Lists the YAML files of a config directory, refusing the ones that must not be read.

Recursive; hidden files and folders are skipped, and so is a folder holding a
`.runai-reconcile-ignore` file (other YAML kept beside the config: CI files, manifests);
a symlink that leads outside the directory is refused, and so is a file over the size
limit. Reads no file content (config.py does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconcile.errors import Problem
from reconcile.settings import SETTINGS_FILES

MAX_FILE_BYTES = 10 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")
IGNORE_MARKER = ".runai-reconcile-ignore"


@dataclass(frozen=True)
class Found:
    """One YAML file to read: where it is, and how problems name it."""

    path: Path
    display: str  # the given directory joined with the path inside it (what users click)
    size: int


@dataclass(frozen=True)
class Listing:
    """The documents' files (sorted), the settings file if any, and what was refused."""

    files: tuple[Found, ...]
    settings: Found | None
    problems: tuple[Problem, ...]


def inside(path: str | Path, root: str | Path) -> bool:
    """True when the real location of `path` is `root` or lies under it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def display_path(directory: Path, path: str | Path) -> str:
    """How problems name a file: relative to the directory as the user wrote it."""
    rel = os.path.relpath(path, directory)
    return os.path.normpath(os.path.join(str(directory), rel))


def scan(directory: Path) -> Listing:
    """Every readable YAML file under `directory`, in a stable order."""
    files: list[Found] = []
    settings: list[Found] = []
    problems: list[Problem] = []
    visited = {os.path.realpath(directory)}
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames[:] = _subdirs(directory, dirpath, dirnames, visited, problems)
        top = os.path.samefile(dirpath, directory)
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
                continue
            found = _check_file(directory, os.path.join(dirpath, name), problems)
            if found is None:
                continue
            if name in SETTINGS_FILES:
                if not top:
                    problems.append(
                        Problem(
                            "a settings file belongs at the top of the config directory",
                            file=found.display,
                            line=1,
                            col=1,
                        )
                    )
                    continue
                settings.append(found)
            else:
                files.append(found)
    if len(settings) > 1:
        problems.append(
            Problem(
                "two settings files: keep one of " + " and ".join(SETTINGS_FILES),
                file=settings[1].display,
                line=1,
                col=1,
            )
        )
    return Listing(tuple(files), settings[0] if settings else None, tuple(problems))


def _subdirs(
    directory: Path, dirpath: str, names: list[str], visited: set[str], problems: list[Problem]
) -> list[str]:
    keep = []
    for name in sorted(names):
        full = os.path.join(dirpath, name)
        if name.startswith(".") or os.path.exists(os.path.join(full, IGNORE_MARKER)):
            continue
        if not inside(full, directory):
            problems.append(
                Problem(
                    "symlink leads outside the config directory; not followed",
                    file=display_path(directory, full),
                    line=1,
                    col=1,
                )
            )
            continue
        real = os.path.realpath(full)
        if real not in visited:  # a symlink back up the tree would loop forever
            visited.add(real)
            keep.append(name)
    return keep


def _check_file(directory: Path, full: str, problems: list[Problem]) -> Found | None:
    shown = display_path(directory, full)
    if not inside(full, directory):
        problems.append(
            Problem(
                "symlink leads outside the config directory; not read", file=shown, line=1, col=1
            )
        )
        return None
    try:
        size = os.stat(full).st_size
    except OSError as error:
        problems.append(
            Problem(f"cannot read the file: {error.strerror or error}", file=shown, line=1, col=1)
        )
        return None
    if not os.path.isfile(full):
        return None
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        problems.append(
            Problem(f"file is larger than {limit} MiB; not read", file=shown, line=1, col=1)
        )
        return None
    return Found(Path(full), shown, size)
