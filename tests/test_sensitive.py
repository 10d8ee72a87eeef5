"""Salted hashes of sensitive values: what state stores, and how the planner reads it back."""

from __future__ import annotations

import hashlib
import json

import pytest

from reconcile.sensitive import (
    MARKER,
    as_applied,
    is_marker,
    marker_paths,
    reaches,
    redact,
    reveal,
    salted_hash,
)

SPEC = {
    "spec": {
        "args": "--token=s3cret",
        "environmentVariables": [
            {"name": "API_KEY", "value": "s3cret"},
            {"name": "MODE", "value": "batch"},
        ],
        "image": "python:3.11",
    }
}
PATHS = ("spec.args", "spec.environmentVariables[*].value")


def test_redact_hashes_only_the_sensitive_values() -> None:
    stored = redact(SPEC, PATHS, "salt")
    assert "s3cret" not in str(stored)
    assert stored["spec"]["image"] == "python:3.11"
    assert stored["spec"]["args"] == {MARKER: salted_hash("salt", "--token=s3cret")}
    assert all(is_marker(e["value"]) for e in stored["spec"]["environmentVariables"])
    assert redact(SPEC, (), "salt") is SPEC


def test_the_salt_changes_the_hash() -> None:
    assert salted_hash("a", "x") != salted_hash("b", "x")
    assert salted_hash("a", "x") == salted_hash("a", "x")


def test_reveal_with_verify_takes_only_matching_values() -> None:
    stored = redact(SPEC, PATHS, "salt")
    assert reveal(stored, SPEC, "salt", verify=True) == SPEC
    rotated = {"spec": {**SPEC["spec"], "args": "--token=other"}}
    back = reveal(stored, rotated, "salt", verify=True)
    assert is_marker(back["spec"]["args"])  # a changed secret stays a marker: drift
    assert back["spec"]["environmentVariables"] == SPEC["spec"]["environmentVariables"]


def test_reveal_without_verify_takes_any_present_value_and_pairs_items_by_name() -> None:
    stored = redact(SPEC, PATHS, "salt")
    reordered = {
        "spec": {
            "args": "--token=other",
            "environmentVariables": [{"name": "MODE", "value": "x"}],
        }
    }
    back = reveal(stored, reordered, "salt", verify=False)
    assert back["spec"]["args"] == "--token=other"
    env = {e["name"]: e["value"] for e in back["spec"]["environmentVariables"]}
    assert env["MODE"] == "x" and is_marker(env["API_KEY"])  # gone from desired: a clear


def test_marker_paths_name_where_state_holds_secrets() -> None:
    stored = redact(SPEC, PATHS, "salt")
    assert marker_paths(stored) == (
        "spec.args",
        "spec.environmentVariables[name=API_KEY].value",
        "spec.environmentVariables[name=MODE].value",
    )
    assert marker_paths(SPEC) == ()


@pytest.mark.parametrize(
    ("paths", "reached"),
    [
        ((), False),
        (("spec.args",), True),
        (("spec.command",), False),  # not set: nothing to hash
        (("spec.environmentVariables[*].value",), True),
        (("spec.environmentVariables[name=API_KEY].value",), True),
        (("spec.environmentVariables[name=OTHER].value",), False),
        (("spec.environmentVariables[*].secret",), False),
        (("*.image",), True),
        (("spec.image.tag",), False),  # a scalar has no parts
        (("spec.nothing", "spec.args"), True),
    ],
)
def test_reaches_says_whether_redact_hashes_anything(paths: tuple[str, ...], reached: bool) -> None:
    assert reaches(SPEC, paths) is reached
    assert reaches(SPEC, list(paths)) is reached
    stored = redact(SPEC, paths, "salt")
    assert (stored != SPEC) is reached
    if not reached:
        assert stored is SPEC  # nothing copied: comparing with it stays cheap


def test_a_null_at_a_sensitive_path_is_still_hashed() -> None:
    spec = {"spec": {"args": None}}
    assert reaches(spec, ("spec.args",))
    assert is_marker(redact(spec, ("spec.args",), "salt")["spec"]["args"])


def test_the_stored_hash_is_scrypt_so_a_guess_costs_what_it_costs_us() -> None:
    value = "hunter2"
    expected = hashlib.scrypt(
        json.dumps(value).encode(), salt=b"lineage", n=2**14, r=8, p=1, dklen=32
    ).hex()
    assert salted_hash("lineage", value) == expected
    assert salted_hash("lineage", value) != hashlib.sha256(b'lineage\n"hunter2"').hexdigest()


def test_hashes_older_states_hold_still_match() -> None:
    legacy = hashlib.sha256(b'lineage\n"hunter2"').hexdigest()
    stored = {"spec": {"password": {MARKER: legacy}}}
    candidate = {"spec": {"password": "hunter2"}}
    assert reveal(stored, candidate, "lineage", verify=True) == candidate
    wrong = {"spec": {"password": "hunter3"}}
    assert reveal(stored, wrong, "lineage", verify=True) == stored


WRITE_ONLY = ("spec.password",)
LIVE = {"spec": {"type": "password", "user": "reader"}}


def test_a_write_only_secret_is_what_state_applied_when_it_hashes_the_same() -> None:
    desired = {"spec": {"password": "hunter2", "type": "password", "user": "reader"}}
    stored = redact(desired, WRITE_ONLY, "salt")
    assert as_applied(LIVE, WRITE_ONLY, stored, desired, "salt") == desired


def test_a_rotated_write_only_secret_is_the_stored_marker() -> None:
    stored = redact({"spec": {"password": "old"}}, WRITE_ONLY, "salt")
    desired = {"spec": {"password": "new", "type": "password", "user": "reader"}}
    applied = as_applied(LIVE, WRITE_ONLY, stored, desired, "salt")
    assert applied == {"spec": {**LIVE["spec"], "password": stored["spec"]["password"]}}
    assert list(applied["spec"]) == sorted(applied["spec"])  # as a normalized spec


def test_a_write_only_secret_state_never_hashed_is_taken_as_desired() -> None:
    desired = {"spec": {"password": "hunter2", "type": "password", "user": "reader"}}
    assert as_applied(LIVE, WRITE_ONLY, {}, desired, "salt") == desired
    assert as_applied(LIVE, WRITE_ONLY, {}, None, "salt") == LIVE
