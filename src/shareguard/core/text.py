"""User content made safe for a terminal: control characters shown, never obeyed.

File names, package names and YAML values are attacker-controlled. Written raw to a terminal, ESC
starts an escape sequence (`\\x1b[2J` clears the screen, OSC 8 forges links, OSC 52 writes the
clipboard), CR and newlines forge report lines, NUL and DEL confuse terminals and logs, and the bidi
controls reorder what is shown (Trojan Source). `printable` renders every such character visibly as
a Python-style escape (`\\x1b`, `\\n`, `\\u202e`), and a backslash as `\\\\` only when the text
needs escaping at all (so ordinary Windows paths stay readable and the escaped form stays
unambiguous). Every human-facing output (the table report, stderr messages, progress bars) passes
user content through it; machine formats (JSON, SARIF, SBOMs) keep the exact value and HTML escapes
with its own rules.
"""

from __future__ import annotations

import re

_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")
_UNSAFE_OR_BACKSLASH = re.compile(f"[\\\\\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with C0/C1 controls, DEL, line separators and bidi controls escaped visibly.

    Fast path: text without any such character (nearly all of it) is returned as it is."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE_OR_BACKSLASH.sub(_escape, text)


def printable_lines(text: str) -> str:
    """`printable` for text whose newlines are its own layout (a multi-line message): lines kept, the rest escaped."""
    return "\n".join(printable(line) for line in text.split("\n"))


ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """`text` on one line of at most `width` characters: whole when it fits, else cut at the last word
    boundary that fits and ended with an ellipsis (only a first word longer than the width is cut inside
    it, as nothing else fits). For displays only: machine formats keep the whole text."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    if width <= 1:
        return ELLIPSIS[:width]
    room = flat[: width - 1]
    if flat[width - 1] != " ":
        cut = room.rfind(" ")
        if cut > 0:
            room = room[:cut]
    return (room.rstrip(" ,;:-") or room) + ELLIPSIS
