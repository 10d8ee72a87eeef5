"""`get KIND`: the names the server holds (and their scopes), the names a config may use.

Read-only. `--unmanaged DIR` lists live objects of managed kinds that no document in DIR
describes.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconcile.cli.app import main
from reconcile.cli.common import connect
from reconcile.cli.options import server_options
from reconcile.config import load_config, load_settings
from reconcile.errors import ExitCode, UsageError
from reconcile.kinds.lookups import Lookups
from reconcile.live import read_live

# `get` kinds backed by managed kinds: their address kinds.
MANAGED = {
    "templates": frozenset(
        {
            "workspace-template",
            "training-template",
            "distributed-template",
            "inference-template",
            "asset-template",
        }
    ),
    "workload-types": frozenset({"workload-type"}),
    "workloads": frozenset({"workload"}),
    "credentials": frozenset({"credential"}),
    "registries": frozenset({"registry"}),
    "access-rules": frozenset({"access-rule"}),
}
NAMED = ("projects", "departments", "clusters", "categories", "priorities", "roles")
NODE_POOLS = "node-pools"  # not a lookup of any kind: listed for `get` alone
# Asset lists: shown from the lookups (with each asset's API kind: pvc, git, ...); with
# `--unmanaged`, as the managed kind whose address kind is given here.
ASSETS = {"environments": "environment", "computes": "compute", "datasources": "datasource"}
# Org lists, shown the same way: with `--unmanaged`, as their managed kinds.
ORG = {"projects": "project", "departments": "department", NODE_POOLS: "node-pool"}
Row = dict[str, str]


@main.command("get")
@click.argument("what", type=click.Choice(sorted([*MANAGED, *NAMED, *ASSETS, NODE_POOLS])))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--unmanaged",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Only live objects no document in this config directory describes.",
)
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The config directory whose settings name the server.",
)
@server_options
def get_command(
    *,
    what: str,
    fmt: str,
    unmanaged: Path | None,
    config_dir: Path,
    ca_bundle: str | None,
    insecure: bool,
) -> int:
    """List WHAT the server holds: names, and scopes where they have one."""
    managed = dict(MANAGED)
    if unmanaged is not None:
        managed.update({name: frozenset({slug}) for name, slug in {**ASSETS, **ORG}.items()})
    if unmanaged is not None and what not in managed:
        raise UsageError(f"--unmanaged lists managed kinds only ({', '.join(sorted(managed))})")
    described = set(load_config(unmanaged).resources) if unmanaged is not None else set()
    settings = load_settings(unmanaged or config_dir)
    with connect(settings, ca_bundle=ca_bundle, insecure=insecure) as server:
        live = read_live(
            server.client,
            slugs=managed.get(what, frozenset()),
            interesting=(),
            lookups=_lookups_for(what),
        )
        pools = (
            server.client.list_all("/api/v1/node-pools", items_key="nodepools", page_size=None)
            if what == NODE_POOLS and what not in managed
            else []
        )
    if what in managed:
        addresses = set(live.resources) | set(live.unread)
        rows = [
            {"name": a.name, "scope": a.scope, "kind": a.kind}
            for a in sorted(addresses - described)
        ]
    elif what == NODE_POOLS:
        rows = [{"name": str(p["name"]), "scope": f"cluster={p['clusterName']}"} for p in pools]
        rows.sort(key=lambda r: (r["name"], r["scope"]))
    else:
        rows = lookup_rows(what, live.lookups)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
    else:
        click.echo(table(rows), nl=False)
    return ExitCode.OK


def lookup_rows(what: str, lookups: Lookups) -> list[Row]:
    """Name and scope of each project, department, cluster, category, priority, role or
    asset."""
    rows: list[Row]
    if what == "projects":
        rows = [
            {"name": p.name, "scope": f"department={lookups.name_of('department', p.parent_id)}"}
            for p in lookups.projects
        ]
    elif what == "departments":
        rows = [
            {"name": d.name, "scope": f"cluster={lookups.name_of('cluster', d.cluster_id)}"}
            for d in lookups.departments
        ]
    elif what in NAMED:
        rows = [{"name": n.name, "scope": ""} for n in getattr(lookups, what)]
    else:
        rows = [
            {"name": a.name, "scope": lookups.scope_text(a.scope_type, a.scope_id), "kind": a.kind}
            for a in lookups.assets
            if _asset_list(a.kind) == what
        ]
    return sorted(rows, key=lambda r: (r["name"], r["scope"], r.get("kind", "")))


def _lookups_for(what: str) -> frozenset[str]:
    """The lookup lists `get WHAT` reads: the list itself and those its scope column names
    (org units); managed kinds read what they need; categories, priorities and roles have no
    scope."""
    if what in MANAGED or what == NODE_POOLS:
        return frozenset()
    if what in ("categories", "priorities", "roles"):
        return frozenset({what})
    return frozenset({what, "projects", "departments", "clusters"})


def _asset_list(kind: str) -> str:
    """The `get` list an asset kind belongs to: data sources are every other kind."""
    return {"environment": "environments", "compute": "computes"}.get(kind, "datasources")


def table(rows: list[Row]) -> str:
    """Aligned columns NAME, SCOPE (and KIND where rows have one); empty cells as `-`."""
    columns = ["name", "scope", *(["kind"] if any("kind" in r for r in rows) else [])]
    cells = [[c.upper() for c in columns]] + [[r.get(c) or "-" for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"
