"""Masking helpers: a report never carries a full secret."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shareguard.core.masking import mask, mask_in_text, mask_url

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_mask_keeps_a_short_prefix_and_the_length() -> None:
    assert mask("AKIAIOSFODNN7EXAMPLE") == "AKIA" + "*" * 16
    assert mask("short") == "*****"
    assert mask("") == ""


def test_mask_url_userinfo_and_secret_query_parameters() -> None:
    url = "https://build-bot:EXAMPLE-not-a-real-token@pypi.internal.example.com/simple?x=1"
    out = mask_url(url)
    assert "EXAMPLE-not-a-real-token" not in out
    assert out.startswith("https://build-bot:") and "@pypi.internal.example.com/simple?x=1" in out
    signed = "https://storage.googleapis.com/b/o?X-Goog-Signature=abcdef0123456789&X-Goog-Date=20260101"
    masked = mask_url(signed)
    assert "abcdef0123456789" not in masked and "X-Goog-Date=20260101" in masked
    assert mask_url("https://example.com/path") == "https://example.com/path"


def test_mask_in_text() -> None:
    line = f"ENV AWS_SECRET_ACCESS_KEY={SECRET}"
    out = mask_in_text(line, SECRET)
    assert SECRET not in out and out.startswith("ENV AWS_SECRET_ACCESS_KEY=wJal")
    assert mask_in_text(line, "") == line


@given(st.text(min_size=9, max_size=200))
def test_masked_value_never_contains_the_secret(secret: str) -> None:
    out = mask(secret)
    assert len(out) == len(secret)
    assert secret not in out
    assert out[4:] == "*" * (len(secret) - 4)


@given(
    user=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    password=st.from_regex(r"[A-Za-z0-9._~-]{9,30}", fullmatch=True),
    host=st.from_regex(r"[a-z]{1,10}\.example\.com", fullmatch=True),
)
def test_url_password_never_survives(user: str, password: str, host: str) -> None:
    out = mask_url(f"https://{user}:{password}@{host}/repo.git")
    userinfo, _, rest = out.partition("@")
    assert userinfo == f"https://{user}:" + "*" * len(password)
    assert rest == f"{host}/repo.git"
