"""The emulator's quick yes/no body check never says yes where jsonschema finds a problem.

Bodies are drawn near each request schema the emulator serves: built from the schema's own
shape (required and optional properties, enums, patterns, bounds, nullable branches), with
any node now and then swapped for an arbitrary JSON value, so that both valid bodies and
bodies wrong in one place are common.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.emulator.app import collect_routes
from reconcile.emulator.openapi import OpenApi
from tests.emulator.helpers import template_body

SPEC = OpenApi()
DEFS: dict[str, Any] = SPEC.local_schemas
REQUEST_SCHEMAS = sorted({r.request_schema for r in collect_routes() if r.request_schema})
_DEEPEST = 5

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=4,
)


_NEAR: dict[tuple[int, int], st.SearchStrategy[Any]] = {}


def near(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of `schema`'s shape, or one time in twenty an arbitrary JSON value (built on
    first use and kept: the schemas are big, a body meets a small part of them)."""
    if depth > _DEEPEST:  # data nested this deep: no deeper
        return st.none()
    key = (id(schema), depth)
    if key not in _NEAR:
        shaped = st.deferred(lambda: shape(schema, depth))
        _NEAR[key] = st.integers(0, 19).flatmap(lambda roll: ANY_JSON if roll == 0 else shaped)
    return _NEAR[key]


def _merged(parts: tuple[Any, ...]) -> Any:
    if all(isinstance(p, dict) for p in parts):
        out: dict[str, Any] = {}
        for part in parts:
            out.update(part)
        return out
    return parts[0]


def shape(schema: Any, depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(schema, dict):
        return ANY_JSON
    if "$ref" in schema:
        target = DEFS[schema["$ref"].removeprefix("#/$defs/")]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return st.tuples(near(target, depth), shape(rest, depth)).map(_merged)
    if "allOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        parts = [near(s, depth) for s in schema["allOf"]]
        return st.tuples(*parts, shape(rest, depth)).map(_merged)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([near(s, depth) for s in schema[key]])
    if "enum" in schema:  # one of the listed values, or a text that is none of them
        return st.sampled_from(schema["enum"]) | st.text(max_size=3)
    types = schema.get("type", ["object"] if "properties" in schema else [])
    types = [types] if isinstance(types, str) else types
    if not types:
        return ANY_JSON
    return st.one_of([_typed(schema, t, depth) for t in types])


def _typed(schema: dict[str, Any], kind: str, depth: int) -> st.SearchStrategy[Any]:
    if kind == "object":
        properties = schema.get("properties", {})
        required = [n for n in properties if n in schema.get("required", ())]
        optional = sorted(set(properties) - set(required))
        # A few of the optional properties at a time: a template spec has about a hundred.
        chosen = st.sets(st.sampled_from(optional), max_size=3) if optional else st.just(set())
        return chosen.flatmap(
            lambda names: st.fixed_dictionaries(
                {n: near(properties[n], depth + 1) for n in [*required, *sorted(names)]}
            )
        )
    if kind == "array":
        return st.lists(near(schema.get("items", True), depth + 1), max_size=3)
    if kind == "string":
        # Texts just inside and just outside the bounds, matching the pattern or not.
        low, high = schema.get("minLength", 0), schema.get("maxLength", 12)
        plain = st.text(max_size=2) | st.text(min_size=max(0, low - 1), max_size=min(high, 999) + 1)
        if "maxLength" in schema and high < 1000:  # Hypothesis makes no longer texts
            plain |= st.text(min_size=high, max_size=high + 1)
        if "pattern" in schema:
            return st.from_regex(re.compile(schema["pattern"])) | plain
        return plain
    if kind in ("integer", "number"):
        # The bounds and their neighbours, or any number.
        bounds = [b for b in (schema.get("minimum"), schema.get("maximum")) if b is not None]
        edges = sorted({e for b in bounds for e in (b - 1, b, b + 1)})
        whole = st.integers() | (st.sampled_from(edges) if edges else st.nothing())
        return whole if kind == "integer" else whole | st.floats(allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    return st.none()


@pytest.mark.parametrize("name", REQUEST_SCHEMAS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_quick_yes_is_jsonschemas_yes(name: str, data: st.DataObject) -> None:
    body = data.draw(near(DEFS[name]), label="body")
    if SPEC.quick_check(name).is_valid(body):
        assert SPEC.problems(name, body) == [], (name, body)


@pytest.mark.parametrize("kind", ["Workspace", "Training"])
def test_a_valid_template_body_takes_the_quick_yes(kind: str) -> None:
    spec = {
        "image": "nvcr.io/nvidia/pytorch:24.01-py3",
        "environmentVariables": [{"name": "HF_HOME", "value": "/data/hf"}],
        "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 0.5},
        "nodePools": ["default"],
    }
    body = template_body("tpl", spec=spec)
    name = f"{kind}TemplateCreationRequest"
    assert SPEC.quick_check(name).is_valid(body)
    assert SPEC.validate(name, body) == []


def test_a_refused_body_is_worded_by_jsonschema() -> None:
    body = template_body("tpl", spec={"compute": {"gpuDevicesRequest": "one"}})
    problems = SPEC.validate("WorkspaceTemplateCreationRequest", body)
    assert problems == ["spec.compute.gpuDevicesRequest: 'one' is not of type 'integer', 'null'"]
