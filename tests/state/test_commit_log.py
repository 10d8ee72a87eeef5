"""The file backend's commit log on real files: commits of the lock holder are appended to
`<state>.log` and folded into the file; every read (this store, a fresh one, another
process) sees the file plus the log, a torn last line is ignored, and anything else odd in
the log is a clear StateError."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.errors import StateError
from reconcile.model import Address, EntryStatus, State, StateEntry
from reconcile.state import StateStore
from reconcile.state.commit_log import changed_entries, log_path

_NAMES = st.sampled_from([f"t{i}" for i in range(8)])
_SPECS = st.dictionaries(
    st.sampled_from(["a", "b", "é"]),
    st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=4), st.floats(), st.none()),
    max_size=2,
)
# One commit: set an entry, remove one, or change a header field (the server binding).
_OPS = st.one_of(
    st.tuples(st.just("set"), _NAMES, _SPECS, st.booleans()),
    st.tuples(st.just("remove"), _NAMES),
    st.tuples(st.just("server"), st.sampled_from(["https://a.example", "https://b.example"])),
)
# A commit, optionally followed by releasing and taking the lock again (which folds the log).
_STEPS = st.lists(st.tuples(_OPS, st.booleans()), min_size=1, max_size=12)


def _address(name: str) -> Address:
    return Address("workspace-template", "project=team-a", name)


def _apply(state: State, op: tuple[Any, ...]) -> State:
    if op[0] == "set":
        _, name, spec, pending = op
        status = EntryStatus.PENDING_CREATE if pending else EntryStatus.APPLIED
        return state.with_entry(StateEntry(_address(name), f"id-{name}", spec, status, pending))
    if op[0] == "remove":
        return state.without(_address(op[1]))
    return replace(state, server=op[1])


def _same(read: State, expected: State) -> None:
    # NaN is not equal to itself: compare the texts the state file would hold.
    assert json.dumps(read.to_dict(), sort_keys=True) == json.dumps(
        expected.to_dict(), sort_keys=True
    )


def _fresh_read(path: Path) -> State:
    return StateStore(path).read()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_STEPS)
def test_commits_read_back_after_each_with_and_without_folding(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[tuple[Any, ...], bool]]
) -> None:
    path = tmp_path_factory.mktemp("log") / "default.json"
    store = StateStore(path)
    expected = store.write(store.read())  # the file the log's commits follow
    logged = False
    lock = store.lock("apply")
    lock.__enter__()
    try:
        for op, fold in steps:
            expected = store.update(lambda state, op=op: _apply(state, op))
            logged = logged or log_path(path).exists()
            _same(_fresh_read(path), expected)
            _same(store.read(), expected)
            if fold:
                lock.__exit__(None, None, None)
                assert not log_path(path).exists()  # released: the file alone is the state
                _same(State.from_dict(json.loads(path.read_text())), expected)
                lock = store.lock("apply")
                lock.__enter__()
    finally:
        lock.__exit__(None, None, None)
    assert logged
    _same(State.from_dict(json.loads(path.read_text())), expected)


def _logged_store(tmp_path: Path, commits: int) -> tuple[StateStore, list[State]]:
    """A store whose file is followed by `commits` logged commits, as a run killed holding
    the lock leaves them (its files are put back as they were before its release folded
    them); the states after each."""
    path = tmp_path / "default.json"
    store = StateStore(path)
    states = [store.write(store.read())]
    with store.lock("apply"):
        for i in range(commits):
            entry = StateEntry(_address(f"t{i}"), str(i), {"n": i, "text": "é" * i})
            states.append(store.update(lambda state, entry=entry: state.with_entry(entry)))
        left = {file: file.read_bytes() for file in (path, log_path(path))}
    for file, raw in left.items():
        file.write_bytes(raw)
    return StateStore(path), states


def test_a_log_cut_at_any_byte_of_its_last_line_reads_as_the_commit_before(
    tmp_path: Path,
) -> None:
    store, states = _logged_store(tmp_path, 3)
    log = log_path(store.path)
    raw = log.read_bytes()
    start = raw.rindex(b"\n", 0, len(raw) - 1) + 1
    for cut in range(start, len(raw) + 1):
        log.write_bytes(raw[:cut])
        _same(StateStore(store.path).read(), states[-1] if cut == len(raw) else states[-2])
    # A whole line that is not JSON, last: a crash left garbage; it was never acknowledged.
    log.write_bytes(raw[:start] + b"\x00\x00garbage\n")
    _same(StateStore(store.path).read(), states[-2])
    # The next run drops the torn line before appending its own commits.
    with store.lock("apply"):
        final = store.update(lambda state: state.without(_address("t0")))
        assert final.serial == states[-2].serial + 1
        _same(StateStore(store.path).read(), final)
    assert not log.exists()
    _same(StateStore(store.path).read(), final)


def test_records_the_file_already_holds_are_skipped(tmp_path: Path) -> None:
    """A crash between folding the log into the file and removing it."""
    store, states = _logged_store(tmp_path, 3)
    raw = log_path(store.path).read_bytes()
    store.write(states[2])  # the file now holds serial 4: records 2..4 are in it
    log_path(store.path).write_bytes(raw)
    read = StateStore(store.path).read()
    assert read.serial == states[3].serial + 1
    _same(read, replace(states[2], serial=read.serial))


def _rewrite_line(path: Path, index: int, change: Any) -> None:
    lines = path.read_bytes().split(b"\n")
    record = json.loads(lines[index])
    change(record)
    lines[index] = json.dumps(record).encode()
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (0, lambda r: r.update(lineage="another"), r"line 1 is a commit of lineage 'another'"),
        (1, lambda r: r.update(serial=r["serial"] + 1), r"line 2 is serial \d+, but the next"),
        (0, lambda r: r.update(set={"not an address": {}}), r"line 1.*not an address"),
        (0, lambda r: r.update(set={"a/b": {"status": "odd"}}), r"line 1 is not a valid state"),
        (1, lambda r: r.update(remove=["x"]), r"line 2: not an address"),
        (1, lambda r: r.update(header={"lineage": "x"}), r"line 2: 'header' is not"),
    ],
)
def test_a_bad_record_is_a_state_error_naming_its_line(
    tmp_path: Path, index: int, change: Any, message: str
) -> None:
    store, _ = _logged_store(tmp_path, 3)
    _rewrite_line(log_path(store.path), index, change)
    with pytest.raises(StateError, match=message) as raised:
        StateStore(store.path).read()
    assert str(log_path(store.path)) in raised.value.message
    assert str(store.backup_path) in raised.value.hint


def test_a_corrupt_middle_line_is_a_state_error(tmp_path: Path) -> None:
    store, _ = _logged_store(tmp_path, 3)
    log = log_path(store.path)
    lines = log.read_bytes().split(b"\n")
    lines[1] = lines[1][:10]
    log.write_bytes(b"\n".join(lines))
    with pytest.raises(StateError, match=r"line 2 is not a JSON object"):
        StateStore(store.path).read()


def test_a_log_without_its_state_file_is_a_state_error(tmp_path: Path) -> None:
    store, _ = _logged_store(tmp_path, 1)
    store.path.unlink()
    with pytest.raises(StateError, match="missing but its commit log"):
        StateStore(store.path).read()


def test_the_log_is_private_and_folded_once_it_outgrows_the_file(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "default.json")
    store.write(store.read())
    big = "x" * 200_000
    with store.lock("apply"):
        store.update(lambda state: state.with_entry(StateEntry(_address("a"), "1", {"v": big})))
        assert log_path(store.path).stat().st_mode & 0o777 == 0o600
        folds = 0
        for i in range(40):  # 8 MB of commits: past the floor, the file takes them in
            entry = StateEntry(_address("a"), str(i), {"v": big, "i": i})
            store.update(lambda state, entry=entry: state.with_entry(entry))
            folds += not log_path(store.path).exists()
        assert folds >= 1
        assert json.loads(store.path.read_text())["serial"] > 2
        _same(StateStore(store.path).read(), store.read())


# A writer that commits in runs under the lock and releases it (folding) between runs, until
# killed. Commit i (serial i + 1) sets entry t{i % 5} to i, so a whole state of serial s
# holds, for each k, the last i < s with i % 5 == k.
WRITER = textwrap.dedent(
    """
    import sys
    from reconcile.model import Address, StateEntry
    from reconcile.state import StateStore
    store = StateStore(sys.argv[1])
    # A big entry that never changes: reading the file takes a while, so folds land mid-read.
    pad = StateEntry(Address("credential", "tenant", "pad"), "0", {"pad": "x" * 2_000_000})
    store.write(store.read().with_entry(pad))
    i = 0
    while True:
        with store.lock("apply"):
            for _ in range(1 + i % 7):
                i += 1
                address = Address("training-template", "tenant", f"t{i % 5}")
                entry = StateEntry(address, str(i), {"i": i})
                store.update(lambda state, entry=entry: state.with_entry(entry))
                if i == 20:
                    print("started", flush=True)
    """
)


def _assert_whole(state: State) -> None:
    last = state.serial - 1
    expected = {f"t{i % 5}": i for i in range(max(1, last - 4), last + 1)}
    found = {a.name: e.last_applied.get("i") for a, e in state.entries.items() if a.name != "pad"}
    assert found == expected


def test_readers_without_the_lock_see_whole_states_while_a_writer_folds(tmp_path: Path) -> None:
    path = tmp_path / "default.json"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"started"
        serials = []
        for _ in range(400):
            state = StateStore(path).read()
            _assert_whole(state)
            serials.append(state.serial)
        # Never older than a state read before it, and the writer went on meanwhile.
        assert serials == sorted(serials) and serials[-1] > serials[0]
    finally:
        proc.kill()
        proc.wait()
    _assert_whole(StateStore(path).read())  # killed anywhere: the file plus the log is whole


_KEYS = st.lists(_NAMES, unique=True, max_size=6)
_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _NAMES),
        st.tuples(st.just("remove"), _NAMES),
        st.tuples(st.just("move"), _NAMES),  # removed, then set again: it moves to the end
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(keys=_KEYS, edits=_EDITS)
def test_changed_entries_is_what_turns_one_state_into_the_other(
    keys: list[str], edits: list[tuple[str, str]]
) -> None:
    old = State(lineage="l", entries={_address(k): StateEntry(_address(k), k, {}) for k in keys})
    new = old
    for verb, name in edits:
        entry = StateEntry(_address(name), name + "'", {})
        if verb == "set":
            new = new.with_entry(entry)
        elif verb == "remove":
            new = new.without(_address(name))
        else:
            new = new.without(_address(name)).with_entry(entry)
    setting, removed = changed_entries(old, new)
    assert set(removed) == old.entries.keys() - new.entries.keys()
    rebuilt = {a: e for a, e in old.entries.items() if a not in removed}
    rebuilt.update({a: new.entries[a] for a in setting})
    assert rebuilt.keys() == new.entries.keys()
    assert rebuilt == dict(new.entries)
    # Every edit makes a new entry: nothing unchanged is set.
    assert not [a for a in setting if old.entries.get(a) is new.entries[a]]
