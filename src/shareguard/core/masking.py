"""Masking at the moment a finding is made: a report never carries a full secret or personal value."""

from __future__ import annotations

import re

# Keep a short prefix so a human can tell which secret it was, never enough to use it.
_KEEP = 4


def mask(value: str, keep: int = _KEEP) -> str:
    """`AKIAIOSFODNN7EXAMPLE` → `AKIA****************`. Short values are fully masked."""
    if not value:
        return value
    if len(value) <= keep * 2:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - keep)


_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_QUERY_SECRET = re.compile(
    r"(?i)(?P<key>[?&](?:x-amz-signature|x-goog-signature|sig|signature|token|access_token|api_key|apikey|"
    r"key|password|passwd|secret|client_secret|x-amz-credential|x-goog-credential|auth)=)(?P<val>[^&#\s]+)"
)


def mask_url(url: str) -> str:
    """Mask the password of `scheme://user:pass@host` and secret query parameters."""
    out = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{mask(m['pw'], 0) or '****'}@", url)
    return _QUERY_SECRET.sub(lambda m: m["key"] + mask(m["val"]), out)


def mask_in_text(text: str, secret: str) -> str:
    """Replace every occurrence of `secret` in `text` by its masked form."""
    if not secret:
        return text
    return text.replace(secret, mask(secret))
