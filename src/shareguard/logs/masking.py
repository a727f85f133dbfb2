"""Secrets masked in the events an incident carries as evidence (access keys, tokens, signed URLs)."""

from __future__ import annotations

import re
from typing import Any

from shareguard.core.masking import mask, mask_url

SECRET_KEY = re.compile(
    r"(?i)(access_?key_?id|secret|token|password|passwd|credential|signature|authorization|cookie|private_?key)"
)
"""Keys whose values are credentials (CloudTrail `accessKeyId`, `sessionToken`; Kubernetes tokens…)."""
MAX_DEPTH = 64


def mask_event(value: Any, depth: int = 0) -> Any:
    """A copy of an event with credential values and URL secrets masked."""
    if depth > MAX_DEPTH:
        return "…"
    if type(value) is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is str and SECRET_KEY.search(k) and type(v) is str:
                out[k] = mask(v)
            else:
                out[k] = mask_event(v, depth + 1)
        return out
    if type(value) is list:
        return [mask_event(v, depth + 1) for v in value]
    if type(value) is str and "://" in value:
        return mask_url(value)
    return value
