"""The data that flows through the reconciler: addresses, resources, plans and state.

Frozen dataclasses with pure `to_dict`/`from_dict` codecs. No I/O and no knowledge of any
particular resource kind lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar

from reconcile.errors import StateError

_Frozen = TypeVar("_Frozen")

JSON = Any  # a JSON-compatible value: dict, list, str, int, float, bool or None
Spec = dict[str, Any]  # a normalized spec: what is diffed and what is sent

STATE_VERSION = 2
# 1.1 added `records_state` to each change and `record` to the summary (a 1.0 plan file
# still loads: its changes record nothing). 1.2 added the binding's `selection`, and to plan
# files the binding's `changes_digest`, an optional `signature`, and a config directory
# relative to where `plan` ran (older files load: their selection is the addresses they hold).
# 1.3 added the selection's `replace` (the addresses `--replace` named; older files: none).
PLAN_FORMAT_VERSION = "1.3"


def frozen_instance(cls: type[_Frozen], values: dict[str, Any]) -> _Frozen:
    """An instance of the frozen dataclass `cls` (one without `__post_init__`) holding
    `values`, every field in field order: what `cls(**values)` makes (a property test holds
    them equal) at about half the cost. The generated `__init__` of a frozen dataclass sets
    each field through `object.__setattr__`, and a state read builds two objects per entry."""
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


@dataclass(frozen=True, order=True)
class Address:
    """The identity of a resource everywhere: `kind/scope/name`, or `kind/name` unscoped.

    `kind` is the kind's slug (`workspace-template`); `scope` is `tenant`, `cluster=NAME`,
    `department=NAME`, `project=NAME`, or "" for kinds without scope (`workload-type`).
    """

    kind: str
    scope: str
    name: str

    def __str__(self) -> str:
        if self.scope:
            return f"{self.kind}/{self.scope}/{self.name}"
        return f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> Address:
        parts = text.split("/", 2)
        # Spelled out, not all(parts): a state read parses every entry's address.
        if len(parts) == 3 and parts[0] and parts[1] and parts[2]:
            return frozen_instance(cls, {"kind": parts[0], "scope": parts[1], "name": parts[2]})
        if len(parts) == 2 and parts[0] and parts[1]:
            return frozen_instance(cls, {"kind": parts[0], "scope": "", "name": parts[1]})
        raise ValueError(f"not an address: {text!r} (expected kind/scope/name or kind/name)")


# An address's fields in the order it compares by: a tuple hashes and sorts in C, where an
# Address's generated `__hash__` and `<` are Python calls (big sets and sorts key by it).
AddressKey = tuple[str, str, str]
address_key: Callable[[Address], AddressKey] = attrgetter("kind", "scope", "name")


@dataclass(frozen=True)
class Origin:
    """Where a desired resource was written: file and 1-based line/column."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file


@dataclass(frozen=True)
class Lifecycle:
    """What a document's `lifecycle:` asks of the plan (docs/design.md, section 4).

    `moved_from`: addresses state may know this object by (a rename); `protect`: a plan
    that would delete or replace it fails; `ignore_changes`: field paths (the document's
    grammar) whose differences are neither changes nor drift.
    """

    moved_from: tuple[Address, ...] = ()
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        """True when the document asked anything of its lifecycle."""
        return bool(self.moved_from or self.protect or self.ignore_changes)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "movedFrom": [str(a) for a in self.moved_from],
            "protect": self.protect,
            "ignoreChanges": list(self.ignore_changes),
        }


NO_LIFECYCLE = Lifecycle()


@dataclass(frozen=True)
class Resource:
    """One object, desired or live, as a normalized spec keyed by its address.

    `spec` is the kind's normalized view (the same shape on both sides, so the diff is
    symmetric). `sensitive` lists dotted paths whose values must never be shown.
    """

    address: Address
    spec: Spec
    origin: Origin | None = None
    sensitive: frozenset[str] = frozenset()
    lifecycle: Lifecycle = NO_LIFECYCLE


@dataclass(frozen=True)
class LiveResource(Resource):
    """A resource as the server holds it, with the server's own identity and audit data."""

    remote_id: str = ""
    updated_by: str | None = None
    updated_at: str | None = None
    raw: JSON = None  # the server's object, as read; never written to plan or state files


ResourceSet = Mapping[Address, Resource]
"""Desired and live sets share this type (live values are `LiveResource`)."""


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    NOOP = "no-op"

    @property
    def json_actions(self) -> list[str]:
        """The Terraform-style `actions` array of the JSON plan format."""
        if self is Action.REPLACE:
            return ["delete", "create"]
        return [self.value]


class FieldChangeKind(str, Enum):
    ADD = "add"  # absent on the server, present in desired
    CHANGE = "change"
    CLEAR = "clear"  # present in last_applied, gone from desired: cleared on the server


@dataclass(frozen=True)
class FieldChange:
    """One changed path, in the grammar of reconcile/paths.py (`list[name=x]` for an item)."""

    path: str
    kind: FieldChangeKind
    before: JSON = None
    after: JSON = None
    sensitive: bool = False

    def to_dict(self) -> dict[str, JSON]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "before": self.before,
            "after": self.after,
            "sensitive": self.sensitive,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> FieldChange:
        return cls(
            path=str(data["path"]),
            kind=FieldChangeKind(data["kind"]),
            before=data.get("before"),
            after=data.get("after"),
            sensitive=bool(data.get("sensitive", False)),
        )


@dataclass(frozen=True)
class ApiCall:
    """An HTTP call a change will make, as the plan shows it (no body: bodies may be secret)."""

    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Change:
    """One planned action on one address. `reason` is for display only; never acted on."""

    address: Address
    action: Action
    before: Spec | None = None
    after: Spec | None = None
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()
    reason: str = ""
    remote_id: str = ""
    calls: tuple[ApiCall, ...] = ()
    # Field paths (patterns allowed) inside before/after whose values must never be shown
    # or stored: the resource's sensitive paths. Renderers redact them.
    sensitive: tuple[str, ...] = ()
    # The apply wave (waves run in order; the steps of one wave are independent and may run
    # in parallel): deletes first, dependents before what they depend on; then creates and
    # updates, what is depended on first (docs/design.md, section 4).
    wave: int = 0
    # A replace that moves an object to a new address (a template's scope changed): the old
    # address, deleted (and dropped from state) before the create at `address`.
    replaces: Address | None = None
    # A no-op that apply must still write to state, with no API call: an object taken over as
    # it is (adopted), or one whose state entry (last_applied, remote_id, status) lags what
    # the server holds. The planner decides it; `is_step` and `Plan.has_changes` read it.
    records_state: bool = False

    @property
    def is_step(self) -> bool:
        """True when apply carries this change out: every action but a no-op, and the
        no-ops that only record state."""
        return self.action is not Action.NOOP or self.records_state

    def to_dict(self) -> dict[str, JSON]:
        return {
            "address": str(self.address),
            "action": self.action.value,
            "actions": self.action.json_actions,
            "before": self.before,
            "after": self.after,
            "fields": [f.to_dict() for f in self.fields],
            "replace_paths": list(self.replace_paths),
            "reason": self.reason,
            "remote_id": self.remote_id,
            "calls": [{"method": c.method, "path": c.path} for c in self.calls],
            "sensitive": list(self.sensitive),
            "wave": self.wave,
            "replaces": str(self.replaces) if self.replaces is not None else None,
            "records_state": self.records_state,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Change:
        return cls(
            address=Address.parse(str(data["address"])),
            action=Action(data["action"]),
            before=data.get("before"),
            after=data.get("after"),
            fields=tuple(FieldChange.from_dict(f) for f in data.get("fields", [])),
            replace_paths=tuple(data.get("replace_paths", [])),
            reason=str(data.get("reason", "")),
            remote_id=str(data.get("remote_id", "")),
            calls=tuple(ApiCall(c["method"], c["path"]) for c in data.get("calls", [])),
            sensitive=tuple(str(p) for p in data.get("sensitive", [])),
            wave=int(data.get("wave", 0)),
            replaces=Address.parse(str(data["replaces"])) if data.get("replaces") else None,
            records_state=bool(data.get("records_state", False)),
        )


@dataclass(frozen=True)
class Drift:
    """Live differs from what we last applied, or the object was deleted outside the tool."""

    address: Address
    fields: tuple[FieldChange, ...] = ()
    deleted: bool = False
    updated_by: str | None = None
    updated_at: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "address": str(self.address),
            "deleted": self.deleted,
            "fields": [f.to_dict() for f in self.fields],
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Drift:
        return cls(
            address=Address.parse(str(data["address"])),
            fields=tuple(FieldChange.from_dict(f) for f in data.get("fields", [])),
            deleted=bool(data.get("deleted", False)),
            updated_by=data.get("updated_by"),
            updated_at=data.get("updated_at"),
        )


@dataclass(frozen=True)
class Selection:
    """The addresses a plan covers (`--target` and `--exclude` patterns), `--adopt`, and the
    addresses `--replace` names."""

    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    adopt: bool = False
    replacements: tuple[str, ...] = ()  # `--replace`: addresses replaced even when nothing differs

    def to_dict(self) -> dict[str, JSON]:
        return {
            "targets": list(self.targets),
            "excludes": list(self.excludes),
            "adopt": self.adopt,
            "replace": list(self.replacements),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Selection:
        return cls(
            targets=tuple(str(t) for t in data.get("targets", [])),
            excludes=tuple(str(e) for e in data.get("excludes", [])),
            adopt=bool(data.get("adopt", False)),
            replacements=tuple(str(a) for a in data.get("replace", [])),
        )


@dataclass(frozen=True)
class Binding:
    """What a plan was computed from; `apply PLANFILE` refuses it when any part moved."""

    state_lineage: str
    state_serial: int
    desired_digest: str
    live_fingerprints: Mapping[str, str]  # address -> fingerprint ("" = absent)
    server_url: str
    created_at: str  # RFC 3339, UTC
    ttl_seconds: int = 24 * 3600
    config_dir: str = ""  # relative to the directory `plan` ran in (absolute before 1.2)
    # What the user selected (`--target`, `--exclude`, `--adopt`): apply plans again with it
    # and refuses a saved plan whose changes differ from that recomputed plan.
    selection: Selection = Selection()

    def to_dict(self) -> dict[str, JSON]:
        return {
            "state_lineage": self.state_lineage,
            "state_serial": self.state_serial,
            "desired_digest": self.desired_digest,
            "live_fingerprints": dict(sorted(self.live_fingerprints.items())),
            "server_url": self.server_url,
            "created_at": self.created_at,
            "ttl_seconds": self.ttl_seconds,
            "config_dir": self.config_dir,
            "selection": self.selection.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> Binding:
        return cls(
            state_lineage=str(data["state_lineage"]),
            state_serial=int(data["state_serial"]),
            desired_digest=str(data["desired_digest"]),
            live_fingerprints=dict(data.get("live_fingerprints", {})),
            server_url=str(data["server_url"]),
            created_at=str(data["created_at"]),
            ttl_seconds=int(data.get("ttl_seconds", 24 * 3600)),
            config_dir=str(data.get("config_dir", "")),
            selection=Selection.from_dict(data.get("selection") or {}),
        )


@dataclass(frozen=True)
class Plan:
    """The planner's output: plain data that renderers format and the applier executes."""

    changes: tuple[Change, ...]
    binding: Binding
    drift: tuple[Drift, ...] = ()
    safety_violations: tuple[str, ...] = ()

    def actionable(self) -> tuple[Change, ...]:
        """The changes that make or skip calls (everything but no-op)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    def steps(self) -> tuple[Change, ...]:
        """The changes apply carries out: the actionable ones and the no-ops that only
        record state (`Change.is_step`)."""
        return tuple(c for c in self.changes if c.is_step)

    def summary(self) -> dict[str, int]:
        """Counts per action; `record` counts the no-ops that only record state."""
        counts = {"add": 0, "change": 0, "replace": 0, "destroy": 0, "forget": 0, "record": 0}
        key = {
            Action.CREATE: "add",
            Action.UPDATE: "change",
            Action.REPLACE: "replace",
            Action.DELETE: "destroy",
            Action.FORGET: "forget",
        }
        for change in self.changes:
            if change.action in key:
                counts[key[change.action]] += 1
            elif change.records_state:
                counts["record"] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        """True when apply would do anything: a call, or a state record (`Change.is_step`)."""
        return any(c.is_step for c in self.changes)


class EntryStatus(str, Enum):
    APPLIED = "applied"
    PENDING_CREATE = "pending-create"  # an intent journaled before a POST, not yet confirmed


STATUS_OF_TEXT: Mapping[Any, EntryStatus] = {s.value: s for s in EntryStatus}


@dataclass(frozen=True)
class StateEntry:
    """What the tool owns at one address and what it last sent there."""

    address: Address
    remote_id: str
    last_applied: Spec
    status: EntryStatus = EntryStatus.APPLIED
    # The document said `lifecycle.protect` when last applied: kept here so that removing the
    # document cannot delete the object until a change first drops the flag and is applied.
    protected: bool = False

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {
            "remote_id": self.remote_id,
            "last_applied": self.last_applied,
            "status": self.status.value,
        }
        if self.protected:  # absent when false: unprotected entries keep their old shape
            data["protect"] = True
        return data

    @classmethod
    def from_dict(cls, address: str, data: Mapping[str, JSON]) -> StateEntry:
        status = data.get("status")
        return cls.of(
            Address.parse(address),
            str(data.get("remote_id", "")),
            dict(data.get("last_applied") or {}),
            # A dict look-up: calling the enum costs more than the rest of an entry.
            EntryStatus.APPLIED
            if status is None
            else STATUS_OF_TEXT.get(status) or EntryStatus(status),
            data.get("protect") is True,
        )

    @classmethod
    def of(
        cls,
        address: Address,
        remote_id: str,
        last_applied: Spec,
        status: EntryStatus,
        protected: bool,
    ) -> StateEntry:
        """`StateEntry(...)` of these values (typed as declared), built as a read builds
        thousands (`frozen_instance`)."""
        return frozen_instance(
            cls,
            {
                "address": address,
                "remote_id": remote_id,
                "last_applied": last_applied,
                "status": status,
                "protected": protected,
            },
        )


@dataclass(frozen=True)
class State:
    """The state file's content: lineage is fixed at creation, serial grows by one per write."""

    lineage: str
    serial: int = 0
    tool_version: str = ""
    entries: Mapping[Address, StateEntry] = field(default_factory=dict)
    version: int = STATE_VERSION
    server: str = ""  # the server it was first written against ("" until its first write)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "version": self.version,
            "lineage": self.lineage,
            "serial": self.serial,
            "tool_version": self.tool_version,
            "server": self.server,
            "resources": {str(addr): self.entries[addr].to_dict() for addr in sorted(self.entries)},
        }

    def with_entry(self, entry: StateEntry) -> State:
        """A copy with `entry` added or replacing the entry at its address."""
        return replace(self, entries={**self.entries, entry.address: entry})

    def without(self, address: Address) -> State:
        """A copy without the entry at `address` (unchanged when there is none)."""
        # A copy and one removal, not a filter: comparing every address (in Python) made
        # each step's commit cost grow with the state.
        entries = dict(self.entries)
        entries.pop(address, None)
        return replace(self, entries=entries)

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> State:
        version = data.get("version")
        if not isinstance(version, int):
            raise StateError("state file has no integer 'version'")
        if version > STATE_VERSION:
            raise StateError(
                f"state file version {version} is newer than this tool understands "
                f"({STATE_VERSION}); upgrade runai-reconcile"
            )
        resources = data.get("resources") or {}
        if not isinstance(resources, Mapping):
            raise StateError("state file 'resources' is not a mapping")
        entries = {}
        for key, value in resources.items():
            entry = StateEntry.from_dict(key, value)
            entries[entry.address] = entry
        return cls(
            lineage=str(data["lineage"]),
            serial=int(data.get("serial", 0)),
            tool_version=str(data.get("tool_version", "")),
            entries=entries,
            version=version,
            server=str(data.get("server", "")),
        )
