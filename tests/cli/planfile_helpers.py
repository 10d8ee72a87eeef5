"""A small config directory with a saved plan that creates, updates, deletes and leaves one
object alone; and probes of what a run wrote (server writes from the request log, state bytes,
a normalized view of both to compare two runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cli.helpers import Cli, put_on_server, state_path, write_docs
from tests.emulator.helpers import Api

WORKSPACES = "/api/v1/workload-templates/workspaces"
SETTINGS = "state: state/default.json\n"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def template(name: str, cpu: int = 1, image: str = "python:3.11") -> str:
    return f"""
kind: WorkspaceTemplate
metadata: {{name: {name}, scope: {{project: team-a}}}}
spec:
  image: "{image}"
  compute: {{cpuCoreRequest: {cpu}}}
  environmentVariables:
    - {{name: MODE, value: !sensitive lab}}
"""


def write_config(directory: Path, docs: dict[str, str]) -> Path:
    """A config directory holding `docs` (file name -> YAML) and state in `state/`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "runai-reconcile.yaml").write_text(SETTINGS, encoding="utf-8")
    for old in directory.glob("*.yaml"):
        if old.name != "runai-reconcile.yaml" and old.name not in docs:
            old.unlink()
    for name, text in docs.items():
        write_docs(directory / name, [text])
    return directory


def managed(cli: Cli, directory: Path) -> None:
    """alpha, beta and gamma on the server and in state."""
    write_config(
        directory,
        {
            "alpha.yaml": template("alpha"),
            "beta.yaml": template("beta"),
            "gamma.yaml": template("gamma"),
        },
    )
    put_on_server(directory, cli.url)


def planned(
    cli: Cli, directory: Path, plan_file: Path, *, env: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """Edit the config (alpha updated, beta removed, delta new, gamma as it is) and save the
    plan to `plan_file`; returns the document."""
    write_config(
        directory,
        {
            "alpha.yaml": template("alpha", cpu=2),
            "gamma.yaml": template("gamma"),
            "delta.yaml": template("delta"),
        },
    )
    run = cli("plan", directory, "-out", plan_file, "--detailed-exitcode", env=env)
    assert run.exit_code == 2, run.output
    document: dict[str, Any] = json.loads(plan_file.read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class Saved:
    """A config directory managing alpha, beta and gamma, and a fresh plan file (with its
    document) that updates alpha, deletes beta, creates delta and leaves gamma alone."""

    config: Path
    plan_file: Path
    document: dict[str, Any]


def saved_plan(cli: Cli, root: Path) -> Saved:
    config = root / "config"
    managed(cli, config)
    plan_file = root / "p.json"
    return Saved(config, plan_file, planned(cli, config, plan_file))


def server_writes(api: Api) -> list[str]:
    """The writes the server received since the log was cleared (token requests aside)."""
    return [
        f"{e['method']} {e['path']}"
        for e in api.request_log()["requests"]
        if e["method"] in WRITES and e["path"] != "/api/v1/token"
    ]


def state_bytes(directory: Path) -> bytes | None:
    path = state_path(directory)
    return path.read_bytes() if path.exists() else None


def _unsalted(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"sensitive_sha256"}:
            return "(hashed)"
        return {k: _unsalted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsalted(v) for v in value]
    return value


def canonical_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def outcome(api: Api, directory: Path) -> tuple[str, str]:
    """The server's workspace templates and the state's entries, without ids and times."""
    listed = api.get(WORKSPACES).json()
    items = listed.get("entries", listed) if isinstance(listed, dict) else listed
    server = sorted((i["meta"]["name"], canonical_text(i["spec"])) for i in items)
    state = json.loads(state_bytes(directory) or b"{}").get("resources", {})
    # Secrets in state are hashed with its lineage, which is new in every fresh start.
    kept = {a: (_unsalted(e["last_applied"]), e["status"]) for a, e in state.items()}
    return canonical_text(server), canonical_text(kept)
