"""The binary-format list (data): every `no_text` format has a reason, magic wins over the suffix, unknown
binary content can carry data, and a malformed list is a clear catalog error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.errors import CatalogError
from shareguard.sensitive.binary import UNKNOWN, classify, formats, parse_formats, unsupported_reason


def test_the_bundled_list() -> None:
    table = formats()
    assert all(f.reason for f in table if not f.carries_data)
    names = {f.name for f in table}
    assert {"image", "compiled code", "PDF", "SQLite database"} <= names
    assert classify("x.csv", b"%PDF-1.7\n").name == "PDF"  # the content, not the name
    assert classify("photo.PNG", b"\x00\x00").name == "image"  # the name when no magic is known
    assert classify("blob", b"\x00\x01\x02") is UNKNOWN and UNKNOWN.carries_data
    assert (
        unsupported_reason(UNKNOWN) == "unsupported format (unknown binary format): not classified for sensitive data"
    )


@pytest.mark.parametrize(
    "text",
    ["[]", "no_text: [{reason: x}]", "no_text: [{name: image}]", "unsupported: [7]", "- a\n- b"],
)
def test_a_malformed_list_is_a_catalog_error(text: str) -> None:
    with pytest.raises(CatalogError):
        parse_formats(text, "test.yaml")


@settings(max_examples=200, deadline=None)
@given(path=st.text(max_size=40), head=st.binary(max_size=64))
def test_classify_never_fails(path: str, head: bytes) -> None:
    fmt = classify(path, head)
    assert fmt.carries_data or fmt.reason
