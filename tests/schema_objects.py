"""Hypothesis strategies for objects that a JSON Schema of schemas/ accepts (the 2.24 request
component schemas the document schemas are generated from).

Covers the keywords those schemas use: $ref, type (with null), properties and
additionalProperties, items, enum, const, minimum/maximum, minLength/maxLength, pattern.
Objects stay small (a few properties each) so that many fit in one example.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from reconcile.schema import CATEGORIES, PRIORITIES

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
# Text that exercises the writer and the reader: YAML look-alikes, `${...}`, non-ASCII.
TEXT = st.one_of(
    st.sampled_from(["yes", "on", "null", "1.5", "a: b", "#x", "${RUNAI_PROJECT}", "caf\u00e9"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8),
)
MAX_PROPERTIES = 4


@cache
def _definitions(file: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / file).read_text(encoding="utf-8"))
    return schema.get("$defs", {})


def objects(file: str, definition: str) -> st.SearchStrategy[Any]:
    """Values of `$defs[definition]` in schemas/`file`."""
    return _strategy(file, {"$ref": f"#/$defs/{definition}"}, 0)


# Properties whose values name things the tool checks offline against fixed lists (the
# schemas type them as any string): drawn from those lists.
NAMED = {"priorityClass": PRIORITIES, "category": CATEGORIES}


def _strategy(file: str, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        target = _definitions(file)[schema["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _strategy(file, merged, depth)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from([v for v in schema["enum"] if v is not None])
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            options = [o for o in schema[combined] if o.get("type") != "null"]
            rest = {k: v for k, v in schema.items() if k != combined}
            return _strategy(file, {**rest, **options[0]}, depth)
    kinds = schema.get("type", "object")
    kind = next(k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null")
    if kind == "object":
        return _object(file, schema, depth)
    if kind == "array":
        item = _strategy(file, schema.get("items", {"type": "string"}), depth + 1)
        return st.lists(item, min_size=1, max_size=2 if depth < 3 else 1)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low, high = schema.get("minimum", -1000), schema.get("maximum", 100_000)
        return st.integers(min_value=int(low), max_value=int(high))
    if kind == "number":
        low, high = schema.get("minimum", -1000.0), schema.get("maximum", 1000.0)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    return st.booleans()


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    text = st.from_regex(schema["pattern"], fullmatch=True) if "pattern" in schema else TEXT
    low, high = schema.get("minLength", 0), schema.get("maxLength", 63)
    return text.filter(lambda s: low <= len(s) <= high)


def _value(file: str, key: str, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    return st.sampled_from(NAMED[key]) if key in NAMED else _strategy(file, schema, depth)


def _object(file: str, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    properties: dict[str, Any] = schema.get("properties") or {}
    usable = {k: v for k, v in properties.items() if not v.get("deprecated")}
    if not usable or depth > 4:
        return st.just({})
    required = [k for k in schema.get("required", []) if k in usable]
    optional = sorted(set(usable) - set(required))

    def build(chosen: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        keys = [*required, *chosen]
        return st.fixed_dictionaries({k: _value(file, k, usable[k], depth + 1) for k in keys})

    picks = st.lists(st.sampled_from(optional), max_size=MAX_PROPERTIES, unique=True)
    return (picks if optional else st.just([])).flatmap(build)
