"""The JSON report writes findings field by field (speed); it must write exactly what the encoder would."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.report_strategies import findings, result_of
from shareguard.catalog import Catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.report.json_report import (
    _COMPACT,
    JsonReporter,
    _FindingWriter,
    finding_dict,
    render_document,
    report_dict,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(items=st.lists(findings, max_size=8))
def test_each_line_is_what_the_encoder_writes(items: list[Finding]) -> None:
    writer = _FindingWriter()
    for f in items + items:  # the second round reads the memoised parts
        assert writer.encode(f) == _COMPACT.encode(finding_dict(f))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(items=st.lists(findings, max_size=6))
def test_document_is_what_the_plain_renderer_writes(items: list[Finding], catalog: Catalog) -> None:
    result = result_of(items)
    assert JsonReporter().render(result, catalog) == render_document(report_dict(result, catalog))


def test_example_workspace_renders_as_before(example_result: ScanResult, catalog: Catalog) -> None:
    text = JsonReporter().render(example_result, catalog)
    assert text == render_document(report_dict(example_result, catalog))
    assert json.loads(text)["findings"]
