"""Which objects use an asset a plan destroys: their specs name it (`Kind.references`), from a
scope that sees it (the asset's own scope or one below it).

The one rule behind the safety budget's "deleted while a template uses it" (`safety.py`); pure,
no I/O. Objects count as the run knows them: desired ones as desired, and live ones the plan
does not manage, for the kinds the run reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconcile.errors import PlanError
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.registry import BY_SLUG
from reconcile.model import Action, Address, Change, Spec

_DESTROYING = (Action.DELETE, Action.REPLACE)
# The kinds whose objects other documents name by name: the assets.
ASSET_KINDS = frozenset(slug for slug, kind in BY_SLUG.items() if kind.names_lookup == "asset")


def users(
    changes: Sequence[Change], holders: Mapping[Address, Spec], lookups: Lookups
) -> dict[Address, list[Address]]:
    """Per destroyed asset of `changes`, the addresses of `holders` (objects that stay, with
    their specs) that name it, sorted; assets nothing uses are left out."""
    destroyed = [
        c.address for c in changes if c.action in _DESTROYING and c.address.kind in ASSET_KINDS
    ]
    if not destroyed:
        return {}
    naming: dict[tuple[str, str], list[Address]] = {}
    for address, spec in holders.items():
        for ref in BY_SLUG[address.kind].references(spec):
            naming.setdefault(ref, []).append(address)
    found: dict[Address, list[Address]] = {}
    for asset in destroyed:
        using = [
            holder
            for holder in naming.get((asset.kind, asset.name), [])
            if holder != asset and _sees(lookups, holder.scope, asset.scope)
        ]
        if using:
            found[asset] = sorted(using, key=str)
    return found


def _sees(lookups: Lookups, user: str, asset: str) -> bool:
    """Whether an object at scope `user` can use an asset at scope `asset` (the same scope
    or one above it); by the scope's text alone when the org tree does not tell."""
    try:
        return lookups.sees(user, asset)
    except PlanError:
        return user == asset
