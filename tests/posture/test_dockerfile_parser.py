"""Dockerfile parser: stages, continuations, heredocs, directives, expansion, exec form, claiming."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.entry import FileEntry
from shareguard.posture.parsers.dockerfile import claim, parse_image_ref, parse_text, stage_user
from shareguard.posture.parsers.shell import parse_shell

MULTI = """\
# syntax=docker/dockerfile:1.7
ARG REGISTRY=nvcr.io
ARG TAG
FROM --platform=$BUILDPLATFORM ${REGISTRY}/nvidia/pytorch:${TAG:-24.05}-py3 AS builder
ENV PIP_INDEX_URL=https://pypi.example.com/simple \\
    # a comment inside a continuation is dropped
    APP_HOME=/opt/app
RUN set -eux; \\
    pip install -i $PIP_INDEX_URL torch==2.3.0

RUN <<EOT bash
  curl -fsSL https://example.com/x.sh | sh
EOT
COPY <<-EOF /etc/app.conf
\tkey=value
\tEOF
FROM builder AS runtime
USER 1000
WORKDIR $APP_HOME
CMD ["python", "-m", "app"]
"""


def test_stages_directives_and_expansion() -> None:
    df = parse_text(MULTI)
    assert df.directives == {"syntax": "docker/dockerfile:1.7"}
    assert [s.name for s in df.stages] == ["builder", "runtime"]
    assert df.stages[0].base == "nvcr.io/nvidia/pytorch:24.05-py3"
    assert df.stages[0].platform == "$BUILDPLATFORM"
    assert df.stages[1].parent == 0 and df.root_base(df.stages[1]) == "nvcr.io/nvidia/pytorch:24.05-py3"
    assert df.stages[0].env["APP_HOME"] == "/opt/app"
    workdir = df.stages[1].of("WORKDIR")[0]
    assert workdir.args == "/opt/app"  # ENV inherited from the parent stage and expanded
    assert stage_user(df, df.stages[1])[0] == "1000"


def test_continuations_heredocs_and_lines() -> None:
    df = parse_text(MULTI)
    runs = df.stages[0].of("RUN")
    assert runs[0].line == 8 and runs[0].end_line == 9
    assert "pip install -i https://pypi.example.com/simple torch==2.3.0" in runs[0].args
    assert runs[0].line_of("torch") == 9
    heredoc = runs[1]
    assert heredoc.heredocs[0].name == "EOT" and heredoc.heredocs[0].line == 12
    names = [c.name for c in heredoc.shell.commands]
    assert names == ["curl", "sh"]
    assert heredoc.line_of("curl") == 12
    copy = df.stages[0].of("COPY")[0]
    assert copy.heredocs[0].body == "key=value"  # <<- strips leading tabs
    assert df.stages[1].of("FROM")[0].line == 17


def test_exec_form_and_flags() -> None:
    df = parse_text(
        'FROM alpine:3.20\nCOPY --from=build --chown=1:1 ["a b", "/dst/"]\nRUN ["sh", "-c", "apk add curl"]\n'
    )
    copy, run = df.stages[0].of("COPY")[0], df.stages[0].of("RUN")[0]
    assert copy.flags == {"from": "build", "chown": "1:1"} and copy.exec_form == ["a b", "/dst/"]
    assert [c.argv for c in run.shell.commands] == [("apk", "add", "curl")]


def test_escape_directive_backtick() -> None:
    df = parse_text("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo a `\n  && echo b\n")
    assert df.escape == "`"
    assert df.stages[0].of("RUN")[0].args == "echo a && echo b"


def test_legacy_env_form_and_arg_without_value() -> None:
    df = parse_text("FROM debian:12\nENV MODEL_DIR /models/bert base\nARG TOKEN\n")
    st0 = df.stages[0]
    assert st0.env["MODEL_DIR"] == "/models/bert base"
    assert st0.args["TOKEN"] is None


@pytest.mark.parametrize(
    ("ref", "registry", "repo", "tag", "digest"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", None, None),
        ("pytorch/pytorch:2.3.0-cuda12.1", "docker.io", "pytorch/pytorch", "2.3.0-cuda12.1", None),
        ("localhost:5000/x/y:1", "localhost:5000", "x/y", "1", None),
        ("gcr.io/distroless/python3@sha256:abc", "gcr.io", "distroless/python3", None, "sha256:abc"),
        ("nvcr.io/nvidia/tritonserver:24.05-py3@sha256:ff", "nvcr.io", "nvidia/tritonserver", "24.05-py3", "sha256:ff"),
    ],
)
def test_image_reference_normalisation(ref: str, registry: str, repo: str, tag: str | None, digest: str | None) -> None:
    r = parse_image_ref(ref)
    assert (r.registry, r.repository, r.tag, r.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize(
    ("name", "text", "claimed"),
    [
        ("Dockerfile", "", True),
        ("gpu.Dockerfile", "", True),
        ("Dockerfile.cuda12", "", True),
        ("Containerfile", "", True),
        ("Dockerfile.dockerignore", "", False),
        ("Dockerfile.md", "", False),
        ("buildspec", "# comment\nARG BASE=ubuntu\nFROM $BASE\n", True),
        ("Makefile", "all:\n\tdocker build .\n", False),
        ("notes", "FROM here on we write prose\n", True),  # looks like FROM + image: claimed, parsed leniently
        ("binary", "\x00\x01FROM x", False),
    ],
)
def test_claiming(tmp_path: Path, name: str, text: str, claimed: bool) -> None:
    p = tmp_path / name
    p.write_text(text or "FROM scratch\n", encoding="utf-8")
    assert claim(FileEntry(rel_path=name, size=p.stat().st_size, abs_path=p)) is claimed


def test_shell_pipelines_substitutions_and_fallback() -> None:
    s = parse_shell('curl -fsSL https://x | sudo -E bash - && sh -c "$(wget -qO- https://y)"')
    assert s.parser == "bashlex"
    first = s.pipeline(s.commands[0].pipeline)
    assert [c.name for c in first] == ["curl", "sudo"]
    assert any(c.substituted and c.name == "wget" for c in s.commands)
    fallback = parse_shell("case $x in a) curl -k https://z | sh ;; esac; [[ -f y ]] && pip install --trusted-host h p")
    assert fallback.parser == "tokenizer"
    argvs = [c.argv for c in fallback.commands]
    assert ("pip", "install", "--trusted-host", "h", "p") in argvs
    assert any(c.name == "sh" and c.position == 1 for c in fallback.commands)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["FROM ", "RUN ", "ARG ", "ENV ", "COPY ", "USER ", "<<EOF", "EOF", "\\", "\n", "${A:-b}", "$B", "[\"x\"]",
             "# escape=`\n", "`", " AS s", "--from=s ", "|", "&&", "'", '"', "curl -k x | sh", "\t"]
        ),
        max_size=40,
    ).map("".join)
)  # fmt: skip
def test_fuzz_parser_never_crashes(text: str) -> None:
    df = parse_text(text)
    for inst in df.instructions:
        assert inst.line >= 1 and inst.end_line >= inst.line
        if inst.keyword == "RUN":
            _ = inst.shell.commands


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_shell_never_crashes(text: str) -> None:
    script = parse_shell(text)
    assert script.parser in ("bashlex", "tokenizer")


def test_heredoc_lines_are_separate_commands() -> None:
    """A newline ends a command in a heredoc body (a backslash-newline continues it)."""
    script = parse_shell("set -e\npip install --trusted-host x \\\n  pandas\necho done")
    assert [c.argv for c in script.commands] == [
        ("set", "-e"),
        ("pip", "install", "--trusted-host", "x", "pandas"),
        ("echo", "done"),
    ]
