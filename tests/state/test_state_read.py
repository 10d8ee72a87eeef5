"""Reading a state refuses exactly what the standard json reading refused, and reads the rest
alike: corrupted and hand-edited states (mutations of a real state's text, odd rows in
PostgreSQL) against a reference read made with the standard library's json."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.errors import StateError
from reconcile.model import Address, EntryStatus, State, StateEntry
from reconcile.state import StateStore
from reconcile.state.base import state_from_data
from reconcile.state.postgres import PostgresStore
from tests.postgres import Cluster

_ODD_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)
_ENTRIES = st.lists(
    st.tuples(
        st.sampled_from(["workspace-template", "training-template", "credential"]),
        st.sampled_from(["tenant", "project=team-a", "department=d é"]),
        st.text("abc-é0", min_size=1, max_size=6),
        st.dictionaries(st.text("xyz", max_size=3), _ODD_VALUES, max_size=3),
        st.booleans(),
    ),
    max_size=4,
)
# Snippets a hand edit or a corruption leaves: tokens json reads and orjson does not, broken
# structure, and bytes that are not UTF-8.
_SNIPPETS = st.sampled_from(
    [
        b"NaN",
        b"-Infinity",
        b"123456789012345678901234567890",
        b"-9223372036854775809",
        b'"\\ud800"',
        b"{",
        b"}",
        b",",
        b'"x"',
        b"\xff",
        b"\xc3",
        b'"status": "odd", ',
        b'"a/b": {"remote_id": "1"}, ',
    ]
)
_MUTATIONS = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 3), _SNIPPETS),
    min_size=0,  # none: the state as written reads back as it was
    max_size=3,
)


def _state(entries: list[tuple[str, str, str, dict[str, Any], bool]]) -> State:
    built = {}
    for kind, scope, name, spec, pending in entries:
        address = Address(kind, scope, name)
        status = EntryStatus.PENDING_CREATE if pending else EntryStatus.APPLIED
        built[address] = StateEntry(address, f"id-{name}", spec, status, protected=pending)
    return State(lineage=str(uuid.uuid4()), entries=built)


def _mutated(raw: bytes, mutations: list[tuple[float, int, bytes]]) -> bytes:
    """Each mutation at a relative position: 0 inserts the snippet, n > 0 replaces n bytes."""
    for where, cut, snippet in mutations:
        at = int(where * len(raw))
        raw = raw[:at] + snippet + raw[at + cut :]
    return raw


def _reference(document: Any) -> str:
    """What a read of `document` gives, by state_from_data alone: the state's JSON, or
    'refused'."""
    try:
        state = state_from_data(document, "reference")
    except StateError:
        return "refused"
    return json.dumps(state.to_dict(), sort_keys=True)  # NaN compares equal as text


def _reference_of_file(raw: bytes) -> str:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return "refused"
    return _reference(document)


def _read(store: StateStore | PostgresStore) -> str:
    try:
        state = store.read()
    except StateError:
        return "refused"
    return json.dumps(state.to_dict(), sort_keys=True)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_ENTRIES, _MUTATIONS)
def test_a_file_read_refuses_and_reads_as_json_did(
    tmp_path: Path, entries: list[Any], mutations: list[tuple[float, int, bytes]]
) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    StateStore(path).write(_state(entries))
    raw = _mutated(path.read_bytes(), mutations)
    path.write_bytes(raw)
    assert _read(StateStore(path)) == _reference_of_file(raw)


@pytest.mark.parametrize(
    "entry",
    [
        '{"remote_id": "1", "last_applied": {"n": 123456789012345678901234567890}}',
        '{"remote_id": "1", "last_applied": {"n": NaN, "m": -Infinity}}',
        '{"remote_id": "1", "last_applied": {"s": "\\ud800"}}',
        '{"remote_id": "1", "status": "pending-create", "protect": true}',
        '{"remote_id": "1"} , "workload-type/c": {"remote_id": "2"}',
        '{"remote_id": "1"} trailing',
        '{"remote_id": 1}',
        '{"remote_id": "1", "status": "odd"}',
        '{"remote_id": "1", "protect": false}',
        '["remote_id"]',
        '"text"',
        "{oops",
        "",
    ],
)
def test_a_postgresql_row_is_read_as_json_reads_it(
    pg_url: str, postgres_cluster: Cluster, entry: str
) -> None:
    store = PostgresStore(pg_url, "prod")
    state = store.write(
        _state([("workload-type", "", "a", {}, False), ("workload-type", "", "b", {}, False)])
    )
    table = f"{pg_url.rsplit('schema=', 1)[1]}.resources"
    quoted = entry.replace("'", "''")
    where = "address = 'workload-type/b'"
    postgres_cluster.psql(f"UPDATE {table} SET entry = '{quoted}' WHERE {where}")
    try:
        row: Any = json.loads(entry)
    except ValueError:
        row = entry  # not JSON: the schema check names the address
    document = {**state.to_dict(), "resources": {**state.to_dict()["resources"]}}
    document["resources"]["workload-type/b"] = row
    expected = _reference(document)
    assert _read(PostgresStore(pg_url, "prod")) == expected
    if expected == "refused":
        with pytest.raises(StateError, match=r"workload-type/b"):
            PostgresStore(pg_url, "prod").read()
