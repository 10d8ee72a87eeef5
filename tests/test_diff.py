"""The owned-field diff: what counts as a change, what the server may add, how lists match."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconcile import diff as diff_module
from reconcile.diff import canonical, diff_owned, digest, drift, identical
from reconcile.model import FieldChange, FieldChangeKind

ADD, CHANGE, CLEAR = FieldChangeKind.ADD, FieldChangeKind.CHANGE, FieldChangeKind.CLEAR


def template() -> dict[str, Any]:
    """A workspace template in the normalized shape, as config produces it."""
    return {
        "metadata": {"description": "Small Jupyter workspace"},
        "spec": {
            "image": "jupyter/scipy-notebook",
            "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 0.5},
            "storage": {
                "pvc": [
                    {"name": "home", "path": "/home/jovyan", "claimName": "home-claim"},
                    {"name": "data", "path": "/data", "claimName": "data-claim"},
                ]
            },
            "args": ["--port", "8888"],
        },
    }


def as_server_returns(spec: dict[str, Any]) -> dict[str, Any]:
    """What the server hands back: our fields plus ids, timestamps, defaults, extra items."""
    live = copy.deepcopy(spec)
    live["metadata"].update({"createdAt": "2026-01-01T00:00:00Z", "updatedBy": "ci"})
    live["spec"]["compute"].update({"gpuPortion": None, "largeShmRequest": False})
    live["spec"]["storage"]["pvc"].reverse()  # the server's order is not ours
    live["spec"]["storage"]["pvc"].append({"name": "scratch", "path": "/scratch"})
    for item in live["spec"]["storage"]["pvc"]:
        item["id"] = f"id-{item['name']}"
    live.update({"id": "0b6f", "runnable": True, "combinedSpec": {"image": "x"}})
    return live


def paths(changes: tuple[FieldChange, ...]) -> list[tuple[str, FieldChangeKind]]:
    return [(c.path, c.kind) for c in changes]


def test_server_owned_fields_defaults_and_order_never_cause_a_diff() -> None:
    desired = template()
    assert diff_owned(desired, as_server_returns(desired), desired) == ()
    assert diff_owned(desired, as_server_returns(desired), None) == ()


def test_equal_objects_take_the_fast_path_without_deepdiff(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("deepdiff ran on equal objects")

    monkeypatch.setattr(diff_module, "DeepDiff", refuse)
    desired = template()
    live = as_server_returns(desired)
    assert all(diff_owned(desired, live, desired) == () for _ in range(100))


def test_a_changed_value_reports_before_and_after() -> None:
    desired, live = template(), as_server_returns(template())
    desired["spec"]["image"] = "jupyter/base-notebook"
    assert diff_owned(desired, live, template()) == (
        FieldChange("spec.image", CHANGE, "jupyter/scipy-notebook", "jupyter/base-notebook"),
    )


def test_a_new_sub_object_is_one_add_at_its_root() -> None:
    desired, live = template(), as_server_returns(template())
    desired["spec"]["nodeAffinity"] = {"required": {"terms": [{"key": "gpu", "op": "Exists"}]}}
    desired["metadata"]["labels"] = {"team": "a"}
    assert paths(diff_owned(desired, live, template())) == [
        ("metadata.labels", ADD),
        ("spec.nodeAffinity", ADD),
    ]
    added = diff_owned(desired, live, template())[1]
    assert added.before is None and added.after == desired["spec"]["nodeAffinity"]


def test_a_field_missing_or_null_on_the_server_is_an_add() -> None:
    desired, live = template(), as_server_returns(template())
    del live["spec"]["image"]
    live["spec"]["compute"]["cpuCoreRequest"] = None
    assert paths(diff_owned(desired, live, desired)) == [
        ("spec.compute.cpuCoreRequest", ADD),
        ("spec.image", ADD),
    ]


def test_a_field_dropped_from_desired_but_last_applied_is_cleared() -> None:
    last, live = template(), as_server_returns(template())
    desired = template()
    del desired["spec"]["args"]
    del desired["spec"]["compute"]["cpuCoreRequest"]
    assert diff_owned(desired, live, last) == (
        FieldChange("spec.args", CLEAR, ["--port", "8888"], None),
        FieldChange("spec.compute.cpuCoreRequest", CLEAR, 0.5, None),
    )


def test_a_dropped_field_already_gone_from_the_server_needs_no_clear() -> None:
    last, desired = template(), template()
    del desired["spec"]["args"]
    live = as_server_returns(desired)
    assert diff_owned(desired, live, last) == ()


def test_a_field_we_never_sent_is_not_cleared() -> None:
    desired = template()
    live = as_server_returns(desired)
    live["spec"]["nodePools"] = ["a100"]  # set by someone else, never in desired or state
    assert diff_owned(desired, live, desired) == ()


def test_named_list_items_are_matched_by_name() -> None:
    last, live = template(), as_server_returns(template())
    desired = template()
    home, _data = desired["spec"]["storage"]["pvc"]
    home["path"] = "/home/user"
    desired["spec"]["storage"]["pvc"] = [{"name": "models", "path": "/models"}, home]
    assert diff_owned(desired, live, last) == (
        FieldChange("spec.storage.pvc[name=data]", CLEAR, live["spec"]["storage"]["pvc"][0], None),
        FieldChange("spec.storage.pvc[name=home].path", CHANGE, "/home/jovyan", "/home/user"),
        FieldChange(
            "spec.storage.pvc[name=models]", ADD, None, {"name": "models", "path": "/models"}
        ),
    )


def test_lists_without_names_compare_as_whole_values() -> None:
    desired, live = template(), as_server_returns(template())
    desired["spec"]["args"] = ["8888", "--port"]
    assert diff_owned(desired, live, template()) == (
        FieldChange("spec.args", CHANGE, ["--port", "8888"], ["8888", "--port"]),
    )


def test_duplicate_names_make_a_list_a_whole_value() -> None:
    desired = {"spec": {"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}}
    live = {"spec": {"env": [{"name": "A", "value": "2"}, {"name": "A", "value": "1"}]}}
    assert paths(diff_owned(desired, live, None)) == [("spec.env", CHANGE)]


def test_list_keys_choose_the_naming_field_or_force_whole_values() -> None:
    desired = {
        "spec": {"pvc": [{"claimName": "a", "path": "/a"}, {"claimName": "b", "path": "/b"}]}
    }
    live = {"spec": {"pvc": [{"claimName": "b", "path": "/b"}, {"claimName": "a", "path": "/x"}]}}
    by_claim = diff_owned(desired, live, None, list_keys={"spec.pvc": "claimName"})
    assert paths(by_claim) == [("spec.pvc[claimName=a].path", CHANGE)]
    named = {"spec": {"env": [{"name": "A"}, {"name": "B"}]}}
    reordered = {"spec": {"env": [{"name": "B"}, {"name": "A"}]}}
    assert diff_owned(named, reordered, None) == ()
    assert paths(diff_owned(named, reordered, None, list_keys={"spec.env": None})) == [
        ("spec.env", CHANGE)
    ]


def test_numbers_compare_as_json_numbers_but_booleans_are_not_numbers() -> None:
    desired = {"spec": {"gpu": 1, "ports": [1, 2], "flag": True}}
    assert (
        diff_owned(desired, {"spec": {"gpu": 1.0, "ports": [1.0, 2.0], "flag": True}}, None) == ()
    )
    assert diff_owned(desired, {"spec": {"gpu": 1, "ports": [1, 2], "flag": 1}}, None) == (
        FieldChange("spec.flag", CHANGE, 1, True),
    )


def test_a_type_change_is_reported_at_its_own_path() -> None:
    desired = {"spec": {"compute": {"gpu": 1}, "args": ["a"]}}
    live = {"spec": {"compute": "1 gpu", "args": "a"}}
    assert diff_owned(desired, live, None) == (
        FieldChange("spec.args", CHANGE, "a", ["a"]),
        FieldChange("spec.compute", CHANGE, "1 gpu", {"gpu": 1}),
    )


def test_null_in_desired_means_absent() -> None:
    desired = {"spec": {"image": "x", "command": None}}
    assert diff_owned(desired, {"spec": {"image": "x"}}, None) == ()
    assert diff_owned(desired, {"spec": {"image": "x", "command": "run"}}, None) == ()
    last = {"spec": {"image": "x", "command": "run"}}
    assert paths(diff_owned(desired, {"spec": {"image": "x", "command": "run"}}, last)) == [
        ("spec.command", CLEAR)
    ]


def test_no_live_object_adds_each_top_level_section() -> None:
    desired = template()
    assert diff_owned(desired, None, None) == (
        FieldChange("metadata", ADD, None, desired["metadata"]),
        FieldChange("spec", ADD, None, desired["spec"]),
    )


def test_keys_that_are_not_plain_words_are_quoted_in_paths() -> None:
    desired = {"spec": {"manifest": {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}}}
    live = {"spec": {"manifest": {"metadata": {"labels": {"app.kubernetes.io/name": "api"}}}}}
    assert paths(diff_owned(desired, live, None)) == [
        ('spec.manifest.metadata.labels["app.kubernetes.io/name"]', CHANGE)
    ]


@pytest.mark.parametrize(
    ("pattern", "flagged"),
    [
        ("spec.env[name=TOKEN].value", True),  # the exact path
        ("spec.env[*].value", True),  # any item
        ("spec.env", True),  # the change lies under it
        ("spec.env[name=TOKEN].value.part", True),  # the change's value holds it
        ("spec.env[name=MODE].value", False),
        ("spec.environment", False),  # a prefix of the text, not of the path
    ],
)
def test_sensitive_paths_flag_changes_that_touch_them(pattern: str, flagged: bool) -> None:
    desired = {"spec": {"env": [{"name": "TOKEN", "value": "new-secret"}]}}
    live = {"spec": {"env": [{"name": "TOKEN", "value": "old-secret"}]}}
    (change,) = diff_owned(desired, live, None, sensitive=frozenset({pattern}))
    assert change.path == "spec.env[name=TOKEN].value"
    assert change.sensitive is flagged


def test_drift_reports_edits_and_removals_on_applied_paths_only() -> None:
    last = template()
    live = as_server_returns(last)
    assert drift(last, live) == ()
    live["spec"]["image"] = "evil:latest"
    del live["spec"]["args"]
    live["spec"]["nodePools"] = ["added-by-hand"]  # never applied by us: not drift
    assert drift(last, live) == (
        FieldChange("spec.args", CLEAR, ["--port", "8888"], None),
        FieldChange("spec.image", CHANGE, "jupyter/scipy-notebook", "evil:latest"),
    )


def test_drift_flags_sensitive_paths() -> None:
    last = {"spec": {"env": [{"name": "TOKEN", "value": "a"}]}}
    live = {"spec": {"env": [{"name": "TOKEN", "value": "b"}]}}
    (change,) = drift(last, live, sensitive={"spec.env[*].value"})
    assert change.sensitive and change.before == "a" and change.after == "b"


def test_canonical_and_digest_ignore_key_order_only() -> None:
    a = {"b": [1, {"y": 2, "x": 1}], "a": "é"}
    b = {"a": "é", "b": [1, {"x": 1, "y": 2}]}
    assert canonical(a) == canonical(b) == '{"a":"é","b":[1,{"x":1,"y":2}]}'
    assert digest(a) == digest(b)
    assert len(digest(a)) == 64
    assert digest({"b": [{"x": 1, "y": 2}, 1], "a": "é"}) != digest(a)


# JSON values with what the C writer spells otherwise or refuses: every float (NaN,
# infinities, exponents), integers beyond 64 bits, control characters and lone surrogates,
# tuples, and keys that are not strings.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(['\x00\x1f\x7f\u2028\b\f\n\r\t"\\/', "\ud800", "1e5", "null"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
        | st.dictionaries(st.integers(-3, 3), inner, max_size=2)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=_values)
@example(value=[1e-07, 1e16, 2.5e-5, 1.5e-6, 1e22, 1.23e20])
@example(value={"a": [1e-5, 0.00012, -3e-5]})  # no exponent in orjson's text
@example(value={"a": float("nan"), "b": [float("inf"), -float("inf")]})
@example(value={"a": 2**64, "b": -(2**63) - 1})
def test_canonical_is_the_standard_encoders_text(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == expected


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ({"a": 1, "b": [True, None, "é", 0.5]}, True),
        ({"a": 1.0, "b": [True, None, "é", 0.5]}, False),  # 1 == 1.0 in Python
        ({"a": True, "b": [True, None, "é", 0.5]}, False),  # True == 1 in Python
        ({"a": 1, "b": [1, None, "é", 0.5]}, False),
        # Another key order: with a null in it, compared in order (marshal's bytes).
        ({"b": [True, None, "é", 0.5], "a": 1}, False),
        ({"a": 1, "b": (True, None, "é", 0.5)}, False),  # not JSON: a tuple
        ({"a": 1, "b": [True, None, "é", 0.5], "c": None}, False),
    ],
)
def test_identical_means_the_same_json_with_the_same_types(
    other: dict[str, Any], same: bool
) -> None:
    value = {"a": 1, "b": [True, None, "é", 0.5]}
    assert identical(value, copy.deepcopy(value))
    assert identical(value, copy.deepcopy(value), other) is same
    assert identical(value, other, copy.deepcopy(value)) is same


def test_identical_refuses_what_is_not_plain_json() -> None:
    class Text(str):
        pass

    assert not identical({"a": Text("x")}, {"a": "x"})
    assert not identical({"a": "x"}, {"a": Text("x")})
    assert not identical({"a": None, "b": Text("x")}, {"a": None, "b": "x"})
    assert identical({"a": "x"})  # nothing to compare with


# JSON as `json.loads` makes it: string keys, lists, every float and integer.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=20,
)


def _typed(value: Any) -> Any:
    """`value` with every scalar tagged by its type and keys in order: equal exactly when the
    two are the very same JSON, key order aside."""
    if isinstance(value, dict):
        return ("dict", sorted((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def _variant(value: Any, rnd: Any) -> Any:
    """A copy of `value`, keys reordered, some scalars turned into equal ones of another type
    (1 and 1.0 and True)."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _variant(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_variant(v, rnd) for v in value]
    if rnd.random() < 0.2:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int) and abs(value) < 2**53:
            return float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def _has_no_null(value: Any) -> bool:
    """True when no part of `value` is written as null (None, NaN, the infinities) and every
    integer fits 64 bits: the values `identical` compares by text."""
    if isinstance(value, dict):
        return all(_has_no_null(v) for v in value.values())
    if isinstance(value, list):
        return all(_has_no_null(v) for v in value)
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**64
    return value is not None


@settings(max_examples=300, deadline=None)
@given(value=_json, other=_json, rnd=st.randoms(use_true_random=False))
def test_identical_is_the_same_typed_json_in_any_key_order(
    value: Any, other: Any, rnd: Any
) -> None:
    for candidate in (_variant(value, rnd), other):
        same = _typed(value) == _typed(candidate)
        if identical(value, candidate):
            assert same  # never where a type, a value or a key differs
        elif _has_no_null(value):
            assert not same  # key order alone never makes two values differ
