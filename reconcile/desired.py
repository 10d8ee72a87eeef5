"""Assembles the desired set from a config directory's files: one report per file, then
duplicate addresses across files, with big directories read by a pool of processes.

Knows no YAML: config.py passes in its file parser. Never prints, never touches the network.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import active_children, get_all_start_methods, get_context
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from reconcile import schema
from reconcile.configdir import Found, display_path, inside
from reconcile.documents import MAX_MANIFEST_BYTES, Checked, Source, check_document
from reconcile.errors import Problem, ReconcileError
from reconcile.expand import Placed
from reconcile.extending import Library, check_extended, might_hold_bases, read_bases
from reconcile.gcpause import gc_paused
from reconcile.jsonfast import exact_text, exact_value
from reconcile.lifecycle import moved_conflicts
from reconcile.model import NO_LIFECYCLE, Address, AddressKey, Origin, Resource, address_key
from reconcile.schema import JsonPath

PARALLEL_BYTES = 1024 * 1024  # below this much YAML, one process is faster than a pool
# How often a wait for the workers checks they are still alive: a pool whose worker is
# killed (out of memory) replaces it but never answers for the batch it held.
_WORKER_CHECK_SECONDS = 0.5
# Batches per worker: a worker takes the next when done, and each batch's report is read
# back while the others are still checked, so little of it is left after the last one.
_BATCHES_PER_WORKER = 4


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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickling thousands of resources (frozen dataclasses, spec dicts) costs a worker
        # more than checking them, and the command waiting for them much of its time: the
        # specs go as one JSON text and the rest as plain tuples, where JSON is exact.
        specs = [p.resource.spec for c in self.checked for p in c.placed]
        text = exact_text(specs) if all(map(_packable, self.checked)) else None
        if text is None:
            fields = (self.path, self.documents, self.checked, self.problems, self.manifests)
            return FileReport, fields
        rows = tuple((tuple(c.problems), tuple(map(_row, c.placed))) for c in self.checked)
        return _unpacked, (self.path, self.documents, text, rows, self.problems, self.manifests)


def _packable(checked: Checked) -> bool:
    """True when `_row` and `_placed` carry every field of `checked`'s resources."""
    return type(checked) is Checked and all(
        type(p) is Placed and type(p.resource) is Resource and type(p.resource.origin) is Origin
        for p in checked.placed
    )


def _row(placed: Placed) -> tuple[Any, ...]:
    """A placed resource but its spec, as plain values."""
    resource = placed.resource
    address, origin = resource.address, resource.origin
    assert origin is not None  # _packable
    lifecycle = None if resource.lifecycle == NO_LIFECYCLE else resource.lifecycle
    return (
        *(address.kind, address.scope, address.name),
        *(origin.file, origin.line, origin.col),
        tuple(resource.sensitive),
        lifecycle,
        *(placed.line, placed.col, placed.json_path),
    )


def _placed(row: tuple[Any, ...], spec: Any) -> Placed:
    """The placed resource `_row` made `row` of."""
    kind, scope, name, file, line, col, sensitive, lifecycle, *where = row
    address, origin = Address(kind, scope, name), Origin(file, line, col)
    lifecycle = NO_LIFECYCLE if lifecycle is None else lifecycle
    return Placed(Resource(address, spec, origin, frozenset(sensitive), lifecycle), *where)


def _unpacked(
    path: str,
    documents: int,
    text: bytes,
    rows: tuple[tuple[tuple[Problem, ...], tuple[tuple[Any, ...], ...]], ...],
    problems: tuple[Problem, ...],
    manifests: tuple[str, ...],
) -> FileReport:
    """The report `FileReport.__reduce__` packed."""
    specs = iter(exact_value(text))
    checked = tuple(
        Checked(tuple(_placed(row, next(specs)) for row in placed), list(found))
        for found, placed in rows
    )
    return FileReport(path, documents, checked, problems, manifests)


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
    library: Library
    shown: frozenset[str]  # variables whose values are not secret


def start_collect(
    files: tuple[Found, ...],
    directory: Path,
    env: dict[str, str],
    parse: Parse,
    *,
    workers: int | None = None,
    shown: frozenset[str] = frozenset(),
) -> Collecting:
    """Start checking every file's documents; `result()` on what it returns waits for them.

    A big directory is handed to worker processes and this returns at once, so the caller
    can do other work meanwhile (a plan reads the server); a small one is read right here.
    Use the result as a context manager: leaving it waits for workers still running, or
    ends them at once when an error leaves it (what they read is dropped anyway).
    """
    library = _bases(files, parse)
    tasks = [_Task(found, str(directory), env, parse, library, shown) for found in files]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    size = sum(t.found.size for t in tasks)
    count = workers if workers is not None else (cores if size >= PARALLEL_BYTES else 1)
    count = max(1, min(count, len(tasks)))
    schema.warm_up()  # compiled once here; forked workers inherit the validators
    if count == 1:
        return Collecting(tasks, library.problems, reports=[_read_file(task) for task in tasks])
    # fork is fast and shares the compiled validators, but is unsafe once threads run.
    safe = threading.active_count() == 1 and "fork" in get_all_start_methods()
    context = get_context("fork" if safe else "spawn")
    # The workers are all forked here, before the caller starts any thread of its own.
    before = {child.pid for child in active_children()}
    pool = context.Pool(count)
    processes = frozenset(child.pid for child in active_children()) - before
    try:
        batches = [
            pool.apply_async(_read_batch, (batch,))
            for batch in _split(tasks, count * _BATCHES_PER_WORKER)
        ]
    except BaseException:
        pool.terminate()
        raise
    return Collecting(tasks, library.problems, pool=pool, batches=batches, processes=processes)


def _split(tasks: list[_Task], count: int) -> list[list[_Task]]:
    """`tasks` in at most `count` batches of about equal bytes (each file to the lightest
    batch so far, biggest first, none left empty), so that every worker is busy until about
    the same time."""
    count = min(count, len(tasks))
    batches: list[list[_Task]] = [[] for _ in range(count)]
    sizes = [0] * count
    for task in sorted(tasks, key=lambda t: t.found.size, reverse=True):
        lightest = min(range(count), key=lambda i: (sizes[i], len(batches[i])))
        batches[lightest].append(task)
        sizes[lightest] += task.found.size
    return batches


def _bases(files: tuple[Found, ...], parse: Parse) -> Library:
    """The shared bases of every file, read before any document that may extend one (the
    files that hold none are only searched for the word)."""
    documents: list[tuple[Any, Source]] = []
    for found in files:
        try:
            text = found.path.read_bytes()
        except OSError:
            continue  # reading it for its documents says why
        if might_hold_bases(text):
            documents.extend(parse(found).documents)
    return read_bases(documents)


class Collecting:
    """A desired set being read: `result()` waits for it; `close()` stops what still runs."""

    def __init__(
        self,
        tasks: list[_Task],
        problems: tuple[Problem, ...] = (),
        *,
        reports: list[FileReport] | None = None,
        pool: Pool | None = None,
        batches: list[AsyncResult[list[FileReport]]] | None = None,
        processes: frozenset[int | None] = frozenset(),
    ) -> None:
        self._tasks = tasks
        self._problems = problems  # found before the files' own (the shared bases')
        self._reports = reports
        self._pool = pool
        self._batches = batches or []
        self._processes = processes  # the pool's worker processes, by pid
        self._desired: Desired | None = None

    @property
    def in_background(self) -> bool:
        """True while worker processes may still be reading."""
        return self._reports is None

    def result(self) -> Desired:
        if self._desired is None:
            self._desired = _assemble(self._gather(), self._problems)
        return self._desired

    def _gather(self) -> list[FileReport]:
        if self._reports is None:
            batches = [self._wait(batch) for batch in self._batches]
            by_path = {r.path: r for batch in batches for r in batch}
            self._reports = [by_path[str(task.found.path)] for task in self._tasks]
            self.close()
        return self._reports

    def _wait(self, batch: AsyncResult[list[FileReport]]) -> list[FileReport]:
        while not batch.ready():
            batch.wait(_WORKER_CHECK_SECONDS)
            alive = {child.pid for child in active_children()}
            if not batch.ready() and not self._processes <= alive:
                self.stop()
                raise ReconcileError(
                    "a process checking the config ended before it was done "
                    "(killed, or out of memory)",
                    hint="run again; if it recurs, check the memory the machine allows",
                )
        return batch.get()

    def close(self) -> None:
        """Wait for the workers still running, and end them."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def stop(self) -> None:
        """End the workers still running without waiting for them (they only read files:
        nothing is left half written), and drop what they found."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Collecting:
        return self

    def __exit__(self, error: type[BaseException] | None, *rest: object) -> None:
        if error is None:
            self.close()
        else:
            self.stop()


def _assemble(reports: list[FileReport], problems_before: tuple[Problem, ...]) -> Desired:
    used = {m for r in reports for m in r.manifests}
    # A file some Workload names as its manifestFile is a Kubernetes object, not a document.
    reports = [r for r in reports if os.path.realpath(r.path) not in used]
    resources, problems = _unique(reports)
    problems.extend(moved_conflicts(resources))
    problems.extend(problems_before)
    for report in reports:
        problems.extend(report.problems)
        problems.extend(p for c in report.checked for p in c.problems)
    documents = sum(r.documents for r in reports)
    return Desired(resources, problems, len(reports), documents)


# A worker process's entry point: a forked worker inherits the command's paused collector,
# a spawned one starts with it on.
@gc_paused()
def _read_batch(tasks: list[_Task]) -> list[FileReport]:
    return [_read_file(task) for task in tasks]


def _read_file(task: _Task) -> FileReport:
    parsed = task.parse(task.found)
    manifests: list[str] = []
    loader = _ManifestLoader(task.found.path, Path(task.directory), manifests, task.parse)

    def check(value: Any, source: Source) -> Checked:
        return check_document(value, source, env=task.env, shown=task.shown, load_manifest=loader)

    found = (check_extended(value, s, task.library, check) for value, s in parsed.documents)
    checked = tuple(c for c in found if c is not None)
    return FileReport(
        str(task.found.path),
        len(parsed.documents),
        checked,
        tuple(parsed.problems),
        tuple(manifests),
    )


def _unique(reports: list[FileReport]) -> tuple[dict[Address, Resource], list[Problem]]:
    first: dict[AddressKey, Resource] = {}
    problems = []
    for report in reports:
        for placed in (p for checked in report.checked for p in checked.placed):
            resource = placed.resource
            if resource.origin is None:
                continue
            address = resource.address
            key = address_key(address)
            if key not in first:
                first[key] = resource
                continue
            message = f"duplicate address {address} (first defined at {first[key].origin})"
            problems.append(
                Problem(message, resource.origin.file, placed.line, placed.col, placed.json_path)
            )
    return {first[key].address: first[key] for key in sorted(first)}, problems


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
