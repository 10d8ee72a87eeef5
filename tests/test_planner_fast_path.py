"""The planner's no-change fast path (`_unchanged` then `_settled`) is the plain path
(`_desired` and `_drift`) for every case it takes: the same change, no drift. Specs with
secrets included: their hashes are compared, never revealed."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile import planner
from reconcile.kinds.lookups import Lookups
from reconcile.model import Address, EntryStatus, LiveResource, Resource, State, StateEntry
from reconcile.planner import PlanOptions
from reconcile.sensitive import redact

ADDRESS = Address("workspace-template", "project=a", "t")
SALT = "lineage-1"
NAMES = ("HF_TOKEN", "NCCL_DEBUG", "HF_HOME", "DB")

values = st.one_of(st.text(max_size=4), st.integers(-2, 2), st.booleans(), st.just(1.0))
variables = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(NAMES), "value": values}),
    max_size=4,
    unique_by=lambda v: v["name"],
)
specs = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries({"description": st.text(max_size=3)}),
        "spec": st.fixed_dictionaries(
            {
                "image": st.sampled_from(["a", "b"]),
                "environmentVariables": variables,
                # A null (compared by marshal's bytes, in key order) or a number's type.
                "args": st.sampled_from([None, 1, 1.0, True]),
            }
        ),
    }
)
sensitive = st.frozensets(
    st.sampled_from(
        [
            *(f"spec.environmentVariables[name={n}].value" for n in NAMES),
            "spec.environmentVariables[*].value",
            "metadata.description",
            "spec.image",
        ]
    ),
    max_size=3,
)
# How the other two specs relate to desired: the same, or another drawn spec.
stored_as = st.sampled_from(["redacted", "plain", "other"])


def _reordered(value: Any) -> Any:
    """`value` with the keys of every mapping in reverse order (no diff sees key order)."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(value)}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _plain(resource: Resource, current: LiveResource, entry: StateEntry) -> tuple[Any, Any]:
    problems: list[Any] = []
    state = State(SALT, entries={ADDRESS: entry})
    change = planner._desired(resource, current, entry, Lookups(), PlanOptions(), problems, state)
    assert problems == []
    return change, planner._drift(entry, current, resource, salt=SALT)


@settings(max_examples=120, deadline=None)
@given(
    desired=specs,
    other=specs,
    paths=sensitive,
    live_same=st.booleans(),
    stored=stored_as,
    status=st.sampled_from(list(EntryStatus)),
    same_id=st.booleans(),
    reorder=st.booleans(),
)
def test_the_fast_path_is_the_plain_path(
    desired: dict[str, Any],
    other: dict[str, Any],
    paths: frozenset[str],
    live_same: bool,
    stored: str,
    status: EntryStatus,
    same_id: bool,
    reorder: bool,
) -> None:
    resource = Resource(ADDRESS, desired, sensitive=paths)
    seen = copy.deepcopy(desired if live_same else other)
    current = LiveResource(ADDRESS, _reordered(seen) if reorder else seen, remote_id="id-1")
    last_applied = {
        "redacted": redact(copy.deepcopy(desired), tuple(sorted(paths)), SALT),
        "plain": copy.deepcopy(desired),
        "other": redact(copy.deepcopy(other), tuple(sorted(paths)), SALT),
    }[stored]
    last_applied = _reordered(last_applied) if reorder else last_applied
    entry = StateEntry(ADDRESS, "id-1" if same_id else "id-0", last_applied, status)
    if not planner._unchanged(resource, current, entry, SALT):
        return  # the plain path only
    change, drift = _plain(resource, current, entry)
    assert planner._settled(resource, current, entry, SALT) == change
    assert drift is None


def test_an_unchanged_object_with_a_secret_takes_the_fast_path() -> None:
    spec = {"spec": {"environmentVariables": [{"name": "HF_TOKEN", "value": "hf_x"}]}}
    paths = frozenset({"spec.environmentVariables[name=HF_TOKEN].value"})
    stored = redact(spec, tuple(paths), SALT)
    assert stored != spec  # state holds the hash, not the value
    entry = StateEntry(ADDRESS, "id-1", stored)
    current = LiveResource(ADDRESS, copy.deepcopy(spec), remote_id="id-1")
    resource = Resource(ADDRESS, spec, sensitive=paths)
    assert planner._unchanged(resource, current, entry, SALT)
    change = planner._settled(resource, current, entry, SALT)
    assert (change.is_step, change.records_state) == (False, False)
    rotated = LiveResource(
        ADDRESS, {"spec": {"environmentVariables": [{"name": "HF_TOKEN"}]}}, remote_id="id-1"
    )
    assert not planner._unchanged(resource, rotated, entry, SALT)
