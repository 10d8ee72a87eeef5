"""The blast-radius budget over real planned changes."""

from __future__ import annotations

from reconcile.model import Action, Address, Change
from reconcile.safety import check


def changes(action: Action, count: int, kind: str = "workspace-template") -> list[Change]:
    return [
        Change(Address(kind, "project=team-a", f"{action.value}-{i}"), action) for i in range(count)
    ]


def keep(count: int) -> list[Change]:
    """No-op changes: the desired objects that stay as they are."""
    return changes(Action.NOOP, count)


def test_within_budget_has_no_violations() -> None:
    plan = (
        keep(7) + changes(Action.DELETE, 3) + changes(Action.UPDATE, 3) + changes(Action.CREATE, 50)
    )
    assert check(plan, managed_count=10) == ()


def test_deleting_more_than_the_fraction_needs_force() -> None:
    (violation,) = check(keep(6) + changes(Action.DELETE, 4), managed_count=10)
    assert "destroy 4 of 10 managed objects (40%)" in violation
    assert "30% budget" in violation


def test_replaces_count_against_the_delete_budget() -> None:
    plan = keep(6) + changes(Action.DELETE, 2) + changes(Action.REPLACE, 2)
    (violation,) = check(plan, managed_count=10)
    assert "destroy 4 of 10" in violation


def test_updating_more_than_the_fraction_needs_force() -> None:
    (violation,) = check(keep(6) + changes(Action.UPDATE, 4), managed_count=10)
    assert "change 4 of 10 managed objects (40%)" in violation


def test_small_states_are_not_held_to_the_fractions() -> None:
    plan = keep(1) + changes(Action.DELETE, 5) + changes(Action.UPDATE, 3)
    assert check(plan, managed_count=9) == ()
    assert len(check(plan, managed_count=9, min_managed=9)) == 2


def test_fractions_and_minimum_are_settings() -> None:
    plan = keep(5) + changes(Action.DELETE, 5)
    assert check(plan, managed_count=10, max_delete_fraction=0.5) == ()
    assert check(plan, managed_count=10, max_delete_fraction=0.4) != ()


def test_an_empty_desired_set_never_deletes() -> None:
    deletes = changes(Action.DELETE, 2)
    (violation,) = check(deletes, managed_count=2, desired_count=0)
    assert "desired set is empty" in violation and "2 managed objects" in violation
    # Inferred from the plan when the caller does not say: nothing kept, only deletes.
    assert check(deletes, managed_count=2) == (violation,)
    assert check(keep(1) + deletes, managed_count=3) == ()
    assert check([], managed_count=0, desired_count=0) == ()


def test_a_targeted_plan_passes_the_desired_count() -> None:
    assert check(changes(Action.DELETE, 1), managed_count=40, desired_count=39) == ()


def test_deleting_or_replacing_a_workload_always_needs_confirmation() -> None:
    plan = (
        changes(Action.DELETE, 1, kind="workload")
        + changes(Action.REPLACE, 1, kind="workload")
        + changes(Action.UPDATE, 1, kind="workload")
        + keep(1)
    )
    assert check(plan, managed_count=3) == (
        "workload/project=team-a/delete-0 will be deleted: this stops its running work and "
        "needs confirmation",
        "workload/project=team-a/replace-0 will be replaced: this stops its running work and "
        "needs confirmation",
    )


def test_forget_makes_no_call_and_is_not_counted() -> None:
    assert check(keep(1) + changes(Action.FORGET, 9, kind="workload-type"), managed_count=10) == ()


def test_violations_come_in_a_fixed_order() -> None:
    plan = changes(Action.DELETE, 5, kind="workload") + changes(Action.UPDATE, 5)
    first = check(plan, managed_count=10)
    assert first == check(list(plan), managed_count=10)
    assert "destroy 5 of 10" in first[0] and "change 5 of 10" in first[1]
    assert all("will be deleted" in v for v in first[2:]) and len(first) == 7


def test_destroying_a_unit_that_holds_objects_the_plan_keeps_needs_force() -> None:
    project = Change(Address("project", "department=research", "team-a"), Action.DELETE)
    department = Change(Address("department", "cluster=cluster-a", "research"), Action.REPLACE)
    held = keep(7)  # templates in project=team-a
    gone = Change(Address("workspace-template", "project=team-a", "old"), Action.DELETE)
    sibling = Change(Address("project", "department=research", "team-b"), Action.NOOP)
    violations = check([project, department, gone, sibling, *held], managed_count=100)
    assert violations == (
        f"{project.address} will be deleted while it holds "
        + ", ".join(str(c.address) for c in held[:5])
        + " and 2 more: it needs confirmation",
        f"{department.address} will be replaced while it holds {sibling.address}: it needs "
        "confirmation",
    )
    emptied = [project, *(Change(c.address, Action.DELETE) for c in held)]
    assert check(emptied, managed_count=100, desired_count=5) == ()
