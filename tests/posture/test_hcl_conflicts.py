"""An HCL name used both as an attribute and as a block (found by the HCL fuzz target: `x = …` then a
block `x {}` crashed the converter) is a per-file parse error; an attribute never silently replaces
blocks of its name (a top-level `resource = 1` must not hide the resources)."""

from __future__ import annotations

import pytest

from shareguard.core.errors import ParseError
from shareguard.posture.parsers import _hcl_ts

pytestmark = pytest.mark.skipif(not _hcl_ts.available(), reason="tree-sitter HCL grammar not installed")


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\nx {\n  a = 1\n}\n",
        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\nresource = 1\n',
        "a = 1\na = 2\n",
        # the same inside a block (the fuzz target again: `x = -0x` then a block on the next line)
        "terraform {\n  x = -0x\n  required_providers {\n    a = 1\n  }\n}\n",
        "a {\n  b = 1\n  b {\n  }\n}\n",
        "a {\n  b {\n  }\n  b = 1\n}\n",
        "a {\n  b = 1\n  b = 2\n}\n",
    ],
)
def test_conflicting_names_are_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as info:
        _hcl_ts.loads(text, "main.tf")
    assert info.value.line is not None


def test_blocks_of_one_name_still_collect() -> None:
    doc, _ = _hcl_ts.loads('resource "a" "x" {}\nresource "a" "y" {}\n', "main.tf")
    assert len(doc["resource"]) == 2
