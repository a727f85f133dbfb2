"""A posture format's `path_hint` and `required` may only narrow which paths a source reads, never
hide a file the format claims (`claims(entry)` ⇒ the hint admits the path and `required` is True)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.analyzer import FileAnalyzer, PathHint
from shareguard.core.entry import ContentNeeded, FileEntry
from shareguard.core.registry import load_registries

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIRS = (ROOT / "tests" / "posture" / "fixtures", ROOT / "examples" / "ml-platform")


def _posture() -> list[FileAnalyzer]:
    return [a for a in load_registries().of(FileAnalyzer) if a.name.startswith("posture.")]  # type: ignore[type-abstract]


POSTURE = _posture()


def _hint(a: FileAnalyzer) -> PathHint:
    hint = getattr(a, "path_hint", None)
    assert isinstance(hint, PathHint), a.name
    return hint


def _required(a: FileAnalyzer) -> Callable[[str, int], bool]:
    required = getattr(a, "required", None)
    assert callable(required), a.name
    return required  # type: ignore[no-any-return]


def _admits(hint: PathHint, path: str) -> bool:
    """As `core/dispatch.PathDispatch.wanting` tests a hint."""
    return hint.admits(path)


def _path_only_wanted(a: FileAnalyzer, path: str, size: int) -> bool:
    """What the dispatcher decided before hints: `claims` of a path-only entry, a content sniff wanted."""
    try:
        return a.claims(FileEntry.path_only(path, size))
    except ContentNeeded:
        return True


def _check(a: FileAnalyzer, entry: FileEntry) -> bool:
    claimed = a.claims(entry)
    if claimed:
        assert _admits(_hint(a), entry.rel_path), (a.name, entry.rel_path)
        assert _required(a)(entry.rel_path, entry.size), (a.name, entry.rel_path)
    return claimed


def test_every_format_declares_a_hint_and_a_required() -> None:
    assert len(POSTURE) >= 8
    for a in POSTURE:
        _hint(a)
        _required(a)


def test_suffix_formats_skip_most_paths() -> None:
    """The point of the hints: a `.so`, `.h` or `.txt` outside requirements files asks few formats."""
    for path in ("app/lib/libx.so", "app/include/x.h", "app/data/blob.bin", "app/README.md"):
        asked = [a.name for a in POSTURE if _admits(_hint(a), path) and _required(a)(path, 100)]
        assert asked == [], (path, asked)


# --- generated paths and contents -----------------------------------------------------------------

DIRS = ["app", "deploy", "k8s", "charts/x/templates", "infra", "iam", "etc", "src", "jobs", ".github"]
STEMS = [
    "Dockerfile", "dockerfile", "DOCKERFILE", "Containerfile", "dockerfile.dev", "Dockerfile-gpu", "dockerfile_x",
    "containerfile.prod", "app", "main", "policy", "nb", "plan", "state", "requirements", "requirements-dev",
    "Makefile", "makefile", "GNUmakefile", "Jenkinsfile", "launch", "pipeline", "template", "x.dockerfile",
    "deployment", "stack", "job",
]  # fmt: skip
SUFFIXES = [
    "", ".json", ".JSON", ".Json", ".json.txt", ".tfstate", ".yaml", ".YAML", ".yml", ".Yml", ".template",
    ".TEMPLATE", ".tf", ".TF", ".py", ".PY", ".txt", ".in", ".IN", ".sh", ".SH", ".bash", ".mk", ".md", ".so",
    ".dockerfile", ".Containerfile", ".orig", ".cfg", ".", ".tf.json", ".hcl",
]  # fmt: skip
CONTENTS = [
    b"",
    b"FROM python:3.12\nRUN pip install x\n",
    b"ARG BASE=ubuntu\nFROM $BASE\nUSER root\n",
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: []\n",
    b'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  B:\n    Type: AWS::S3::Bucket\n',
    b'{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}',
    b'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    b'{"bindings": [{"role": "roles/owner", "members": ["user:a@b.c"]}], "etag": "x"}',
    b'{"format_version": "1.2", "terraform_version": "1.7.0", "planned_values": {}}',
    b'{"NotebookInstanceName": "nb", "NotebookInstanceArn": "arn:x", "DirectInternetAccess": "Enabled"}',
    b'[{"name": "projects/p/locations/l/endpoints/1", "displayName": "e"}]',
    b"import apache_beam as beam\nfrom apache_beam.options.pipeline_options import PipelineOptions\n",
    b"apache-beam[gcp]==2.50.0\n",
    b"python main.py --runner DataflowRunner --project p\n",
    b'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n',
    b"just some text\n",
    b"\x00\x01binary",
]
paths = st.builds(
    lambda d, s, x: f"{d}/{s}{x}" if d else f"{s}{x}",
    st.sampled_from(["", *DIRS]),
    st.sampled_from(STEMS),
    st.sampled_from(SUFFIXES),
)


@settings(max_examples=3000, deadline=None)
@given(path=paths, content=st.sampled_from(CONTENTS))
def test_claimed_paths_are_admitted(path: str, content: bytes) -> None:
    entry = FileEntry(rel_path=path, size=len(content), data=content)
    for a in POSTURE:
        _check(a, entry)


@settings(max_examples=2000, deadline=None)
@given(path=paths, size=st.sampled_from([0, 1, 100, 5000, 2 * 1024 * 1024]))
def test_hint_and_required_want_exactly_what_a_path_only_claim_wanted(path: str, size: int) -> None:
    """Same files read as before the hints: the hint plus `required` equal the path-only `claims`."""
    for a in POSTURE:
        assert (_admits(_hint(a), path) and _required(a)(path, size)) == _path_only_wanted(a, path, size), (
            a.name,
            path,
            size,
        )


@settings(max_examples=500, deadline=None)
@given(path=st.text(min_size=1, max_size=30).filter(lambda p: not p.endswith("/")), size=st.integers(0, 4096))
def test_arbitrary_paths(path: str, size: int) -> None:
    for a in POSTURE:
        assert (_admits(_hint(a), path) and _required(a)(path, size)) == _path_only_wanted(a, path, size), (
            a.name,
            path,
        )


# --- every real fixture -----------------------------------------------------------------------------


def _fixture_files() -> list[Path]:
    return sorted(p for d in FIXTURE_DIRS for p in d.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("prefix", ["", "opt/app/", "Srv/"])
def test_every_fixture_claimed_is_admitted(prefix: str) -> None:
    claimed: dict[str, int] = {a.name: 0 for a in POSTURE}
    for f in _fixture_files():
        rel = prefix + f.relative_to(ROOT).as_posix()
        for a in POSTURE:
            entry = FileEntry(rel_path=rel, size=f.stat().st_size, abs_path=f)
            if _check(a, entry):
                claimed[a.name] += 1
    # not vacuous: the fixtures exercise every format
    assert all(n > 0 for n in claimed.values()), claimed
