"""Image manifests, indexes and configs nested 100k deep or holding a 5,000-digit number: one-line
`InputError`s from the shared safe JSON loader, never a `RecursionError` / `ValueError` traceback."""

from __future__ import annotations

import pytest

from shareguard.core.errors import InputError
from shareguard.sources.image.manifest import load_json


@pytest.mark.parametrize(
    "data",
    [
        b'{"schemaVersion": 2, "manifests": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"schemaVersion": ' + b"9" * 5000 + b"}",
        b'{"schemaVersion": 2,',
        b"\xff\xfe",
    ],
    ids=["deep", "huge-int", "truncated", "not-utf8"],
)
def test_hostile_manifest_json_is_one_line(data: bytes) -> None:
    with pytest.raises(InputError, match=r"index\.json is not valid JSON") as err:
        load_json(data, "index.json")
    assert len(err.value.one_line()) < 200


def test_plain_manifest() -> None:
    assert load_json(b'{"schemaVersion": 2}', "manifest") == {"schemaVersion": 2}
