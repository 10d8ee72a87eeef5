"""The Markdown view of a plan for a pull-request comment, within a comment's size limit.

The summary (and any safety-budget violations) comes first; the per-object details sit in
collapsed `<details>` blocks, cut with a note when the whole would exceed `max_chars`.
Formats plan data only; never prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reconcile.model import Drift, Plan
from reconcile.printable import one_line
from reconcile.render.common import summary_counts, summary_line
from reconcile.render.text import change_lines, drift_lines

MAX_CHARS = 65_000  # GitHub refuses comments over 65,536 characters
MAX_VIOLATIONS = 20  # shown in the summary; the rest are counted
_NOTE_ROOM = 400  # room kept for closing a cut block and the truncation note
_MARK = re.compile(r"^( *)(\+|-/\+|-|~|!) ")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")

Section = tuple[str, list[str]]


def render(plan: Plan, *, max_chars: int = MAX_CHARS, title: str = "runai-reconcile plan") -> str:
    """The PR comment for a plan: summary, violations, then changes and drift in details."""
    counts = summary_counts(plan)
    head = [f"### {_md(title)}", "", f"**{summary_line(plan)}**", ""]
    if counts["drift"]:
        head += [f"**Drift:** {_objects(counts['drift'])} changed outside runai-reconcile.", ""]
    head += _violations(plan.safety_violations)
    sections: list[Section] = []
    steps = plan.steps()
    if steps:
        lines = [line for c in steps for line in [*change_lines(c), ""]]
        sections.append((f"Changes ({len(steps)})", lines[:-1]))
    if plan.drift:
        sections.append(_drift_section(plan.drift))
    return _fit(head, sections, max_chars)


def render_drift(drifts: Sequence[Drift], *, max_chars: int = MAX_CHARS) -> str:
    """The PR comment for `drift`: a count, then the drifted objects in details."""
    if not drifts:
        return "### runai-reconcile drift\n\n**No drift.**\n"
    head = [
        "### runai-reconcile drift",
        "",
        f"**{_objects(len(drifts))} changed outside runai-reconcile.**",
        "",
    ]
    return _fit(head, [_drift_section(drifts)], max_chars)


def _drift_section(drifts: Sequence[Drift]) -> Section:
    return (f"Drift ({len(drifts)})", [line for d in drifts for line in drift_lines(d)])


def _violations(violations: Sequence[str]) -> list[str]:
    if not violations:
        return []
    lines = ["> [!WARNING]", "> **Over the safety budget:** `apply` needs `--force`.", ">"]
    lines += [f"> - {_md(v)}" for v in violations[:MAX_VIOLATIONS]]
    if len(violations) > MAX_VIOLATIONS:
        lines.append(f"> - and {len(violations) - MAX_VIOLATIONS} more")
    return [*lines, ""]


def _fit(head: list[str], sections: list[Section], max_chars: int) -> str:
    """Head in full, then each section line by line while it fits; a note if anything is cut."""
    fence = _fence(line for _, lines in sections for line in lines)
    out = "\n".join(head) + "\n"
    total = sum(len(lines) for _, lines in sections)
    shown, cut = 0, False
    for title, lines in sections:
        opening = f"<details><summary>{title}</summary>\n\n{fence}diff\n"
        closing = f"{fence}\n\n</details>\n\n"
        if len(out) + len(opening) + len(closing) + _NOTE_ROOM > max_chars:
            cut = True
            break
        out += opening
        for line in lines:
            text = _diff_line(line) + "\n"
            if len(out) + len(text) + len(closing) + _NOTE_ROOM > max_chars:
                cut = True
                break
            out += text
            shown += 1
        out += closing
        if cut:
            break
    if cut:
        out += (
            f"> **Truncated** to fit a comment: {shown} of {total} detail lines shown. "
            "Run `runai-reconcile show PLANFILE` or use `--format json` for the full plan.\n"
        )
    return out.rstrip("\n") + "\n"


def _diff_line(line: str) -> str:
    """A text line with its change mark moved to column 0, so diff highlighting colours it."""
    line = one_line(line)
    match = _MARK.match(line)
    if match is None:
        return line
    indent, mark = match.groups()
    return f"{mark}{indent} {line[match.end() :]}"


def _fence(lines: Iterable[str]) -> str:
    """A code fence longer than any backtick run in the content, so values cannot close it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def _objects(count: int) -> str:
    return f"{count} object" + ("" if count == 1 else "s")
