"""Speed shortcuts in the posture checks give exactly what the plain code gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.facts import TextField
from shareguard.core.memo import scan_memos
from shareguard.core.settings import Settings
from shareguard.posture.checks.textfields import _MAX_VALUES, TextFieldChecks, walk
from shareguard.posture.model import PostureResource
from shareguard.sensitive.text import _detect, detect, secret_kind

SECRETS = [
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3",
    "glpat-" + "c1D2e3F4g5" * 2,
    "xoxb-" + "1" * 12,
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
    "https://user:pass@host/x",
    "GIT+SSH://U:P@H/repo",
    "mail jane.doe@example.org",
    "+14155552671",
    "4111 1111 1111 1111",
]
noise = st.text(st.sampled_from("abcdefghAKIASgh_x-:/@.0123456789 +"), max_size=25)
values = st.lists(st.sampled_from(SECRETS) | noise, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(value=values, kind=st.sampled_from(["text", "tag", "label", "env", "name"]))
def test_memoised_detection_equals_a_fresh_one(value: str, kind: str) -> None:
    fresh = list(_detect(value, kind)) if len(value) >= 6 else []
    with scan_memos():
        assert detect(value, kind=kind) == fresh
        assert detect(value, kind=kind) == fresh  # second call: from the memo


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_secret_kind_is_the_first_credential_detection(value: str) -> None:
    creds = [d for d in detect(value) if d.category == "credential"]
    assert secret_kind(value) == (creds[0].detector.replace("_", " ") if creds else None)


def _check(raw: object) -> tuple[list[object], list[TextField]]:
    ctx = ScanContext(settings=Settings.from_env(), root=None)
    res = PostureResource(type="t", name="n", file="f", line=1, attributes={}, raw=raw)
    found = list(TextFieldChecks().check(res, ctx))
    return found, ctx.facts.of(TextField)


def test_only_the_first_strings_of_a_resource_are_checked() -> None:
    # Every string counts towards the cap, also those (most) that are not free text and never kept.
    raw = {"spec": {f"k{i}": "plain" for i in range(_MAX_VALUES - 1)}, "labels": {"a": "jane@example.org", "b": "x"}}
    _, facts = _check(raw)
    assert [f.value for f in facts] == ["jane@example.org"]
    raw["spec"]["one_more"] = "plain"
    _, facts = _check(raw)
    assert facts == []


def test_walk_still_yields_every_string_with_its_path_and_kind() -> None:
    # The outermost known key gives the kind (`metadata` holds job parameters in describe output).
    doc = {"metadata": {"labels": {"owner": "x"}, "name": "n"}, "Tags": [{"Key": "k", "Value": "v"}], "n": 3}
    assert list(walk(doc)) == [
        ("metadata.labels.owner", "parameter", "x"),
        ("metadata.name", "parameter", "n"),
        ("Tags[0].Key", "tag", "k"),
        ("Tags[0].Value", "tag", "v"),
    ]
