"""A language-agnostic tokenizer for launch code: strings, words and brackets with their line, for any of the
languages pipelines are launched from (shell, PowerShell, batch, Makefiles, CI YAML, Java, Kotlin, Scala, Go,
JavaScript/TypeScript, Groovy, C#…). It does not parse a language; it knows just enough of each family to
find option flags and setter calls at the right line:

- comments (`#`, `//`, `/* */`, `<# #>`, `REM`/`::`) are skipped where the family has them, so a commented-out
  flag is not reported;
- line continuations (`\\` shell/Make, `` ` `` PowerShell, `^` batch) join lines: a flag and its value on the
  next line stay one pair;
- quoted strings ("…", '…', and `…` where the family quotes with it) are one token; `--flag=` directly followed
  by a quoted value is one word.

`decode` reads UTF-8 (with or without BOM) and UTF-16 with a BOM (PowerShell's default on Windows); anything
else is a per-file error, never guessed.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Literal

from shareguard.core.errors import BudgetExceeded, ParseError

Kind = Literal["str", "word", "open", "close", "sep", "nl"]
Family = Literal["shell", "powershell", "batch", "c", "generic"]

MAX_TOKENS = 200_000
"""Token budget per file (a launch script holds hundreds; a generated blob is refused, not half-read)."""

_OPEN = "([{"
_CLOSE = ")]}"
_SEPS = ",;"

FAMILY_BY_SUFFIX: dict[str, Family] = {
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ksh": "shell",
    ".mk": "shell",
    ".yaml": "shell",
    ".yml": "shell",
    ".toml": "shell",
    ".cfg": "shell",
    ".conf": "shell",
    ".env": "shell",
    ".ini": "shell",
    ".properties": "shell",
    ".rb": "shell",
    ".r": "shell",
    ".ps1": "powershell",
    ".psm1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".java": "c",
    ".kt": "c",
    ".kts": "c",
    ".scala": "c",
    ".sc": "c",
    ".go": "c",
    ".js": "c",
    ".mjs": "c",
    ".cjs": "c",
    ".ts": "c",
    ".mts": "c",
    ".cts": "c",
    ".groovy": "c",
    ".gradle": "c",
    ".cs": "c",
}
"""How each file ending comments, quotes and continues lines; other files are `generic` (or sniffed)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    line: int


def decode(raw: bytes, path: str) -> str:
    """The text of a launch file: UTF-16 (BOM), UTF-8 (BOM or not). Undecodable bytes are a per-file error."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(f"invalid UTF-16 text: {exc.reason}", path=path) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    if b"\x00" in raw:
        raise ParseError("text with NUL bytes and no UTF-16 byte-order mark: encoding unknown", path=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")  # Windows scripts saved as "ANSI"; every byte but five maps
        except UnicodeDecodeError as exc:
            raise ParseError(f"text is neither UTF-8, UTF-16 nor Windows-1252: {exc.reason}", path=path) from None


def sniff_text(head: bytes) -> str:
    """The decodable start of a file for content sniffing (UTF-16 heads are decoded; never raises)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) - len(head) % 2].decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace")


def family_of(suffix: str, head: str) -> Family:
    fam = FAMILY_BY_SUFFIX.get(suffix)
    if fam is not None:
        return fam
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    if first.startswith("#!"):
        return "powershell" if "pwsh" in first or "powershell" in first else "shell"
    return "generic"


def tokenize(text: str, family: Family, path: str) -> list[Token]:
    """Tokens of `text` (see the module docstring). Over `MAX_TOKENS` tokens is a budget error."""
    out: list[Token] = []
    n = len(text)
    i = 0
    line = 1
    hash_comments = family in ("shell", "powershell", "generic")
    slash_comments = family == "c"
    escape = "`" if family == "powershell" else ("" if family == "batch" else "\\")
    continuation = {"shell": "\\", "powershell": "`", "batch": "^", "c": "", "generic": "\\"}[family]
    quotes = "\"'`" if family == "c" else "\"'"
    at_line_start = True
    glued = False  # the previous token ended right here (no space): `--k="v"` stays one word
    while i < n:
        if len(out) > MAX_TOKENS:
            raise BudgetExceeded(f"launch file holds more than {MAX_TOKENS} tokens; not read", path=path)
        c = text[i]
        if c == "\n":
            out.append(Token("nl", "\n", line))
            line += 1
            i += 1
            at_line_start, glued = True, False
            continue
        if c in " \t\r\f\v":
            i += 1
            glued = False
            continue
        if continuation and c == continuation and _rest_blank(text, i + 1):
            end = text.find("\n", i)
            if end < 0:
                break
            i, line, glued = end + 1, line + 1, False
            continue
        if at_line_start and _line_comment(text, i, family):
            i = _skip_to_eol(text, i)
            continue
        if family == "powershell" and text.startswith("<#", i):
            end = text.find("#>", i + 2)
            stop = n if end < 0 else end + 2
            line += text.count("\n", i, stop)
            i = stop
            continue
        if hash_comments and c == "#":
            i = _skip_to_eol(text, i)
            continue
        if slash_comments and text.startswith("//", i):
            i = _skip_to_eol(text, i)
            continue
        if slash_comments and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            stop = n if end < 0 else end + 2
            line += text.count("\n", i, stop)
            i = stop
            continue
        at_line_start = False
        if c in quotes:
            start_line = line
            j, value = _string(text, i, c, escape if c != "'" or family == "c" else "")
            line += text.count("\n", i, j)
            if glued and out and out[-1].kind == "word" and out[-1].text.endswith(("=", ":")):
                prev = out.pop()
                out.append(Token("word", prev.text + value, prev.line))
            else:
                out.append(Token("str", value, start_line))
            i, glued = j, True
            continue
        if c in _OPEN:
            out.append(Token("open", c, line))
            i, glued = i + 1, False
            continue
        if c in _CLOSE:
            out.append(Token("close", c, line))
            i, glued = i + 1, False
            continue
        if c in _SEPS:
            out.append(Token("sep", c, line))
            i, glued = i + 1, False
            continue
        j = i
        dash = c == "-"
        while j < n:
            d = text[j]
            if d in " \t\r\n\f\v" or d in quotes or d in _OPEN or d in _CLOSE or d == ";":
                break
            if d == "," and not dash:
                break
            if d == continuation and _rest_blank(text, j + 1):
                break
            j += 1
        out.append(Token("word", text[i:j], line))
        i, glued = j, True
    return out


def _rest_blank(text: str, i: int) -> bool:
    """Only blanks follow up to the end of the line (a continuation character ends it)."""
    end = text.find("\n", i)
    rest = text[i:] if end < 0 else text[i:end]
    return not rest.strip()


def _line_comment(text: str, i: int, family: Family) -> bool:
    if family == "batch":
        head = text[i : i + 4].upper()
        return head.startswith("::") or head == "REM " or head.rstrip() == "REM"
    if family == "generic":
        return text.startswith(("#", "//"), i)
    return False


def _skip_to_eol(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _string(text: str, i: int, quote: str, escape: str) -> tuple[int, str]:
    """(index after the closing quote, the string's content) of a string starting at `i`."""
    j = i + 1
    parts: list[str] = []
    n = len(text)
    while j < n:
        c = text[j]
        if escape and c == escape and j + 1 < n:
            parts.append(text[j + 1])
            j += 2
            continue
        if c == quote:
            if j + 1 < n and text[j + 1] == quote and quote == '"' and escape == "`":  # PowerShell ""
                parts.append('"')
                j += 2
                continue
            return j + 1, "".join(parts)
        parts.append(c)
        j += 1
    return n, "".join(parts)
