"""Run:ai list semantics shared by every list endpoint: filterBy, search, sort, offset/limit.

It selects and slices; it never shapes the response (each endpoint wraps the page in its own
`{entries, pagination}`, `{projects, next}`, bare array, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from reconcile.emulator.framework import ApiProblem

Item = dict[str, Any]
FieldGetter = Callable[[Item], Any]

# Longest operators first is irrelevant here: every operator is two characters.
_TERM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(==|!=|<=|>=|=@|!@|=\^|=\$)(.+)$", re.DOTALL)
MAX_LIMIT = 500


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _order(left: Any, right: str) -> int | None:
    """Compare a field value with a filter operand: numbers as numbers, dates as dates."""
    if isinstance(left, (int, float)) and not isinstance(left, bool):
        try:
            number = float(right)
        except ValueError:
            return None
        return (left > number) - (left < number)
    text = _text(left)
    left_date, right_date = _as_date(text), _as_date(right)
    if left_date is not None and right_date is not None:
        try:
            return (left_date > right_date) - (left_date < right_date)
        except TypeError:  # naive vs aware
            return None
    return (text > right) - (text < right)


def _matches(value: Any, op: str, operand: str) -> bool:
    if value is None:
        # An absent field equals nothing; only the negative operators match it.
        return op in ("!=", "!@")
    if op in ("<=", ">="):
        cmp = _order(value, operand)
        return cmp is not None and (cmp <= 0 if op == "<=" else cmp >= 0)
    text = _text(value)
    if op == "==":
        return text == operand
    if op == "!=":
        return text != operand
    if op == "=@":
        return operand in text
    if op == "!@":
        return operand not in text
    if op == "=^":
        return text.startswith(operand)
    return text.endswith(operand)  # =$


def parse_filters(
    args: MultiDict[str, str], fields: Mapping[str, FieldGetter]
) -> list[tuple[str, str, str]]:
    """`filterBy` terms as (field, op, value): comma-separated (explode: false) and/or repeated."""
    terms: list[tuple[str, str, str]] = []
    for raw in args.getlist("filterBy"):
        for term in raw.split(","):
            if not term:
                continue
            match = _TERM.match(term)
            if match is None:
                raise ApiProblem(400, f"Bad request - invalid filterBy term {term!r}")
            name, op, operand = match.groups()
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise ApiProblem(
                    400, f"Bad request - unknown filterBy field {name!r}", f"allowed: {known}"
                )
            terms.append((name, op, operand))
    return terms


def matching(
    items: Iterable[Item],
    args: MultiDict[str, str],
    *,
    fields: Mapping[str, FieldGetter],
    search_fields: Sequence[str] = ("name",),
) -> list[Item]:
    """The items that pass every filterBy term and the `search` text (case-insensitive)."""
    terms = parse_filters(args, fields)
    search = (args.get("search") or "").lower()
    if not terms and not search:
        return list(items)  # the common unfiltered walk: no per-item work
    getters = [fields[name] for name in search_fields if name in fields]
    out: list[Item] = []
    for item in items:
        if not all(_matches(fields[name](item), op, operand) for name, op, operand in terms):
            continue
        if search and not any(search in _text(get(item)).lower() for get in getters):
            continue
        out.append(item)
    return out


def _int_arg(args: MultiDict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiProblem(400, f"Bad request - {name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiProblem(400, f"Bad request - {name} must be between {low} and {high}")
    return value


def sort_items(
    items: list[Item],
    args: MultiDict[str, str],
    *,
    fields: Mapping[str, FieldGetter],
    default_sort: str | None,
) -> list[Item]:
    """Sort by `sortBy` (or `default_sort`; None keeps insertion order); absent values last."""
    order = args.get("sortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise ApiProblem(400, f"Bad request - sortOrder must be asc or desc, got {order!r}")
    key_name = args.get("sortBy") or default_sort
    if key_name is None:
        return items[::-1] if order == "desc" else items
    if key_name not in fields:
        known = ", ".join(sorted(fields))
        raise ApiProblem(
            400, f"Bad request - unknown sortBy field {key_name!r}", f"allowed: {known}"
        )
    getter = fields[key_name]
    present = [item for item in items if getter(item) is not None]
    absent = [item for item in items if getter(item) is None]
    present.sort(key=lambda item: _sort_key(getter(item)), reverse=order == "desc")
    return present + absent


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, _text(value))


def page(
    items: Iterable[Item],
    args: MultiDict[str, str],
    *,
    fields: Mapping[str, FieldGetter],
    default_sort: str | None,
    search_fields: Sequence[str] = ("name",),
    default_limit: int = 50,
) -> tuple[list[Item], int]:
    """Filter, search, sort and slice; returns (page items, total matching before slicing).

    Raises ApiProblem(400) for an unknown filter/sort field, a bad operator, or an
    offset/limit outside its range (limit 1..500, default 50).
    """
    offset = _int_arg(args, "offset", 0, 0, 2**31 - 1)
    limit = _int_arg(args, "limit", default_limit, 1, MAX_LIMIT)
    selected = matching(items, args, fields=fields, search_fields=search_fields)
    ordered = sort_items(selected, args, fields=fields, default_sort=default_sort)
    return ordered[offset : offset + limit], len(ordered)


def page_bounds(args: MultiDict[str, str], *, default_limit: int = 50) -> tuple[int, int]:
    """The validated (offset, limit) of a request, for building pagination objects."""
    return (
        _int_arg(args, "offset", 0, 0, 2**31 - 1),
        _int_arg(args, "limit", default_limit, 1, MAX_LIMIT),
    )
