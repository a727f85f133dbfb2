"""A pattern's longest match in bytes (`sensitive/width.py`): never shorter than a real match, over ASCII and
over UTF-8 data, for every bundled detector."""

from __future__ import annotations

import pytest
import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.sensitive.catalog import load_detectors
from shareguard.sensitive.width import Width, width

BOUNDED = [d for d in load_detectors() if width(d.pattern).utf8 is not None]


def test_widths_of_simple_patterns() -> None:
    assert width(r"(?:^|[^0-9])([0-9]{3}-[0-9]{2}-[0-9]{4})(?:$|[^0-9])") == Width(11, 13, 13 + 6)
    assert width(r"\b(AKIA[A-Z2-7]{16})\b") == Width(20, 20, 20)
    assert width("[a-zé]{2}") == Width(2, 2, 4)
    assert width("(?i)ab") == Width(2, 2, 8)
    assert width(r"x[A-Za-z]{3,}") == Width(4, None, None)
    assert width("(a)\\1") == Width(2, None, None)


def test_most_detectors_have_a_bound() -> None:
    assert len(BOUNDED) >= 45


@pytest.mark.parametrize("detector", BOUNDED, ids=lambda d: d.id)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_no_match_is_longer_than_the_bound(detector: object, data: st.DataObject) -> None:
    pattern = detector.pattern  # type: ignore[attr-defined]
    bound = width(pattern)
    assert bound.ascii is not None and bound.utf8 is not None
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    raw = text.encode("utf-8", "surrogatepass")
    if re2.fullmatch(pattern.encode("utf-8"), raw) is None:
        return  # Python's reading of the pattern (Unicode `\w`, `\s`) and RE2's differ: RE2's is the engine's
    assert bound.shortest <= len(raw) <= bound.utf8
    if text.isascii():
        assert len(raw) <= bound.ascii
