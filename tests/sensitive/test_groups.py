"""Which detectors' value group is their whole match (verified by a copy of the pattern that captures nothing)."""

from __future__ import annotations

import pytest

from shareguard.sensitive.engine import Engine, engine
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
    and an SSN (values inside their context characters): the same hits as each capturing pattern over the text."""
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
