"""How many requests `apply` makes per step, from the emulator's request log: a create is
its POST (the answer is the object, so nothing is read back), an update its write, a delete
its DELETE. Whether an object moved since the plan is checked against one list read made at
apply start when the steps outnumber that read's requests, else with a GET per step.
Inference templates have no update call (docs/runai-api.md 1.1): a change replaces them
(DELETE, POST)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.cli.helpers import Cli, write_docs
from tests.emulator.helpers import Api

TYPES = ("workspaces", "trainings", "distributed", "inferences")
KINDS = ("WorkspaceTemplate", "TrainingTemplate", "DistributedTemplate", "InferenceTemplate")
COUNT = 12
ONE_OBJECT = re.compile(r"^/api/v1/workload-templates/[a-z]+/[^/]+$")


def _doc(index: int, mode: str) -> str:
    kind = KINDS[index % len(KINDS)]
    extra = "\n  distributedFramework: PyTorch" if kind == "DistributedTemplate" else ""
    return f"""
kind: {kind}
metadata: {{name: t{index}, scope: {{project: team-a}}}}
spec:
  image: img:{index}{extra}
  environmentVariables:
    - {{name: NCCL_DEBUG, value: {mode}}}
"""


def _write(directory: Path, mode: str, count: int) -> None:
    write_docs(directory / "templates.yaml", [_doc(i, mode) for i in range(count)])
    (directory / "runai-reconcile.yaml").write_text("safety: {min_managed: 1000}\n", "utf-8")


def _lists(api: Api) -> int:
    """The template list reads of the log: pages, and the count asked beside the first."""
    reads = ("/api/v1/workload-templates", "/api/v1/workload-templates/count")
    return sum(
        1 for e in api.request_log()["requests"] if e["method"] == "GET" and e["path"] in reads
    )


def _calls(api: Api) -> Counter[str]:
    """`METHOD collection` for list and create calls, `METHOD one` for calls on one object."""
    seen: Counter[str] = Counter()
    for entry in api.request_log()["requests"]:
        path = entry["path"]
        if path.startswith("/api/v1/workload-templates/"):
            where = "one" if ONE_OBJECT.match(path) else "collection"
            seen[f"{entry['method']} {where}"] += 1
    return seen


def test_apply_makes_one_request_per_create_update_or_delete(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = tmp_path / "config"
    _write(config, "WARN", COUNT)
    api.clear_log()
    created = cli("apply", "--auto-approve", "--parallelism", "4", config)
    assert created.exit_code == 0, created.output
    calls = _calls(api)
    assert calls["POST collection"] == COUNT
    assert calls["GET one"] == 0  # the POST's answer is the object: no read-back

    _write(config, "INFO", COUNT)
    api.clear_log()
    updated = cli("apply", "--auto-approve", config)
    assert updated.exit_code == 0, updated.output
    calls = _calls(api)
    inference = COUNT // len(KINDS)
    assert calls["GET one"] == 0  # checked against one list read, made again at apply start
    assert _lists(api) == 2 * 2  # the plan's, then apply's: a page and a count each
    assert calls["PATCH one"] + calls["PUT one"] == COUNT - inference
    assert (calls["DELETE one"], calls["POST collection"]) == (inference, inference)

    _write(config, "INFO", 1)
    api.clear_log()
    deleted = cli("apply", "--auto-approve", "--force", config)
    assert deleted.exit_code == 0, deleted.output
    calls = _calls(api)
    assert (calls["GET one"], calls["DELETE one"]) == (0, COUNT - 1)
    assert calls["POST collection"] == 0


def test_a_step_or_two_are_checked_with_a_get_each_not_a_list_read(
    cli: Cli, tmp_path: Path, api: Api
) -> None:
    config = tmp_path / "config"
    _write(config, "WARN", 2)
    assert cli("apply", "--auto-approve", config).exit_code == 0
    (config / "templates.yaml").write_text(
        (config / "templates.yaml").read_text("utf-8").replace("img:0", "img:00"), "utf-8"
    )
    api.clear_log()
    updated = cli("apply", "--auto-approve", config)
    assert updated.exit_code == 0, updated.output
    calls = _calls(api)
    assert (calls["GET one"], calls["PATCH one"] + calls["PUT one"]) == (1, 1)
    assert _lists(api) == 2  # the plan's only
