"""`get KIND`: the names a config may use, as a table or JSON; `--unmanaged DIR`; and the
closest known names when a config names something the server does not have."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import Cli, write_docs
from tests.cli.tenant import create_tenant
from tests.emulator.helpers import Api


def test_projects_as_a_table(cli: Cli, tmp_path: Path) -> None:
    run = cli("get", "projects", "--config-dir", tmp_path)
    assert run.exit_code == 0, run.output
    assert run.stdout == (
        "NAME       SCOPE\n"
        "inference  department=platform\n"
        "team-a     department=research\n"
        "team-b     department=research\n"
    )


def test_every_lookup_kind_as_json(cli: Cli, tmp_path: Path) -> None:
    rows = {
        what: cli("get", what, "--format", "json", "--config-dir", tmp_path).json()
        for what in ["departments", "clusters", "categories", "priorities", "environments",
                     "computes", "datasources"]
    }  # fmt: skip
    assert {"name": "research", "scope": "cluster=cluster-a"} in rows["departments"]
    assert [r["name"] for r in rows["clusters"]] == ["cluster-a", "cluster-b"]
    assert [r["name"] for r in rows["categories"]] == ["Build", "Deploy", "Train"]
    assert len(rows["priorities"]) == 7
    assert {"name": "vscode", "scope": "project=team-a", "kind": "environment"} in rows[
        "environments"
    ]
    assert {"name": "cpu-only", "scope": "department=research", "kind": "compute"} in rows[
        "computes"
    ]
    assert {"name": "home", "scope": "project=team-a", "kind": "pvc"} in rows["datasources"]


def test_templates_and_unmanaged(cli: Cli, api: Api, tmp_path: Path) -> None:
    create_tenant(api)
    everything = cli("get", "templates", "--format", "json", "--config-dir", tmp_path).json()
    assert len(everything) == 20
    assert {"name": "legacy-tenant", "scope": "tenant", "kind": "asset-template"} in everything
    config = tmp_path / "config"
    write_docs(
        config / "mine.yaml",
        [
            "kind: WorkspaceTemplate\nmetadata: {name: workspaces-tenant, scope: {tenant: true}}\n"
            "spec: {image: python:3.11}"
        ],
    )
    unmanaged = cli("get", "templates", "--unmanaged", config, "--format", "json").json()
    assert len(unmanaged) == 19
    assert {"name": "workspaces-tenant", "scope": "tenant", "kind": "workspace-template"} not in (
        unmanaged
    )
    workloads = cli("get", "workloads", "--config-dir", tmp_path)
    assert workloads.stdout.splitlines() == [
        "NAME  SCOPE           KIND",
        "web   project=team-a  workload",
    ]


def test_assets_not_in_a_config(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "config"
    write_docs(
        config / "mine.yaml",
        [
            "kind: DataSource\nmetadata: {name: home, scope: {project: team-a}}\n"
            "spec: {type: pvc, claimName: team-a-home}"
        ],
    )
    unmanaged = cli("get", "datasources", "--unmanaged", config, "--format", "json").json()
    assert {"name": "datasets", "scope": "department=research", "kind": "datasource"} in unmanaged
    assert "home" not in {row["name"] for row in unmanaged}
    environments = cli("get", "environments", "--unmanaged", config, "--format", "json").json()
    assert {row["name"] for row in environments} == {"jupyter-lab", "pytorch", "vscode"}


def test_node_pools(cli: Cli, tmp_path: Path) -> None:
    run = cli("get", "node-pools", "--config-dir", tmp_path)
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == [
        "NAME     SCOPE",
        "default  cluster=cluster-a",
        "default  cluster=cluster-b",
    ]


def test_unmanaged_lists_managed_kinds_only(cli: Cli, tmp_path: Path) -> None:
    run = cli("get", "categories", "--unmanaged", tmp_path)
    assert run.exit_code == 64 and "--unmanaged lists managed kinds only" in run.stderr


def test_org_units_and_node_pools_not_in_a_config(cli: Cli, tmp_path: Path) -> None:
    every = cli("get", "projects", "--format", "json", "--config-dir", tmp_path).json()
    write_docs(
        tmp_path / "org.yaml",
        ["kind: Project\nmetadata: {name: team-a, scope: {department: research}}\nspec: {}"],
    )
    run = cli("get", "projects", "--unmanaged", tmp_path, "--format", "json")
    assert run.exit_code == 0, run.output
    unmanaged = {(row["name"], row["scope"]) for row in run.json()}
    assert unmanaged == {(r["name"], r["scope"]) for r in every} - {
        ("team-a", "department=research")
    }
    assert {row["kind"] for row in run.json()} == {"project"}
    pools = cli("get", "node-pools", "--unmanaged", tmp_path, "--format", "json")
    assert pools.exit_code == 0 and {r["kind"] for r in pools.json()} == {"node-pool"}
    departments = cli("get", "departments", "--unmanaged", tmp_path, "--format", "json")
    assert departments.exit_code == 0 and ("research", "cluster=cluster-a") in {
        (r["name"], r["scope"]) for r in departments.json()
    }


def test_an_unknown_project_names_the_closest(cli: Cli, tmp_path: Path) -> None:
    write_docs(
        tmp_path / "t.yaml",
        ["kind: WorkspaceTemplate\nmetadata: {name: t, scope: {project: team-c}}\nspec: {}"],
    )
    run = cli("plan", tmp_path)
    assert run.exit_code == 1
    assert "project 'team-c' does not exist on the server (did you mean" in run.stderr
    assert "'team-a'" in run.stderr and "'team-b'" in run.stderr
