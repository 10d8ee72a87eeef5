"""Turns one parsed document into a desired `Resource`, collecting every problem on the way.

Environment interpolation, the schema, the offline reference checks (priorities, categories,
manifests) and the normalized spec shape (docs/design.md, section 3). Pure: the YAML reader
(config.py) hands in the document, a way to locate paths and a way to load a `manifestFile`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.errors import Problem
from reconcile.expand import Placed, per_scope, scope_list
from reconcile.kinds.base import naming_paths
from reconcile.kinds.lookups import closest
from reconcile.kinds.registry import DOCUMENT_KINDS, KINDS
from reconcile.kinds.scopes import scope_text
from reconcile.model import NO_LIFECYCLE, Address, Lifecycle, Origin, Resource
from reconcile.paths import (
    ANY_ITEM,
    NAME_KEY,
    format_path,
    is_item,
    item_name,
    parse_path,
    segment_of,
)
from reconcile.printable import quoted
from reconcile.schema import (
    CATEGORIES,
    PRIORITIES,
    JsonPath,
    SchemaProblem,
    json_path,
    path_known,
    sensitive_patterns,
    validate_document,
)

MAX_MANIFEST_BYTES = 2 * 1024 * 1024  # the API's limit for a Workloads V2 manifest
_VAR = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LITERAL = re.compile(r"\$(?=\{[A-Za-z_][A-Za-z0-9_]*\})")  # a `$` that starts a `${VAR}`
# Paths that name the object rather than describe it: never ignored.
_IDENTITY = (("kind",), ("metadata", "name"), ("metadata", "scope"), ("lifecycle",))
# What a document's name checks (kinds/base.py NameCheck) may name, and the allowed names:
# the same on every tenant, so checked offline.
ALLOWED_NAMES: dict[str, tuple[str, ...]] = {"priority": PRIORITIES, "category": CATEGORIES}

Where = Callable[[JsonPath, bool], tuple[int, int]]


@dataclass(frozen=True)
class Source:
    """A parsed YAML document's file and how to find the line and column of a path in it."""

    file: str
    where: Where
    has_vars: bool = True  # False when the document holds no `${`: no interpolation
    marked: tuple[JsonPath, ...] = ()  # the paths of values tagged `!sensitive`

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> Problem:
        line, col = self.where(path, at_key)
        return Problem(message, file=self.file, line=line, col=col, json_path=json_path(path))


ManifestLoader = Callable[[str, Source, JsonPath], tuple[Any, Source | None, list[Problem]]]
"""(manifestFile value, the document's source, its path) -> (manifest, its source, problems)."""


@dataclass(frozen=True)
class Checked:
    """What one document yields: its resources (one per scope; none when they cannot be
    built) and problems."""

    placed: tuple[Placed, ...]
    problems: list[Problem]

    @property
    def resources(self) -> tuple[Resource, ...]:
        return tuple(p.resource for p in self.placed)

    @property
    def resource(self) -> Resource | None:
        """The one resource of a single-scope document (None when it has none or several)."""
        return self.placed[0].resource if len(self.placed) == 1 else None


def interpolate(
    value: Any,
    env: Mapping[str, str],
    path: JsonPath = (),
    *,
    shown: frozenset[str] = frozenset(),
) -> tuple[Any, list[JsonPath], list[tuple[JsonPath, str]]]:
    """`${VAR}` replaced in every string (`$${VAR}` is a literal `${VAR}`).

    Returns the new value, the paths whose value used a secret variable (any not `shown`:
    the process environment's, or a settings variable tagged !sensitive) and the (path,
    variable) pairs that are not set. Values never leave this function in text.
    """
    secret: list[JsonPath] = []
    missing: list[tuple[JsonPath, str]] = []

    def walk(node: Any, at: JsonPath) -> Any:
        if isinstance(node, str):
            return substitute(node, at) if "${" in node else node
        if isinstance(node, dict):
            return {k: walk(v, (*at, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*at, i)) for i, v in enumerate(node)]
        return node

    def substitute(text: str, at: JsonPath) -> str:
        def one(match: re.Match[str]) -> str:
            escaped, name = match.groups()
            if escaped:
                return "${" + name + "}"
            if name not in env:
                missing.append((at, name))
                return match.group(0)
            if name not in shown:
                used.append(name)
            return env[name]

        used: list[str] = []
        result = _VAR.sub(one, text)
        if used:
            secret.append(at)
        return result

    return walk(value, path), secret, missing


def escape_literal(text: str) -> str:
    """`text` with every `${VAR}` written `$${VAR}`: what `interpolate` reads back as `text`
    (for a value that is data, not a reference to the environment)."""
    return _LITERAL.sub("$$", text) if "${" in text else text


def check_document(
    doc: Any,
    source: Source,
    *,
    env: Mapping[str, str],
    load_manifest: ManifestLoader,
    shown: frozenset[str] = frozenset(),
) -> Checked:
    """Every problem of one document, and its resource when its identity is sound."""
    if doc is None:
        return Checked((), [source.problem((), "empty document (remove the stray '---')")])
    secret: list[JsonPath] = []
    missing: list[tuple[JsonPath, str]] = []
    if source.has_vars:
        doc, secret, missing = interpolate(doc, env, shown=shown)
    problems = [_unset(source, at, name) for at, name in missing]
    if secret or source.marked:
        problems.extend(_hidden_names(doc, source, secret))
        secret = list(dict.fromkeys([*secret, *source.marked]))
    problems.extend(_literal_secrets(doc, source, secret))
    found = validate_document(doc, sensitive=secret)
    problems.extend(_located(source, p) for p in found)
    identity_broken = any(p.path[:1] in (("kind",), ("metadata",)) for p in found)
    if not isinstance(doc, dict) or "spec" not in doc or identity_broken:
        return Checked((), problems)
    kind = doc["kind"]
    problems.extend(_references(doc, kind, source, secret))
    if kind == "DistributedTemplate" and doc.get("masterSpecSameAsWorker") and "master" in doc:
        message = "'master' must not be set when masterSpecSameAsWorker is true"
        problems.append(source.problem(("master",), message, at_key=True))
    lifecycle_broken = any(p.path[:1] == ("lifecycle",) for p in found)
    if not lifecycle_broken:
        problems.extend(_ignored_paths(doc, kind, source))
    spec = doc["spec"]
    if kind == "Workload" and not any(_about_manifest(p.path) for p in found):
        manifest, problems_of_manifest, more_secret = _manifest(
            spec, source, env, shown, load_manifest
        )
        problems.extend(problems_of_manifest)
        secret.extend(more_secret)
        spec = {k: v for k, v in spec.items() if k != "manifestFile"} | {"manifest": manifest}
    lifecycle = NO_LIFECYCLE if lifecycle_broken else _lifecycle(doc)
    resource = _resource(kind, {**doc, "spec": spec}, source, secret, lifecycle)
    scopes = scope_list(doc)
    if scopes is None:
        line, col = source.where(("metadata", "name"), False)
        return Checked((Placed(resource, line, col),), problems)
    placed, moved_problems = per_scope(resource, scopes, source)
    return Checked(placed, [*problems, *moved_problems])


def _hidden_names(doc: Any, source: Source, from_env: list[JsonPath]) -> list[Problem]:
    """A hidden value where a name goes: refused, as a name becomes part of an address, a
    field path or a message, and a secret cannot be both hidden and shown."""
    secret_kind = ("kind",) in from_env or ("kind",) in source.marked
    kind = None if secret_kind or not isinstance(doc, dict) else KINDS.get(str(doc.get("kind")))
    naming = naming_paths(kind)
    problems = []
    for paths, what in (
        (from_env, "a value from ${VAR}"),
        (source.marked, "a value tagged !sensitive"),
    ):
        for path in paths:
            if _names(path, naming):
                message = f"{what} cannot be a name (names are shown): write the name plainly"
                problems.append(source.problem(path, message))
    return problems


def _literal_secrets(doc: Any, source: Source, hidden: list[JsonPath]) -> list[Problem]:
    """A secret the API holds (a field the schema marks x-sensitive) written plainly: refused,
    as a config in git must not hold it. It comes from `${VAR}` or a `!sensitive` value."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    patterns = sensitive_patterns(kind) if isinstance(kind, str) else ()
    problems = []
    for pattern in patterns:
        for path in _concrete(doc, parse_path(pattern)):
            if not any(path[: len(h)] == h for h in hidden):
                message = (
                    "a secret cannot be written in the config: write ${VAR} and set VAR in the "
                    "environment, or tag the value !sensitive"
                )
                problems.append(source.problem(path, message))
    return problems


def _concrete(node: Any, segments: tuple[str, ...], at: JsonPath = ()) -> list[JsonPath]:
    """The paths in `node` that the parsed pattern `segments` names (`[*]`: any item)."""
    if not segments:
        return [] if node is None else [at]
    head, rest = segments[0], segments[1:]
    if is_item(head) and isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _concrete(item, rest, (*at, i))]
    if isinstance(node, dict) and head in node:
        return _concrete(node[head], rest, (*at, head))
    return []


def _names(path: JsonPath, naming: tuple[tuple[str, ...], ...]) -> bool:
    """True when `path` lies at or under a naming path, or is a list item's name (diff
    paths name list items by it)."""
    if len(path) >= 2 and isinstance(path[-2], int) and path[-1] == NAME_KEY:
        return True
    return any(path[: len(prefix)] == prefix for prefix in naming)


def _ignored_paths(doc: dict[str, Any], kind: str, source: Source) -> list[Problem]:
    """Each `lifecycle.ignoreChanges` path must parse and lie where the kind's schema has a
    field (a misspelt path would silently ignore nothing)."""
    paths = doc.get("lifecycle", {}).get("ignoreChanges", [])
    problems = []
    for index, path in enumerate(paths):
        at = ("lifecycle", "ignoreChanges", index)
        try:
            segments = parse_path(path)
        except ValueError as error:
            problems.append(source.problem(at, str(error)))
            continue
        if any(segments[: len(i)] == i for i in _IDENTITY):
            problems.append(source.problem(at, f"{path} is the object's identity: never ignored"))
        elif not path_known(kind, segments):
            problems.append(source.problem(at, f"{path}: no such field in a {kind}"))
    return problems


def _lifecycle(doc: dict[str, Any]) -> Lifecycle:
    declared = doc.get("lifecycle")
    if not declared:
        return NO_LIFECYCLE
    moved = declared.get("movedFrom", [])
    moved = [moved] if isinstance(moved, str) else moved
    return Lifecycle(  # a repeated item says nothing more: kept once, in order
        moved_from=tuple(map(Address.parse, dict.fromkeys(moved))),
        protect=declared.get("protect") is True,
        ignore_changes=tuple(dict.fromkeys(declared.get("ignoreChanges", ()))),
    )


def _about_manifest(path: JsonPath) -> bool:
    return path == ("spec",) or path[:2] in (("spec", "manifest"), ("spec", "manifestFile"))


def _unset(source: Source, at: JsonPath, name: str) -> Problem:
    message = (
        f"variable {name} is set neither in the settings' variables nor in the environment "
        f"(write $${{{name}}} for a literal ${{{name}}})"
    )
    return source.problem(at, message)


def _located(source: Source, problem: SchemaProblem) -> Problem:
    return source.problem(problem.path, problem.message, at_key=problem.at_key)


def _references(
    doc: dict[str, Any], kind: str, source: Source, secret: list[JsonPath]
) -> list[Problem]:
    problems = []
    for check in KINDS[kind].name_checks:
        node: Any = doc
        for key in check.at:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        for field, what in check.fields:
            allowed = ALLOWED_NAMES[what]
            value = node.get(field)
            path = (*check.at, field)
            # A wrong type is the schema's to report; a hidden name is refused already.
            if not isinstance(value, str) or value in allowed or path in secret:
                continue
            hint = closest(value, allowed, limit=1)
            message = f"unknown {what} {quoted(value)}: must be one of {', '.join(allowed)}{hint}"
            problems.append(source.problem(path, message))
    return problems


def _manifest(
    spec: dict[str, Any],
    source: Source,
    env: Mapping[str, str],
    shown: frozenset[str],
    load: ManifestLoader,
) -> tuple[Any, list[Problem], list[JsonPath]]:
    if "manifest" in spec:
        return spec["manifest"], check_manifest(spec["manifest"], source, ("spec", "manifest")), []
    manifest, where, problems = load(spec["manifestFile"], source, ("spec", "manifestFile"))
    if where is None:
        return manifest, problems, []
    manifest, secret, missing = interpolate(manifest, env, shown=shown)
    problems.extend(_unset(where, at, name) for at, name in missing)
    problems.extend(check_manifest(manifest, where, ()))
    return manifest, problems, [("spec", "manifest", *p) for p in secret]


def check_manifest(manifest: Any, source: Source, base: JsonPath) -> list[Problem]:
    """A Workloads V2 manifest: one Kubernetes object, named, at most 2 MiB as JSON."""
    if not isinstance(manifest, dict):
        return [source.problem(base, "the manifest must be one Kubernetes object (a mapping)")]
    problems = []
    for field in ("apiVersion", "kind"):
        if not isinstance(manifest.get(field), str) or not manifest[field]:
            problems.append(source.problem((*base, field), f"the manifest needs '{field}'"))
    metadata = manifest.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        problems.append(
            source.problem((*base, "metadata", "name"), "the manifest needs 'metadata.name'")
        )
    size = len(json.dumps(manifest, separators=(",", ":")).encode("utf-8"))
    if size > MAX_MANIFEST_BYTES:
        problems.append(
            source.problem(base, f"the manifest is {size} bytes; the API takes at most 2 MiB")
        )
    return problems


def _resource(
    kind: str, doc: dict[str, Any], source: Source, secret: list[JsonPath], lifecycle: Lifecycle
) -> Resource:
    metadata = doc["metadata"]
    one = isinstance(metadata.get("scope"), dict)
    scope = scope_text(metadata["scope"]) if one else ""  # a list: per_scope names each
    address = Address(DOCUMENT_KINDS[kind], scope, str(metadata["name"]))
    spec = {k: v for k, v in doc.items() if k not in ("kind", "metadata", "lifecycle")}
    rest = {k: v for k, v in metadata.items() if k not in ("name", "scope")}
    if rest:
        spec = {"metadata": rest, **spec}
    line, col = source.where((), False)
    patterns = {format_path(_segments(doc, p)) for p in secret}
    patterns.update(sensitive_patterns(kind))
    # Normalized here, in the worker processes that read a big config, rather than by the
    # planner: every user of the desired set wants the canonical form (defaults filled).
    spec = KINDS[kind].normalize(spec)
    return Resource(address, spec, Origin(source.file, line, col), frozenset(patterns), lifecycle)


def _segments(doc: Any, path: JsonPath) -> list[str]:
    """`path` in the path grammar: a list item by its name where it has one (the diff keys
    such lists by name, and its siblings' values stay visible), else `[*]`. An item's name
    is never hidden (`_hidden_names`), so naming it shows nothing secret."""
    segments: list[str] = []
    node = doc
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            segments.append(segment_of(item) if item_name(item) is not None else ANY_ITEM)
            node = item
        else:
            segments.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return segments
