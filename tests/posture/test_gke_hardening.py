"""GKE-015 (network policy) is exempt where Dataplane V2 or Autopilot enforces policies, and undecided where the
data path is not known statically: `unless` with several conditions."""

from __future__ import annotations

from pathlib import Path

from posture_helpers import analyzer, ids, run_text

from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluations, Gap
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings

CLUSTER = """resource "google_container_cluster" "ml" {{
  name               = "ml"
  location           = "us-central1"
  initial_node_count = 1
{body}
}}
"""


def _outs(tmp_path: Path, body: str) -> list[object]:
    p = tmp_path / "main.tf"
    p.write_text(CLUSTER.format(body=body), encoding="utf-8")
    ctx = ScanContext(settings=Settings(), root=tmp_path)
    return list(
        analyzer("posture.terraform").analyze(FileEntry(rel_path="main.tf", size=p.stat().st_size, abs_path=p), ctx)
    )


def test_dataplane_v2_enforces_network_policy(tmp_path: Path) -> None:
    findings, _ = run_text(
        "posture.terraform", tmp_path, "main.tf", CLUSTER.format(body='  datapath_provider = "ADVANCED_DATAPATH"')
    )
    assert "GKE-015" not in ids(findings)


def test_autopilot_enforces_network_policy(tmp_path: Path) -> None:
    findings, _ = run_text("posture.terraform", tmp_path, "main.tf", CLUSTER.format(body="  enable_autopilot = true"))
    assert "GKE-015" not in ids(findings)


def test_legacy_datapath_without_policy_fails(tmp_path: Path) -> None:
    findings, _ = run_text(
        "posture.terraform", tmp_path, "main.tf", CLUSTER.format(body='  datapath_provider = "LEGACY_DATAPATH"')
    )
    hit = [f for f in findings if f.rule_id == "GKE-015"]
    assert hit and hit[0].evidence and "provider default" in hit[0].evidence


def test_unknown_datapath_is_unresolved_not_secure(tmp_path: Path) -> None:
    outs = _outs(tmp_path, "  datapath_provider = var.datapath")
    assert not any(getattr(o, "rule_id", None) == "GKE-015" for o in outs)
    assert any(isinstance(o, Gap) and "GKE-015" in o.reason for o in outs)
    evaluated = [e.rule for o in outs if isinstance(o, Evaluations) for e in o.expanded()]
    assert "GKE-015" not in evaluated


def test_a_known_exemption_wins_over_an_unknown_one(tmp_path: Path) -> None:
    outs = _outs(tmp_path, "  enable_autopilot = true\n  datapath_provider = var.datapath")
    assert not any(isinstance(o, Gap) and "GKE-015" in o.reason for o in outs)
