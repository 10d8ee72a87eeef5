"""Which objects name an asset a plan destroys (reconcile/asset_use.py), and the safety
violation that follows, on changes built directly."""

from __future__ import annotations

from reconcile import asset_use, safety
from reconcile.kinds.lookups import Lookups, Named
from reconcile.model import Action, Address, Change, Spec

LOOKUPS = Lookups(
    projects=(
        Named("42", "team-a", cluster_id="c-1", parent_id="2"),
        Named("43", "team-b", cluster_id="c-1", parent_id="3"),
    ),
    departments=(Named("2", "research", cluster_id="c-1"), Named("3", "platform", "c-1")),
    clusters=(Named("c-1", "cluster-a"),),
)
ENV = Address("environment", "department=research", "lab")


def _template(scope: str, name: str, environment: str = "lab") -> tuple[Address, Spec]:
    spec: Spec = {"spec": {"assets": {"environment": environment, "compute": "one-gpu"}}}
    return Address("asset-template", scope, name), spec


def test_templates_that_see_the_asset_by_its_name_use_it() -> None:
    holders = dict(
        [
            _template("project=team-a", "below"),  # under research: sees it
            _template("department=research", "same"),  # its own scope
            _template("project=team-b", "elsewhere"),  # under platform: another `lab`
            _template("tenant", "above"),  # above it: cannot see it
            _template("project=team-a", "other", environment="jupyter"),
        ]
    )
    found = asset_use.users([Change(ENV, Action.DELETE)], holders, LOOKUPS)
    assert found == {
        ENV: [
            Address("asset-template", "department=research", "same"),
            Address("asset-template", "project=team-a", "below"),
        ]
    }
    assert asset_use.users([Change(ENV, Action.UPDATE)], holders, LOOKUPS) == {}


def test_destroying_a_used_asset_needs_confirmation() -> None:
    changes = [Change(ENV, Action.REPLACE)]
    users = {ENV: [Address("asset-template", "project=team-a", "below")]}
    assert safety.check(changes, managed_count=1, users=users) == (
        "environment/department=research/lab will be replaced while "
        "asset-template/project=team-a/below uses it: it needs confirmation",
    )
    assert safety.check(changes, managed_count=1, users={}) == ()
