"""Planner rules that the server cannot be made to show through the API (the CLI tests in
tests/cli/ cover the rest end to end)."""

from __future__ import annotations

import pytest

from reconcile.errors import PlanError
from reconcile.kinds.lookups import Lookups
from reconcile.live import LiveView
from reconcile.model import Address, LiveResource, Resource, State
from reconcile.planner import BindingSource, make_plan

ADDRESS = Address("workspace-template", "tenant", "jupyter")
SPEC = {"spec": {"image": "jupyter/base-notebook"}}


def test_an_address_held_by_two_live_objects_is_refused() -> None:
    """The emulator answers 409 to a duplicate, but a real server or an id the lookups
    cannot resolve could still show two objects at one address: never pick one blindly."""
    live = LiveView(
        resources={ADDRESS: LiveResource(ADDRESS, SPEC, remote_id="a")},
        lookups=Lookups(),
        duplicates=(ADDRESS,),
    )
    with pytest.raises(PlanError, match="more than one object on the server"):
        make_plan(
            {ADDRESS: Resource(ADDRESS, SPEC)},
            live,
            State(lineage="l"),
            source=BindingSource("http://127.0.0.1"),
        )
