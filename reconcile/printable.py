"""Text written by users or servers made safe to print on one line of a terminal, a
Markdown comment or a CI annotation: line breaks, terminal escapes and direction overrides
are shown escaped, so no value can add a line or repaint one. Imports nothing of ours.
"""

from __future__ import annotations

import re

# C0 and C1 controls (newline, ESC, ...), the Unicode line and paragraph separators (line
# breaks to str.splitlines and some viewers), and the bidirectional overrides that make a
# line read differently from what it holds. A regular-expression character class body, also
# used by the generated schemas' name and one-line patterns.
UNSAFE_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
# JSON Schema patterns (ECMA-262) for values that are printed: a name the API gives no
# pattern (no "/" either: it separates the parts of an address) and any one-line text.
NAME_PATTERN = f"^[^/{UNSAFE_CHARACTERS}]+$"
ONE_LINE_PATTERN = f"^[^{UNSAFE_CHARACTERS}]*$"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` with every unsafe character escaped (`\\n`, `\\x1b`, `\\u2028`)."""
    return _UNSAFE.sub(_escape, text)


def quoted(text: str) -> str:
    """A value as an error message shows it: quoted like repr, unsafe characters escaped."""
    return "'" + one_line(text.replace("\\", "\\\\").replace("'", "\\'")) + "'"
