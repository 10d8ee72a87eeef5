"""Saved plan files: encoding one (content digest, optional HMAC signature), reading one back
with every problem named (file, JSON path, what was expected), and where its config is.

A plan file is checked against its own schema (`schemas/plan-file.json`) and then for what a
schema cannot say (`planfile_checks`).
`apply PLANFILE` then plans again and refuses the file unless its changes are the ones that
recomputed plan holds (`differences`). Never prints; reads no file but the plan file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile import planfile_checks
from reconcile.configdir import inside
from reconcile.diff import canonical, digest
from reconcile.errors import PlanFileError, Problem
from reconcile.model import (
    JSON,
    PLAN_FORMAT_VERSION,
    Plan,
    Selection,
)
from reconcile.render import json as render_json
from reconcile.schema import json_path, validate_instance

PLAN_KEY_ENV = "RUNAI_RECONCILE_PLAN_KEY"
SCHEMA = "plan-file"
SIGNATURE = "hmac-sha256"
MAX_BYTES = 256 * 1024 * 1024
# Deeper than any spec the API takes; a bound keeps every recursive walk of the document
# (schema check, digests, masks) far from the interpreter's recursion limit.
MAX_DEPTH = 64
_SHOWN_DIFFERENCES = 20


@dataclass(frozen=True)
class SavedPlan:
    """A checked plan file: its document and the plan it holds (sensitive values hashed)."""

    path: Path
    document: Mapping[str, Any]
    plan: Plan

    @property
    def salt(self) -> str:
        return str(self.document["sensitive_salt"])

    @property
    def selection(self) -> Selection:
        """What the plan covers; an older file recorded none: exactly the addresses it holds."""
        if self.document["format_version"] not in planfile_checks.UNBOUND_FORMATS:
            return self.plan.binding.selection
        held = {str(a) for c in self.plan.changes for a in (c.address, c.replaces) if a}
        return Selection(targets=tuple(sorted(held)))


def plan_key() -> bytes | None:
    """The signing key from the environment, or None when it is not set (or empty)."""
    key = os.environ.get(PLAN_KEY_ENV, "")
    return key.encode("utf-8") if key else None


def encode(plan: Plan, *, salt: str, key: bytes | None) -> str:
    """The text of a plan file: bound to its changes, and signed when there is a key."""
    document = render_json.plan_to_file_dict(plan, salt)
    document["binding"]["changes_digest"] = digest(document["changes"])
    if key is not None:
        document["signature"] = {"algorithm": SIGNATURE, "value": _mac(document, key)}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def recorded_config_dir(directory: Path, cwd: Path) -> str:
    """How a plan file names its config directory: relative to where `plan` ran, so the
    file applies from another checkout of the same commit at another path."""
    return Path(os.path.relpath(directory.resolve(), cwd.resolve())).as_posix()


def read(path: Path, *, key: bytes | None = None) -> SavedPlan:
    """The plan file at `path`, checked; with `key`, its signature must be good.

    PlanFileError naming the file and, for each problem, the JSON path and what was expected.
    """
    document = _parse(path)
    _check_format(path, document)
    problems = [
        Problem(p.message, file=str(path), json_path=json_path(p.path))
        for p in validate_instance(SCHEMA, document)
    ]
    _refuse(path, problems)
    if key is not None:
        _check_signature(path, document, key)
    try:
        plan = render_json.plan_from_file_dict(document)
    except ValueError as error:  # what the schema's patterns let through and a codec refuses
        raise PlanFileError(f"{path} is not a valid plan file: {_reason(error)}") from None
    _refuse(path, list(planfile_checks.problems(path, document, plan)))
    return SavedPlan(path=path, document=document, plan=plan)


def config_directory(saved: SavedPlan, *, override: Path | None, cwd: Path) -> Path:
    """The config directory to apply `saved` against: `override`, else the one the file
    names, relative to `cwd` (never a directory outside `cwd` named by an absolute path)."""
    if override is not None:
        return override
    recorded = saved.plan.binding.config_dir
    hint = "run apply from where `plan` ran in this checkout, or pass -C DIR"
    if not recorded:
        raise PlanFileError(f"{saved.path} names no config directory", hint="pass -C DIR")
    directory = Path(recorded)
    if directory.is_absolute():
        if not inside(directory, cwd):
            raise PlanFileError(
                f"{saved.path} names its config directory by the absolute path {recorded} "
                f"(format {saved.document['format_version']}), outside the current directory "
                f"{cwd}: it is not applied against another checkout",
                hint="pass -C DIR to apply it against the config directory of this checkout",
            )
    else:
        directory = cwd / directory
    if not directory.is_dir():
        raise PlanFileError(
            f"{saved.path} was planned from the config directory {recorded} (relative to where "
            f"`plan` ran), and {directory} is not a directory",
            hint=hint,
        )
    return directory


def differences(saved: SavedPlan, recomputed: Plan) -> list[str]:
    """How the changes and safety violations of `saved` differ from `recomputed` (the plan
    made again from the same state, config, live objects and selection); empty when equal.

    A change that is a plain no-op on both sides is only checked to be there: apply does
    nothing with it, and what runs is `recomputed`, never the file's values."""
    theirs = {str(c.address): c for c in saved.plan.changes}
    ours = {str(c.address): c for c in recomputed.changes}
    found = [
        f"{address}: in the plan file, but the recomputed plan has nothing there"
        for address in sorted(theirs.keys() - ours.keys())
    ]
    found += [
        f"{address}: the recomputed plan has a {ours[address].action.value} the plan file lacks"
        for address in sorted(ours.keys() - theirs.keys())
        if ours[address].is_step
    ]
    common = sorted(a for a in theirs.keys() & ours.keys() if theirs[a].is_step or ours[a].is_step)
    stored = render_json.file_changes((ours[a] for a in common), saved.salt)
    for address, hidden in zip(common, stored, strict=True):
        found += _change_differences(address, theirs[address].to_dict(), hidden)
    if not found and [a for a in theirs if a in ours] != [a for a in ours if a in theirs]:
        found.append("the changes are in another order than the recomputed plan's")
    if list(saved.plan.safety_violations) != list(recomputed.safety_violations):
        found.append(
            f"safety_violations: the plan says {_short(list(saved.plan.safety_violations))}, "
            f"recomputed {_short(list(recomputed.safety_violations))}"
        )
    if len(found) > _SHOWN_DIFFERENCES:
        more = len(found) - _SHOWN_DIFFERENCES
        found = [*found[:_SHOWN_DIFFERENCES], f"and {more} more"]
    return found


def _change_differences(
    address: str, theirs: Mapping[str, JSON], ours: Mapping[str, JSON]
) -> list[str]:
    keys = theirs.keys() | ours.keys()
    if canonical({k: theirs.get(k) for k in keys}) == canonical({k: ours.get(k) for k in keys}):
        return []  # the common case, in one comparison
    return [
        f"{address}: {key}: the plan says {_short(theirs.get(key))}, "
        f"recomputed {_short(ours.get(key))}"
        for key in sorted(keys)
        if canonical(theirs.get(key)) != canonical(ours.get(key))
    ]


def _short(value: JSON) -> str:
    text = canonical(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise PlanFileError(f"cannot read plan file {path}: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise PlanFileError(f"{path} is not a plan file: larger than {MAX_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanFileError(
            f"{path} is not a plan file: not UTF-8 text (byte {error.start})"
        ) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise PlanFileError(
            f"{path} is not a plan file: not JSON ({error.msg}, line {error.lineno} "
            f"column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        raise PlanFileError(f"{path} is not a plan file: {_reason(error)}") from None
    if not isinstance(data, dict):
        raise PlanFileError(f"{path} is not a plan file: expected a JSON object")
    if _too_deep(data):
        raise PlanFileError(f"{path} is not a plan file: nested deeper than {MAX_DEPTH} levels")
    return data


def _reason(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return f"nested deeper than {MAX_DEPTH} levels"
    return str(error).splitlines()[0][:200]


def _unique_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when a key repeats (a second value would silently win)."""
    data = dict(pairs)
    if len(data) < len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the key {json.dumps(twice)[:80]} appears twice in one object")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep(value: Any, budget: int = MAX_DEPTH) -> bool:
    """True when containers nest deeper than `budget` levels (leaves cost no call)."""
    if budget <= 0:
        return True
    children = value.values() if type(value) is dict else value
    for child in children:  # noqa: SIM110 (a loop: no generator per container)
        if type(child) in (dict, list) and _too_deep(child, budget - 1):
            return True
    return False


def _check_format(path: Path, document: Mapping[str, Any]) -> None:
    """The two mistakes worth their own words: another major format, and display JSON."""
    version = document.get("format_version")
    if isinstance(version, str) and version.split(".")[0] != PLAN_FORMAT_VERSION.split(".")[0]:
        raise PlanFileError(
            f"{path}: plan file format {version[:20]} is not supported (this tool writes "
            f"{PLAN_FORMAT_VERSION})",
            hint="make the plan again with this version of runai-reconcile",
        )
    if "changes" in document and "sensitive_salt" not in document:
        raise PlanFileError(
            f"{path} is not a saved plan file (no sensitive_salt): the `--format json` output "
            "cannot be applied",
            hint="save a plan with `runai-reconcile plan -out FILE`",
        )


def _refuse(path: Path, problems: list[Problem]) -> None:
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise PlanFileError(
            f"{path} is not a valid plan file ({count})",
            problems=problems[:50],
            hint="make the plan again with `runai-reconcile plan -out FILE`",
        )


def _check_signature(path: Path, document: Mapping[str, Any], key: bytes) -> None:
    signature = document.get("signature")
    hint = f"make the plan again with the same {PLAN_KEY_ENV}"
    if signature is None:
        raise PlanFileError(
            f"{path} is not signed, and {PLAN_KEY_ENV} is set: only signed plan files are applied",
            hint=hint,
        )
    if not hmac.compare_digest(str(signature["value"]), _mac(document, key)):
        raise PlanFileError(
            f"{path} has a bad signature: it was signed with another key than "
            f"{PLAN_KEY_ENV}, or edited after it was signed",
            hint=hint,
        )


def _mac(document: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the canonical JSON of the whole document but its signature."""
    signed = {k: v for k, v in document.items() if k != "signature"}
    return hmac.new(key, canonical(signed).encode("utf-8"), hashlib.sha256).hexdigest()
