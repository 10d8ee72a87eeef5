"""The `Kind` protocol: what the reconciler knows about one Run:ai resource kind.

A kind describes HTTP calls and translates between the API's objects and the normalized spec
(the user's document shape, docs/design.md, section 3); it never performs I/O. The live reader,
planner and applier execute what it describes through the client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from reconcile.kinds.calls import HttpRequest, ListRequest
from reconcile.kinds.lookups import LookupRecord, Lookups
from reconcile.kinds.specs import prune_sorted
from reconcile.model import Address, FieldChange, Spec


@dataclass(frozen=True)
class LiveMeta:
    """The server's identity and audit data for a live object (drift shows who and when)."""

    remote_id: str
    updated_by: str | None = None
    updated_at: str | None = None

    @classmethod
    def audit(cls, remote_id: str, fields: Mapping[str, Any]) -> LiveMeta:
        """From an object's `updatedBy`/`updatedAt`; a never-updated object (null update
        fields) was last written by its creator, so `createdBy`/`createdAt` stand in."""
        updated_by = fields.get("updatedBy") or fields.get("createdBy")
        updated_at = fields.get("updatedAt") or fields.get("createdAt")
        return cls(
            remote_id,
            None if updated_by is None else str(updated_by),
            None if updated_at is None else str(updated_at),
        )


@dataclass(frozen=True)
class NameCheck:
    """Fields of a document that name tenant-wide records (priorities, categories): checked
    offline, as these names are the same on every tenant. `at` is the path to the object
    holding `fields`; each field is (key, what it names: "priority" or "category")."""

    at: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]


# The names a spec holds: workloads and workload types name a `priority`, templates a
# `priorityClass`; all name a `category`.
SPEC_NAMES = (("priority", "priority"), ("category", "category"))
TEMPLATE_NAMES = (("priorityClass", "priority"), ("category", "category"))


class AsyncStatus(str, Enum):
    """Progress of an asynchronous write, read from the object (Workloads V2 `syncInfo`)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Kind(Protocol):
    """One resource kind. Every method is pure: it builds requests or translates shapes.

    Flow of the live reader: fetch `list_request()` (all pages, then `keeps`), `identify` each
    item; when `detail_request(remote_id)` is None the item is the full object, otherwise
    (Workloads V2) GET the detail only for addresses we own or desire; then `from_live`.
    Write flow of the applier: `create_request` (after journaling the intent) and
    `remote_id_from_response`; `get_request` to re-read before `update_request` or
    `delete_request`; for `is_async` kinds poll `get_request` until `async_status` settles;
    `find_by_name_request` + `identify` to settle a pending create.
    Diff paths are dotted in the document shape (`spec.compute.gpuDevicesRequest`,
    `metadata.description`, `master.spec.image`, list items as `list[name=x]`); kinds
    translate them to API paths. `lookups` resolves names <-> ids; building a request for a
    name the server does not know raises `PlanError`, reading an id it does not know yields
    the placeholder name `id:<id>` (so it never matches a desired address).
    """

    document_kind: str  # "WorkspaceTemplate": the `kind` users write
    slug: str  # "workspace-template": the address prefix and the schema's file name
    api_family: str  # the API the kind is written through (docs/runai-api.md)
    # The first Run:ai version serving that API and the endpoint a user is told a server
    # without it lacks (docs/runai-api.md section 0, the version map). `probe_path`: a
    # collection a GET of which a server without the family answers 404, read before the
    # kind's objects: the kind's own list where that tells; for Workloads V2 (no GET on its
    # collection, listed through the v1 view every version has) the workload-template list,
    # which arrived in the same version.
    since: str
    family_path: str
    probe_path: str
    scope_types: tuple[str, ...]  # scopes a document may name (scopes.SCOPE_TYPES); () unscoped
    # Slugs of the kinds whose objects this kind's objects use: those are created and
    # updated first, and deleted after (the registry derives the apply order from these).
    uses: tuple[str, ...]
    name_checks: tuple[NameCheck, ...]  # names checked offline against the tenant-wide lists
    # Paths (document shape) under which a document names other records by name, beside
    # `name_checks`: what the API resolves by name (assets, node pools) and may echo back.
    name_refs: tuple[tuple[str, ...], ...]
    destroy_stops_work: bool  # a delete or replace stops running work: always confirmed
    can_delete: bool  # False (WorkloadType): dropping it from config means forget
    renames_in_place: bool  # its update can change the object's name (else a rename replaces)
    is_async: bool  # True (Workloads V2): poll `get_request` + `async_status` after writes
    # True when a create's or update's answer is the written object: no read-back then (a
    # synchronous kind whose answer lacks it is read back once after each write).
    answers_with_object: bool
    lookups_needed: frozenset[str]  # keys of lookups.LOOKUP_REQUESTS this kind resolves
    # The lookup its objects are named in (project, department, nodepool, asset; None: none).
    # Other kinds' documents may name an object the same plan creates: the planner lends them
    # `lookup_record` with a planned id, and the applier swaps in the id the create returns.
    names_lookup: str | None
    # Objects the server makes itself (the default node pool): adopted without --adopt and
    # forgotten, never deleted, like every object of a kind that cannot be deleted.
    built_in_names: frozenset[str]
    # The query parameter that makes a create validate only, writing nothing (Workloads V2
    # `dryRun`, docs/runai-api.md section 4); None: the API has none. `plan
    # --server-dry-run` sends each create of the kind with it.
    dry_run_param: str | None
    # Paths (document shape) the API takes on create and never answers with (a credential's
    # secret): the live spec lacks them, so the planner sets there what state says was
    # applied, and a changed value shows as a change to its hash.
    write_only_paths: tuple[str, ...]

    def list_request(self) -> ListRequest:
        """The list read for live objects (limit=500 where the endpoint pages)."""
        ...

    def identify(self, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
        """A list item's address and remote id, without translating its spec."""
        ...

    def detail_request(self, remote_id: str) -> HttpRequest | None:
        """The second read step for kinds whose list items are summaries, else None."""
        ...

    def from_live(self, obj: Mapping[str, Any], lookups: Lookups) -> tuple[Address, Spec, LiveMeta]:
        """A server object (list item or detail) -> address, normalized spec and live meta."""
        ...

    def normalize(self, spec: Spec) -> Spec:
        """Canonical form applied to desired and live alike: nulls and empties dropped,
        schema defaults filled, keys sorted. Idempotent; returns a new dict."""
        ...

    def minimal(self, spec: Spec) -> Spec:
        """The inverse of `normalize` for `import`: a normalized spec without the values
        `normalize` fills back (schema defaults), as a person would write it. A new dict."""
        ...

    def create_request(self, address: Address, spec: Spec, lookups: Lookups) -> HttpRequest:
        """The POST that creates `address` with `spec` (a normalized desired spec)."""
        ...

    def update_request(
        self,
        address: Address,
        remote_id: str,
        spec: Spec,
        *,
        fields: Sequence[FieldChange],
        lookups: Lookups,
    ) -> HttpRequest:
        """The PUT or PATCH that brings the live object to `spec`.

        `fields` is the diff's output for this change (`Change.fields`): CLEAR entries are
        paths in last_applied that desired dropped. PUT kinds send the full desired body; the
        v1 template PATCH sends the changed fields whole and `fieldsToClear`.
        """
        ...

    def delete_request(self, remote_id: str) -> HttpRequest: ...

    def get_request(self, remote_id: str) -> HttpRequest:
        """Re-read one object (freshness check before a write; read-back; async polling)."""
        ...

    def find_by_name_request(self, address: Address, lookups: Lookups) -> ListRequest:
        """A narrow list that finds `address` if it exists (settles a pending-create intent,
        or checks that a failed POST did not land). Keep the items whose `identify` address
        equals `address`; server-side filters only narrow the read."""
        ...

    def immutable_paths(self, changed_paths: Sequence[str]) -> tuple[str, ...]:
        """Of the diff's changed paths (owned paths only), those that force a replace."""
        ...

    def async_status(self, obj: Mapping[str, Any], *, deleting: bool = False) -> AsyncStatus:
        """Progress of the last write as `get_request` shows it (DONE for synchronous kinds)."""
        ...

    def remote_id_from_response(self, body: Mapping[str, Any]) -> str:
        """The new object's id from the create response."""
        ...

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> LookupRecord:
        """The `names_lookup` record of the object at `address` with `remote_id` and the
        (normalized) `spec` (only called for kinds that name one)."""
        ...

    def references(self, spec: Spec) -> tuple[tuple[str, str], ...]:
        """(slug, name) of the objects of other kinds a (normalized) spec names by name, where
        destroying one breaks this object (a template's environment): safety asks first."""
        ...


def deletable(kind: Kind, address: Address) -> bool:
    """False for what the tool never deletes: dropping it from config means forget, and it is
    adopted without --adopt (managing it cannot destroy anything)."""
    return kind.can_delete and address.name not in kind.built_in_names


# Every document's identity: its kind, name and scope become its address.
IDENTITY_PATHS: tuple[tuple[str, ...], ...] = (
    ("kind",),
    ("metadata", "name"),
    ("metadata", "scope"),
)


def naming_paths(kind: Kind | None) -> tuple[tuple[str, ...], ...]:
    """The document paths whose values are names: the identity, the offline-checked names
    and the kind's name references. A hidden value (from `${VAR}`, or tagged `!sensitive`)
    may not sit at or under one, as a name becomes part of an address or a message."""
    if kind is None:
        return IDENTITY_PATHS
    checked = tuple((*c.at, field) for c in kind.name_checks for field, _ in c.fields)
    return (*IDENTITY_PATHS, *checked, *kind.name_refs)


class ItemPaths:
    """The read and delete of one object at `{path}/{remote id}` (most kinds' own endpoints)."""

    path: str

    def delete_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"{self.path}/{remote_id}")

    def get_request(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"{self.path}/{remote_id}")


class SyncKind:
    """Defaults shared by the kinds whose list items are complete and whose writes are final."""

    can_delete = True
    renames_in_place = False
    is_async = False
    destroy_stops_work = False
    # Templates (docs/runai-api.md 1.3), legacy asset templates (3) and workload types (2.1)
    # answer a POST, PUT or PATCH with the object as written.
    answers_with_object = True
    names_lookup: str | None = None
    built_in_names: frozenset[str] = frozenset()
    dry_run_param: str | None = None
    write_only_paths: tuple[str, ...] = ()

    def normalize(self, spec: Spec) -> Spec:
        """Nulls and empties dropped, keys sorted: enough for a kind whose schema has no
        defaults to fill (kinds with defaults fill them too)."""
        normalized: Spec = prune_sorted(spec)  # new containers: a copy
        return normalized

    def minimal(self, spec: Spec) -> Spec:
        # No schema defaults are filled by the plain `normalize`: its result is already minimal.
        return dict(spec)

    def detail_request(self, remote_id: str) -> HttpRequest | None:
        return None

    def async_status(self, obj: Mapping[str, Any], *, deleting: bool = False) -> AsyncStatus:
        return AsyncStatus.DONE

    def lookup_record(
        self, address: Address, remote_id: str, lookups: Lookups, *, spec: Spec
    ) -> LookupRecord:
        raise NotImplementedError(f"{type(self).__name__} names no lookup")

    def references(self, spec: Spec) -> tuple[tuple[str, str], ...]:
        return ()
