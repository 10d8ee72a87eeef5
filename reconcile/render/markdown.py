"""The Markdown view of a plan for a pull-request comment, within a comment's size limit.

The first line is an HTML comment naming the command and environment, so a bot can find
and update its own comment. Then the server and environment, the summary (and any
safety-budget violations), the apply order as a Mermaid graph when the plan is small and
has more than one wave, and the per-object details in collapsed `<details>` blocks. When
the whole would exceed `max_chars`, every address is still listed (as far as addresses
alone fit, then counted per kind) and the details are cut with a note.
Formats plan data only; never prints.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from reconcile.model import Change, Drift, Plan
from reconcile.printable import one_line
from reconcile.render.common import summary_counts, summary_line
from reconcile.render.text import change_lines, drift_lines

MAX_CHARS = 65_000  # GitHub refuses comments over 65,536 characters
MAX_VIOLATIONS = 20  # shown in the summary; the rest are counted
MAX_GRAPH_STEPS = 40  # a larger order graph is unreadable in a comment
_NOTE_ROOM = 400  # room kept for closing a cut block and the truncation note
_COUNT_ROOM = 2_000  # room for counting unlisted addresses: a few kinds times a few marks
_MARK = re.compile(r"^( *)(\+|-/\+|-|~|!) ")
_HEAD = re.compile(r"^ *(\S+) ")  # a block's first line: its mark, then the address
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")

# A section: its title and its blocks (one per object; a block's first line names it).
Section = tuple[str, list[list[str]]]


def marker(command: str, environment: str | None = None) -> str:
    """The comment's first line: stable for a command and environment, so a bot that finds
    it in an earlier comment edits that comment instead of adding another."""
    where = f" environment={_comment_text(environment)}" if environment else ""
    return f"<!-- runai-reconcile {command}{where} -->"


def render(
    plan: Plan,
    *,
    max_chars: int = MAX_CHARS,
    command: str = "plan",
    environment: str | None = None,
) -> str:
    """The PR comment for a plan (or for the plan an `apply` ran, with `command`): where,
    summary, violations, order, then the details."""
    counts = summary_counts(plan)
    head = [marker(command, environment), f"### runai-reconcile {_md(command)}", ""]
    head += _where(plan.binding.server_url, environment)
    head += [f"**{summary_line(plan)}**", ""]
    if counts["drift"]:
        head += [f"**Drift:** {_objects(counts['drift'])} changed outside runai-reconcile.", ""]
    head += _violations(plan.safety_violations)
    steps = plan.steps()
    head += _order_graph(steps)
    sections: list[Section] = []
    if steps:
        sections.append((f"Changes ({len(steps)})", [change_lines(c) for c in steps]))
    if plan.drift:
        sections.append(_drift_section(plan.drift))
    return _fit(head, sections, max_chars)


def render_drift(
    drifts: Sequence[Drift],
    *,
    max_chars: int = MAX_CHARS,
    server: str = "",
    environment: str | None = None,
) -> str:
    """The comment for `drift`: where, a count, then the drifted objects in details."""
    head = [marker("drift", environment), "### runai-reconcile drift", ""]
    head += _where(server, environment)
    if not drifts:
        return "\n".join([*head, "**No drift.**"]) + "\n"
    head += [f"**{_objects(len(drifts))} changed outside runai-reconcile.**", ""]
    return _fit(head, [_drift_section(drifts)], max_chars)


def server_host(server: str) -> str:
    """How a comment names a server: the URL's host, or the embedded emulator."""
    if not server:
        return ""
    if server.startswith("embedded"):
        return "embedded emulator"
    return urlsplit(server).hostname or server


def _where(server: str, environment: str | None) -> list[str]:
    parts = []
    if server:
        parts.append(f"Server: `{_code(server_host(server))}`")
    if environment:
        parts.append(f"environment: `{_code(environment)}`")
    return [" · ".join(parts), ""] if parts else []


def _drift_section(drifts: Sequence[Drift]) -> Section:
    return (f"Drift ({len(drifts)})", [drift_lines(d) for d in drifts])


def _violations(violations: Sequence[str]) -> list[str]:
    if not violations:
        return []
    lines = ["> [!WARNING]", "> **Over the safety budget:** `apply` needs `--force`.", ">"]
    lines += [f"> - {_md(v)}" for v in violations[:MAX_VIOLATIONS]]
    if len(violations) > MAX_VIOLATIONS:
        lines.append(f"> - and {len(violations) - MAX_VIOLATIONS} more")
    return [*lines, ""]


def _order_graph(steps: Sequence[Change]) -> list[str]:
    """The apply order as a Mermaid flowchart: one box per wave, each wave waiting for the
    one before it (the steps of a wave run in parallel). Only for a small plan of more than
    one wave: a single wave has no order to show."""
    waves = sorted({c.wave for c in steps})
    if len(waves) < 2 or len(steps) > MAX_GRAPH_STEPS:
        return []
    lines = [
        f"<details><summary>Apply order ({len(waves)} waves)</summary>",
        "",
        "```mermaid",
        "flowchart LR",
    ]
    node = 0
    for index, wave in enumerate(waves):
        lines.append(f'  subgraph w{index}["wave {index + 1}"]')
        for change in (c for c in steps if c.wave == wave):
            label = f"{_head_mark(change_lines(change)[0])} {one_line(str(change.address))}"
            lines.append(f'    c{node}["{_mermaid(label)}"]')
            node += 1
        lines.append("  end")
    lines += [f"  w{i} --> w{i + 1}" for i in range(len(waves) - 1)]
    return [*lines, "```", "", "</details>", ""]


def _fit(head: list[str], sections: list[Section], max_chars: int) -> str:
    """The whole comment if it fits; else every address first, then details while they fit."""
    top = "\n".join(head) + "\n"
    fence = _fence(line for _, blocks in sections for block in blocks for line in block)
    # The raw lines' length is a lower bound of the details' (escaping only adds): a plan
    # far over the budget is not rendered whole only to be thrown away.
    raw = sum(len(line) + 1 for _, blocks in sections for block in blocks for line in block)
    if len(top) + raw <= max_chars:
        full, _ = _details(sections, fence, room=None)
        if len(top) + len(full) <= max_chars:
            return (top + full).rstrip("\n") + "\n"
    index = _index(sections, fence, room=max_chars - len(top) - _NOTE_ROOM)
    details, shown = _details(sections, fence, room=max_chars - len(top) - len(index) - _NOTE_ROOM)
    total = sum(len(block) for _, blocks in sections for block in blocks)
    note = (
        f"> **Truncated** to fit a comment: {shown} of {total} detail lines shown. "
        "Run `runai-reconcile show PLANFILE` or use `--format json` for the full plan.\n\n"
    )
    return (top + note + index + details).rstrip("\n") + "\n"


def _index(sections: list[Section], fence: str, *, room: int) -> str:
    """One line per object (its mark and address) while they fit, then the rest counted."""
    heads = [block[0] for _, blocks in sections for block in blocks]
    opening = f"<details open><summary>Every address ({len(heads)})</summary>\n\n{fence}diff\n"
    closing = f"{fence}\n\n</details>\n\n"
    parts, size, listed = [opening], len(opening) + len(closing) + _COUNT_ROOM, 0
    for line in heads:
        text = _diff_line(line) + "\n"
        if size + len(text) > room:
            break
        parts.append(text)
        size += len(text)
        listed += 1
    parts.append(closing)
    rest = Counter(_kind_and_mark(line) for line in heads[listed:])
    if rest:
        counted = ", ".join(f"{n} {what}" for what, n in sorted(rest.items()))
        parts.append(f"And {len(heads) - listed} more not listed: {_md(counted)}.\n\n")
    return "".join(parts)


def _details(sections: list[Section], fence: str, *, room: int | None) -> tuple[str, int]:
    """Each section line by line while it fits in `room` (None: all); lines shown."""
    parts: list[str] = []
    size, shown = 0, 0
    for title, blocks in sections:
        lines = [line for block in blocks for line in [*block, ""]][:-1]
        opening = f"<details><summary>{title}</summary>\n\n{fence}diff\n"
        closing = f"{fence}\n\n</details>\n\n"
        if room is not None and size + len(opening) + len(closing) > room:
            break
        parts.append(opening)
        size += len(opening)
        for line in lines:
            text = _diff_line(line) + "\n"
            if room is not None and size + len(text) + len(closing) > room:
                parts.append(closing)
                return "".join(parts), shown
            parts.append(text)
            size += len(text)
            shown += bool(line)
        parts.append(closing)
        size += len(closing)
    return "".join(parts), shown


def _head_mark(line: str) -> str:
    match = _HEAD.match(line)
    return match.group(1) if match else ""


def _kind_and_mark(line: str) -> str:
    """`training-template (+)` for a block's first line: how the unlisted rest is counted."""
    address = line.strip().split(" ", 1)[-1]
    return f"{address.split('/', 1)[0]} ({_head_mark(line)})"


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


def _code(text: str) -> str:
    """Text for an inline code span: backticks cannot end it early."""
    return one_line(text).replace("`", "'")


def _comment_text(text: str) -> str:
    """Text inside an HTML comment: `--` and `>` cannot close it."""
    return re.sub(r"[^A-Za-z0-9._=-]", "_", text).replace("--", "-_")


def _mermaid(text: str) -> str:
    """A quoted Mermaid label: quotes and angle brackets as Mermaid's entity codes."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _objects(count: int) -> str:
    return f"{count} object" + ("" if count == 1 else "s")
