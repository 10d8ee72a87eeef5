"""Validates documents against the packaged JSON Schemas and lists ALL problems, with paths.

The only jsonschema user. It knows no YAML: a problem carries its JSON path as a tuple and
config.py turns that into file:line:col. It also keeps the offline reference lists (the
priorities and categories every Run:ai tenant has). Messages never echo a sensitive value,
and show others escaped.

A valid document never meets jsonschema: it passes a yes/no check generated from the schema
as Python source. The generator is written here rather than taken from fastjsonschema
because it writes code only for the keywords our schemas use, and only for the parts of a
schema a config's documents reach, which keeps every command's start-up cheap (see "the
fast path" below).
"""

from __future__ import annotations

import difflib
import json
import re
import threading
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
    """Load every schema and prepare its check now (before worker processes fork, so they
    share them; the check's code is compiled a part at a time, as documents need it)."""
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
# config load takes. Valid documents are the common case, so each schema is also turned into
# an exact yes/no predicate: Python source generated for the keywords our schemas use (a
# function per subschema that needs one, nested subschemas inlined as straight-line code) and
# compiled with `compile`. Only a document the predicate rejects goes through jsonschema,
# which then finds and words every error; where a schema uses any other keyword, the
# predicate says no (and jsonschema decides).
# A function is generated and compiled on its first call: a config meets a small part of its
# schemas (a template spec lists about a hundred fields), so start-up pays for no more.
# fastjsonschema generates code too, but for every keyword of every draft and for a whole
# schema at once: compiling the template schemas costs it more than a config of tens of
# thousands of documents then saves (bench/bench_validate.py compares the two).
Check = Callable[[Any], bool]
_IGNORED = frozenset({"$schema", "$defs", "x-sensitive", "x-forbidden"})
# The keywords that apply to values of one JSON type only; the Python types (exact: YAML
# builds no subclasses) of those values; the test that a value of type `{t}` is one; the
# generator's method writing their code.
_GROUPS: tuple[tuple[frozenset[str], frozenset[str], str, str], ...] = (
    (
        frozenset({"properties", "additionalProperties", "required"})
        | frozenset({"minProperties", "maxProperties", "propertyNames"}),
        frozenset({"dict"}),
        "{t} is dict",
        "mapping",
    ),
    (frozenset({"items", "minItems", "maxItems"}), frozenset({"list"}), "{t} is list", "array"),
    (
        frozenset({"minLength", "maxLength", "pattern"}),
        frozenset({"str"}),
        "{t} is str",
        "text",
    ),
    (
        frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
        frozenset({"int", "float"}),
        "{t} is int or {t} is float",
        "number",
    ),
)
_COMBINED = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref"})
_KNOWN = _COMBINED.union({"type", "enum", "const"}, *(g[0] for g in _GROUPS)) | _IGNORED
# Per JSON type: the Python types of its values and the test that `{v}` is one. A float with
# an integral value is an integer (as jsonschema has it); a bool is never a number.
_TYPES: dict[str, tuple[frozenset[str], str]] = {
    "string": (frozenset({"str"}), "{t} is str"),
    "integer": (frozenset({"int", "float"}), "{t} is int or ({t} is float and {v}.is_integer())"),
    "number": (frozenset({"int", "float"}), "{t} is int or {t} is float"),
    "boolean": (frozenset({"bool"}), "{t} is bool"),
    "null": (frozenset({"NoneType"}), "{v} is None"),
    "object": (frozenset({"dict"}), "{t} is dict"),
    "array": (frozenset({"list"}), "{t} is list"),
}
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None), dict, list})
_EVERY_TYPE = frozenset(t.__name__ for t in _PLAIN)
# Up to this many properties an object's check tests each of them inline; past it, it walks
# the document's keys (a few) through a table of per-property functions. Past this depth a
# subschema becomes a function of its own (Python limits how deeply blocks nest).
_INLINE_PROPERTIES = 12
_MAX_DEPTH = 12
_REMEMBERED = 4096  # matching strings remembered per pattern


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


def _same_as_any(value: Any, options: Sequence[Any]) -> bool:
    return any(_same(value, option) for option in options)


def _yes(value: Any) -> bool:
    return True


def _literal(value: Any) -> str | None:
    """`value` as Python source, when it is a plain literal."""
    if value is None or type(value) in (str, int, bool):
        return repr(value)
    if type(value) is float and abs(value) < float("inf"):  # NaN and infinities have none
        return repr(value)
    return None


def _known(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> bool:
    """True when the generator has code for every keyword of `schema` (not its subschemas)."""
    types = schema.get("type", [])
    ref = schema.get("$ref")
    return (
        schema.keys() <= _KNOWN
        and all(t in _TYPES for t in ([types] if isinstance(types, str) else types))
        and (ref is None or (str(ref).startswith("#/$defs/") and ref[8:] in defs))
    )


class _Later:
    """A subschema's predicate that generates and compiles its code on its first call, then
    takes that code's place everywhere it was put (the module's names, property tables)."""

    def __init__(self, generator: _Generator, schema: Any, name: str) -> None:
        self.generator, self.schema, self.name = generator, schema, name
        self.tables: list[dict[str, Check]] = []

    def __call__(self, value: Any) -> bool:
        return self.generator.compiled(self)(value)


class _Generator:
    """Generates and compiles the predicate of one (compacted) schema, a function at a time."""

    def __init__(self, root: Any, label: str) -> None:
        self.defs: Mapping[str, Any] = root.get("$defs", {}) if isinstance(root, dict) else {}
        self.label = label
        self.namespace: dict[str, Any] = {"_same_as_any": _same_as_any, "_yes": _yes}
        self.by_id: dict[int, str] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.root = self.function(root)

    def check(self) -> Check:
        """The predicate of the whole schema (its code once compiled)."""
        found: Check = self.namespace[self.root]
        return found

    def compiled(self, later: _Later) -> Check:
        with self.lock:  # one thread generates; another meanwhile waits, then finds it done
            done = self.namespace[later.name]
            if done is later:
                lines = [f"def {later.name}(v0):"]
                self.block(later.schema, "v0", lines, 1)
                source = "\n".join([*lines, "    return True\n"])
                exec(compile(source, f"<{self.label} schema check>", "exec"), self.namespace)
                done = self.namespace[later.name]
                for table in later.tables:
                    table.update((k, done) for k, v in table.items() if v is later)
        return done  # type: ignore[no-any-return]

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any) -> str:
        name = self.fresh("c")
        self.namespace[name] = value
        return name

    def literal(self, value: Any) -> str:
        written = _literal(value)
        return written if written is not None else self.constant(value)

    def function(self, schema: Any) -> str:
        """The name of `schema`'s predicate (compiled on its first call)."""
        if schema is True or schema == {}:
            return "_yes"
        name = self.by_id.get(id(schema))  # the compacted schemas live as long as the process
        if name is None:
            name = self.by_id[id(schema)] = self.fresh("f")
            self.namespace[name] = _Later(self, schema, name)
        return name

    def block(self, schema: Any, v: str, lines: list[str], depth: int) -> None:
        """Statements returning False from the function when `v` fails `schema`. A keyword
        the generator does not know makes it say no there: jsonschema then decides (tests keep
        the packaged schemas clear of such keywords)."""
        pad = "    " * depth
        if schema is True:
            return
        if schema is False or not isinstance(schema, dict) or not _known(schema, self.defs):
            lines.append(f"{pad}return False")
            return
        if depth > _MAX_DEPTH:
            lines.append(f"{pad}if not {self.function(schema)}({v}): return False")
            return
        kinds, t = _EVERY_TYPE, f"type({v})"
        groups = [g for g in _GROUPS if schema.keys() & g[0]]
        guarded = [g for g in groups if kinds & g[1]]
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            kinds = frozenset().union(*(_TYPES[n][0] for n in names))
            guarded = [g for g in groups if kinds & g[1] and not kinds <= g[1]]
            if len(names) > 1 or guarded or "integer" in names:
                t = self.fresh("t")
                lines.append(f"{pad}{t} = type({v})")
            tests = " or ".join(_TYPES[n][1].format(t=t, v=v) for n in names)
            lines.append(f"{pad}if not ({tests or 'False'}): return False")
        elif guarded:  # a value of any other type (a subclass) is left to jsonschema
            t = self.fresh("t")
            lines.append(f"{pad}{t} = type({v})")
            lines.append(f"{pad}if {t} not in {self.constant(_PLAIN)}: return False")
        if "enum" in schema or "const" in schema:
            options = schema["enum"] if "enum" in schema else [schema["const"]]
            lines.append(f"{pad}if {self.outside(options, v, kinds)}: return False")
        for group in groups:
            _, group_kinds, guard, method = group
            if not kinds & group_kinds:
                continue
            inner: list[str] = []
            getattr(self, method)(schema, v, inner, depth + (group in guarded))
            if inner and group in guarded:
                lines.append(f"{pad}if {guard.format(t=t)}:")
            lines.extend(inner)
        self.combined(schema, v, lines, depth)

    def outside(self, options: Sequence[Any], v: str, kinds: frozenset[str]) -> str:
        """A test that `v` equals none of `options`."""
        if not all(o is None or type(o) is str for o in options):
            return f"not _same_as_any({v}, {self.constant(tuple(options))})"
        found = [f"{v} is None"] if None in options else []
        texts = frozenset(o for o in options if o is not None)
        if texts:
            listed = self.constant(texts)
            is_text = kinds <= {"str"}
            found.append(
                f"{v} in {listed}" if is_text else f"(type({v}) is str and {v} in {listed})"
            )
        return f"not ({' or '.join(found)})" if found else "True"

    @staticmethod
    def sized(v: str, schema: Mapping[str, Any], low: str, high: str) -> list[str]:
        """Tests that `v` is too short or too long (`not v` for the common "not empty")."""
        tests = []
        if low in schema:
            tests.append(f"not {v}" if schema[low] == 1 else f"len({v}) < {int(schema[low])}")
        if high in schema:
            tests.append(f"len({v}) > {int(schema[high])}")
        return tests

    def text(self, schema: Mapping[str, Any], v: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        tests = self.sized(v, schema, "minLength", "maxLength")
        lines.extend(f"{pad}if {test}: return False" for test in tests)
        if "pattern" in schema:
            # A config repeats its strings (an image, a label, a variable's name): each is
            # searched once and remembered as matching, up to a bound.
            pattern = self.constant(re.compile(schema["pattern"]))
            matched = self.constant(set[str]())
            lines.append(f"{pad}if {v} not in {matched}:")
            lines.append(f"{pad}    if {pattern}.search({v}) is None: return False")
            lines.append(f"{pad}    if len({matched}) < {_REMEMBERED}: {matched}.add({v})")

    def number(self, schema: Mapping[str, Any], v: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        # jsonschema's own comparisons (a NaN fails none of them).
        for key, fails in (
            ("minimum", "<"),
            ("maximum", ">"),
            ("exclusiveMinimum", "<="),
            ("exclusiveMaximum", ">="),
        ):
            if key in schema:
                lines.append(f"{pad}if {v} {fails} {self.literal(schema[key])}: return False")

    def array(self, schema: Mapping[str, Any], v: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        tests = self.sized(v, schema, "minItems", "maxItems")
        lines.extend(f"{pad}if {test}: return False" for test in tests)
        self.each(schema.get("items", True), v, lines, depth)

    def mapping(self, schema: Mapping[str, Any], v: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        known = self.constant(frozenset(properties))
        tests = [f"not {v}.keys() <= {known}"] if extra is False else []
        tests.extend(f"{name!r} not in {v}" for name in schema.get("required", ()))
        tests.extend(self.sized(v, schema, "minProperties", "maxProperties"))
        lines.extend(f"{pad}if {test}: return False" for test in tests)
        if "propertyNames" in schema:
            self.each(schema["propertyNames"], v, lines, depth)
        if len(properties) > _INLINE_PROPERTIES:
            table = {name: self.namespace[self.function(s)] for name, s in properties.items()}
            for later in {id(c): c for c in table.values() if isinstance(c, _Later)}.values():
                later.tables.append(table)
            other = "_yes" if extra is False else self.function(extra)
            k, item = self.fresh("k"), self.fresh("v")
            lines.append(f"{pad}for {k}, {item} in {v}.items():")
            lines.append(f"{pad}    if not {self.constant(table)}.get({k}, {other})({item}):")
            lines.append(f"{pad}        return False")
            return
        for name, sub in properties.items():
            item, inner = self.fresh("v"), list[str]()
            self.block(sub, item, inner, depth + 1)
            if inner:
                lines.append(f"{pad}if {name!r} in {v}:")
                lines.append(f"{pad}    {item} = {v}[{name!r}]")
                lines.extend(inner)
        if extra is not False and properties:
            self.each(extra, v, lines, depth, unless=known)
        elif extra is not False:
            self.each(extra, f"{v}.values()", lines, depth)

    def each(
        self, schema: Any, v: str, lines: list[str], depth: int, unless: str | None = None
    ) -> None:
        """`schema` checked on each item of `v` (a list, a mapping's keys or its values), or
        on each value of the mapping `v` under a key not in the set named `unless`."""
        pad = "    " * depth
        item, inner = self.fresh("v"), list[str]()
        self.block(schema, item, inner, depth + 1 + (unless is not None))
        if not inner:
            return
        if unless is None:
            lines.append(f"{pad}for {item} in {v}:")
        else:
            k = self.fresh("k")
            lines.append(f"{pad}for {k}, {item} in {v}.items():")
            lines.append(f"{pad}    if {k} not in {unless}:")
        lines.extend(inner)

    def combined(self, schema: Mapping[str, Any], v: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        for sub in schema.get("allOf", ()):
            self.block(sub, v, lines, depth)
        if "anyOf" in schema:
            calls = " or ".join(f"{self.function(s)}({v})" for s in schema["anyOf"])
            lines.append(f"{pad}if not ({calls or 'False'}): return False")
        if "oneOf" in schema:
            calls = "".join(f"{self.function(s)}({v}), " for s in schema["oneOf"])
            lines.append(f"{pad}if ({calls}).count(True) != 1: return False")
        if "not" in schema:
            lines.append(f"{pad}if {self.function(schema['not'])}({v}): return False")
        if "if" in schema:
            then: list[str] = []
            other: list[str] = []
            self.block(schema.get("then", True), v, then, depth + 1)
            self.block(schema.get("else", True), v, other, depth + 1)
            test = f"{self.function(schema['if'])}({v})"
            if then:
                lines.append(f"{pad}if {test}:")
                lines.extend(then)
                lines.extend([f"{pad}else:", *other] if other else [])
            elif other:
                lines.append(f"{pad}if not {test}:")
                lines.extend(other)
        if "$ref" in schema:
            target = self.defs[schema["$ref"].removeprefix("#/$defs/")]
            lines.append(f"{pad}if not {self.function(target)}({v}): return False")


@cache
def _generator(name: str) -> _Generator:
    return _Generator(_compact_schema(name), name)


def _fast(name: str) -> Check:
    """The schema's exact validity predicate (False where a schema uses a keyword the
    generator does not know, which leaves that document to jsonschema)."""
    return _generator(name).check()


def _problems(name: str, instance: Any, sensitive: Collection[JsonPath]) -> list[SchemaProblem]:
    if _fast(name)(instance):
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
