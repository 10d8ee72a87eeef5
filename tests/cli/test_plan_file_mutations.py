"""Edited plan files: every mutation of a saved plan is either refused before any write, or
proven harmless (the server and the state end exactly as the unmutated plan leaves them).

Each mutation is applied with the changes digest written again to match, as someone editing
the file on purpose would; an edit that leaves the digest stale is refused on reading.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconcile.diff import digest
from reconcile.render import json as render_json
from reconcile.render.common import summary_counts
from tests.cli.helpers import Cli
from tests.cli.planfile_helpers import (
    Saved,
    outcome,
    saved_plan,
    server_writes,
    state_bytes,
    template,
    write_config,
)
from tests.emulator.helpers import Api

Document = dict[str, Any]
TEAM_A = "workspace-template/project=team-a"
ALPHA, BETA, GAMMA, DELTA = (f"{TEAM_A}/{n}" for n in ("alpha", "beta", "gamma", "delta"))


def _change(document: Document, address: str) -> dict[str, Any]:
    return next(c for c in document["changes"] if c["address"] == address)


def _set(address: str, key: str, value: Any) -> Callable[[Document], None]:
    def mutate(document: Document) -> None:
        _change(document, address)[key] = value

    return mutate


def _update_to_delete(document: Document) -> None:
    alpha = _change(document, ALPHA)
    alpha.update(action="delete", actions=["delete"], after=None, fields=[])
    alpha["calls"] = [{"method": "DELETE", "path": alpha["calls"][0]["path"]}]


def _no_op_to_delete(document: Document) -> None:
    gamma = _change(document, GAMMA)
    path = f"/api/v1/workload-templates/workspaces/{gamma['remote_id']}"
    gamma.update(action="delete", actions=["delete"], after=None)
    gamma["calls"] = [{"method": "DELETE", "path": path}]


def _drop(address: str) -> Callable[[Document], None]:
    def mutate(document: Document) -> None:
        document["changes"] = [c for c in document["changes"] if c["address"] != address]

    return mutate


def _swap_waves(document: Document) -> None:
    beta, delta = _change(document, BETA), _change(document, DELTA)
    beta["wave"], delta["wave"] = delta["wave"], beta["wave"]


def _reverse(document: Document) -> None:
    document["changes"].reverse()


def _spec_value(document: Document) -> None:
    _change(document, ALPHA)["after"]["spec"]["image"] = "evil:latest"


def _field_value(document: Document) -> None:
    _change(document, ALPHA)["fields"][0]["after"] = 64


def _other_id(document: Document) -> None:
    alpha, gamma = _change(document, ALPHA), _change(document, GAMMA)
    alpha["remote_id"] = gamma["remote_id"]
    alpha["calls"] = [
        {"method": "PATCH", "path": f"/api/v1/workload-templates/workspaces/{gamma['remote_id']}"}
    ]


def _binding(key: str, value: Any) -> Callable[[Document], None]:
    def mutate(document: Document) -> None:
        document["binding"][key] = value

    return mutate


def _fingerprint(value: str | None) -> Callable[[Document], None]:
    def mutate(document: Document) -> None:
        prints = document["binding"]["live_fingerprints"]
        if value is None:
            del prints[ALPHA]
        else:
            prints[ALPHA] = value

    return mutate


def _summary(document: Document) -> None:
    document["summary"]["destroy"] = 0


def _drift_added(document: Document) -> None:
    document["drift"].append(
        {"address": GAMMA, "deleted": True, "fields": [], "updated_by": None, "updated_at": None}
    )
    document["summary"]["drift"] = len(document["drift"])


def _violation_added(document: Document) -> None:
    document["safety_violations"] = ["over budget"]


MUTATIONS: dict[str, Callable[[Document], None]] = {
    "update becomes delete": _update_to_delete,
    "no-op becomes delete": _no_op_to_delete,
    "no-op records state": _set(GAMMA, "records_state", True),
    "delete dropped": _drop(BETA),
    "update dropped": _drop(ALPHA),
    "no-op dropped": _drop(GAMMA),
    "address changed": _set(DELTA, "address", f"{TEAM_A}/evil"),
    "address forges a line": _set(DELTA, "address", f"{TEAM_A}/delta\n+ create evil"),
    "address clears the screen": _set(DELTA, "address", f"{TEAM_A}/delta\x1b[2J"),
    "kind changed": _set(DELTA, "address", "training-template/project=team-a/delta"),
    "unknown kind": _set(DELTA, "address", "bogus-kind/project=team-a/delta"),
    "spec value changed": _spec_value,
    "field value changed": _field_value,
    "sensitive paths emptied": _set(ALPHA, "sensitive", []),
    "reason changed": _set(ALPHA, "reason", "harmless, trust me"),
    "waves swapped": _swap_waves,
    "order reversed": _reverse,
    "remote id changed": _other_id,
    "safety violation added": _violation_added,
    "summary changed": _summary,
    "drift added": _drift_added,
    "fingerprint changed": _fingerprint("0" * 64),
    "fingerprint removed": _fingerprint(None),
    "desired digest changed": _binding("desired_digest", "0" * 64),
    "state serial changed": _binding("state_serial", 0),
    "state lineage changed": _binding("state_lineage", "another-lineage"),
    "server changed": _binding("server_url", "https://example.invalid"),
    "selection narrowed": _binding(
        "selection", {"targets": [ALPHA], "excludes": [], "adopt": False}
    ),
    "config dir changed": _binding("config_dir", "."),
    "created later": _binding("created_at", "2099-01-01T00:00:00Z"),
    "ttl extended": _binding("ttl_seconds", 10 * 365 * 86400),
}


def _write(path: Path, document: Document, *, redigest: bool, recount: bool = True) -> None:
    """Write `document`; `redigest` and `recount` make its digest and counts agree with its
    changes, as a deliberate edit would."""
    if recount:
        shown = render_json.plan_from_file_dict(document)
        document["summary"] = summary_counts(shown)
        document["has_changes"] = shown.has_changes
    if redigest:
        document["binding"]["changes_digest"] = digest(document["changes"])
    path.write_text(json.dumps(document), encoding="utf-8")


def _fresh(cli: Cli, api: Api, root: Path) -> Saved:
    """The server back to its seed, no state, and the scenario planned again."""
    api.reset()
    shutil.rmtree(root, ignore_errors=True)
    return saved_plan(cli, root)


def test_each_mutated_plan_is_refused_before_any_write_or_is_harmless(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    """One scenario serves every refused mutation (a refusal writes nothing); one that was
    applied is compared with the unmutated plan's result, and the scenario made again."""
    root = tmp_path / "scenario"
    baseline = _fresh(cli, api, root)
    assert cli("apply", baseline.plan_file).exit_code == 0
    expected = outcome(api, baseline.config)
    saved = _fresh(cli, api, root)
    harmless = []
    for name, mutate in sorted(MUTATIONS.items()):
        mutated = copy.deepcopy(saved.document)
        mutate(mutated)
        assert mutated != saved.document, name
        _write(saved.plan_file, mutated, redigest=True, recount=name != "summary changed")
        before = state_bytes(saved.config)
        api.clear_log()
        run = cli("apply", saved.plan_file)
        if run.exit_code != 0:
            assert run.exit_code in (1, 64), f"{name}: {run.output}"
            assert str(saved.plan_file) in run.stderr, f"{name}: {run.stderr}"
            assert "\x1b" not in run.output and "\n+ create" not in run.output, name
            assert server_writes(api) == [], f"{name} wrote: {run.output}"
            assert state_bytes(saved.config) == before, f"{name} wrote state"
            continue
        assert outcome(api, saved.config) == expected, f"{name} was applied, with another result"
        harmless.append(name)
        saved = _fresh(cli, api, root)
    # Edits of what apply never acts on (display, age, a plain no-op, the fingerprint of an
    # object whose change is planned again and checked); everything else is refused.
    assert harmless == [
        "created later",
        "drift added",
        "fingerprint removed",
        "no-op dropped",
        "ttl extended",
    ]


def test_an_edit_that_leaves_the_digest_is_refused_on_reading(
    cli: Cli, api: Api, saved: Saved
) -> None:
    plan_file, document = saved.plan_file, saved.document
    _update_to_delete(document)
    _write(plan_file, document, redigest=False)
    api.clear_log()
    run = cli("apply", plan_file)
    assert run.exit_code == 1, run.output
    assert f"{plan_file} is not a valid plan file" in run.stderr
    assert "the file was edited after `plan` saved it [$.binding.changes_digest]" in run.stderr
    assert server_writes(api) == []
    shown = cli("show", plan_file)
    assert shown.exit_code == 1 and "changes_digest" in shown.stderr


def test_a_changed_action_is_named_with_both_values(cli: Cli, saved: Saved) -> None:
    plan_file, document = saved.plan_file, saved.document
    _update_to_delete(document)
    _write(plan_file, document, redigest=True)
    run = cli("apply", plan_file)
    assert run.exit_code == 1, run.output
    assert "does not hold the plan its binding gives when planned again" in run.stderr
    assert f'{ALPHA}: action: the plan says "delete", recomputed "update"' in run.stderr
    assert " done" not in run.stdout


WORKLOAD = """
kind: Workload
metadata: {name: web, scope: {project: team-a}}
spec:
  priority: medium
  category: Deploy
  manifest: {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replicas: 1}}
"""


def test_an_emptied_safety_violation_list_is_refused(cli: Cli, api: Api, tmp_path: Path) -> None:
    """A workload delete needs --force; a plan file that hides that is not applied."""
    config = write_config(
        tmp_path / "config", {"web.yaml": WORKLOAD, "gamma.yaml": template("gamma")}
    )
    assert cli("apply", "--auto-approve", config).exit_code == 0
    write_config(config, {"gamma.yaml": template("gamma")})
    plan_file = tmp_path / "p.json"
    assert cli("plan", config, "-out", plan_file).exit_code == 3  # over the safety budget
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    assert document["safety_violations"]
    document["safety_violations"] = []
    _write(plan_file, document, redigest=True)
    api.clear_log()
    run = cli("apply", plan_file)
    assert run.exit_code == 1, run.output
    assert "safety_violations: the plan says []" in run.stderr
    assert server_writes(api) == []
