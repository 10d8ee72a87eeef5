"""Generate `schemas/*.json` (JSON Schema 2020-12) from the committed Run:ai OpenAPI slice.

One schema per document kind (named by its address slug), `envelope.json` (kind, metadata,
spec), `document.json` (any kind, for files that mix kinds), `settings.json` and
`manifest.json` (the Kubernetes object a Workload's `manifestFile` holds). The spec
parts come from the API's own component schemas, converted from OpenAPI 3.0:
- `nullable` becomes a type array (`["string", "null"]`; a nullable enum also lists null);
- `$ref` points into `$defs` (only what a schema reaches is kept);
- an `allOf` of objects is merged into one object, so closing it works;
- an object that lists properties is closed (`additionalProperties: false`), as the API's
  are, so a misspelled field is an error; objects the API leaves open stay open;
- `example`, `readOnly`, `writeOnly` and `x-schema-name` are dropped, `pattern: ".*"` too (it
  matches anything); `default`, `enum`, bounds and `format` (an annotation) are kept.
- integers of `format: int32`/`int64` get the bounds of that format (`minimum`/`maximum`), so
  an out-of-range number is an offline error rather than a server's 400;
- names get a pattern (the API's own where it has one: workload types, projects, departments;
  DNS-1123 labels for workload names; otherwise no "/" and no unsafe character), and
  descriptions, label and annotation names and values must be one line (see `docs/runai-api.md`,
  "Names and patterns"): these values reach terminals, PR comments and CI annotations.
Two keywords of our own: `x-sensitive: true` marks a credential the API itself holds, a
value renderers must mask and a document may only take from `${VAR}` or a `!sensitive` value
(the secrets of Credential and Registry; templates' secrets are references to Kubernetes
secrets and credential assets, by name, which are shown; an environment variable's `value`
is ordinary text unless it comes from `${VAR}` or is tagged `!sensitive`),
and `x-forbidden: REASON` (with `not: {}`) names a field the tool refuses, for a clear message.

Supporting a new Run:ai version is one command (then commit schemas/):
    python tools/generate_schemas.py [--spec SLICE.json] [--out schemas] [--check]
The spec is read as data; nothing of the emulator package is imported.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconcile.bases import BASE_KIND  # noqa: E402
from reconcile.emulator.versions import VERSIONS as EMULATOR_VERSIONS  # noqa: E402
from reconcile.kinds.credentials import TYPES as CREDENTIAL_TYPES  # noqa: E402
from reconcile.kinds.registry import DOCUMENT_KINDS  # noqa: E402
from reconcile.model import STATE_VERSION, EntryStatus  # noqa: E402
from reconcile.printable import NAME_PATTERN, ONE_LINE_PATTERN, UNSAFE_CHARACTERS  # noqa: E402
from reconcile.settings import DEFAULTS, EMULATOR_VERSION_ENV  # noqa: E402

SLICE = ROOT / "reconcile" / "emulator" / "data" / "runai-2.24-openapi-slice.json"
OUT = ROOT / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
REF_PREFIX = "#/components/schemas/"
DROPPED = {"example", "readOnly", "writeOnly", "x-schema-name", "nullable", "allOf", "$ref"}
# (component, property) pairs the API marks as credentials: values renderers must mask.
SENSITIVE: frozenset[tuple[str, str]] = frozenset()
TEMPLATE_SPECS = {
    "WorkspaceTemplate": "WorkspaceTemplateSpec",
    "TrainingTemplate": "TrainingTemplateSpec",
    "DistributedTemplate": "DistributedTemplateSpec",
    "InferenceTemplate": "InferenceTemplateSpec",
}
ASSET_SPECS = {"Environment": "EnvironmentAssetSpec", "Compute": "ComputeAssetSpec"}
# DataSource `spec.type` -> the API's spec of that type (docs/runai-api.md section 12).
DATASOURCE_SPECS = {
    "pvc": "PVCAssetSpec",
    "git": "GitAssetSpec",
    "s3": "S3AssetSpec",
    "nfs": "NFSAssetSpec",
    "host-path": "HostPathSpec",
    "config-map": "ConfigMapAssetSpec",
    "secret": "SecretAssetSpec",
}
SUPPORTED_TYPES = "workloadSupportedTypes"
NAME = {"type": "string", "minLength": 1, "pattern": NAME_PATTERN}
LINE = {"type": "string", "minLength": 1, "pattern": ONE_LINE_PATTERN}
# Run:ai 2.24 `ProjectName2` and `DepartmentName1` (the names org-unit creation accepts).
ORG_UNIT_NAME = {"type": "string", "minLength": 1, "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"}
# A Workloads V2 name names Kubernetes objects: a DNS-1123 label (the API says `maxLength: 63`).
DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# Patterns for components the API leaves open (their `pattern: ".*"` matches anything).
COMPONENT_PATTERNS = {
    "TemplateName": NAME_PATTERN,
    "AssetName": NAME_PATTERN,
    "TemplateDescription": ONE_LINE_PATTERN,
    "AssetDescription": ONE_LINE_PATTERN,
}
ONE_LINE_FIELDS = {
    ("Label", "name"),
    ("Label", "value"),
    ("Annotation", "name"),
    ("Annotation", "value"),
}
INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

Schema = dict[str, Any]


class Converter:
    """Converts OpenAPI 3.0 component schemas into 2020-12, collecting reached `$defs`."""

    def __init__(self, components: dict[str, Schema], built: dict[str, Schema]) -> None:
        self.components = components
        self.built = built  # our own definitions, already 2020-12
        self.defs: dict[str, Schema] = {}

    def ref(self, name: str) -> Schema:
        if name not in self.defs:
            self.defs[name] = {}  # placeholder first: a cycle then ends at the $ref
            if name in self.built:
                self.defs[name] = copy.deepcopy(self.built[name])
            else:
                self.defs[name] = self.convert(self.components[name], owner=name)
            if name in COMPONENT_PATTERNS:
                self.defs[name]["pattern"] = COMPONENT_PATTERNS[name]
        return {"$ref": f"#/$defs/{name}"}

    def raw(self, node: Schema) -> Schema:
        """Follow `$ref`s to the component itself."""
        while "$ref" in node:
            node = self.components[node["$ref"].removeprefix(REF_PREFIX)]
        return node

    def is_object(self, node: Schema) -> bool:
        node = self.raw(node)
        if "allOf" in node:
            return all(self.is_object(m) for m in node["allOf"])
        return "properties" in node or node.get("type") == "object" or node == {}

    def flatten(self, node: Schema) -> Schema:
        """An `allOf` of objects as one object: properties and required merged."""
        node = self.raw(node)
        if "allOf" not in node:
            return node
        parts = [self.flatten(m) for m in node["allOf"]]
        merged: Schema = {k: v for k, v in node.items() if k != "allOf"}
        merged["properties"] = {**{k: v for p in parts for k, v in p.get("properties", {}).items()}}
        merged["properties"].update(node.get("properties", {}))
        required = {r for p in [*parts, node] for r in p.get("required", [])}
        if required:
            merged["required"] = sorted(required)
        if any(p.get("additionalProperties") not in (None, False) for p in parts):
            merged["additionalProperties"] = True
        merged.setdefault(
            "description", next((p["description"] for p in parts if "description" in p), None)
        )
        if merged["description"] is None:
            del merged["description"]
        with_props = [p for p in parts if p.get("properties")]
        if "nullable" not in node and with_props and all(p.get("nullable") for p in with_props):
            merged["nullable"] = True
        return merged

    def convert(self, node: Schema, owner: str = "") -> Schema:
        if "$ref" in node:
            target = self.ref(node["$ref"].removeprefix(REF_PREFIX))
            return {**target, **self._annotations(node)}
        if "allOf" in node:
            if all(self.is_object(m) for m in node["allOf"]):
                return self.convert(self.flatten(node), owner)
            return self._composed(node)
        return self._plain(node, owner)

    def _annotations(self, node: Schema) -> Schema:
        return {k: node[k] for k in ("description", "deprecated", "default") if k in node}

    def _composed(self, node: Schema) -> Schema:
        """An `allOf` that mixes non-objects: kept; `nullable` admits null beside it."""
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        out = self._plain(rest, "")
        out["allOf"] = [self.convert(m) for m in node["allOf"]]
        if node.get("nullable"):
            return {"anyOf": [{"type": "null"}, out]}
        return out

    def _plain(self, node: Schema, owner: str) -> Schema:
        out: Schema = {k: copy.deepcopy(v) for k, v in node.items() if k not in DROPPED}
        nullable = bool(node.get("nullable"))
        kind = node.get("type") or ("object" if "properties" in node else None)
        if kind:
            out["type"] = [kind, "null"] if nullable else kind
        if "enum" in node and nullable and None not in node["enum"]:
            out["enum"] = [*node["enum"], None]
        if out.get("pattern") == ".*":
            del out["pattern"]
        bounds = INT_BOUNDS.get(out.get("format", ""))
        if bounds and "integer" in out.get("type", ()):
            out.setdefault("minimum", bounds[0])
            out.setdefault("maximum", bounds[1])
        if "properties" in node:
            out["properties"] = {k: self.convert(v) for k, v in node["properties"].items()}
            for prop in out["properties"]:
                if (owner, prop) in SENSITIVE:
                    out["properties"][prop]["x-sensitive"] = True
                if (owner, prop) in ONE_LINE_FIELDS:
                    out["properties"][prop]["pattern"] = ONE_LINE_PATTERN
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = self.convert(extra)
        elif extra is True:
            del out["additionalProperties"]  # open, as the API says
        elif "properties" in node:
            out["additionalProperties"] = False
        if "items" in node:
            out["items"] = self.convert(node["items"])
        if "required" in node:
            # A closed object cannot hold a required field it does not list: the API's
            # `SpecificRunConnectionInfo` requires `connectionName` but lists `name`.
            known = out.get("properties", {})
            closed_object = out.get("additionalProperties") is False
            out["required"] = sorted(r for r in node["required"] if r in known or not closed_object)
            if not out["required"]:
                del out["required"]
        return out

    def described(self, component: str, prop: str, **schema: Any) -> Schema:
        """`schema` with the description of `component.prop` (our fields mirror API ones)."""
        source = self.raw(self.components[component])["properties"][prop]
        text = self.raw(source).get("description") or source.get("description", "")
        return {**schema, "description": text} if text else schema


def closed(properties: Schema, *, required: tuple[str, ...] = (), **extra: Any) -> Schema:
    out: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = list(required)
    return {**out, **extra}


def scope_schema(*types: str) -> Schema:
    names = {
        t: {**(NAME if t == "cluster" else ORG_UNIT_NAME), "description": f"The {t}'s name."}
        for t in types
        if t != "tenant"
    }
    if "tenant" in types:
        names["tenant"] = {"const": True, "description": "The whole tenant."}
    return closed(
        names,
        minProperties=1,
        maxProperties=1,
        description="Where the object lives: " + ", ".join(types) + " (exactly one).",
    )


def one_or_many(scope: Schema) -> Schema:
    """`metadata.scope`: one scope, or a list of scopes (one object per scope)."""
    many = {
        "type": "array",
        "items": scope,
        "minItems": 1,
        "description": "The same object in each of these scopes: one object, and one "
        "address, per scope.",
    }
    return {"anyOf": [scope, many]}


def forbidden(reason: str) -> Schema:
    return {"not": {}, "x-forbidden": reason}


# After the kind: /scope/name or /name. Addresses are printed as they are, so no part may hold
# a character that could forge a line or move the cursor (names are checked the same way).
ADDRESS_TAIL = f"/[^/{UNSAFE_CHARACTERS}]+(/[^{UNSAFE_CHARACTERS}]+)?$"
ADDRESS = f"^[^/{UNSAFE_CHARACTERS}]+" + ADDRESS_TAIL


def lifecycle(slug: str = "") -> Schema:
    """`lifecycle:` beside metadata and spec (the same in every kind; a kind's own schema
    requires `movedFrom` addresses of its kind)."""
    # A slug is lowercase words and hyphens, literal in every regex dialect; re.escape would
    # write `\-`, which ECMA-262 (the dialect of JSON Schema, and of editors) refuses.
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", slug or "a"), slug
    pattern = "^" + slug + ADDRESS_TAIL if slug else ADDRESS
    address = {"type": "string", "pattern": pattern}
    return closed(
        {
            "movedFrom": {
                "anyOf": [
                    address,
                    {"type": "array", "items": address, "minItems": 1},
                ],
                "description": "The address (or addresses) state may know this object by: the "
                "plan renames it in place where the API allows, else replaces it, and never "
                "creates it beside the old one. Harmless to keep once applied.",
            },
            "protect": {
                "type": "boolean",
                "description": "A plan that would delete or replace this object fails, with or "
                "without --force. Recorded in state when applied, so removing the document "
                "still fails until a change removing this flag is applied.",
            },
            "ignoreChanges": {
                "type": "array",
                "items": {
                    **NAME,
                    "description": "A field path, e.g. spec.compute.cpuCoreRequest "
                    "or spec.environmentVariables[name=X].value.",
                },
                "description": "Field paths whose differences are neither changes nor drift "
                "(still sent when the object is created).",
            },
        },
        description="How the plan treats this object: renames, protection, ignored fields.",
    )


EXTENDS = {
    "anyOf": [NAME, {"type": "array", "items": NAME, "minItems": 1}],
    "description": "The base (or bases, applied in order) whose values this document takes "
    "where it writes none of its own: mappings merge key by key, lists of named items merge "
    "by name, anything else the document writes replaces the base's.",
}
# A document that extends a base may leave `spec` to it; the merged document is then checked
# whole, `spec` required as without a base.
SPEC_UNLESS_EXTENDED = {
    "if": {"properties": {"metadata": {"required": ["extends"]}}, "required": ["metadata"]},
    "else": {"required": ["spec"]},
}


def document(kind: str, metadata: Schema, spec: Schema, **extra: Schema) -> Schema:
    slug = DOCUMENT_KINDS[kind]
    metadata = {**metadata, "properties": {**metadata["properties"], "extends": EXTENDS}}
    return closed(
        {
            "kind": {"const": kind},
            "metadata": metadata,
            "spec": spec,
            "lifecycle": lifecycle(slug),
            **extra,
        },
        required=("kind", "metadata"),
        title=f"runai-reconcile {kind} document",
        **SPEC_UNLESS_EXTENDED,
    )


def base() -> Schema:
    """A shared base: named values for documents of one kind (checked whole once merged)."""
    metadata = closed(
        {
            "name": {**NAME, "description": "The base's name, as documents' extends name it."},
            "for": {
                "enum": list(DOCUMENT_KINDS),
                "description": "The document kind this base is for.",
            },
            "extends": EXTENDS,
            "description": {**LINE, "description": "What the base is for (not sent anywhere)."},
        },
        required=("name", "for"),
    )
    return closed(
        {
            "kind": {"const": BASE_KIND},
            "metadata": metadata,
            "spec": {"type": "object", "description": "Merged under each document's spec."},
            "master": {
                "type": "object",
                "description": "DistributedTemplate: merged under each document's master.",
            },
            "masterSpecSameAsWorker": {"type": "boolean"},
        },
        required=("kind", "metadata"),
        title="runai-reconcile shared base",
        description="Values written once for many documents of one kind: a document takes "
        "them with metadata.extends. Not an object: no address, nothing sent.",
    )


def template(conv: Converter, kind: str) -> Schema:
    metadata = closed(
        {
            "name": conv.ref("TemplateName"),
            "scope": one_or_many(conv.ref("DocumentScope")),
            "description": conv.ref("TemplateDescription"),
        },
        required=("name", "scope"),
    )
    spec = {**conv.ref(TEMPLATE_SPECS[kind]), "type": "object"}
    if kind != "DistributedTemplate":
        return document(kind, metadata, spec)
    # TemplateMasterSection without `assets`: new-style templates carry no asset references.
    master = closed(
        {"spec": conv.ref("MasterTemplateSpec")},
        description="The master's spec, when it differs from the workers' (see "
        "masterSpecSameAsWorker).",
    )
    return document(
        kind,
        metadata,
        spec,
        master=master,
        masterSpecSameAsWorker=conv.ref("MasterSpecSameAsWorker"),
    )


def asset_template(conv: Converter) -> Schema:
    metadata = _asset_metadata(conv, "template")
    datasource = closed(
        {
            "name": {**NAME, "description": "The data source asset's name."},
            "kind": conv.ref("AssetKind"),
        },
        required=("name", "kind"),
    )
    assets = closed(
        {
            "environment": {**NAME, "description": "The environment asset's name (required)."},
            "compute": {**NAME, "description": "The compute asset's name."},
            "datasources": {"type": "array", "items": datasource},
        },
        required=("environment",),
        description="The template's assets, by name (the tool resolves their ids).",
    )
    spec = closed(
        {"assets": assets, "specificEnv": conv.ref("SpecificRunParams")}, required=("assets",)
    )
    return document("AssetTemplate", metadata, spec)


def _asset_metadata(conv: Converter, what: str) -> Schema:
    return closed(
        {
            "name": {
                **conv.ref("AssetName"),
                "description": f"The {what}'s name (unique in its scope).",
            },
            "scope": one_or_many(conv.ref("DocumentScope")),
            "description": conv.ref("AssetDescription"),
        },
        required=("name", "scope"),
    )


def _asset_spec(conv: Converter, component: str, **extra: Schema) -> Schema:
    """An asset's API spec as a document's `spec`, with `workloadSupportedTypes` (a
    create-only member of the API's `meta`) and `extra` properties beside its own."""
    spec = conv.convert(conv.flatten(conv.components[component]), owner=component)
    supported = conv.ref("WorkloadSupportedTypes")
    supported["description"] = "The workload types that may use this asset. Create-only: a "
    supported["description"] += "change replaces the asset."
    spec["type"] = "object"
    spec["properties"] = {**extra, **spec.get("properties", {}), SUPPORTED_TYPES: supported}
    spec["additionalProperties"] = False
    return spec


def asset(conv: Converter, kind: str) -> Schema:
    """Environment or Compute: the API's asset spec."""
    metadata = _asset_metadata(conv, kind.lower())
    return document(kind, metadata, _asset_spec(conv, ASSET_SPECS[kind]))


def datasource(conv: Converter) -> Schema:
    """DataSource: `spec.type` picks the API's data source type, the rest is that type's spec."""
    types = list(DATASOURCE_SPECS)
    dispatch = []
    for doc_type, component in DATASOURCE_SPECS.items():
        variant = _asset_spec(conv, component, type={"const": doc_type})
        variant["required"] = sorted({"type", *variant.get("required", [])})
        conv.defs[f"DataSource_{component}"] = variant
        dispatch.append(
            {
                "if": {"properties": {"type": {"const": doc_type}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/DataSource_{component}"},
            }
        )
    spec = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {
                "enum": types,
                "description": "The data source type; the other fields are that type's "
                "spec. Changing it replaces the data source.",
            }
        },
        "allOf": dispatch,
    }
    return document("DataSource", _asset_metadata(conv, "data source"), spec)


def workload_type(conv: Converter) -> Schema:
    create = conv.raw(conv.components["WorkloadTypeAdditionalCreateFields"])["properties"]
    name = {k: create["name"][k] for k in ("type", "pattern", "description")}
    group = {k: create["group"][k] for k in ("type", "pattern", "description")}
    group["description"] += " Create-only; needed for a custom workload type."
    spec = closed(
        {
            "category": {**NAME, "description": "The workload category's name (e.g. Train)."},
            "priority": {**NAME, "description": "The workload priority's name (e.g. high)."},
            "group": group,
            "resourceInterfaces": conv.ref("WorkloadTypeResourceInterfaces"),
        }
    )
    return document("WorkloadType", closed({"name": name}, required=("name",)), spec)


def workload(conv: Converter) -> Schema:
    create = conv.raw(conv.components["D24V2_WorkloadV2MetadataCreateParams"])["properties"]
    name = {k: v for k, v in create["name"].items() if k != "pattern"} | {"pattern": DNS_LABEL}
    prefix = forbidden("a generated name suffix would change the workload's identity")
    metadata = closed(
        {
            "name": name,
            "scope": one_or_many(conv.ref("WorkloadScope")),
            "useGivenNameAsPrefix": prefix,
        },
        required=("name", "scope"),
    )
    spec = closed(
        {
            "priority": conv.ref("D24V2_PriorityClass"),
            "category": conv.ref("D24V2_Category"),
            "preemptibility": conv.ref("D24V2_Preemptibility"),
            "manifest": conv.ref("D24V2_Manifest"),
            "manifestFile": {
                **LINE,
                "description": "A file holding the manifest, relative to this document's file.",
            },
            "useGivenNameAsPrefix": prefix,
        },
        oneOf=[{"required": ["manifest"]}, {"required": ["manifestFile"]}],
    )
    return document("Workload", metadata, spec)


def _api_properties(conv: Converter, component: str, *names: str) -> Schema:
    """The named properties of an API component (its allOf merged), converted; strings are
    one line (they are printed in plans: descriptions, labels, the namespace)."""
    properties = conv.flatten(conv.components[component])["properties"]
    out = {name: conv.convert(properties[name]) for name in names}
    for schema in out.values():
        if "string" in (schema.get("type") or ()) and "enum" not in schema:
            schema["pattern"] = ONE_LINE_PATTERN
    return out


def quotas(conv: Converter) -> Schema:
    """`spec.resources`: the API's per-node-pool Resources, keyed by the node pool's name."""
    quota = closed(
        _api_properties(conv, "ResourcesNullable", "gpu", "cpu", "memory", "priority"),
        description="Quotas in one node pool: deserved, limit and overQuotaWeight per "
        "resource, as the API spells them (CPU in millicores, memory in `units`).",
    )
    return {
        "type": "object",
        "description": "Quotas per node pool, keyed by the node pool's name (the tool "
        "resolves its id in the unit's cluster).",
        "propertyNames": NAME,
        "additionalProperties": quota,
    }


def org_unit(conv: Converter, kind: str) -> Schema:
    """Department (scope: a cluster) or Project (scope: a department)."""
    updatable = "DataUpdatableDepartmentFields" if kind == "Department" else "DataUpdatableFields"
    metadata = closed(
        {
            "name": {
                **ORG_UNIT_NAME,
                "description": f"The {kind.lower()}'s name (unique in its cluster).",
            },
            "scope": one_or_many(conv.ref(f"{kind}Scope")),
            **_api_properties(conv, updatable, "description"),
        },
        required=("name", "scope"),
    )
    fields = {
        "resources": quotas(conv),
        **_api_properties(conv, updatable, "defaultNodePools", "nodeTypes", "schedulingRules"),
    }
    if kind == "Project":
        fields.update(
            _api_properties(
                conv, "ProjectCreationRequest", "requestedNamespace", "enforceRunaiScheduler"
            )
        )
        namespace = fields["requestedNamespace"]
        namespace["description"] = (
            f"{namespace['description'].capitalize()}. Create-only: a change replaces the project."
        )
    return document(kind, metadata, closed(fields))


def node_pool(conv: Converter) -> Schema:
    metadata = closed(
        {
            "name": conv.described("NodepoolCreateFields", "name", **NAME),
            "scope": one_or_many(conv.ref("NodePoolScope")),
        },
        required=("name", "scope"),
    )
    spec = closed(
        _api_properties(
            conv,
            "NodepoolCreateFields",
            "labelKey",
            "labelValue",
            "placementStrategy",
            "gpuNetworkAccelerationDetection",
            "gpuNetworkAccelerationLabelKey",
        ),
        description="The `default` pool (made by Run:ai in every cluster) takes no labels and "
        "is never deleted; any other pool needs labelKey and labelValue.",
    )
    return document("NodePool", metadata, spec)


def _secret(conv: Converter, component: str, prop: str, **schema: Any) -> Schema:
    """A secret the API keeps: only from `${VAR}` or a `!sensitive` value, masked everywhere."""
    return conv.described(
        component, prop, type="string", minLength=1, **schema, **{"x-sensitive": True}
    )


def credential(conv: Converter) -> Schema:
    """Credential: one document kind, its `spec.type` picks the API type and its fields."""
    pair = closed(
        {
            "key": conv.described("KeyValuePair", "key", **LINE),
            "value": _secret(conv, "KeyValuePair", "value"),
        },
        required=("key", "value"),
    )
    fields: Schema = {
        "type": {
            "enum": list(CREDENTIAL_TYPES),
            "description": "The credential's type: "
            "access-key (S3), password, docker-registry, generic-secret or ngc-api-key. "
            "Changing it replaces the credential.",
        },
        "existingSecretName": conv.described("AccessKeyCreationSpec", "existingSecretName", **LINE),
        "accessKeyId": conv.described("AccessKeyCreationSpec", "accessKeyId", **LINE),
        "secretAccessKey": _secret(conv, "AccessKeyCreationSpec", "secretAccessKey"),
        "user": conv.described("PasswordCreationSpec", "user", **LINE),
        "password": _secret(conv, "PasswordCreationSpec", "password"),
        "url": conv.described("DockerRegistryCreationSpec", "url", **LINE),
        "keyValuePairs": {
            "type": "array",
            "minItems": 1,
            "items": pair,
            "description": "The key-value pairs the secret holds.",
        },
        "ngc_api_key": _secret(
            conv, "NgcApiKeyCreationSpec", "ngc_api_key", pattern="^[-._A-Za-z0-9]+$"
        ),
    }
    rules = []
    for name, kind in CREDENTIAL_TYPES.items():
        own, secrets = (*kind.fields, *kind.secrets), kind.secrets
        others = {
            f: forbidden(f"not a field of a {name} credential")
            for f in fields
            if f not in own and f != "type"
        }
        shapes = [{"required": [s]} for s in secrets]
        if "existingSecretName" in own:
            shapes.append({"required": ["existingSecretName"]})
        then: Schema = {"properties": others}
        if len(shapes) > 1:
            then["oneOf"] = shapes
        else:
            then["required"] = list(secrets)
        rules.append(
            {"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": then}
        )
    spec = closed(
        fields,
        required=("type",),
        allOf=rules,
        description="The secret fields (secretAccessKey, password, keyValuePairs "
        "values, ngc_api_key) come only from ${VAR} or a !sensitive value; the API "
        "never answers with them, and only the description can change in place.",
    )
    return document("Credential", _asset_metadata(conv, "credential"), spec)


def registry(conv: Converter) -> Schema:
    spec = closed(
        {
            "url": conv.described("RegistrySpec", "url", **LINE),
            "user": conv.described("RegistrySpec", "user", **LINE),
            "password": _secret(conv, "RegistrySpec", "password"),
        },
        required=("url", "user", "password"),
        description="A change to the URL, user or password replaces the registry.",
    )
    return document("Registry", _asset_metadata(conv, "registry"), spec)


def access_rule(conv: Converter) -> Schema:
    metadata = closed(
        {
            "name": conv.described("AccessRuleCreationFields", "subjectId", **NAME),
            "scope": one_or_many(conv.ref("DocumentScope")),
        },
        required=("name", "scope"),
    )
    spec = closed(
        {
            "subjectType": {**conv.convert(conv.components["SubjectType"]), "default": "user"},
            "role": {
                **LINE,
                "description": "The role's name, as the roles list spells it "
                "(e.g. ML engineer). Changing it replaces the rule: access rules have "
                "no update.",
            },
        },
        required=("role",),
    )
    return document("AccessRule", metadata, spec)


def manifest(components: dict[str, Schema]) -> Schema:
    """A Kubernetes object as a Workload's `manifestFile` holds it (the checks validate makes)."""
    return {
        "title": "Kubernetes object for a Workload's manifestFile",
        "description": components["D24V2_Manifest"]["description"],
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": LINE,
            "kind": NAME,
            "metadata": {"type": "object", "required": ["name"], "properties": {"name": LINE}},
        },
    }


def envelope() -> Schema:
    kinds = [*DOCUMENT_KINDS, BASE_KIND]
    return {
        "title": "runai-reconcile document envelope",
        "description": "What every document has; each kind's schema says the rest.",
        "type": "object",
        "required": ["kind", "metadata", "spec"],
        "properties": {
            "kind": {"enum": kinds, "description": "The document kind."},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": NAME, "scope": one_or_many(scope_schema(*SCOPES))},
            },
            "spec": {"type": "object"},
            "lifecycle": lifecycle(),
        },
    }


ENVIRONMENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SERVER = {
    "type": "string",
    "pattern": r"^(embedded|https?://\S+)$",
    "description": "`embedded` (the in-process emulator) or the Run:ai URL, "
    "e.g. https://<tenant>.run.ai; RUNAI_URL overrides it.",
}
STATE = {
    **LINE,
    "description": "The state: a file relative to the config directory (default "
    "state/<environment>.json) or postgresql://USER@HOST:PORT/DBNAME (no password: libpq "
    "reads it from PGPASSWORD or PGPASSFILE); RUNAI_RECONCILE_STATE overrides it.",
}

SERVER_DRY_RUN = {
    "type": "boolean",
    "description": "`plan` sends each create the API can validate (Workloads V2) as a dry "
    "run, one request each, and fails on a refusal; --server-dry-run / --no-server-dry-run "
    "override it.",
}
VARIABLES = {
    "type": "object",
    "description": "Values ${NAME} takes in documents, before the process environment; an "
    "environment's own variables win over these. Shown in plans unless tagged !sensitive.",
    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "additionalProperties": {"type": "string"},
}


def settings() -> Schema:
    safety = DEFAULTS["safety"]
    fraction = {"type": "number", "minimum": 0, "maximum": 1}
    return closed(
        {
            "server": {**SERVER, "default": DEFAULTS["server"]},
            "environment": {
                "type": "string",
                "pattern": ENVIRONMENT_NAME,
                "default": DEFAULTS["environment"],
                "description": "The environment used when neither --environment nor "
                "RUNAI_RECONCILE_ENVIRONMENT names one; it names the state "
                "(state/<environment>.json, or its rows in PostgreSQL).",
            },
            "environments": {
                "type": "object",
                "description": "Per-environment values, by environment name; they override "
                "the top-level ones for that environment.",
                "propertyNames": {"pattern": ENVIRONMENT_NAME},
                "additionalProperties": closed(
                    {
                        "server": SERVER,
                        "state": STATE,
                        "server_dry_run": SERVER_DRY_RUN,
                        "variables": VARIABLES,
                    }
                ),
            },
            "variables": VARIABLES,
            "state": STATE,
            "server_dry_run": {**SERVER_DRY_RUN, "default": DEFAULTS["server_dry_run"]},
            "parallelism": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": DEFAULTS["parallelism"],
                "description": "How many independent API calls apply runs at once.",
            },
            "plan_ttl_seconds": {
                "type": "integer",
                "minimum": 60,
                "default": DEFAULTS["plan_ttl_seconds"],
                "description": "How long a saved plan stays applicable.",
            },
            "request_timeout_seconds": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULTS["request_timeout_seconds"],
                "description": "The longest one API call may take, from connecting to the "
                "end of its answer.",
            },
            "run_timeout_seconds": {
                "type": "integer",
                "minimum": 0,
                "default": DEFAULTS["run_timeout_seconds"],
                "description": "The longest a command may talk to the server (0: no limit); "
                "--run-timeout overrides it.",
            },
            "max_response_mib": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULTS["max_response_mib"],
                "description": "The largest answer the client reads, in MiB.",
            },
            "emulator": closed(
                {
                    "api_version": {
                        "type": "string",
                        "enum": list(EMULATOR_VERSIONS),
                        "default": DEFAULTS["emulator"]["api_version"],
                        "description": "The Run:ai version the embedded emulator is: it "
                        f"serves only that version's APIs; {EMULATOR_VERSION_ENV} overrides it.",
                    },
                },
                description="The embedded emulator (`server: embedded`).",
            ),
            "safety": closed(
                {
                    "max_delete_fraction": {**fraction, "default": safety["max_delete_fraction"]},
                    "max_update_fraction": {**fraction, "default": safety["max_update_fraction"]},
                    "min_managed": {
                        "type": "integer",
                        "minimum": 0,
                        "default": safety["min_managed"],
                    },
                },
                description="The blast-radius budget: plans over it need --force.",
            ),
        },
        title="runai-reconcile settings (runai-reconcile.yaml)",
    )


def state() -> Schema:
    """The state file (and `state pull` output), as the current STATE_VERSION writes it."""
    entry = closed(
        {
            "remote_id": {"type": "string"},
            "last_applied": {"type": "object"},
            "status": {"enum": [s.value for s in EntryStatus]},
            "protect": {
                "const": True,
                "description": "The document said lifecycle.protect when last applied "
                "(absent: it did not).",
            },
        },
        required=("remote_id",),
    )
    return closed(
        {
            "version": {"const": STATE_VERSION},
            "lineage": NAME,
            "serial": {"type": "integer", "minimum": 0},
            "tool_version": {"type": "string"},
            "server": {
                "type": "string",
                "description": "The server the state was first written against (empty: none "
                "yet); runs against another server are refused.",
            },
            "resources": {
                "type": "object",
                "description": "Owned objects by address: kind/scope/name or kind/name.",
                "propertyNames": {"pattern": ADDRESS},
                "additionalProperties": entry,
            },
        },
        required=("version", "lineage", "resources"),
        title=f"runai-reconcile state, version {STATE_VERSION}",
    )


SCOPES = ("tenant", "cluster", "department", "project")
KIND_BUILDERS: dict[str, Callable[[Converter], Schema]] = {
    "NodePool": node_pool,
    "Department": functools.partial(org_unit, kind="Department"),
    "Project": functools.partial(org_unit, kind="Project"),
    "Credential": credential,
    "Registry": registry,
    "AccessRule": access_rule,
    **{k: functools.partial(template, kind=k) for k in TEMPLATE_SPECS},
    "Environment": functools.partial(asset, kind="Environment"),
    "Compute": functools.partial(asset, kind="Compute"),
    "DataSource": datasource,
    "AssetTemplate": asset_template,
    "WorkloadType": workload_type,
    "Workload": workload,
}


def _converter(spec: Schema) -> Converter:
    built = {
        "DocumentScope": scope_schema(*SCOPES),
        "WorkloadScope": scope_schema("project"),
        "DepartmentScope": scope_schema("cluster"),
        "NodePoolScope": scope_schema("cluster"),
        "ProjectScope": scope_schema("department"),
    }
    return Converter(spec["components"]["schemas"], built)


def generate(spec: Schema, source: str) -> dict[str, Schema]:
    """File name -> schema, for every file schemas/ holds."""
    comment = (
        f"Generated by tools/generate_schemas.py from {source} (Run:ai "
        f"{spec['info']['version']}); do not edit."
    )
    out: dict[str, Schema] = {}
    all_defs: dict[str, Schema] = {}
    roots: dict[str, Schema] = {}
    for kind, build in KIND_BUILDERS.items():
        conv = _converter(spec)
        root = build(conv)
        all_defs.update(conv.defs)
        roots[kind] = root
        slug = DOCUMENT_KINDS[kind]
        out[f"{slug}.json"] = {"$schema": DIALECT, "$comment": comment, **root, "$defs": conv.defs}
    out["envelope.json"] = {"$schema": DIALECT, "$comment": comment, **envelope()}
    out["base.json"] = {"$schema": DIALECT, "$comment": comment, **base()}
    out["settings.json"] = {"$schema": DIALECT, "$comment": comment, **settings()}
    out["state.json"] = {"$schema": DIALECT, "$comment": comment, **state()}
    components = spec["components"]["schemas"]
    out["manifest.json"] = {"$schema": DIALECT, "$comment": comment, **manifest(components)}
    dispatch = [
        {
            "if": {"properties": {"kind": {"const": k}}, "required": ["kind"]},
            "then": {"$ref": f"#/$defs/{k}Document"},
        }
        for k in [*DOCUMENT_KINDS, BASE_KIND]
    ]
    all_defs.update({f"{k}Document": roots[k] for k in DOCUMENT_KINDS})
    all_defs[f"{BASE_KIND}Document"] = base()
    out["document.json"] = {
        "$schema": DIALECT,
        "$comment": comment,
        "title": "runai-reconcile document (any kind)",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": [*DOCUMENT_KINDS, BASE_KIND]}},
        "allOf": dispatch,
        "$defs": all_defs,
    }
    return out


def render(schema: Schema) -> str:
    """The committed text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SLICE, help="OpenAPI 3.0 JSON (the slice)")
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="exit 1 if out/ is not up to date")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    files = {name: render(schema) for name, schema in generate(spec, args.spec.name).items()}
    stale = sorted(
        name
        for name, text in files.items()
        if not (args.out / name).is_file() or (args.out / name).read_text("utf-8") != text
    )
    if args.check:
        for name in stale:
            print(f"{args.out / name} is out of date; run tools/generate_schemas.py")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (args.out / name).write_text(files[name], encoding="utf-8")
    print(f"wrote {len(stale)} of {len(files)} schemas to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
