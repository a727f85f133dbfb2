"""The HTML report in a real browser: headless Chromium (driven by Playwright) at 1,024 and 1,440 px.

The page must not overflow horizontally, every filter and the search must show exactly the findings
they select, grouping must regroup them, no console error may occur, and hostile content must stay
inert. Screenshots go to the folder named by SHAREGUARD_SCREENSHOTS (the README's screenshot is made so:
`SHAREGUARD_SCREENSHOTS=docs/images python -m pytest tests/report/test_html_browser.py`), else to the
test's own temporary folder.

Chromium is Debian's (`/usr/bin/chromium`, installed by `.ci/run`); Playwright's own browser download is
not used. Without either, the tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shareguard.catalog import Catalog
from shareguard.core.finding import Finding, Remediation
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.html import HtmlReporter

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a test dependency (pip install -e '.[test]')"
)

CHROMIUM = Path("/usr/bin/chromium")
WIDTHS = (1024, 1440)
FILTERS = ("service", "duty", "severity", "status")


def _executable() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _executable()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("SHAREGUARD_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Page:
    """A report opened at one width, collecting console errors, page errors and dialogs."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on(
            "console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=true]", timeout=30_000)

    def visible(self) -> int:
        n: int = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('article.finding')).filter(e => e.offsetParent !== null).length"
        )
        return n

    def overflow(self) -> list[str]:
        """Elements whose right edge lies past the viewport (the page would scroll sideways)."""
        out: list[str] = self.page.evaluate(
            """() => {
              const w = document.documentElement.clientWidth;
              const bad = [];
              if (document.documentElement.scrollWidth > w) bad.push('document ' + document.documentElement.scrollWidth);
              for (const e of document.querySelectorAll('body *')) {
                const r = e.getBoundingClientRect();
                if (r.width > 0 && r.right > w + 0.5) bad.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
                if (bad.length > 10) break;
              }
              return bad;
            }"""
        )
        return out


def _write(tmp_path: Path, result: ScanResult, catalog: Catalog, name: str) -> Path:
    page = tmp_path / name
    page.write_text(HtmlReporter().render(result, catalog), encoding="utf-8")
    return page


def _data(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = page.page.evaluate("() => JSON.parse(document.getElementById('report-data').textContent)")
    return data


def _matches(f: dict[str, Any], key: str, value: str) -> bool:
    if key == "service":
        return value in f["services"]
    if key == "duty":
        return value in f["control_ids"]
    return bool(f[key] == value)


@pytest.mark.parametrize("width", WIDTHS)
def test_example_report_fits_filters_and_groups(
    browser: Any, example_result: ScanResult, catalog: Catalog, tmp_path: Path, screenshots: Path, width: int
) -> None:
    path = _write(tmp_path, example_result, catalog, "example.html")
    page = Page(browser, path, width)
    assert page.overflow() == []
    page.page.screenshot(path=str(screenshots / f"report-{width}.png"))
    data = _data(page)
    findings = data["findings"]
    assert page.visible() == len(findings) > 0
    # Every value of every filter shows exactly the findings it selects (and the count says so).
    for key in FILTERS:
        values = [o for o in page.page.eval_on_selector_all(f"#f-{key} option", "os => os.map(o => o.value)") if o]
        assert values, key
        for value in values:
            page.page.select_option(f"#f-{key}", value)
            expected = sum(1 for f in findings if _matches(f, key, value))
            assert page.visible() == expected, (key, value)
            assert page.page.inner_text("#shown-count") == str(expected)
        page.page.select_option(f"#f-{key}", "")
        assert page.visible() == len(findings)
    # Filters combine; a failing-only view of one severity.
    page.page.select_option("#f-severity", "high")
    page.page.select_option("#f-status", "fail")
    both = sum(1 for f in findings if f["severity"] == "high" and f["status"] == "fail")
    assert page.visible() == both
    page.page.evaluate("document.getElementById('findings').scrollIntoView()")
    page.page.screenshot(path=str(screenshots / f"report-{width}-filtered.png"))
    page.page.select_option("#f-severity", "")
    page.page.select_option("#f-status", "")
    # Free-text search: a rule id, and a resource path.
    for query in (findings[0]["rule_id"], findings[-1]["path"]):
        page.page.fill("#f-search", query)
        wanted = sum(1 for f in findings if query.lower() in _text(f, data).lower())
        assert page.visible() == wanted > 0, query
    page.page.fill("#f-search", "")
    # Grouping: one group per duty (each finding under one), per resource, per rule.
    for how, key in (("resource", "path"), ("rule", "rule_id")):
        page.page.select_option("#f-group", how)
        assert page.page.locator("section.group").count() == len({f[key] for f in findings}), how
        assert page.visible() == len(findings)
    page.page.select_option("#f-group", "duty")
    first = page.page.locator("section.group").first.get_attribute("data-key")
    assert first == data["duty_order"][0]
    # Commands sit in code blocks with a copy button; the layout still fits once regrouped.
    commands = [f["command"] for f in findings if f["command"] and f["status"] != "waived"]
    assert page.page.locator(".command code").count() == len(commands)
    assert page.page.locator(".command button.copy").count() == len(commands)
    assert page.overflow() == []
    assert page.errors == []
    page.page.close()


def _text(f: dict[str, Any], data: dict[str, Any]) -> str:
    rule = data["rules"].get(f["rule_id"], {})
    parts = [
        f["rule_id"],
        f["title"],
        f["where"],
        f["resource"] or "",
        f["evidence"] or "",
        f["remediation"],
        f["command"] or "",
        " ".join(f["control_ids"]),
        rule.get("title", ""),
    ]
    return "\n".join(parts)


PAYLOADS = (
    "<img src=x onerror=\"window.__pwned='img'\">",
    "</script><script>window.__pwned='script'</script>",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "javascript:window.__pwned='url'",
    "\u202eevil\u200b\u200fname\x1b[31m\x00",
)


def _hostile(result: ScanResult) -> ScanResult:
    huge = "A" * 200_000 + " " + PAYLOADS[0]
    findings = list(result.findings)
    for i, payload in enumerate(PAYLOADS):
        findings.append(
            Finding(
                rule_id=f"X-{i}{payload[:10]}",
                control_ids=("DLC-C-02", payload),
                severity=Severity.HIGH,
                title=f"title {payload}",
                resource=Resource(type=f"t{payload}", path=f"dir/{payload}/file", name=payload),
                location=Location(line=1, member=payload, field_path=payload),
                evidence=huge if i == 0 else payload,
                remediation=Remediation(text=payload, command=f"echo {payload}", url=payload, snippet=payload),
            )
        )
    return ScanResult(
        command=result.command,
        target=f"target {PAYLOADS[1]}",
        started=result.started,
        finished=result.finished,
        findings=findings,
        facts=result.facts,
        coverage=result.coverage,
        issues=result.issues,
        rules=result.rules,
        expired_waivers=result.expired_waivers,
        metadata={**result.metadata, "note": PAYLOADS[2]},
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_hostile_content_is_inert_and_readable(
    browser: Any, result: ScanResult, catalog: Catalog, tmp_path: Path, width: int
) -> None:
    res = _hostile(result)
    page = Page(browser, _write(tmp_path, res, catalog, "hostile.html"), width)
    assert page.page.evaluate("() => window.__pwned === undefined")
    assert page.errors == []  # no dialog, no CSP refusal (a refused inline script would log one)
    body = page.page.inner_text("#findings-list")
    for payload in PAYLOADS[:4]:
        assert payload in body  # shown as text, whole
    assert page.visible() == len(res.shown())
    # 200,000 characters of evidence wrap inside the card: the page does not scroll sideways.
    assert page.overflow() == []
    page.page.close()


def test_image_report_shows_inventory_and_ml_stack(
    browser: Any, image_result: ScanResult, catalog: Catalog, tmp_path: Path, screenshots: Path
) -> None:
    res = image_result
    page = Page(browser, _write(tmp_path, res, catalog, "image.html"), 1024)
    assert page.page.locator("#inventory").count() == 1
    stack = page.page.inner_text("#ml-stack")
    assert "12.1.105" in stack and "torch" in stack and "cudnn: 8.9.2" in stack
    rows = "tr.package:not([hidden])"
    assert page.page.locator(rows).count() == 32
    page.page.fill("#p-search", "lib1")
    assert page.page.locator(rows).count() == 11  # lib1, lib10 … lib19
    page.page.fill("#p-search", "")
    page.page.select_option("#p-ecosystem", "PyPI")
    assert page.page.locator(rows).count() == 1
    layers = page.page.inner_text("table.layers")
    assert "1: aaaaaaaaaaaa" in layers and "2: bbbbbbbbbbbb" in layers
    assert page.overflow() == [] and page.errors == []
    page.page.screenshot(path=str(screenshots / "report-image-1024.png"), full_page=True)
    page.page.close()
