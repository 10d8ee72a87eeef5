"""The Run:ai 2.24 spec slice as the emulator uses it: body validation and schema defaults.

OpenAPI 3.0 schemas (`nullable`, `allOf`, `$ref`) are converted once to JSON Schema 2020-12
and checked with jsonschema; `defaults` walks the original schemas. No HTTP here.

jsonschema words every problem but walks every subschema to do it. A body first meets
jsonschema_rs's yes/no check of the same converted schemas: a yes ends the check, a no goes
to jsonschema, which decides and says why (tests/emulator/test_openapi_check.py holds the yes
to jsonschema's: never a yes where jsonschema finds a problem).
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_URI = "urn:runai-2.24-slice"
_MAX_MESSAGE = 240
_NO_DEFAULT = object()


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema 2020-12: `nullable: true` becomes an explicit null option."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {
        key: (
            value
            if key in ("example", "examples", "default", "enum")
            # A map of property names, not a schema: a property may be named `required`.
            else {name: _convert(item) for name, item in value.items()}
            if key == "properties" and isinstance(value, dict)
            else _convert(value)
        )
        for key, value in node.items()
        if key != "nullable"
    }
    if "$ref" in out:
        out["$ref"] = _URI + out["$ref"]
    if "type" not in out and ("properties" in out or "required" in out):
        # Many of the spec's object schemas (allOf pieces, `meta` members) omit `type:
        # object`, which would let `"meta": 0` or `"meta": null` through; Run:ai refuses
        # a non-object where the schema lists properties.
        out["type"] = "object"
    elif "type" not in out and "items" in out:
        out["type"] = "array"  # the same for arrays: `fieldsToClear` has items but no type
    if node.get("nullable") is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        # null must pass even where the schema's parts (allOf, a $ref) are object-typed.
        if "type" not in out or any(k in out for k in ("allOf", "anyOf", "oneOf", "$ref")):
            return {"anyOf": [{"type": "null"}, out]}
        if isinstance(out["type"], str):
            out["type"] = [out["type"], "null"]
    return out


_PREFIX = _URI + "#/components/schemas/"
_LITERAL = frozenset({"example", "examples", "default", "enum"})
# Keywords that hold one subschema, a list of them, or a map of names to them.
_ONE_SCHEMA = frozenset({"additionalProperties", "items", "not", "if", "then", "else"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_MAPS = frozenset({"properties", "$defs"})


def _local(node: Any) -> Any:
    """A converted schema with its references made local (`#/$defs/NAME`), for a root that
    holds every schema under `$defs`."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = "#/$defs/" + value[len(_PREFIX) :]
        elif key in _ONE_SCHEMA:
            out[key] = _local(value)
        elif key in _SCHEMA_LISTS:
            out[key] = [_local(item) for item in value]
        elif key in _SCHEMA_MAPS:
            out[key] = {name: _local(item) for name, item in value.items()}
        else:
            out[key] = value
    return out


def _refs(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                out.add(value[len(_PREFIX) :])
            elif key not in _LITERAL:
                _refs(value, out)
    elif isinstance(node, list):
        for item in node:
            _refs(item, out)
    return out


def _cyclic(schemas: dict[str, Any]) -> frozenset[str]:
    """Names that can reach themselves through $ref (these stay references)."""
    graph = {name: _refs(schema, set()) for name, schema in schemas.items()}
    cyclic: set[str] = set()
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen:
                seen.add(name)
                todo.extend(graph.get(name, ()))
    return frozenset(cyclic)


class _Inliner:
    """Replaces acyclic `$ref`s by the schemas they name: resolving references dominated
    validation time (about 1 ms per template body), inlined schemas validate several times
    faster."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.cyclic = _cyclic(schemas)
        self.done: dict[str, Any] = {}

    def named(self, name: str) -> Any:
        if name in self.cyclic:
            return {"$ref": _PREFIX + name}
        if name not in self.done:
            self.done[name] = self.node(self.schemas[name])
        return self.done[name]

    def node(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.node(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {
            key: (value if key in _LITERAL else self.node(value))
            for key, value in node.items()
            if key != "$ref"
        }
        ref = node.get("$ref")
        if ref is None:
            return out
        target = self.named(ref[len(_PREFIX) :])
        if not out:
            return target
        out["allOf"] = [target, *out.get("allOf", [])]
        return out


def _where(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            parts.append(str(missing[0]))
    return ".".join(parts) or "(body)"


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors worth reporting: inside a nullable wrapper, the non-null branch's errors."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        inner = [
            e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
        ]
        if inner:
            return [leaf for e in inner for leaf in _leaves(e)]
    return [error]


class OpenApi:
    """The spec slice: component schemas, operations, validation and defaults."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        if document is None:
            text = resources.files("reconcile.emulator.data").joinpath(
                "runai-2.24-openapi-slice.json"
            )
            document = json.loads(text.read_text(encoding="utf-8"))
        self.document: dict[str, Any] = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        converted = {"components": {"schemas": _convert(self.schemas)}}
        self._inliner = _Inliner(converted["components"]["schemas"])
        resource: Resource[Any] = DRAFT202012.create_resource(converted)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self._validators: dict[str, Any] = {}
        self.local_schemas = {
            name: _local(schema) for name, schema in converted["components"]["schemas"].items()
        }
        self._quick: dict[str, Any] = {}
        self._props_cache: dict[int, dict[str, Any]] = {}
        self._fillable_cache: dict[int, list[tuple[str, dict[str, Any], Any]]] = {}

    def has_schema(self, name: str) -> bool:
        return name in self.schemas

    def _validator(self, name: str) -> Any:
        validator = self._validators.get(name)
        if validator is None:
            if name not in self.schemas:
                raise KeyError(f"no schema {name!r} in the spec slice")
            schema = self._inliner.named(name)
            validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
            self._validators[name] = validator
        return validator

    def quick_check(self, name: str) -> Any:
        """jsonschema_rs's validator of the converted schema `name` (formats unchecked, as
        jsonschema leaves them): its `is_valid` is the yes-path of `validate`."""
        quick = self._quick.get(name)
        if quick is None:
            if name not in self.schemas:
                raise KeyError(f"no schema {name!r} in the spec slice")
            root = {"$defs": self.local_schemas, "$ref": f"#/$defs/{name}"}
            quick = jsonschema_rs.Draft202012Validator(root, validate_formats=False)
            self._quick[name] = quick
        return quick

    def validate(self, schema_name: str, value: Any) -> list[str]:
        """Every problem as `path.to.field: message`, sorted by path; empty when valid."""
        if self.quick_check(schema_name).is_valid(value):
            return []
        return self.problems(schema_name, value)

    def problems(self, schema_name: str, value: Any) -> list[str]:
        """jsonschema's problems with `value`, worded as `validate` gives them."""
        problems: set[str] = set()
        for error in self._validator(schema_name).iter_errors(value):
            for leaf in _leaves(error):
                message = leaf.message
                if len(message) > _MAX_MESSAGE:
                    message = message[: _MAX_MESSAGE - 3] + "..."
                problems.add(f"{_where(leaf)}: {message}")
        return sorted(problems)

    def schema(self, name: str) -> dict[str, Any]:
        return dict(self.schemas[name])

    def response_schema(self, path: str, method: str, status: int) -> str | None:
        """The components/schemas name of an operation's JSON response, if it has one."""
        operation = self.document["paths"].get(path, {}).get(method.lower(), {})
        response = operation.get("responses", {}).get(str(status), {})
        ref = response.get("content", {}).get("application/json", {}).get("schema", {})
        target = ref.get("$ref", "")
        return target.rsplit("/", 1)[-1] if target.startswith("#/components/schemas/") else None

    # --- defaults ------------------------------------------------------------------------

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def _default_of(self, node: dict[str, Any]) -> Any:
        if "default" in node:
            return node["default"]
        for part in node.get("allOf", []):
            found = self._default_of(part)
            if found is not _NO_DEFAULT:
                return found
        if "$ref" in node:
            return self._default_of(self._resolve(node))
        return _NO_DEFAULT

    def _properties(self, node: dict[str, Any]) -> dict[str, Any]:
        node = self._resolve(node)
        props: dict[str, Any] = dict(node.get("properties", {}))
        for part in node.get("allOf", []):
            props.update(self._properties(part))
        return props

    def _props_of(self, node: dict[str, Any]) -> dict[str, Any]:
        # Merged properties per schema node, computed once (the slice never changes).
        props = self._props_cache.get(id(node))
        if props is None:
            props = self._properties(node)
            self._props_cache[id(node)] = props
        return props

    def property_names(self, schema_name: str) -> frozenset[str]:
        """The top-level property names of a schema, through `$ref` and `allOf`."""
        return frozenset(self._props_of(self.schemas[schema_name]))

    def _items(self, node: dict[str, Any]) -> dict[str, Any] | None:
        node = self._resolve(node)
        if "items" in node:
            items: dict[str, Any] = node["items"]
            return items
        for part in node.get("allOf", []):
            found = self._items(part)
            if found is not None:
                return found
        return None

    def _fillable(self, node: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
        """(name, schema, default) of each property of `node`, computed once per node (the
        slice never changes); `_NO_DEFAULT` where there is none or it is `default: null`,
        which adds nothing a reader could tell from absence."""
        fillable = self._fillable_cache.get(id(node))
        if fillable is None:
            fillable = []
            for name, prop in self._props_of(node).items():
                default = self._default_of(prop)
                fillable.append((name, prop, _NO_DEFAULT if default is None else default))
            self._fillable_cache[id(node)] = fillable
        return fillable

    def _fill(self, node: dict[str, Any], value: Any) -> None:
        if isinstance(value, dict):
            for name, prop, default in self._fillable(node):
                if name not in value:
                    if default is not _NO_DEFAULT:
                        value[name] = copy.deepcopy(default)
                elif value[name] is not None:
                    self._fill(prop, value[name])
        elif isinstance(value, list):
            items = self._items(node)
            if items is not None:
                for element in value:
                    self._fill(items, element)

    def defaults(self, schema_name: str, value: Any) -> Any:
        """A copy of `value` with the schema's `default:` values set for absent properties,
        recursively into nested objects and array items (null members are left alone)."""
        out = copy.deepcopy(value)
        self._fill(self.schemas[schema_name], out)
        return out
