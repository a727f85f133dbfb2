"""Fuzz target (issue #14): Dockerfiles through the posture analyzer (parse, expand, checks), mutated
from the example platform's real Dockerfiles.

Property: `posture.dockerfile` yields findings of the documented shape (rule, duties, severity,
fingerprint, a resource) or raises a `ShareguardError` (a per-file issue), never another exception,
within the expansion budget (`ARG A=$A$A` doubling is a `BudgetExceeded`, not gigabytes)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from posture_helpers import analyzer

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.finding import Finding
from shareguard.core.settings import Settings

FUZZ = settings(max_examples=80, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "docker"
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*/Dockerfile"))] + [
    "# syntax=docker/dockerfile:1\n# escape=`\nARG BASE=python:3.11\nFROM ${BASE} AS build\n"
    "RUN <<EOF\ncurl -k https://x | sh\nEOF\nFROM build\nCOPY --from=build / /\nUSER root\n"
    'ENTRYPOINT ["python", "-m", "x"]\n'
]
TOKENS = [
    "ARG A=$A$A",
    "ARG A=${A}${A}${A}${A}",
    "ENV B=${A:-${A:+$A}}",
    "FROM",
    "FROM scratch AS",
    "FROM --platform=$TARGETPLATFORM ${IMG:?}",
    "RUN <<EOF",
    "RUN <<-'EOT' cat > /x",
    "EOF",
    "\\",
    "RUN a \\",
    "# escape=`",
    "# syntax=" + "x" * 300,
    'RUN ["/bin/sh", "-c", ',
    'CMD ["' + "[" * 2000,
    "USER 99999999999999999999999999999999999999",
    "EXPOSE " + "9" * 5000,
    "HEALTHCHECK CMD",
    "ONBUILD ONBUILD RUN x",
    "LABEL a=\x1b[2J b=\u202e c=\x00",
    "RUN curl -fsSL http://x | bash && pip install --trusted-host h --index-url http://i p",
    "COPY --chown=0:0 --chmod=777 . /",
    "ADD https://x/y.tar.gz /",
    "RUN $(" * 50,
    "'" * 30,
    "\t\t",
    "\ufeff",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str], tokens: list[str]) -> str:
    """A valid seed with lines replaced, inserted, spliced, deleted, duplicated or swapped, characters
    changed, a truncation."""
    lines = draw(st.sampled_from(seeds)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["replace", "insert", "splice", "delete", "duplicate", "swap", "char", "truncate"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "replace" and lines:
            lines[i] = draw(st.sampled_from(tokens))
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(tokens)))
        elif op == "splice" and lines:
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.sampled_from(tokens)) + lines[i][cut:]
        elif op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines[i:i] = lines[i : i + draw(st.integers(1, 8))] * draw(st.integers(1, 30))
        elif op == "swap" and lines:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "char" and lines and lines[i]:
            cut = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:cut] + draw(st.characters(codec="utf-8")) + lines[i][cut + 1 :]
        else:
            lines = lines[:i]
    return "\n".join(lines)


def check_outputs(name: str, path: str, data: bytes) -> None:
    an = analyzer(name)
    entry = FileEntry(rel_path=path, size=len(data), data=data)
    ctx = ScanContext(settings=Settings())
    try:
        outputs = list(an.analyze(entry, ctx))
    except ShareguardError as exc:
        assert "\n" not in exc.one_line()
        return
    for out in outputs:
        if isinstance(out, Finding):
            assert out.rule_id and out.control_ids and out.fingerprint
            assert out.resource is not None and out.remediation is not None
            assert out.location.line is None or out.location.line >= 1


BOMB = "FROM x\nARG A=aaaaaaaa\n" + "ARG A=$A$A\n" * 40 + "RUN echo $A\n"


@FUZZ
@given(st.one_of(mutated(SEEDS, TOKENS), mutated(SEEDS, TOKENS).map(lambda t: t.encode() + b"\xff\xfe")))
@example(BOMB)
@example("FROM x\nRUN <<EOF\n" + "\\\n" * 5000)
def test_dockerfile_mutated(text: str | bytes) -> None:
    check_outputs("posture.dockerfile", "Dockerfile", text.encode() if isinstance(text, str) else text)
