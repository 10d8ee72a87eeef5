"""Collecting the desired set: the reports worker processes send back, and workers ended at
once when a run fails while they still read."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile import config as config_module
from reconcile.configdir import Found, scan
from reconcile.desired import FileReport, ParsedFile, _split, _Task, _unique, start_collect
from reconcile.documents import Checked
from reconcile.errors import Problem, ReconcileError
from reconcile.expand import Placed
from reconcile.extending import Library
from reconcile.model import NO_LIFECYCLE, Address, Lifecycle, Origin, Resource


class _Text(str):
    """A string subclass: JSON would give back a plain string."""


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),  # NaN and infinities included
    st.text(max_size=4),
    st.builds(_Text, st.text(max_size=2)),
)
SPECS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=2).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.builds(_Text)), inner, max_size=3),
    ),
    max_leaves=8,
)
LIFECYCLES = st.sampled_from(
    [NO_LIFECYCLE, Lifecycle(protect=True), Lifecycle(ignore_changes=("spec.image",))]
)
PROBLEMS = st.lists(
    st.builds(Problem, st.text(max_size=5), st.just("f.yaml"), st.integers(0, 9)), max_size=2
)


@st.composite
def placed(draw: Any) -> Placed:
    address = Address("workspace-template", draw(st.sampled_from(["", "project=p"])), "n")
    resource = Resource(
        address,
        draw(SPECS),
        Origin("f.yaml", draw(st.integers(0, 9)), draw(st.integers(0, 9))),
        frozenset(draw(st.lists(st.sampled_from(["spec.a", "spec.b[*].value"]), max_size=2))),
        draw(LIFECYCLES),
    )
    return Placed(resource, draw(st.integers(0, 9)), draw(st.integers(0, 9)), "$.metadata.name")


REPORTS = st.builds(
    FileReport,
    st.just("/config/f.yaml"),
    st.integers(0, 3),
    st.lists(
        st.builds(Checked, st.lists(placed(), max_size=3).map(tuple), PROBLEMS), max_size=3
    ).map(tuple),
    PROBLEMS.map(tuple),
    st.just(("/config/manifest.yaml",)),
)


@settings(max_examples=200, deadline=None)
@given(REPORTS)
def test_a_report_comes_back_from_a_worker_as_it_was_sent(report: FileReport) -> None:
    back = pickle.loads(pickle.dumps(report))
    # Every value and type (a tuple is no list, 1 no 1.0); a set's repr follows its table's
    # layout, which a rebuilt set need not share, so the sensitive paths are compared apart.
    assert repr(_without_sets(back)) == repr(_without_sets(report))
    assert [p.resource.sensitive for c in back.checked for p in c.placed] == [
        p.resource.sensitive for c in report.checked for p in c.placed
    ]
    assert [type(p.resource.spec) for c in back.checked for p in c.placed] == [
        type(p.resource.spec) for c in report.checked for p in c.placed
    ]


def _without_sets(report: FileReport) -> FileReport:
    checked = tuple(
        dataclasses.replace(
            c,
            placed=tuple(
                dataclasses.replace(
                    p, resource=dataclasses.replace(p.resource, sensitive=frozenset())
                )
                for p in c.placed
            ),
        )
        for c in report.checked
    )
    return dataclasses.replace(report, checked=checked)


def test_a_plain_report_is_sent_packed() -> None:
    resource = Resource(Address("k", "", "n"), {"spec": {"image": "img"}}, Origin("f", 1, 1))
    report = FileReport("f", 1, (Checked((Placed(resource, 1, 1),), []),), (), ())
    assert report.__reduce__()[0] is not FileReport  # the JSON form, not the fields
    assert pickle.loads(pickle.dumps(report)) == report


@pytest.mark.parametrize(
    ("cls", "names"),
    [
        (FileReport, ("path", "documents", "checked", "problems", "manifests")),
        (Checked, ("placed", "problems")),
        (Placed, ("resource", "line", "col", "json_path")),
        (Resource, ("address", "spec", "origin", "sensitive", "lifecycle")),
        (Address, ("kind", "scope", "name")),
        (Origin, ("file", "line", "col")),
    ],
)
def test_a_packed_report_carries_every_field(cls: type, names: tuple[str, ...]) -> None:
    # desired.py packs these fields by name: a new one must be packed too.
    assert tuple(f.name for f in dataclasses.fields(cls)) == names


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 1000), max_size=30), st.integers(1, 8))
def test_files_are_split_into_batches_of_about_equal_bytes(sizes: list[int], count: int) -> None:
    library = Library({}, ())
    tasks = [
        _Task(Found(Path(f"/c/{i}.yaml"), f"{i}.yaml", n), "/c", {}, _parse, library, frozenset())
        for i, n in enumerate(sizes)
    ]
    batches = _split(tasks, count)
    assert sorted(t.found.display for b in batches for t in b) == sorted(
        t.found.display for t in tasks
    )
    assert len(batches) == min(count, len(tasks)) and all(batches)
    loads = [sum(t.found.size for t in batch) for batch in batches]
    if loads:  # biggest first, each to the lightest: no batch passes another by a whole file
        assert max(loads) - min(loads) <= max(sizes)


ADDRESSES = st.builds(
    Address,
    st.sampled_from(["workspace-template", "project", "department"]),
    st.sampled_from(["", "tenant", "project=a", "project=a-b"]),
    st.text(alphabet="aAb-_.0", max_size=4),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(ADDRESSES, max_size=12))
def test_the_desired_set_is_in_address_order(addresses: list[Address]) -> None:
    placed = tuple(Placed(Resource(a, {}, Origin("f.yaml", 1, 1))) for a in addresses)
    report = FileReport("/config/f.yaml", len(addresses), (Checked(placed, []),), (), ())
    assert list(_unique([report])[0]) == sorted(set(addresses))


def _parse(found: Found) -> ParsedFile:
    return ParsedFile([], [])


def _parse_blocking(found: Found) -> ParsedFile:
    """Parses a file; `block.yaml` first says which process reads it, then waits until its
    directory's `gate` (a named pipe) is written."""
    if found.path.name == "block.yaml":
        # Written whole under another name, then renamed: a waiter never reads it half written.
        written = found.path.parent / "reader.part"
        written.write_text(str(os.getpid()), encoding="utf-8")
        os.replace(written, found.path.parent / "reader")
        with (found.path.parent / "gate").open(encoding="utf-8") as gate:
            gate.read()
    return config_module.parse_file(found)


def _blocking_files(directory: Path) -> tuple[Found, ...]:
    """Two documents' files, one of which `_parse_blocking` holds its reader inside."""
    document = "kind: WorkloadType\nmetadata: {{name: {}}}\nspec: {{category: Train}}\n"
    for name in ("block", "other"):
        (directory / f"{name}.yaml").write_text(document.format(name), encoding="utf-8")
    os.mkfifo(directory / "gate")
    return scan(directory).files


def _reader_inside(directory: Path) -> int:
    """The pid of the worker held inside `block.yaml`, once it is there."""
    while not (directory / "reader").exists():
        threading.Event().wait(0.01)
    return int((directory / "reader").read_text(encoding="utf-8"))


def test_a_run_that_fails_early_ends_the_workers_without_waiting(tmp_path: Path) -> None:
    files = _blocking_files(tmp_path)

    def open_gate() -> None:  # only if the workers were waited for: ends the test
        released.set()
        with (tmp_path / "gate").open("w", encoding="utf-8"):
            pass

    released = threading.Event()
    with (
        pytest.raises(RuntimeError, match="the server refused"),
        start_collect(files, tmp_path, {}, _parse_blocking, workers=2) as reading,
    ):
        assert reading.in_background
        reader = _reader_inside(tmp_path)
        opener = threading.Timer(120, open_gate)
        opener.start()
        raise RuntimeError("the server refused")
    opener.cancel()
    assert not released.is_set()
    with pytest.raises(ProcessLookupError):  # ended and reaped
        os.kill(reader, 0)


def test_a_worker_killed_while_reading_is_an_error_not_a_wait(tmp_path: Path) -> None:
    files = _blocking_files(tmp_path)
    with start_collect(files, tmp_path, {}, _parse_blocking, workers=2) as reading:
        os.kill(_reader_inside(tmp_path), signal.SIGKILL)
        with pytest.raises(ReconcileError, match="ended before it was done"):
            reading.result()
