"""Shell commands (Dockerfile `RUN`, launch scripts) as simple commands and pipelines.

`bashlex` builds a real AST; for the constructs it rejects (`case`, `[[ ]]`, arrays, arithmetic,
unterminated quotes…) a `shlex` tokenizer splits on the control operators instead. Either way the
result is the same small model, and parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shareguard.core.memo import per_scan

# bashlex is a full grammar in pure Python; very long scripts go straight to the tokenizer.
_BASHLEX_MAX_CHARS = 32 * 1024
_REDIRECTS = frozenset({">", "<", ">>", "<<", "<<<", ">&", "&>", "&>>", "<&"})
_CONTROL = frozenset({"&&", "||", ";", "&", ";;", "\n", "(", ")", "{", "}"})
_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "until", "case", "esac", "!", "{", "}"}
)


@dataclass(frozen=True)
class SimpleCommand:
    argv: tuple[str, ...]
    pipeline: int
    """Index of the pipeline it belongs to (commands of one pipeline share it)."""
    position: int
    """0 for the first command of its pipeline."""
    substituted: bool = False
    """Runs inside `$( )`, backticks or `<( )`."""

    @property
    def name(self) -> str:
        """The program, without its directory (`/usr/bin/pip3` → `pip3`)."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""


@dataclass(frozen=True)
class ShellScript:
    text: str
    commands: tuple[SimpleCommand, ...]
    parser: str
    """`bashlex` or `tokenizer` (the fallback)."""

    def pipeline(self, index: int) -> list[SimpleCommand]:
        return [c for c in self.commands if c.pipeline == index]


# Constructs the tokenizer only approximates; bashlex (≈100x slower) is used when one is present.
_HARD_MARKS = ("$(", "`", "<(", ">(", "<<", "()")
_HARD_WORDS = re.compile(r"\b(?:case|function|then|do)\b")


def _is_hard(text: str) -> bool:
    return any(m in text for m in _HARD_MARKS) or _HARD_WORDS.search(text) is not None


@per_scan(maxsize=4096)  # the scan's: command lines hold tokens
def parse_shell(text: str) -> ShellScript:
    """Parse a command line; the same text always gives the same (immutable) result, hence the cache.

    Plain command lists (`apt-get … && pip install … | tee`) are split by the tokenizer, which
    is exact for them; substitutions, heredocs and compound commands go to bashlex's grammar.
    """
    if not _is_hard(text):
        return ShellScript(text, tuple(_tokenize_commands(text)), "tokenizer")
    if len(text) <= _BASHLEX_MAX_CHARS:
        import bashlex  # imported on first need: building its grammar tables costs ~0.5 s

        try:
            trees = bashlex.parse(text)
        except Exception:
            trees = None
        if trees is not None:
            walker = _Walker()
            for tree in trees:
                walker.visit(tree, substituted=False)
            return ShellScript(text, tuple(walker.out), "bashlex")
    return ShellScript(text, tuple(_tokenize_commands(text)), "tokenizer")


class _Walker:
    def __init__(self) -> None:
        self.out: list[SimpleCommand] = []
        self.pipelines = 0

    def visit(self, node: Any, *, substituted: bool, pipeline: int | None = None, position: int = 0) -> None:
        kind = getattr(node, "kind", "")
        if kind == "pipeline":
            index = self._new_pipeline()
            pos = 0
            for part in node.parts:
                if getattr(part, "kind", "") == "pipe":
                    continue
                self.visit(part, substituted=substituted, pipeline=index, position=pos)
                pos += 1
            return
        if kind == "command":
            words = [p.word for p in node.parts if getattr(p, "kind", "") == "word"]
            index = pipeline if pipeline is not None else self._new_pipeline()
            if words:
                self.out.append(SimpleCommand(tuple(words), index, position, substituted))
            for p in node.parts:
                self._substitutions(p)
            return
        for attr in ("parts", "list"):
            for child in getattr(node, attr, None) or ():
                self.visit(child, substituted=substituted)
        inner = getattr(node, "command", None)
        if inner is not None:
            self.visit(inner, substituted=True)

    def _substitutions(self, node: Any) -> None:
        for part in getattr(node, "parts", None) or ():
            if getattr(part, "kind", "") in ("commandsubstitution", "processsubstitution"):
                self.visit(part.command, substituted=True)
            else:
                self._substitutions(part)
        out = getattr(node, "output", None)
        if out is not None and not isinstance(out, int):
            self._substitutions(out)

    def _new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines - 1


_MAX_SUBSTITUTION_DEPTH = 8
_CONTROL_CHARS = frozenset(";&|()")
_SUBST_SYNTAX = re.compile(r"\$\(|<\(|[()`]")
_OPERATORS = re.compile(r"(\|\||&&|;;|[|;&<>])")


# One regex pass instead of shlex (an order of magnitude faster): a word is a run of plain
# characters, escapes and quoted strings; operators are tokens of their own.
_TOKEN = re.compile(
    r"""(?P<word>(?:[^\s'"\\|&;()<>]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+)|(?P<op>&&|\|\||;;|\|&|>>|<<<?|>&|&>>?|<&|[|&;()<>\n])""",
    re.S,
)
_UNQUOTE = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.S)


def _unquote_word(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        if m.group(2) is not None:
            return re.sub(r"\\(.)", r"\1", m.group(2))
        return m.group(3)

    return _UNQUOTE.sub(repl, word)


def _tokens(text: str) -> list[str]:
    if text.count("'") % 2 or (text.count('"') - text.count('\\"')) % 2:
        # Unterminated quote: flat words, split on whitespace and operators.
        flat = _SUBST_SYNTAX.sub(" ", text).replace("'", " ").replace('"', " ")
        return [w for part in _OPERATORS.split(flat) for w in part.split() if w]
    return [m.group("op") or _unquote_word(m.group("word")) for m in _TOKEN.finditer(text)]


def _tokenize_commands(text: str, substituted: bool = False, start: int = 0, depth: int = 0) -> list[SimpleCommand]:
    """Best-effort split on control operators and pipes, with `$( )`/backtick contents parsed too."""
    if depth >= _MAX_SUBSTITUTION_DEPTH:
        # Absurd nesting: flatten the substitutions into plain words rather than recurse further.
        text, substituted = _SUBST_SYNTAX.sub(" ", text), True
    # A newline ends a command (heredoc bodies hold several lines); a backslash-newline continues it.
    tokens = _tokens(text.replace("\\\n", " ") if "\n" in text else text)
    out: list[SimpleCommand] = []
    pipeline = start
    position = 0
    argv: list[str] = []

    def flush() -> None:
        nonlocal position
        if argv:
            out.append(SimpleCommand(tuple(argv), pipeline, position, substituted))
            position += 1
        argv.clear()

    skip_next = False
    for tok in tokens:
        if skip_next:  # the target of a redirection
            skip_next = False
            continue
        if tok == "|" or tok == "|&":
            flush()
            continue
        if tok in _REDIRECTS:
            if argv and argv[-1].isdigit():
                argv.pop()  # the file descriptor of `2>&1`
            skip_next = True
            continue
        if tok in _CONTROL or not tok or (tok[0] in _CONTROL_CHARS and _CONTROL_CHARS.issuperset(tok)):
            flush()
            pipeline += 1
            position = 0
            continue
        if not argv and tok in _RESERVED:
            continue
        argv.append(tok)
        if depth < _MAX_SUBSTITUTION_DEPTH and ("$(" in tok or "`" in tok):
            for inner in _substitution_bodies(tok):
                out.extend(_tokenize_commands(inner, True, pipeline + 1000 * (len(out) + 1), depth + 1))
    flush()
    return out


def _substitution_bodies(token: str) -> list[str]:
    out: list[str] = []
    i = token.find("$(")
    while i >= 0:
        depth, j = 0, i + 1
        while j < len(token):
            if token[j] == "(":
                depth += 1
            elif token[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append(token[i + 2 : j])
        i = token.find("$(", j)
    parts = token.split("`")
    out.extend(parts[1::2])
    return [b for b in out if b.strip()]
