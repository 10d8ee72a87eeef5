"""Projects may not be promised more deserved quota than their department has."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.model import Address, Spec
from reconcile.quotas import over_quota

DEPARTMENT = Address("department", "cluster=cluster-a", "research")


def _unit(**pools: Any) -> Spec:
    return {"spec": {"resources": pools}}


def _project(name: str, **pools: Any) -> tuple[Address, Spec]:
    return Address("project", "department=research", name), _unit(**pools)


def test_each_pool_and_resource_is_compared_on_its_own() -> None:
    units = dict(
        [
            (
                DEPARTMENT,
                _unit(default={"gpu": {"deserved": 4}, "memory": {"deserved": 1, "units": "GB"}}),
            ),
            _project(
                "a", default={"gpu": {"deserved": 3}, "memory": {"deserved": 500, "units": "MB"}}
            ),
            _project("b", default={"gpu": {"deserved": 2}}, a100={"gpu": {"deserved": 99}}),
            _project("c", default={"memory": {"deserved": 600, "units": "MB"}}),
        ]
    )
    assert over_quota(units) == [
        "department research: its projects' deserved gpu in node pool default adds up to 5 "
        "(a 3, b 2), over the department's 4",
        "department research: its projects' deserved memory in node pool default adds up to "
        "1049.04 (a 476.837, c 572.205), over the department's 953.674",
    ]


def test_unset_and_unlimited_department_quotas_bound_nothing() -> None:
    units = dict(
        [
            (DEPARTMENT, _unit(default={"gpu": {"deserved": -1}, "cpu": {"deserved": None}})),
            _project("a", default={"gpu": {"deserved": 3}, "cpu": {"deserved": 9000}}),
        ]
    )
    assert over_quota(units) == []


@settings(max_examples=50, deadline=None)
@given(
    allowed=st.integers(min_value=0, max_value=64),
    shares=st.lists(st.integers(min_value=0, max_value=32), max_size=5),
)
def test_refused_exactly_when_the_projects_add_up_to_more(allowed: int, shares: list[int]) -> None:
    units: dict[Address, Spec] = {DEPARTMENT: _unit(default={"gpu": {"deserved": allowed}})}
    units.update(
        _project(f"p{i}", default={"gpu": {"deserved": share}}) for i, share in enumerate(shares)
    )
    assert bool(over_quota(units)) == (sum(shares) > allowed)
