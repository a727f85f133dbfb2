"""Which detectors' value group is their whole match (verified by a copy of the pattern that captures nothing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sensitive.planted import planted

from shareguard.sensitive.engine import _UNANCHORED, Engine, SpanFn, _matches, engine
from shareguard.sensitive.groups import value_is_whole_match


@pytest.mark.parametrize(
    ("pattern", "group", "whole"),
    [
        (r"\b(ghp_[A-Za-z0-9]{36})\b", 1, True),
        (r"(-----BEGIN [A-Z ]+-----)", 1, True),
        (r"(?i)\b(x(y)z)", 1, True),
        (r"\b((?i:ab)c)\b", 1, True),
        (r"[a-z]+@[a-z]+", 0, True),
        (r"(?:^|[^0-9])([0-9]{9})(?:$|[^0-9])", 1, False),  # the context characters are part of the match
        (r"(a)b", 1, False),
        (r"\b(a)\b|\b(b)\b", 1, False),
        (r"(a(b))", 2, False),
        (r"(unbalanced", 1, False),
    ],
)
def test_value_is_whole_match(pattern: str, group: int, whole: bool) -> None:
    assert value_is_whole_match(pattern, group) is whole


def test_bundled_detectors_verified_without_groups_find_the_same_values() -> None:
    """A token, an IBAN and a URL credential (whole-match values, found without submatches) beside a card
    and an SSN (values inside their context characters): each found, and as its value only."""
    text = (
        b"tok ghp_" + b"aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5" + b" iban DE89 3704 0044 0532 0130 00,"
        b" url postgres://app:tkgamnoJiUeuX3@db7.internal:5432/main card 4111 1111 1111 1111; ssn 536-22-8726\n"
    )
    e: Engine = engine()
    kinds = {c.detector.id: c.value_group for c in e._compiled}
    assert kinds["github_token"] == kinds["iban"] == kinds["url_userinfo"] == 0
    assert kinds["credit_card"] == kinds["us_ssn"] == 1
    got = {(h.detector.id, text[h.start : h.end]) for h in e.scan(text)}
    assert got == {
        ("github_token", b"ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"),
        ("iban", b"DE89 3704 0044 0532 0130 00"),
        ("url_userinfo", b"postgres://app:tkgamnoJiUeuX3@db7.internal:5432/main"),
        ("credit_card", b"4111 1111 1111 1111"),
        ("us_ssn", b"536-22-8726"),
    }


P = planted()
_TOKENS = [P.github, P.iban, P.aws_key_id, P.slack, P.stripe, P.password_url, "GB82 WEST 1234 5698 7654 32",
           "RCCMNL83S18D969H", "AB123456C", "X1234567L", "ABCPE1234F", "ghp_", "postgres://u:@h", "Zoë —"]  # fmt: skip
TEXTS = st.lists(
    st.sampled_from(_TOKENS) | st.text(st.sampled_from('aZ09 _-:/@.+\n,;"é'), max_size=30), max_size=8
).map(" ".join)


def _spans(match: SpanFn, data: bytes) -> list[tuple[int, int]]:
    """Every match's span, searched on from each one's end (as `_matches`, on a matcher of group 0)."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos <= len(data):
        ms, me = match(_UNANCHORED, data, pos, len(data))[0]
        if ms < 0:
            break
        if me > ms:
            out.append((ms, me))
        pos = max(me, ms + 1)
    return out


@settings(max_examples=200, deadline=None)
@given(text=TEXTS)
def test_the_copy_without_groups_matches_what_the_capturing_pattern_gives_as_its_value(text: str) -> None:
    """For every bundled whole-match detector, the copy that captures nothing (what verification runs) finds
    exactly the value spans its capturing pattern gives in its value group, over the same text."""
    data = text.encode()
    for c in engine()._compiled:
        if c.value_group == 0 and c.detector.group != 0:
            capturing = [(gs, ge) for _ms, _me, gs, ge in _matches(c.regex, data, c.detector.group)]
            assert _spans(c.match, data) == capturing, c.detector.id
