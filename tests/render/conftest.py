"""Plans built from the model types for the renderer tests, and the golden-file helper.

`UPDATE_GOLDEN=1 pytest tests/render` rewrites the golden files under tests/data/golden/
instead of comparing against them; review the diff before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconcile.model import (
    Action,
    Address,
    ApiCall,
    Binding,
    Change,
    Drift,
    FieldChange,
    FieldChangeKind,
    Plan,
)

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
SECRET = "hunter2-do-not-show"

BINDING = Binding(
    state_lineage="7c1e5b7e-1d0a-4a53-9d1e-3f4b5c6d7e8f",
    state_serial=4,
    desired_digest="9f2c" + "0" * 60,
    live_fingerprints={
        "training-template/department=research/train-big": "ab" * 32,
        "inference-template/project=inference/serve": "cd" * 32,
        "workload/project=team-a/web": "ef" * 32,
        "workspace-template/project=team-a/jupyter-small": "",
    },
    server_url="http://127.0.0.1:8123",
    created_at="2026-01-02T03:04:05Z",
    config_dir="examples/quickstart",
)


def _create() -> Change:
    address = Address("workspace-template", "project=team-a", "jupyter-small")
    after = {
        "metadata": {"description": "Small Jupyter workspace"},
        "spec": {
            "image": "jupyter/scipy-notebook",
            "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 0.5},
            "environmentVariables": [
                {"name": "MODE", "value": "lab"},
                {"name": "TOKEN", "value": SECRET},
            ],
            "args": "--NotebookApp.base_url=/",
        },
    }
    return Change(
        address,
        Action.CREATE,
        after=after,
        reason="new",
        calls=(ApiCall("POST", "/api/v1/workload-templates/workspaces"),),
        sensitive=("spec.environmentVariables[name=TOKEN].value",),
    )


def _update() -> Change:
    address = Address("training-template", "department=research", "train-big")
    before = {"spec": {"image": "nvcr.io/nvidia/pytorch:24.04-py3", "nodePools": ["a100"]}}
    after = {
        "spec": {"image": "nvcr.io/nvidia/pytorch:24.05-py3", "compute": {"gpuDevicesRequest": 8}}
    }
    fields = (
        FieldChange("spec.compute", FieldChangeKind.ADD, None, {"gpuDevicesRequest": 8}),
        FieldChange(
            "spec.image",
            FieldChangeKind.CHANGE,
            "nvcr.io/nvidia/pytorch:24.04-py3",
            "nvcr.io/nvidia/pytorch:24.05-py3",
        ),
        FieldChange("spec.nodePools", FieldChangeKind.CLEAR, ["a100"], None),
    )
    return Change(
        address,
        Action.UPDATE,
        before=before,
        after=after,
        fields=fields,
        reason="adopt",
        remote_id="11111111-2222-3333-4444-555555555555",
        calls=(
            ApiCall(
                "PATCH", "/api/v1/workload-templates/trainings/11111111-2222-3333-4444-555555555555"
            ),
        ),
    )


def _replace() -> Change:
    address = Address("inference-template", "project=inference", "serve")
    return Change(
        address,
        Action.REPLACE,
        before={"spec": {"image": "vllm/vllm-openai:v0.4", "servingPort": {"port": 8000}}},
        after={"spec": {"image": "vllm/vllm-openai:v0.5", "servingPort": {"port": 8000}}},
        fields=(
            FieldChange(
                "spec.image",
                FieldChangeKind.CHANGE,
                "vllm/vllm-openai:v0.4",
                "vllm/vllm-openai:v0.5",
            ),
        ),
        replace_paths=("spec.image",),
        reason="inference templates have no update",
        replaces=Address("inference-template", "project=inference", "serve-v1"),
        remote_id="66666666-7777-8888-9999-000000000000",
        calls=(
            ApiCall(
                "DELETE",
                "/api/v1/workload-templates/inferences/66666666-7777-8888-9999-000000000000",
            ),
            ApiCall("POST", "/api/v1/workload-templates/inferences"),
        ),
    )


def _delete() -> Change:
    address = Address("workload", "project=team-a", "web")
    return Change(
        address,
        Action.DELETE,
        before={"spec": {"priority": "medium", "manifest": {"kind": "Deployment"}}},
        remote_id="abcdef00-0000-0000-0000-000000000001",
        calls=(ApiCall("DELETE", "/api/v2/workloads/abcdef00-0000-0000-0000-000000000001"),),
    )


def _forget() -> Change:
    return Change(
        Address("workload-type", "", "PyTorchJob"),
        Action.FORGET,
        before={"spec": {"category": "Train", "priority": "high"}},
        reason="dropped from config; workload types cannot be deleted",
        remote_id="pytorchjob-id",
    )


def _noop() -> Change:
    spec = {"spec": {"category": "Build", "priority": "medium"}}
    return Change(Address("workload-type", "", "Notebook"), Action.NOOP, before=spec, after=spec)


def _record_adopt() -> Change:
    spec = {"spec": {"category": "Deploy", "priority": "very-high"}}
    return Change(
        Address("workload-type", "", "Deployment"),
        Action.NOOP,
        before=spec,
        after=spec,
        reason="adopt",
        remote_id="deployment-id",
        records_state=True,
    )


def _record_stale() -> Change:
    spec = {
        "spec": {"image": "python:3.11", "environmentVariables": [{"name": "T", "value": SECRET}]}
    }
    return Change(
        Address("workspace-template", "project=team-a", "lagging"),
        Action.NOOP,
        before=spec,
        after=spec,
        reason="state holds an older spec than the server: record it",
        remote_id="22222222-0000-0000-0000-000000000000",
        sensitive=("spec.environmentVariables[*].value",),
        wave=1,
        records_state=True,
    )


def _full_plan() -> Plan:
    drift = (
        Drift(
            Address("training-template", "department=research", "train-big"),
            fields=(
                FieldChange(
                    "spec.image",
                    FieldChangeKind.CHANGE,
                    "nvcr.io/nvidia/pytorch:24.04-py3",
                    "evil:latest",
                ),
                FieldChange(
                    "spec.environmentVariables[name=TOKEN].value",
                    FieldChangeKind.CHANGE,
                    SECRET,
                    "x",
                    sensitive=True,
                ),
            ),
            updated_by="alice@example.com",
            updated_at="2026-01-01T12:00:00Z",
        ),
        Drift(Address("workspace-template", "project=team-b", "gone"), deleted=True),
    )
    return Plan(
        changes=(_forget(), _noop(), _update(), _create(), _replace(), _delete()),
        binding=BINDING,
        drift=drift,
        safety_violations=(
            "workload/project=team-a/web will be deleted: this stops its running work and needs "
            "confirmation",
        ),
    )


@pytest.fixture
def full_plan() -> Plan:
    """One change of every action, drift of both sorts, and a safety violation."""
    return _full_plan()


@pytest.fixture
def empty_plan() -> Plan:
    """A plan whose only change is a no-op."""
    return Plan(changes=(_noop(),), binding=BINDING)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare text with tests/data/golden/NAME, or rewrite it when UPDATE_GOLDEN=1."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check


@pytest.fixture
def record_plan() -> Plan:
    """No-ops that only record state (one adopted, one whose entry lags, one holding a
    secret), a plain no-op, a forget and a create."""
    return Plan(
        changes=(_forget(), _record_adopt(), _noop(), _create(), _record_stale()),
        binding=BINDING,
    )
