"""Waivers: matching, required fields, expiry, and one-line errors for malformed files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.errors import WaiverError
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.core.waivers import WAIVER_FILENAME, apply_waivers, find_waiver_file, load_waivers

TODAY = date(2026, 11, 23)


def _finding(rule: str, control: str, path: str, status: Status = Status.FAIL) -> Finding:
    return Finding(
        rule_id=rule,
        control_ids=(control, "IAM-C-05"),
        severity=Severity.HIGH,
        title=f"{rule} in {path}",
        resource=Resource(type="file", path=path),
        remediation=Remediation(text="fix it"),
        evidence=f"{rule}:{path}",
        status=status,
    )


FINDINGS = [
    _finding("DOCKERFILE-001", "DLC-C-02", "docker/train/Dockerfile"),
    _finding("DOCKERFILE-001", "DLC-C-02", "docker/serve/Dockerfile"),
    _finding("K8S-PRIV", "KUBERNETES-C-01", "k8s/train.yaml"),
    _finding("PII-CARD", "STORAGE-C-03", "data/customers.csv"),
    _finding("TF-PUBLIC", "STORAGE-C-02", "terraform/main.tf", Status.PASS),
]


def _result() -> ScanResult:
    now = datetime.now(UTC)
    return ScanResult("audit", "ws", now, now, list(FINDINGS), FactStore(), set())


def _apply(tmp_path: Path, body: str) -> ScanResult:
    path = tmp_path / WAIVER_FILENAME
    path.write_text(body, encoding="utf-8")
    return apply_waivers(_result(), path, today=TODAY)


def _waived(res: ScanResult) -> list[str]:
    return [f"{f.rule_id}@{f.resource.path}" for f in res.findings if f.status is Status.WAIVED]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("rule: DOCKERFILE-001", ["DOCKERFILE-001@docker/train/Dockerfile", "DOCKERFILE-001@docker/serve/Dockerfile"]),
        ("control: KUBERNETES-C-01", ["K8S-PRIV@k8s/train.yaml"]),
        ('resource: "docker/train/*"', ["DOCKERFILE-001@docker/train/Dockerfile"]),
        ('resource: "data/*.csv"', ["PII-CARD@data/customers.csv"]),
        (f"fingerprint: {FINDINGS[1].fingerprint}", ["DOCKERFILE-001@docker/serve/Dockerfile"]),
        # Every given key must match (AND).
        ('rule: DOCKERFILE-001\n    resource: "docker/serve/*"', ["DOCKERFILE-001@docker/serve/Dockerfile"]),
        ("rule: DOCKERFILE-001\n    control: STORAGE-C-03", []),
        # A second control id of the finding matches too.
        ('control: IAM-C-05\n    resource: "k8s/*"', ["K8S-PRIV@k8s/train.yaml"]),
    ],
)
def test_matching(tmp_path: Path, entry: str, expected: list[str]) -> None:
    res = _apply(tmp_path, f"waivers:\n  - {entry}\n    reason: accepted\n    expires: 2027-01-31\n")
    assert _waived(res) == expected
    for f in res.findings:
        if f.status is Status.WAIVED:
            assert f.waiver == "accepted (until 2027-01-31)"
    assert res.expired_waivers == []


def test_passing_findings_are_never_waived(tmp_path: Path) -> None:
    res = _apply(tmp_path, "waivers:\n  - rule: TF-PUBLIC\n    reason: r\n    expires: 2027-01-31\n")
    assert _waived(res) == []


def test_expired_waiver_does_not_apply_and_is_reported(tmp_path: Path) -> None:
    res = _apply(
        tmp_path,
        "# comment\nwaivers:\n  - rule: K8S-PRIV\n    reason: old decision\n    expires: 2026-11-22\n"
        "  - rule: PII-CARD\n    reason: today still counts\n    expires: 2026-11-23\n",
    )
    assert _waived(res) == ["PII-CARD@data/customers.csv"]
    assert len(res.expired_waivers) == 1
    w = res.expired_waivers[0]
    assert (w.line, w.expires, w.reason, w.matched) == (3, "2026-11-22", "old decision", 1)
    assert w.source.endswith(WAIVER_FILENAME)


def test_example_waiver_file_has_one_active_and_one_expired() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / WAIVER_FILENAME
    waivers = load_waivers(path)
    assert [w.expired(TODAY) for w in waivers] == [False, True]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("waivers:\n  - rule: X\n    expires: 2027-01-01\n", 2, "`reason` is required"),
        ("waivers:\n  - rule: X\n    reason: '  '\n    expires: 2027-01-01\n", 2, "`reason` is required"),
        ("waivers:\n  - rule: X\n    reason: r\n", 2, "`expires` is required"),
        ("waivers:\n  - rule: X\n    reason: r\n    expires: next year\n", 2, "`expires` must be a date"),
        ("waivers:\n  - rule: X\n    reason: r\n    expires: 2027-02-30\n", 2, "`expires` must be a date"),
        ("waivers:\n  - reason: r\n    expires: 2027-01-01\n", 2, "at least one of rule"),
        ("waivers:\n  - rule: X\n    reson: r\n    expires: 2027-01-01\n", 2, "unknown key(s): reson"),
        ("waivers:\n  - rule: [a, b]\n    reason: r\n    expires: 2027-01-01\n", 2, "`rule` must be a string"),
        ("waivers: {rule: X}\n", 1, "top-level `waivers:` list"),
        ("- rule: X\n", 1, "top-level `waivers:` list"),
        ("waivers:\n  - rule: X\n    reason: 'unclosed\n", 4, "invalid YAML"),
        ("waivers:\n\t- rule: X\n", 2, "invalid YAML"),
    ],
)
def test_malformed_files_name_file_line_and_problem(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / WAIVER_FILENAME
    path.write_text(body, encoding="utf-8")
    with pytest.raises(WaiverError) as err:
        load_waivers(path)
    one = err.value.one_line()
    assert "\n" not in one
    assert one.startswith(f"{path}:{line}: "), one
    assert message in one


def test_entry_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("waivers:\n  - just a string\n", encoding="utf-8")
    with pytest.raises(WaiverError, match="must be a mapping"):
        load_waivers(path)


def test_empty_file_means_no_waivers(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_waivers(path) == []


def test_binary_and_huge_files_are_clear_errors(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(WaiverError, match="cannot read"):
        load_waivers(binary)
    huge = tmp_path / "huge.yaml"
    huge.write_text("#" * (5 * 1024 * 1024), encoding="utf-8")
    with pytest.raises(WaiverError, match="over 4 MiB"):
        load_waivers(huge)


def test_yaml_alias_bomb_is_bounded(tmp_path: Path) -> None:
    """Aliases are shared objects in PyYAML, so a billion-laughs file loads in bounded memory and fails cleanly."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    lines.append("waivers: *a11")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(WaiverError):
        load_waivers(path)


def test_find_waiver_file(tmp_path: Path) -> None:
    assert find_waiver_file(tmp_path, None) is None
    (tmp_path / WAIVER_FILENAME).write_text("waivers: []\n", encoding="utf-8")
    assert find_waiver_file(tmp_path, None) == tmp_path / WAIVER_FILENAME
    other = tmp_path / "other.yaml"
    other.write_text("waivers: []\n", encoding="utf-8")
    assert find_waiver_file(tmp_path, other) == other
    with pytest.raises(WaiverError, match="waiver file not found"):
        find_waiver_file(tmp_path, tmp_path / "missing.yaml")


@settings(max_examples=200, deadline=None)
@given(doc=st.text(max_size=300))
def test_any_text_loads_or_fails_with_a_waiver_error(tmp_path_factory: pytest.TempPathFactory, doc: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / WAIVER_FILENAME
    path.write_text(doc, encoding="utf-8")
    try:
        waivers = load_waivers(path)
    except WaiverError as exc:
        assert "\n" not in exc.one_line()
        return
    for w in waivers:
        assert w.reason and isinstance(w.expires, date)


@settings(max_examples=100, deadline=None)
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {"reason": st.text(min_size=1, max_size=20).filter(str.strip), "expires": st.dates()},
            optional={
                "rule": st.sampled_from(["DOCKERFILE-001", "K8S-PRIV", "NOPE"]),
                "resource": st.sampled_from(["*", "docker/*", "data/*.csv", "nothing/*"]),
            },
        ).filter(lambda d: "rule" in d or "resource" in d),
        max_size=4,
    )
)
def test_waived_iff_an_active_waiver_matches(tmp_path_factory: pytest.TempPathFactory, entries: list[dict]) -> None:
    path = tmp_path_factory.mktemp("prop") / WAIVER_FILENAME
    path.write_text(yaml.safe_dump({"waivers": entries}), encoding="utf-8")
    res = apply_waivers(_result(), path, today=TODAY)
    waivers = load_waivers(path)
    for before, after in zip(FINDINGS, res.findings, strict=True):
        active = any(w.matches(before) and not w.expired(TODAY) for w in waivers)
        expect = Status.WAIVED if before.status is Status.FAIL and active else before.status
        assert after.status is expect
    assert len(res.expired_waivers) == sum(1 for w in waivers if w.expired(TODAY))
