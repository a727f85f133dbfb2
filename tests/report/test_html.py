"""The HTML report: self-contained, escaped, and really rendered by a headless browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.report_strategies import findings, result_of, text
from shareguard.catalog import Catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.report.html import HtmlReporter, script_json


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self.style_bodies: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.script_bodies if tag == "script" else self.style_bodies).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.script_bodies[-1] += data
        elif self._in == "style":
            self.style_bodies[-1] += data


def parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "div", "b", "small",
    "section", "svg", "text", "rect", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "label",
    "select", "option", "noscript", "code", "script", "ul", "li", "figure", "figcaption", "colgroup", "col",
    "input", "i",
}  # fmt: skip


def test_self_contained_with_a_csp_matching_the_inline_code(result: ScanResult, catalog: Catalog) -> None:
    page = HtmlReporter().render(result, catalog)
    tags = parse(page)
    assert not any(t == "link" or t == "img" or t == "iframe" for t, _ in tags.tags)
    assert not any("src" in a for _, a in tags.tags)
    assert all((a.get("href") or "#").startswith("#") for _, a in tags.tags)
    assert not re.search(r"@import|url\(", tags.style_bodies[0])
    assert not re.search(r"\b(fetch|XMLHttpRequest|import\(|WebSocket)\b", tags.script_bodies[-1])
    csp = next(a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    executable = [
        body
        for (t, a), body in zip([(t, a) for t, a in tags.tags if t == "script"], tags.script_bodies, strict=True)
        if a.get("type") != "application/json"
    ]
    assert len(executable) == 1 and len(tags.style_bodies) == 1
    for body, directive in ((executable[0], "script-src"), (tags.style_bodies[0], "style-src")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp


def test_hostile_content_stays_text(result: ScanResult, catalog: Catalog) -> None:
    page = HtmlReporter().render(result, catalog)
    tags = parse(page)
    assert {t for t, _ in tags.tags} <= ALLOWED_TAGS
    assert sum(1 for t, _ in tags.tags if t == "script") == 2
    assert not any(k.startswith("on") for _, a in tags.tags for k in a)
    data = next(
        b
        for (t, a), b in zip([(t, a) for t, a in tags.tags if t == "script"], tags.script_bodies, strict=True)
        if a.get("type") == "application/json"
    )
    view = json.loads(data)
    titles = {f["title"] for f in view["findings"]}
    assert any("</script><script>" in t for t in titles)  # intact as data, inert as markup


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(findings, max_size=4), reason=text)
def test_any_content_never_becomes_markup(items: list[Finding], reason: str, catalog: Catalog) -> None:
    res = result_of(items)
    res.metadata["note"] = reason
    tags = parse(HtmlReporter().render(res, catalog))
    assert sum(1 for t, _ in tags.tags if t == "script") == 2
    assert {t for t, _ in tags.tags} <= ALLOWED_TAGS


@given(value=st.recursive(st.none() | text, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3)))
def test_script_json_round_trips_and_cannot_close_the_element(value: object) -> None:
    out = script_json(value)
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == value
