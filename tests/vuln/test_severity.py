"""Severity: vendor rating first, then CVSS computed from the vector, and the source is recorded."""

from __future__ import annotations

from shareguard.core.finding import SeveritySource
from shareguard.core.severity import Severity
from shareguard.vuln.severity import advisory_rating, cvss_rating


def test_cvss_v31_base_score() -> None:
    r = cvss_rating("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert r is not None and r.score == 9.8 and r.severity is Severity.CRITICAL and r.source is SeveritySource.CVSS_V3
    r = cvss_rating("CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")
    # 8.22*0.55*0.44*0.27*0.62 = 0.333 exploitability, 6.42*0.22 = 1.412 impact, rounded up: 1.8
    assert r is not None and r.score == 1.8 and r.severity is Severity.LOW
    log4shell = cvss_rating("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    assert log4shell is not None and log4shell.score == 10.0


def test_cvss_v4_and_v2() -> None:
    v4 = cvss_rating("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N")
    assert v4 is not None and v4.score == 5.1 and v4.severity is Severity.MEDIUM and v4.source is SeveritySource.CVSS_V4
    v2 = cvss_rating("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")
    assert v2 is not None and v2.score == 7.5 and v2.source is SeveritySource.CVSS_V2


def test_malformed_vector_is_ignored() -> None:
    assert cvss_rating("CVSS_V3", "CVSS:3.1/AV:X/garbage") is None
    doc = {"severity": [{"type": "CVSS_V3", "score": "nonsense"}]}
    r = advisory_rating(doc)
    assert r.source is SeveritySource.DEFAULT


def test_vendor_rating_wins_over_cvss() -> None:
    doc = {
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "database_specific": {"severity": "MODERATE"},  # GitHub's reviewed rating
    }
    r = advisory_rating(doc)
    assert (r.severity, r.source, r.vendor) == (Severity.MEDIUM, SeveritySource.VENDOR, "MODERATE")


def test_ubuntu_priority_and_debian_urgency() -> None:
    ubuntu = advisory_rating({"severity": [{"type": "Ubuntu", "score": "negligible"}]})
    assert (ubuntu.severity, ubuntu.source) == (Severity.LOW, SeveritySource.VENDOR)
    debian = advisory_rating({}, [{"urgency": "high**"}])
    assert (debian.severity, debian.source) == (Severity.HIGH, SeveritySource.VENDOR)
    unassigned = advisory_rating(
        {"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]},
        [{"urgency": "not yet assigned"}],
    )
    assert unassigned.source is SeveritySource.CVSS_V3 and unassigned.score == 7.5


def test_nothing_known_is_default() -> None:
    r = advisory_rating({})
    assert (r.severity, r.source) == (Severity.UNKNOWN, SeveritySource.DEFAULT)  # never guessed as medium
