"""A state document is read as the schema check and `State.from_dict` read it, whichever
path the read takes: documents the tool writes, hand-edited ones and foreign ones."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from reconcile.errors import StateError
from reconcile.model import Address, EntryStatus, State, StateEntry, frozen_instance
from reconcile.schema import validate_instance
from reconcile.state.base import STATE_SCHEMA, _plain_state, migrate, state_from_data

_TEXT = st.text(st.sampled_from("ab/=-é \n\x85\u2028"), max_size=6)


def _mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` nine times in ten (one odd part spoils a whole document)."""
    return st.integers(0, 9).flatmap(lambda pick: odd if pick == 0 else usual)


_WELL_FORMED = st.builds(
    str,
    st.builds(
        Address,
        st.sampled_from(["workload-type", "credential"]),
        st.sampled_from(["", "project=p", "tenant"]),
        st.text("abé -", min_size=1, max_size=3),
    ),
)
_ADDRESSES = _mostly(
    _WELL_FORMED,
    st.one_of(
        st.builds(
            "/".join,
            st.lists(
                st.sampled_from(["workspace-template", "project=a", "n-1", "", "é"]), max_size=4
            ),
        ),
        _TEXT,
    ),
)
_ODD = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(0, 1), _TEXT)
_FIELD_VALUES = {
    "remote_id": st.one_of(st.text(max_size=3), _ODD),
    "last_applied": st.one_of(
        st.dictionaries(st.text(max_size=2), _ODD, max_size=2), st.lists(_ODD, max_size=1), _ODD
    ),
    "status": st.one_of(st.sampled_from(["applied", "pending-create", "odd"]), _ODD),
    "protect": st.one_of(st.just(True), _ODD),
    "extra": _ODD,
}


def _edited(
    base: dict[str, Any], fields: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """`base` as written, or with a field dropped, or one set to any value (a hand edit)."""
    dropped = st.sampled_from(sorted(base)).map(
        lambda key: {k: v for k, v in base.items() if k != key}
    )
    edits = [
        st.builds(lambda value, k=key: {**base, k: value}, strategy)
        for key, strategy in fields.items()
    ]
    return _mostly(st.just(base), st.one_of(dropped, *edits))


_ENTRY_VALUES = st.one_of(
    _edited({"remote_id": "r-1", "last_applied": {"a": 1}, "status": "applied"}, _FIELD_VALUES),
    _edited({"remote_id": "", "status": "pending-create", "protect": True}, _FIELD_VALUES),
)
_RESOURCES = st.dictionaries(_ADDRESSES, _mostly(_ENTRY_VALUES, _ODD), max_size=4)
_HEADERS = _edited(
    {"version": 2, "lineage": str(uuid.uuid4()), "serial": 3, "tool_version": "1.0", "server": ""},
    {
        "version": st.sampled_from([1, 3, "2", 2.0]),
        "lineage": st.one_of(_TEXT, _ODD),
        "serial": st.one_of(st.integers(-1, 5), st.just(3.0), _ODD),
        "tool_version": _ODD,
        "server": _ODD,
        "other": _ODD,
    },
)


def _plain_read(document: dict[str, Any]) -> str:
    """The read by the plain rules alone: migrated, the whole schema check, then
    `State.from_dict`; the state's repr (every value with its type), or 'refused'."""
    try:
        upgraded = migrate(document)
        if validate_instance(STATE_SCHEMA, upgraded):
            return "refused"
        return repr(State.from_dict(upgraded))
    except (StateError, KeyError, ValueError, TypeError, AttributeError):
        return "refused"


def _read(document: dict[str, Any]) -> str:
    try:
        return repr(state_from_data(document, "test"))
    except StateError:
        return "refused"


@settings(max_examples=300, deadline=None)
@given(_HEADERS, _mostly(_RESOURCES, _ODD))
def test_any_document_is_read_as_the_schema_and_from_dict_read_it(
    header: dict[str, Any], resources: Any
) -> None:
    document = {**header, "resources": resources}
    expected = _plain_read(document)
    assert _read(document) == expected
    event("read" if expected != "refused" else "refused")


_STATES = st.builds(
    lambda entries, serial: State(
        lineage=str(uuid.uuid4()),
        serial=serial,
        entries={e.address: e for e in entries},
        server="https://a.run.ai",
    ),
    st.lists(
        st.builds(
            StateEntry,
            st.builds(
                Address,
                st.sampled_from(["workload-type", "credential"]),
                st.sampled_from(["", "project=p"]),
                st.text("abc-é", min_size=1, max_size=4),
            ),
            st.text(max_size=4),
            st.dictionaries(st.text(max_size=3), _ODD, max_size=3),
            st.sampled_from(list(EntryStatus)),
            st.booleans(),
        ),
        max_size=5,
    ),
    st.integers(0, 9),
)


@settings(max_examples=150, deadline=None)
@given(_STATES)
def test_a_state_the_tool_wrote_reads_back_whole(state: State) -> None:
    document = state.to_dict()
    in_order = replace(state, entries=dict(sorted(state.entries.items())))  # as written
    assert _plain_state(document) is not None  # the one-pass read takes what the tool writes
    assert _read(document) == _plain_read(document) == repr(in_order)


_ANY_FIELD = st.one_of(
    st.text(max_size=3),
    st.integers(),
    st.none(),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_ANY_FIELD, min_size=5, max_size=5))
def test_a_frozen_instance_is_what_the_constructor_makes(values: list[Any]) -> None:
    address = Address(*map(str, values[:3]))
    built = frozen_instance(
        Address, {"kind": address.kind, "scope": address.scope, "name": address.name}
    )
    assert built == address and hash(built) == hash(address)
    assert list(vars(built).items()) == list(vars(address).items())
    fields = dict(
        zip(
            ("address", "remote_id", "last_applied", "status", "protected"),
            [address, *values[1:]],
            strict=True,
        )
    )
    entry = frozen_instance(StateEntry, fields)
    assert entry == StateEntry(**fields)
    assert list(vars(entry).items()) == list(vars(StateEntry(**fields)).items())
