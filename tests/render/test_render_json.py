"""The JSON contract (schema and golden output) and the plan-file round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconcile.model import Action, Address, Change, Plan
from reconcile.render import json as render_json

SECRET = "hunter2-do-not-show"  # the value tests/render/conftest.py plants in the plans
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "plan-json-v1.schema.json").read_text()
)
CREATE = Address("workspace-template", "project=team-a", "jupyter-small")

Golden = Callable[[str, str], None]


def validate(document: Any) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_output_matches_the_schema_and_golden(full_plan: Plan, golden: Golden) -> None:
    out = render_json.render(full_plan)
    validate(json.loads(out))
    golden("plan.json", out)


def test_the_schema_rejects_what_the_contract_forbids(full_plan: Plan) -> None:
    document = render_json.plan_to_dict(full_plan)
    broken = json.loads(json.dumps(document))
    broken["changes"][0]["actions"] = ["replace"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    extra = {**document, "surprise": 1}
    with pytest.raises(jsonschema.ValidationError):
        validate(extra)


def test_actions_arrays(full_plan: Plan) -> None:
    document = render_json.plan_to_dict(full_plan)
    actions = {c["address"]: c["actions"] for c in document["changes"]}
    assert actions == {
        "workload-type/PyTorchJob": ["forget"],
        "workload-type/Notebook": ["no-op"],
        "training-template/department=research/train-big": ["update"],
        "workspace-template/project=team-a/jupyter-small": ["create"],
        "inference-template/project=inference/serve": ["delete", "create"],
        "workload/project=team-a/web": ["delete"],
    }
    assert document["format_version"] == "1.3"
    assert document["summary"] == {
        "add": 1,
        "change": 1,
        "replace": 1,
        "destroy": 1,
        "forget": 1,
        "no_op": 1,
        "record": 0,
        "drift": 2,
    }
    assert not any(c["records_state"] for c in document["changes"])


def test_output_is_deterministic_with_sorted_keys(full_plan: Plan) -> None:
    out = render_json.render(full_plan)
    assert out == render_json.render(full_plan)
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_sensitive_values_read_sensitive(full_plan: Plan) -> None:
    out = render_json.render(full_plan)
    assert SECRET not in out
    create = next(c for c in json.loads(out)["changes"] if c["address"] == str(CREATE))
    env = create["after"]["spec"]["environmentVariables"]
    assert env == [{"name": "MODE", "value": "lab"}, {"name": "TOKEN", "value": "(sensitive)"}]


def test_a_plan_without_secrets_round_trips_through_a_plan_file(full_plan: Plan) -> None:
    plan = replace(full_plan, changes=tuple(c for c in full_plan.changes if c.address != CREATE))
    plan = replace(plan, drift=plan.drift[1:])
    text = json.dumps(render_json.plan_to_file_dict(plan, "salt"), sort_keys=True)
    validate(json.loads(text))
    assert render_json.plan_from_file_dict(json.loads(text)) == plan


def test_a_plan_file_holds_a_salted_hash_never_the_value(full_plan: Plan) -> None:
    document = render_json.plan_to_file_dict(full_plan, "0123abcd")
    text = json.dumps(document)
    assert SECRET not in text
    validate(document)
    create = next(c for c in document["changes"] if c["address"] == str(CREATE))
    marker = create["after"]["spec"]["environmentVariables"][1]["value"]
    assert set(marker) == {"sensitive_sha256"} and len(marker["sensitive_sha256"]) == 64
    other = render_json.plan_to_file_dict(full_plan, "another-salt")
    assert json.dumps(other) != text  # the salt changes every hash


def test_drift_document(full_plan: Plan) -> None:
    document = json.loads(render_json.render_drift(full_plan.drift))
    assert document["summary"] == {"drift": 2}
    assert [d["address"] for d in document["drift"]] == [str(d.address) for d in full_plan.drift]
    assert SECRET not in json.dumps(document)


def test_no_op_only_plan(empty_plan: Plan) -> None:
    document = render_json.plan_to_dict(empty_plan)
    validate(document)
    assert document["has_changes"] is False
    assert [c["actions"] for c in document["changes"]] == [["no-op"]]
    assert Change.from_dict(document["changes"][0]).action is Action.NOOP


def test_no_ops_that_record_state(record_plan: Plan) -> None:
    document = render_json.plan_to_dict(record_plan)
    validate(document)
    assert document["has_changes"] is True
    assert (document["summary"]["record"], document["summary"]["no_op"]) == (2, 3)
    marked = {c["address"]: c["records_state"] for c in document["changes"]}
    assert [a for a, m in marked.items() if m] == [
        "workload-type/Deployment",
        "workspace-template/project=team-a/lagging",
    ]
    assert SECRET not in json.dumps(document)
    broken = json.loads(json.dumps(document))
    create = next(c for c in broken["changes"] if c["action"] == "create")
    create["records_state"] = True  # only a no-op may record without a call
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_the_record_mark_round_trips_through_a_plan_file(record_plan: Plan) -> None:
    document = json.loads(json.dumps(render_json.plan_to_file_dict(record_plan, "s4lt")))
    validate(document)
    assert SECRET not in json.dumps(document)
    shown = render_json.plan_from_file_dict(document)
    assert [c.records_state for c in shown.changes] == [
        c.records_state for c in record_plan.changes
    ]
    assert shown.has_changes and shown.summary() == record_plan.summary()


def test_a_1_0_plan_file_still_loads_and_records_nothing(record_plan: Plan) -> None:
    document = render_json.plan_to_file_dict(record_plan, "s4lt")
    document["format_version"] = "1.0"
    for change in document["changes"]:
        del change["records_state"]
    loaded = render_json.plan_from_file_dict(json.loads(json.dumps(document)))
    assert not any(c.records_state for c in loaded.changes)
    assert loaded.summary()["record"] == 0
