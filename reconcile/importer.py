"""Live objects -> the config documents a person would have written (`import`).

The inverse of reading a config: server-owned fields and schema defaults are left out (each
kind's `minimal`), ids are names, credentials become `${VAR}` placeholders, and every
document is read back through the config checks before it is kept, so what is written plans
"No changes.". Decides files and their text; the CLI reads the server and writes them.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from reconcile import expand, jsonfast
from reconcile.documents import Source, check_document, escape_literal
from reconcile.errors import Problem
from reconcile.kinds.base import Kind
from reconcile.kinds.lookups import UNKNOWN_PREFIX, Lookups
from reconcile.kinds.registry import BY_SLUG, DOCUMENT_KINDS, KINDS
from reconcile.kinds.scopes import scope_mapping
from reconcile.live_view import LiveView
from reconcile.model import Address, LiveResource, Spec
from reconcile.paths import delete, format_path, item_segment, parse_path, set_value
from reconcile.schema import sensitive_patterns
from reconcile.yamlwrite import dump_documents

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VAR_CHARS = re.compile(r"[^A-Z0-9]+")
_UNKNOWN = UNKNOWN_PREFIX.encode("ascii")
HEADER = "# Imported from the server by `runai-reconcile import`.\n"


@dataclass(frozen=True)
class Selection:
    """Which live objects to import: every filter that is given must match."""

    slugs: frozenset[str] = frozenset()  # address kinds (`workspace-template`); empty: all
    scopes: tuple[str, ...] = ()  # address scopes (`project=team-a`, `tenant`); empty: all
    names: tuple[str, ...] = ()  # shell globs on the name; empty: all
    builtin: bool = False  # also the objects Run:ai ships (built-in workload types as shipped)

    def wants(self, address: Address) -> bool:
        return (
            (not self.slugs or address.kind in self.slugs)
            and (not self.scopes or address.scope in self.scopes)
            and (not self.names or any(fnmatch.fnmatchcase(address.name, g) for g in self.names))
        )


@dataclass(frozen=True)
class Variable:
    """An environment variable a placeholder names; its value stays on the server. `unread`:
    the server never answers with it (a credential's secret), so nobody but its owner knows
    the value to set."""

    name: str
    address: Address
    path: str
    unread: bool = False


@dataclass(frozen=True)
class Imported:
    """One live object as a document, with what its state entry needs."""

    address: Address
    remote_id: str
    file: str  # relative to the config directory
    document: dict[str, Any]
    spec: Spec  # the normalized spec the document reads back as (the live one)
    sensitive: tuple[str, ...]  # its sensitive path patterns (for the state's hashes)
    variables: tuple[Variable, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """A live object left out, and why."""

    address: Address
    reason: str


@dataclass(frozen=True)
class ImportResult:
    objects: tuple[Imported, ...]
    skipped: tuple[Skipped, ...]  # could not be represented: reported, exit non-zero
    builtin: int = 0  # Run:ai's own objects left out (`--all` imports them)
    described: int = 0  # already described by a document of the target directory


def collect(
    live: LiveView, selection: Selection, *, described: Collection[Address] = ()
) -> ImportResult:
    """The documents for the selected live objects that no document describes yet."""
    resources = [r for a, r in sorted(live.resources.items()) if selection.wants(a)]
    birth = _tenant_birth(live.resources.values())
    objects: list[Imported] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()  # variable names given out
    builtin = already = 0
    for resource in resources:
        if resource.address in described:
            already += 1
            continue
        if not selection.builtin and _shipped(resource, birth):
            builtin += 1
            continue
        kind = BY_SLUG[resource.address.kind]
        outcome = _import_one(kind, resource, live.lookups, taken)
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            objects.append(outcome)
    return ImportResult(tuple(objects), tuple(skipped), builtin, already)


def _tenant_birth(resources: Iterable[LiveResource]) -> str | None:
    """When the tenant's built-in workload types were made: the oldest type's `createdAt`."""
    stamps = [
        str(r.raw["createdAt"])
        for r in resources
        if r.address.kind == "workload-type"
        and isinstance(r.raw, Mapping)
        and r.raw.get("createdAt")
    ]
    return min(stamps) if stamps else None


def _shipped(resource: LiveResource, birth: str | None) -> bool:
    """Run:ai's own: system-scoped objects, and workload types made with the tenant and
    never changed since (a built-in left as shipped is nothing a user set)."""
    if resource.address.scope == "system":
        return True
    if resource.address.kind != "workload-type" or not isinstance(resource.raw, Mapping):
        return False
    created, updated = resource.raw.get("createdAt"), resource.raw.get("updatedAt")
    return created is not None and created == birth and updated in (None, created)


def _import_one(
    kind: Kind, live: LiveResource, lookups: Lookups, taken: set[str]
) -> Imported | Skipped:
    address = live.address
    if address.scope == "system" or UNKNOWN_PREFIX in address.scope:
        return Skipped(address, f"its scope {address.scope!r} is not one a document can name")
    # The JSON text answers "no `id:` anywhere" in C; only where it may be is the object read
    # again, recording the ids the lookups lacked (a user's own value may look the same).
    unresolved = _unresolved(kind, live, lookups) if _UNKNOWN in jsonfast.dumps(live.spec) else ""
    if unresolved:
        return Skipped(address, f"it refers to an object the server does not list ({unresolved})")
    file = file_for(address)
    if file is None:
        return Skipped(address, f"its scope {address.scope!r} is not a safe file name")
    last = ""
    # Secrets the server never answers with get a placeholder where the document needs one
    # (a credential takes the one secret of its type, or none with `existingSecretName`).
    paths = kind.write_only_paths
    for unread in dict.fromkeys((paths, *((p,) for p in paths), ())):
        for spec in (kind.minimal(live.spec), live.spec):
            document, variables, env, has_vars = _placeholders(
                kind, address, document_of(kind, address, _with_unread(spec, unread)), taken
            )
            source = Source(file, _nowhere, has_vars=has_vars)
            read = check_document(document, source, env=env, load_manifest=_inline)
            if read.problems:
                last = f"it does not validate as a document: {_first(read.problems)}"
            elif read.resource is None or _without(read.resource.spec, unread) != live.spec:
                last = "its document does not read back as the object the server holds"
            else:
                sensitive = tuple(sorted(read.resource.sensitive))
                taken.update(v.name for v in variables)
                variables = tuple(replace(v, unread=v.path in unread) for v in variables)
                return Imported(
                    address, live.remote_id, file, document, live.spec, sensitive, variables
                )
    if paths:  # a secret no single placeholder stands for (a generic secret's pairs)
        last += "; the server never shows its secret: write its document by hand"
    return Skipped(address, last)


_UNREAD = "unread"  # stands in for a secret the server keeps, until it becomes `${VAR}`


def _with_unread(spec: Spec, paths: Collection[str]) -> Spec:
    if not paths:  # nothing to set: the spec as it is (nothing downstream edits it)
        return spec
    out = copy.deepcopy(spec)
    for path in paths:
        set_value(out, path, _UNREAD)
    return out


def _without(spec: Spec, paths: Collection[str]) -> Spec:
    if not paths:
        return spec
    out = copy.deepcopy(spec)
    for path in paths:
        delete(out, path)
    return out


def document_of(kind: Kind, address: Address, spec: Spec) -> dict[str, Any]:
    """The document whose desired spec is `spec` (documents.py builds the other way)."""
    metadata: dict[str, Any] = {"name": address.name}
    if address.scope:
        metadata["scope"] = scope_mapping(address.scope)
    metadata.update(spec.get("metadata") or {})
    document: dict[str, Any] = {"kind": kind.document_kind, "metadata": metadata}
    document["spec"] = spec.get("spec") or {}
    document.update({k: v for k, v in spec.items() if k not in ("metadata", "spec")})
    return document


def file_for(address: Address) -> str | None:
    """`workspace-templates/project-team-a.yaml`; `workload-types.yaml`; None when the scope
    name cannot be part of a file name."""
    if not address.scope:
        return f"{address.kind}s.yaml"
    scope_type, _, name = address.scope.partition("=")
    if name and not _SAFE_NAME.fullmatch(name):
        return None
    return f"{address.kind}s/{scope_type}{'-' + name if name else ''}.yaml"


def _unresolved(kind: Kind, live: LiveResource, lookups: Lookups) -> str:
    """The ids `live` names that the server's lists lack, as the lookups word them ("" for
    none): its object translated again with lookups that record each such id."""
    if not isinstance(live.raw, Mapping):
        return "its server object is not at hand"
    probe = lookups.collecting()
    kind.from_live(live.raw, probe)
    assert probe.misses is not None
    return "; ".join(m for found in probe.misses.found.values() for m in found)


def _placeholders(
    kind: Kind, address: Address, document: dict[str, Any], taken: Collection[str]
) -> tuple[dict[str, Any], tuple[Variable, ...], dict[str, str], bool]:
    """`document` as text to write: every value at a sensitive path replaced by `${VAR}` (the
    returned env maps VAR to the value), every other `${...}` escaped to read literally; and
    whether any string now holds `${` (only then is it read with interpolation)."""
    patterns = _sensitive_segments(kind.document_kind)
    on_the_way = _sensitive_prefixes(kind.document_kind)
    variables: list[Variable] = []
    env: dict[str, str] = {}
    escaped = False

    def walk(node: Any, at: tuple[str, ...], label: tuple[str, ...]) -> Any:
        if at not in on_the_way:  # no sensitive path below: no paths to follow
            return plain(node)
        if at in patterns and node is not None:
            name = _variable_name(address, label, taken, env)
            env[name] = str(node)
            variables.append(Variable(name, address, format_path(label)))
            return "${" + name + "}"
        if isinstance(node, dict):
            return {k: walk(v, (*at, k), (*label, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*at, "[*]"), (*label, _item_label(v, i))) for i, v in enumerate(node)]
        return plain(node)

    def plain(node: Any) -> Any:
        if isinstance(node, str):
            if "${" not in node:
                return node
            nonlocal escaped
            escaped = True
            return escape_literal(node)
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        if isinstance(node, list):
            return [plain(v) for v in node]
        return node

    # Sensitive paths are paths of the desired spec: `spec.x` of the document, and `metadata`
    # (name, scope, description) is the document's own.
    walked = {k: walk(v, (k,), (k,)) for k, v in document.items()}
    return walked, tuple(variables), env, escaped or bool(variables)


# Environment variable values, wherever a template holds them: a value read from the server
# may be a secret someone typed there, and an imported file goes into git, so import writes
# each as `${VAR}` (then sensitive when read, like any `${VAR}`) beside the schema's own.
_IMPORTED_AS_VARIABLES = (
    "spec.environmentVariables[*].value",
    "master.spec.environmentVariables[*].value",
    "spec.specificEnv.environmentVariables[*].value",
)


@cache
def _sensitive_segments(document_kind: str) -> tuple[tuple[str, ...], ...]:
    patterns = (*sensitive_patterns(document_kind), *_IMPORTED_AS_VARIABLES)
    return tuple(dict.fromkeys(parse_path(p) for p in patterns))


@cache
def _sensitive_prefixes(document_kind: str) -> frozenset[tuple[str, ...]]:
    """Every path that is a sensitive path or leads to one."""
    return frozenset(p[:n] for p in _sensitive_segments(document_kind) for n in range(len(p) + 1))


def _item_label(item: Any, index: int) -> str:
    """The path segment of a list item: `[name=API_KEY]`, else its position `[0]`."""
    if isinstance(item, dict) and item.get("name"):
        return item_segment("name", item["name"])
    return f"[{index}]"


def _variable_name(
    address: Address, label: tuple[str, ...], taken: Collection[str], new: Collection[str]
) -> str:
    """`WORKSPACE_TEMPLATE_PROJECT_TEAM_A_JUPYTER_API_KEY`: kind, scope, name and the item's
    name (`MASTER_` first for a distributed template's master); numbered when it clashes."""
    items = [
        p.removeprefix("[name=").strip("[]")
        for p in label[:-1]
        if p not in ("spec", "specificEnv", "environmentVariables")
    ]
    parts = [address.kind, address.scope, address.name, *items]
    base = _VAR_CHARS.sub("_", "_".join(parts).upper()).strip("_") or "VALUE"
    if base[0].isdigit():
        base = "V_" + base
    name, number = base, 1
    while name in taken or name in new:
        number += 1
        name = f"{base}_{number}"
    return name


def _nowhere(path: Any, at_key: bool) -> tuple[int, int]:
    return (0, 0)


def _inline(value: str, source: Source, at: Any) -> tuple[Any, Source | None, list[Problem]]:
    """Imported Workloads carry their manifest inline: no `manifestFile` to load."""
    return None, None, [source.problem(at, "manifestFile is not used by imported documents")]


def _first(problems: list[Problem]) -> str:
    problem = problems[0]
    return f"{problem.message} [{problem.json_path}]" if problem.json_path else problem.message


# --- files ---------------------------------------------------------------------------------


def render_files(
    objects: Iterable[Imported], *, existing: Collection[str] = (), fold: bool = False
) -> tuple[dict[str, str], list[str], list[Variable]]:
    """File name -> YAML text, documents by address; the clashes: a file name taken by a
    user's file becomes `NAME.imported.yaml` (then `.imported-2.yaml`, ...), and says so;
    and the variables the documents name.

    `fold`: objects identical but for their scope (same kind, name and normalized spec) are
    one document listing the scopes, in the kind's `many-scopes.yaml` (a name no scope's
    file can take). It is the document of the first scope: where values became `${VAR}`,
    the variables named after that scope serve them all (the values are the same)."""
    ordered = sorted(objects, key=lambda o: o.address)
    by_file: dict[str, list[dict[str, Any]]] = {}
    variables: list[Variable] = []
    if fold:
        # A secret the server never shows may differ where all else is equal: such objects
        # keep a document (and a variable) each.
        keys = [
            json.dumps([o.address.kind, o.address.name, o.spec, _unread_scope(o)], sort_keys=True)
            for o in ordered
        ]
        for document, members in expand.fold([o.document for o in ordered], keys=keys):
            first = ordered[members[0]]
            file = first.file if len(members) == 1 else f"{first.address.kind}s/many-scopes.yaml"
            by_file.setdefault(file, []).append(document)
            variables.extend(first.variables)
    else:
        for imported in ordered:
            by_file.setdefault(imported.file, []).append(imported.document)
            variables.extend(imported.variables)
    files: dict[str, str] = {}
    clashes: list[str] = []
    for name in sorted(by_file):
        target = name
        number = 1
        while target in existing:
            suffix = "imported" if number == 1 else f"imported-{number}"
            target = f"{name.removesuffix('.yaml')}.{suffix}.yaml"
            number += 1
        if target != name:
            clashes.append(f"{name} exists: the new documents go to {target}")
        files[target] = dump_documents(by_file[name], header=HEADER)
    return files, clashes, variables


def _unread_scope(imported: Imported) -> str:
    """The object's scope when it holds a secret the server never shows, else ""."""
    return imported.address.scope if any(v.unread for v in imported.variables) else ""


def write_files(directory: Path, files: Mapping[str, str]) -> None:
    """Write each file whole (temp file, fsync, rename), never over an existing file."""
    for name in sorted(files):
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(files[name])
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # unlike a rename, fails when a file of that name exists
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp)


def document_kinds(names: Iterable[str]) -> frozenset[str]:
    """Address kinds from `--kind` values (`WorkspaceTemplate` or `workspace-template`)."""
    slugs = set()
    for name in names:
        if name in DOCUMENT_KINDS:
            slugs.add(DOCUMENT_KINDS[name])
        elif name in BY_SLUG:
            slugs.add(name)
        else:
            known = ", ".join(sorted(KINDS))
            raise ValueError(f"unknown kind {name!r} (one of {known})")
    return frozenset(slugs)
