"""Assembles the desired set from a config directory's files: one report per file, then
duplicate addresses across files, with big directories read by a pool of processes.

Knows no YAML: config.py passes in its file parser. Never prints, never touches the network.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

from reconcile import schema
from reconcile.configdir import Found, display_path, inside
from reconcile.documents import MAX_MANIFEST_BYTES, Checked, Source, check_document
from reconcile.errors import Problem
from reconcile.gcpause import gc_paused
from reconcile.model import Address, Resource
from reconcile.schema import JsonPath

PARALLEL_BYTES = 1024 * 1024  # below this much YAML, one process is faster than a pool


@dataclass(frozen=True)
class ParsedFile:
    """A YAML file's documents (each a plain value and its source) and its problems."""

    documents: list[tuple[Any, Source]]
    problems: list[Problem]


Parse = Callable[[Found], ParsedFile]


@dataclass(frozen=True)
class FileReport:
    """What one file yields (sent back from a worker process, so plain data)."""

    path: str
    documents: int
    checked: tuple[Checked, ...]
    problems: tuple[Problem, ...]
    manifests: tuple[str, ...]  # real paths of the manifestFile targets it used


@dataclass(frozen=True)
class Desired:
    """The desired set, the problems found assembling it, and what was read."""

    resources: dict[Address, Resource]
    problems: list[Problem]
    files: int
    documents: int


@dataclass(frozen=True)
class _Task:
    found: Found
    directory: str
    env: dict[str, str]
    parse: Parse


def collect(
    files: tuple[Found, ...],
    directory: Path,
    env: dict[str, str],
    parse: Parse,
    *,
    workers: int | None = None,
) -> Desired:
    """Check every file's documents and build the desired set (first address wins)."""
    tasks = [_Task(found, str(directory), env, parse) for found in files]
    with gc_paused():
        reports = _read_all(tasks, workers)
    used = {m for r in reports for m in r.manifests}
    # A file some Workload names as its manifestFile is a Kubernetes object, not a document.
    reports = [r for r in reports if os.path.realpath(r.path) not in used]
    resources, problems = _unique(reports)
    for report in reports:
        problems.extend(report.problems)
        problems.extend(p for c in report.checked for p in c.problems)
    documents = sum(r.documents for r in reports)
    return Desired(resources, problems, len(reports), documents)


def _read_all(tasks: list[_Task], workers: int | None) -> list[FileReport]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    size = sum(t.found.size for t in tasks)
    count = workers if workers is not None else (cores if size >= PARALLEL_BYTES else 1)
    count = max(1, min(count, len(tasks)))
    schema.warm_up()  # compiled once here; forked workers inherit the validators
    if count == 1:
        return [_read_file(task) for task in tasks]
    # fork is fast and shares the compiled validators, but is unsafe once threads run.
    safe = threading.active_count() == 1 and "fork" in get_all_start_methods()
    context = get_context("fork" if safe else "spawn")
    batches = [tasks[i::count] for i in range(count)]
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        results = list(pool.map(_read_batch, batches))
    by_path = {r.path: r for batch in results for r in batch}
    return [by_path[str(task.found.path)] for task in tasks]


def _read_batch(tasks: list[_Task]) -> list[FileReport]:
    with gc_paused():  # a spawned worker starts with the collector on
        return [_read_file(task) for task in tasks]


def _read_file(task: _Task) -> FileReport:
    parsed = task.parse(task.found)
    manifests: list[str] = []
    loader = _ManifestLoader(task.found.path, Path(task.directory), manifests, task.parse)
    checked = tuple(
        check_document(value, source, env=task.env, load_manifest=loader)
        for value, source in parsed.documents
    )
    return FileReport(
        str(task.found.path),
        len(parsed.documents),
        checked,
        tuple(parsed.problems),
        tuple(manifests),
    )


def _unique(reports: list[FileReport]) -> tuple[dict[Address, Resource], list[Problem]]:
    first: dict[Address, Resource] = {}
    problems = []
    for report in reports:
        for checked in report.checked:
            resource = checked.resource
            if resource is None or resource.origin is None:
                continue
            if resource.address not in first:
                first[resource.address] = resource
                continue
            line, col = checked.name_at
            message = (
                f"duplicate address {resource.address} "
                f"(first defined at {first[resource.address].origin})"
            )
            problems.append(
                Problem(message, resource.origin.file, line, col, json_path="$.metadata.name")
            )
    return {a: first[a] for a in sorted(first)}, problems


class _ManifestLoader:
    """Loads a `manifestFile` relative to its document, refusing anything outside the dir."""

    def __init__(self, doc_file: Path, directory: Path, used: list[str], parse: Parse) -> None:
        self.doc_file, self.directory, self.used, self.parse = doc_file, directory, used, parse

    def __call__(
        self, rel: str, source: Source, at: JsonPath
    ) -> tuple[Any, Source | None, list[Problem]]:
        target = self.doc_file.parent / rel
        if not inside(target, self.directory):
            message = "manifestFile leads outside the config directory"
            return None, None, [source.problem(at, message)]
        if not target.is_file():
            return None, None, [source.problem(at, f"manifestFile {rel} not found")]
        self.used.append(os.path.realpath(target))
        size = target.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            message = f"manifestFile {rel} is {size} bytes; the API takes at most 2 MiB"
            return None, None, [source.problem(at, message)]
        parsed = self.parse(Found(target, display_path(self.directory, target), size))
        if parsed.problems:
            return None, None, parsed.problems
        if len(parsed.documents) != 1:
            count = len(parsed.documents)
            message = f"manifestFile {rel} must hold one Kubernetes object, not {count} documents"
            return None, None, [source.problem(at, message)]
        manifest, where = parsed.documents[0]
        return manifest, where, []
