"""Validates documents against the packaged JSON Schemas and lists ALL problems, with paths.

The only jsonschema user. It knows no YAML: a problem carries its JSON path as a tuple and
config.py turns that into file:line:col. It also keeps the offline reference lists (the
priorities and categories every Run:ai tenant has). Messages never echo a sensitive value,
and show others escaped.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from reconcile.kinds.registry import DOCUMENT_KINDS
from reconcile.paths import ANY_KEY, format_path, is_item
from reconcile.printable import NAME_PATTERN, ONE_LINE_PATTERN, quoted

if TYPE_CHECKING:  # imported where used: a valid config never needs jsonschema
    from jsonschema import Draft202012Validator, ValidationError

# Run:ai's fixed priority classes and workload categories (read-only on every tenant:
# docs/runai-api.md sections 2.2 and 2.3). The one place the tool lists them.
PRIORITIES = ("very-low", "low", "medium-low", "medium", "medium-high", "high", "very-high")
CATEGORIES = ("Build", "Train", "Deploy")

SETTINGS = "settings"
ENVELOPE = "envelope"
JsonPath = tuple[str | int, ...]
# Keywords that only annotate: stripped from the copy the validators run on (they cost a
# lookup per keyword per instance and decide nothing).
_ANNOTATIONS = frozenset({"description", "default", "format", "deprecated", "title", "$comment"})
_SUBSCHEMA_MAPS = ("properties", "$defs", "patternProperties", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMAS = (
    "items",
    "not",
    "if",
    "then",
    "else",
    "additionalProperties",
    "contains",
    "propertyNames",
)
# A pattern's `$` (ECMA-262, the dialect of JSON Schema) matches only at the very end;
# Python's also before a final newline, which would let "name\n" through `^[a-z]+$`.
_END = re.compile(r"(?<!\\)\$")


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: where (a JSON path into the document) and what."""

    path: JsonPath
    message: str
    at_key: bool = False  # the problem is the key itself (an unknown or forbidden field)


def json_path(path: JsonPath) -> str:
    """`("spec", "env", 0)` -> `$.spec.env[0]`; odd keys are quoted: `$.labels["a.b"]`."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "").replace("-", "").isalnum():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def schema_name(kind: object) -> str:
    """The schema a document of `kind` is checked against (the envelope for unknown kinds)."""
    return DOCUMENT_KINDS.get(kind, ENVELOPE) if isinstance(kind, str) else ENVELOPE


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A packaged schema (`reconcile.schemas/<name>.json`), as committed."""
    text = resources.files("reconcile.schemas").joinpath(f"{name}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _compact_schema(name: str) -> dict[str, Any]:
    schema = load_schema(name)
    compact: dict[str, Any] = _compact(schema, schema.get("$defs", {}), ())
    return compact


@cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_compact_schema(name))


def warm_up() -> None:
    """Compile every validator now (before worker processes fork, so they share them)."""
    for name in (*DOCUMENT_KINDS.values(), ENVELOPE, SETTINGS):
        _fast(name)


def validate_document(doc: Any, *, sensitive: Collection[JsonPath] = ()) -> list[SchemaProblem]:
    """Every schema problem of one document. `sensitive` paths never appear in messages."""
    if not isinstance(doc, dict):
        return [SchemaProblem((), "a document must be a mapping with kind, metadata and spec")]
    return _problems(schema_name(doc.get("kind")), doc, sensitive)


def validate_settings(data: Any, *, sensitive: Collection[JsonPath] = ()) -> list[SchemaProblem]:
    """Every schema problem of the settings file's content."""
    return _problems(SETTINGS, data, sensitive)


def validate_instance(name: str, instance: Any) -> list[SchemaProblem]:
    """Every problem of `instance` against the packaged schema `schemas/<name>.json`.

    The entry point for the tool's own file formats (plan files, state files): one validator
    for every JSON Schema the product ships.
    """
    return _problems(name, instance, ())


@cache
def sensitive_patterns(kind: str) -> tuple[str, ...]:
    """Field paths (normalized spec shape, `[*]` for list items) the schema marks sensitive."""
    if kind not in DOCUMENT_KINDS:
        return ()
    schema = load_schema(DOCUMENT_KINDS[kind])
    found = sorted(_marked(schema, schema.get("$defs", {}), (), ()))
    return tuple(format_path(p) for p in found)


def path_known(kind: str, segments: Sequence[str]) -> bool:
    """True when the kind's schema has a place for the parsed document path `segments`
    (a key it lists or an open mapping allows, a list item where it has a list; `*` and
    `[*]` stand for any)."""
    schema = load_schema(DOCUMENT_KINDS[kind])
    return _reaches(schema, schema.get("$defs", {}), tuple(segments))


def _reaches(node: Any, defs: Mapping[str, Any], rest: tuple[str, ...]) -> bool:
    if not isinstance(node, dict):
        return node is True
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        node = {
            **defs[ref.removeprefix("#/$defs/")],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    if not rest:
        return True
    if any(_reaches(s, defs, rest) for k in ("anyOf", "oneOf", "allOf") for s in node.get(k, ())):
        return True
    head, tail = rest[0], rest[1:]
    if is_item(head):
        return "items" in node and _reaches(node["items"], defs, tail)
    properties = node.get("properties", {})
    if head == ANY_KEY and any(_reaches(p, defs, tail) for p in properties.values()):
        return True
    if head in properties:
        return _reaches(properties[head], defs, tail)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return _reaches(extra, defs, tail)
    # An object the schema leaves open (a Kubernetes manifest) takes any key.
    return extra is None and not properties and node.get("type") == "object"


def _marked(
    node: Any, defs: Mapping[str, Any], path: tuple[str, ...], seen: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    if not isinstance(node, dict):
        return
    if node.get("x-sensitive") is True:
        yield path
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/") and ref not in seen:
        yield from _marked(defs[ref.removeprefix("#/$defs/")], defs, path, (*seen, ref))
    for key, sub in node.get("properties", {}).items():
        yield from _marked(sub, defs, (*path, key), seen)
    if "items" in node:
        yield from _marked(node["items"], defs, (*path, "[*]"), seen)


def _compact(node: Any, defs: Mapping[str, Any], stack: tuple[str, ...]) -> Any:
    """The schema the validators run on: annotations stripped and `$ref`s inlined (except a
    recursive one), which makes validation markedly faster; patterns end as ECMA-262's do."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS or key == "$ref":
            continue
        if key in _SUBSCHEMA_MAPS:
            out[key] = {k: _compact(v, defs, stack) for k, v in value.items()}
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_compact(v, defs, stack) for v in value]
        elif key in _SUBSCHEMAS:
            out[key] = _compact(value, defs, stack)
        elif key == "pattern":
            out[key] = _END.sub(r"\\Z", value)
        else:
            out[key] = value
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return out
    name = ref.removeprefix("#/$defs/")
    if name in stack:
        return {**out, "$ref": ref}
    target = _compact(defs[name], defs, (*stack, name))
    return {"allOf": [target, out]} if out else target


# --- the fast path -------------------------------------------------------------------------
# jsonschema builds a validator object per subschema it enters, which is most of the time a
# config load takes. Valid documents are the common case, so each schema is also compiled
# into one exact yes/no predicate over the keywords our schemas use (checked by tests against
# jsonschema); only a document the predicate rejects goes through jsonschema, which then
# finds and words every error. A schema using anything else gets no predicate.
# fastjsonschema does the same job and checks a document faster, but compiling the template
# schemas costs it more than a config of tens of thousands of documents then saves
# (bench/bench_validate.py compares the two; BENCHMARKS.md, "Validate", has the figures).
Check = Callable[[Any], bool]
_IGNORED = frozenset({"$schema", "$defs", "x-sensitive", "x-forbidden"})
# The Python types a YAML-built value has, per JSON type. Membership is by exact type: a value
# of any other type (a dict subclass, a tuple) fails the fast check and jsonschema decides.
_PY_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
}
_LEAF = frozenset(
    {"type", "enum", "const", "minLength", "maxLength", "pattern"}
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)
_LEAF_ALL = _LEAF | _IGNORED


def _same(a: Any, b: Any) -> bool:
    """jsonschema's equality for enum and const: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _compile(schema: Any) -> Check | None:
    """An exact validity predicate for `schema`, or None if it uses an unknown keyword."""
    if schema is True or schema == {}:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if schema.keys() <= _LEAF_ALL:
        return _leaf(schema)
    if schema.get("type") in _RECORD_TYPES and "properties" in schema and schema.keys() <= _RECORD:
        return _record(schema)
    checks: list[Check] = []
    for key, value in schema.items():
        if key in _IGNORED or key in ("then", "else"):  # compiled with their `if`
            continue
        check = _conditional(schema) if key == "if" else _keyword(key, value, schema)
        if check is None:
            return None
        checks.append(check)
    if len(checks) == 1:
        return checks[0]

    def every(value: Any) -> bool:
        # A loop, not all(): no generator per call, and this runs for every node of every doc.
        for check in checks:  # noqa: SIM110
            if not check(value):
                return False
        return True

    return every


def _keyword(key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
    if key in _LEAF:
        return _leaf({key: value})
    if key in ("properties", "additionalProperties", "required"):
        return _object(key, value, schema)
    if key in ("minProperties", "maxProperties", "minItems", "maxItems"):
        size, kind = value, dict if key.endswith("Properties") else list
        low = key.startswith("min")
        return lambda v: not isinstance(v, kind) or (len(v) >= size if low else len(v) <= size)
    if key == "propertyNames":
        name = _compile(value)
        if name is None:
            return None
        return lambda v: not isinstance(v, dict) or all(name(k) for k in v)
    if key == "items":
        item = _compile(value)
        if item is None:
            return None

        def items(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            for one in value:  # noqa: SIM110 (a loop: no generator per list)
                if not item(one):
                    return False
            return True

        return items
    return _combined(key, value)


def _object(key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
    if key == "required":
        names = list(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "additionalProperties":
        if "patternProperties" in schema:
            return None
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda v: not isinstance(v, dict) or v.keys() <= known
        extra = _compile(value)
        if extra is None:
            return None
        return lambda v: (
            not isinstance(v, dict)
            or all(extra(item) for name, item in v.items() if name not in known)
        )
    compiled = {name: _compile(sub) for name, sub in value.items()}
    if any(c is None for c in compiled.values()):
        return None
    table = {name: c for name, c in compiled.items() if c is not None}

    def properties(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():  # the document's few keys, not the schema's many
            check = table.get(name)
            if check is not None and not check(item):
                return False
        return True

    return properties


_RECORD = frozenset({"type", "properties", "additionalProperties", "required"}) | _IGNORED
_RECORD_TYPES = ("object", ["object", "null"], ["null", "object"])


def _record(schema: Mapping[str, Any]) -> Check | None:
    """An object's type, properties, additionalProperties and required in one closure and one
    walk of its keys: the shape of most objects (a state entry, a spec's sub-objects), whose
    keyword-per-closure form made a call per keyword for every one of them."""
    table = {name: _compile(sub) for name, sub in schema["properties"].items()}
    extra = schema.get("additionalProperties", True)
    other = None if extra is False else _compile(extra)
    if any(c is None for c in table.values()) or (extra is not False and other is None):
        return None
    checks = {name: c for name, c in table.items() if c is not None}
    required = tuple(schema.get("required", ()))
    nullable = schema["type"] != "object"

    def record(value: Any) -> bool:
        if type(value) is not dict:
            return nullable and value is None
        for name, item in value.items():
            check = checks.get(name, other)
            if check is None or not check(item):  # None: an unknown key, none allowed
                return False
        for name in required:  # noqa: SIM110 (a loop: no generator per object)
            if name not in value:
                return False
        return True

    return record


def _conditional(schema: Mapping[str, Any]) -> Check | None:
    """`if` with its `then` and `else` (an absent branch holds): a kind's variants by a field
    (a data source's `type`)."""
    test, then, other = (_compile(schema.get(k, True)) for k in ("if", "then", "else"))
    if test is None or then is None or other is None:
        return None
    return lambda v: then(v) if test(v) else other(v)


def _combined(key: str, value: Any) -> Check | None:
    if key not in ("allOf", "anyOf", "oneOf", "not"):
        return None
    parts = [_compile(s) for s in (value if isinstance(value, list) else [value])]
    if any(p is None for p in parts):
        return None
    tests = [p for p in parts if p is not None]
    if key == "allOf":
        return lambda v: all(t(v) for t in tests)
    if key == "anyOf":
        return lambda v: any(t(v) for t in tests)
    if key == "oneOf":
        return lambda v: sum(1 for t in tests if t(v)) == 1
    return lambda v: not tests[0](v)


def _types(value: str | list[str]) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    allowed = frozenset(t for name in names for t in _PY_TYPES[name])
    integral = "integer" in names and "number" not in names  # jsonschema: 1.0 is an integer

    def check(v: Any) -> bool:
        kind = type(v)
        return kind in allowed or (integral and kind is float and v.is_integer())

    return check


def _leaf(schema: Mapping[str, Any]) -> Check:
    """One closure for a scalar's keywords (the most common subschema by far)."""
    if schema.keys() - _IGNORED == {"type"}:
        return _types(schema["type"])  # nothing else to check: no wrapper call per value
    types = _types(schema["type"]) if "type" in schema else None
    options = (
        schema["enum"] if "enum" in schema else [schema["const"]] if "const" in schema else None
    )
    plain = frozenset((type(o), o) for o in options or () if type(o) in (str, type(None)))
    shortest, longest = schema.get("minLength", 0), schema.get("maxLength")
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")

    def check(v: Any) -> bool:
        if types is not None and not types(v):
            return False
        if options is not None:
            if type(v) is str or v is None:
                if (type(v), v) not in plain:
                    return False
            elif not any(_same(v, o) for o in options):
                return False
        if isinstance(v, str):
            if len(v) < shortest or (longest is not None and len(v) > longest):
                return False
            return pattern is None or pattern.search(v) is not None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (
                (low is None or v >= low)
                and (high is None or v <= high)
                and (above is None or v > above)
                and (below is None or v < below)
            )
        return True

    return check


@cache
def _fast(name: str) -> Check | None:
    return _compile(_compact_schema(name))


def _problems(name: str, instance: Any, sensitive: Collection[JsonPath]) -> list[SchemaProblem]:
    fast = _fast(name)
    if fast is not None and fast(instance):
        return []
    found: list[SchemaProblem] = []
    for error in _validator(name).iter_errors(instance):
        found.extend(_explain(error, sensitive))
    unique = {(p.path, p.message): p for p in found}
    return sorted(unique.values(), key=lambda p: (json_path(p.path), p.message))


def _explain(error: ValidationError, sensitive: Collection[JsonPath]) -> list[SchemaProblem]:
    path: JsonPath = tuple(error.absolute_path)
    if error.validator == "anyOf":
        return _any_of(error, path, sensitive)
    special = _SPECIAL.get(str(error.validator))
    if special is not None:
        return special(error, path)
    secret = path in sensitive or bool(_schema(error).get("x-sensitive"))
    return [SchemaProblem(path, _message(error, secret))]


def _any_of(
    error: ValidationError, path: JsonPath, sensitive: Collection[JsonPath]
) -> list[SchemaProblem]:
    """Shapes told apart by their type (one scope or a list of scopes; one address or a
    list): the problems of the one shape of the value's type, else what was expected."""
    fitting = [i for i, s in enumerate(error.validator_value) if _fits(s, error.instance)]
    if len(fitting) == 1:
        found = []
        for sub in error.context or ():
            if sub.relative_schema_path and sub.relative_schema_path[0] == fitting[0]:
                found.extend(_explain(sub, sensitive))
        if found:
            return found
    wanted = sorted({_shape(s) for s in error.validator_value})
    got = _JSON_TYPES.get(type(error.instance), "number")
    return [SchemaProblem(path, f"expected {' or '.join(wanted)}, got {got}")]


def _fits(schema: Any, value: Any) -> bool:
    types = schema.get("type") if isinstance(schema, Mapping) else None
    if types is None:
        return False
    names = [types] if isinstance(types, str) else list(types)
    return _JSON_TYPES.get(type(value), "number") in {_YAML_NAMES.get(n, n) for n in names}


def _shape(schema: Any) -> str:
    types = schema.get("type", "value") if isinstance(schema, Mapping) else "value"
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_YAML_NAMES.get(str(n), str(n)) for n in names)


def _schema(error: ValidationError) -> Mapping[str, Any]:
    schema = error.schema
    return schema if isinstance(schema, Mapping) else {}


def _unknown(error: ValidationError, path: JsonPath) -> list[SchemaProblem]:
    known = list(_schema(error).get("properties", {}))
    extras = sorted(str(k) for k in error.instance if k not in known)
    out = []
    for key in extras:
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        out.append(SchemaProblem((*path, key), f"unknown field {quoted(key)}{hint}", at_key=True))
    return out


def _required(error: ValidationError, path: JsonPath) -> list[SchemaProblem]:
    missing = [m for m in error.validator_value if m not in error.instance]
    return [SchemaProblem((*path, m), f"missing required field '{m}'") for m in missing]


def _forbidden(error: ValidationError, path: JsonPath) -> list[SchemaProblem]:
    reason = _schema(error).get("x-forbidden")
    if not reason:
        return [SchemaProblem(path, "this value is not allowed here")]
    return [SchemaProblem(path, f"{quoted(str(path[-1]))} is not allowed: {reason}", at_key=True)]


def _one_of(error: ValidationError, path: JsonPath) -> list[SchemaProblem]:
    options = [s.get("required", [None])[0] for s in error.validator_value]
    if all(options):
        names = " or ".join(f"'{o}'" for o in options)
        return [SchemaProblem(path, f"exactly one of {names} is required")]
    return [SchemaProblem(path, "matches none, or more than one, of the allowed shapes")]


def _count(error: ValidationError, path: JsonPath) -> list[SchemaProblem]:
    schema = _schema(error)
    names = ", ".join(schema.get("properties", {}))
    if schema.get("minProperties") == schema.get("maxProperties") == 1 and names:
        return [SchemaProblem(path, f"must have exactly one of: {names}")]
    bound = "at least" if error.validator == "minProperties" else "at most"
    return [SchemaProblem(path, f"must have {bound} {error.validator_value} fields")]


_SPECIAL: dict[str, Callable[[ValidationError, JsonPath], list[SchemaProblem]]] = {
    "additionalProperties": _unknown,
    "required": _required,
    "not": _forbidden,
    "oneOf": _one_of,
    "minProperties": _count,
    "maxProperties": _count,
}

_JSON_TYPES = {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}
_YAML_NAMES = {"object": "mapping", "array": "list"}  # what YAML users call them
_BOUNDS = {
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "exclusiveMinimum": "must be more than {}",
    "exclusiveMaximum": "must be less than {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "multipleOf": "must be a multiple of {}",
}


def _message(error: ValidationError, secret: bool) -> str:
    """A message that never shows the value itself when it is sensitive."""
    kind, expected, value = str(error.validator), error.validator_value, error.instance
    if kind == "type":
        names = [str(n) for n in (expected if isinstance(expected, list) else [expected])]
        wanted = " or ".join(_YAML_NAMES.get(n, n) for n in names)
        got = _JSON_TYPES.get(type(value), "number")
        return f"expected {wanted}, got {got}"
    if kind == "enum":
        options = ", ".join(str(o) for o in expected if o is not None)
        plain = isinstance(value, (str, int, float)) and not secret
        shown = f" (got {_shown(value)})" if plain else ""
        return f"must be one of: {options}{shown}"
    if kind == "const":
        return f"must be {json.dumps(expected)}"
    if kind == "pattern":
        return _pattern_message(str(expected), value, secret)
    if kind == "minItems" and expected == 1:
        return "must not be empty"
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(expected)
    return f"fails the schema's '{kind}' check" if secret else error.message


_PATTERN_WORDS = {
    NAME_PATTERN: "must be a name without '/', line breaks or control characters",
    ONE_LINE_PATTERN: "must be one line, without line breaks or control characters",
}


def _pattern_message(pattern: str, value: Any, secret: bool) -> str:
    pattern = pattern.replace("\\Z", "$")  # as the schema writes it (see _END)
    words = _PATTERN_WORDS.get(pattern, f"must match the pattern {quoted(pattern)}")
    return words if secret else f"{words} (got {_shown(value)})"


def _shown(value: Any) -> str:
    """A value in a message: strings quoted with unsafe characters escaped, never raw."""
    return quoted(value) if isinstance(value, str) else repr(value)
