"""reconcile.jsonfast against the standard json module: the same values, the same errors."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile import jsonfast

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010))
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _typed(value: Any) -> Any:
    """`value` with each scalar's type beside it: 1, 1.0 and True differ, NaN equals NaN."""
    if isinstance(value, dict):
        return {"dict": sorted((k, _typed(v)) for k, v in value.items())}
    if isinstance(value, list):
        return ["list", *map(_typed, value)]
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    return (type(value).__name__, value)


def _outcome(parse: Any, data: bytes | str) -> Any:
    try:
        return ("value", _typed(parse(data)))
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError
        return ("error", type(error).__name__, str(error))


@settings(max_examples=200, deadline=None)
@given(_VALUES, st.sampled_from([None, 2]), st.booleans())
def test_loads_reads_what_json_reads(value: Any, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only, sort_keys=False)
    expected = _outcome(json.loads, text)
    assert _outcome(jsonfast.loads, text) == expected
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written unescaped: not UTF-8 at all
        return
    assert _outcome(jsonfast.loads, raw) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,.-+0123456789eEtrufalsnNI \n\\u\x00\ud800é'))
def test_loads_fails_as_json_fails(text: str) -> None:
    """Any text, JSON or not: the same value or the same error, message and position."""
    assert _outcome(jsonfast.loads, text) == _outcome(json.loads, text)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"big": 123456789012345678901234567890}',
        b"[-9223372036854775809, 18446744073709551616]",
        b"[NaN, Infinity, -Infinity, 1e400]",
        b'"\\ud800"',
        b"\xef\xbb\xbf{}",
        b'{"a": "\xff"}',
        b'{"a": 1, "a": 2}',
        b"",
    ],
)
def test_loads_edges_are_jsons(raw: bytes) -> None:
    def standard(data: bytes | str) -> Any:
        return json.loads(data if isinstance(data, str) else data.decode("utf-8"))

    assert _outcome(jsonfast.loads, raw) == _outcome(standard, raw)


@settings(max_examples=200, deadline=None)
@given(_VALUES, st.sampled_from(["id:", "planned:", "a b", "${"]))
def test_dumps_holds_plain_text_where_json_does(value: Any, needle: str) -> None:
    assert (needle.encode() in jsonfast.dumps(value)) == (needle in json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(_VALUES)
def test_dumps_indented_is_jsons_indented_text(value: Any) -> None:
    expected = json.dumps(value, indent=2, sort_keys=True)
    assert jsonfast.dumps_indented(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, {}, []], "a": {"x": None, "y": True, "z": "plain"}, "c": -7},
        {"floats": [0.00001, 1e16, 1.5e-7, 2.5, -0.0, float("nan"), float("inf")]},
        {"text": 'é \x7f \x1f \u2028 \U0001f600 \\ " \n'},
        {"big": [2**64, -(2**63) - 1]},
        {1: "int keys", 2: None},
        [[[[[]]]]],
    ],
)
def test_dumps_indented_edges_are_jsons(value: Any) -> None:
    assert jsonfast.dumps_indented(value) == json.dumps(value, indent=2, sort_keys=True)


@settings(max_examples=150, deadline=None)
@given(
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
)
def test_loads_reads_any_number_as_json(text: str) -> None:
    """Numbers as a person types them (long mantissas, halfway cases, overflow), not only as
    json writes them."""
    assert _outcome(jsonfast.loads, text.encode()) == _outcome(json.loads, text)


@settings(max_examples=200, deadline=None)
@given(_VALUES)
def test_sorted_text_reads_back_as_the_value(value: Any) -> None:
    """What `sorted_text` writes without a null (NaN and infinities become one) reads back
    as the value itself: the same types, every mapping's keys in sorted order."""
    text = jsonfast.sorted_text(value)
    if text is None or b"null" in text:
        return
    assert _typed(jsonfast.exact_value(text)) == _typed(value)
    assert json.dumps(jsonfast.exact_value(text)) == json.dumps(value, sort_keys=True)


_TEXTS = st.lists(
    st.one_of(
        _VALUES.map(lambda value: json.dumps(value).encode("utf-8", "surrogatepass")),
        st.binary(max_size=12),
        st.sampled_from([b"NaN", b"[1e400]", b"123456789012345678901234567890", b"{", b"\xff"]),
    ),
    max_size=6,
)


def _refused(text: bytes) -> Any:
    return ("refused", text)


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_loads_each_reads_each_text_as_loads_does(texts: list[bytes]) -> None:
    """Each text on its own: a refused one never spoils (nor merges with) its neighbours."""

    def one(text: bytes) -> Any:
        try:
            return _typed(jsonfast.loads(text))
        except (ValueError, RecursionError):
            return _refused(text)

    found = [
        value if isinstance(value, tuple) and value[:1] == ("refused",) else _typed(value)
        for value in jsonfast.loads_each(texts, _refused)
    ]
    assert found == [one(text) for text in texts]
