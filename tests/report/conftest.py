"""Scan results the report tests render: one synthetic with every field set, one real scan of the example."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shareguard.catalog import Catalog, load_catalog
from shareguard.core.context import ScanIssue
from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore, ImageIdentity, Package
from shareguard.core.finding import Finding, Remediation, SeveritySource, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ExpiredWaiver, ScanResult
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity
from shareguard.core.waivers import WAIVER_FILENAME, apply_waivers

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ml-platform"

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)> & [bold]markup[/bold] \u2028'


def full_result() -> ScanResult:
    """Every field of every model set, every status, an unmapped control, hostile text, issues, expired waivers."""
    rules = {
        "DF-EXP-001": RuleMeta(
            id="DF-EXP-001",
            title="Deprecated Dataflow experiment enable_stackdriver_agent_metrics",
            severity=Severity.MEDIUM,
            control_ids=("DATAFLOW-C-04",),
            description="The experiment is deprecated and unmaintained.",
            remediation="Remove the experiment from the pipeline options.",
            cli="gcloud dataflow flex-template run features --additional-experiments=use_runner_v2",
            terraform='additional_experiments = ["use_runner_v2"]',
            references=("https://cloud.google.com/dataflow/docs/guides/using-cloud-monitoring",),
            tags=("dataflow",),
        )
    }
    findings = [
        rules["DF-EXP-001"].finding(
            Resource(type="dataflow_job", path="dataflow/job.json", name="features-stream"),
            location=Location(field_path="environment.experiments[0]"),
            evidence="enable_stackdriver_agent_metrics",
            analyzer="posture.dataflow_job",
        ),
        Finding(
            rule_id="TF-NET-002",
            control_ids=("DATAFLOW-C-06", "NETWORK-C-03"),
            severity=Severity.HIGH,
            severity_source=SeveritySource.POLICY,
            title="Dataflow workers have public IPs " + HOSTILE,
            description="Workers reachable from the internet. " + HOSTILE,
            resource=Resource(
                type="terraform:google_dataflow_flex_template_job",
                path="terraform/main.tf",
                name="google_dataflow_flex_template_job.features_stream",
            ),
            location=Location(line=50, end_line=52, column=3, field_path="ip_configuration"),
            evidence=HOSTILE,
            remediation=Remediation(
                text="Set ip_configuration to WORKER_IP_PRIVATE " + HOSTILE,
                fixed_version=None,
                command="terraform apply",
                snippet='ip_configuration = "WORKER_IP_PRIVATE"',
                url="https://cloud.google.com/dataflow/docs/guides/routes-firewall",
            ),
            analyzer="posture.terraform",
            properties={"fingerprint_key": "features_stream", "tags": ["net"], "score": 7.5},
        ),
        Finding(
            rule_id="VULN-PYSEC-2024-0001",
            control_ids=("DLC-C-02",),
            severity=Severity.CRITICAL,
            severity_source=SeveritySource.CVSS_V3,
            title="torch 2.2.0: remote code execution in torch.load",
            resource=Resource(type="package", path="usr/lib/python3/dist-packages/torch", name="torch"),
            location=Location(layer_digest="sha256:" + "ab" * 32, member="METADATA", offset=0, record="torch"),
            evidence="torch==2.2.0",
            remediation=Remediation(
                text="Upgrade torch", fixed_version="2.6.0", command="pip install 'torch>=2.6.0'", url=None
            ),
            analyzer="vuln.osv",
            properties={"cve": ["CVE-2025-32434"], "installed": "2.2.0"},
        ),
        Finding(
            rule_id="PII-CARD",
            control_ids=("STORAGE-C-03",),
            severity=Severity.LOW,
            title="Payment card numbers in a dataset",
            resource=Resource(type="file", path="data/customers.csv"),
            location=Location(line=2, record="row 1"),
            evidence="4111********1111",
            remediation=Remediation(text="Tokenise card numbers before they land in training data."),
        ).with_status(Status.WAIVED, "synthetic fixture data (until 2027-06-30)"),
        Finding(
            rule_id="K8S-RO-ROOTFS",
            control_ids=("KUBERNETES-C-01",),
            severity=Severity.INFO,
            title="Read-only root filesystem",
            resource=Resource(type="kubernetes:Deployment", path="k8s/inference.yaml", name="churn-serve"),
            location=Location(line=40),
            remediation=Remediation(text="Keep readOnlyRootFilesystem: true."),
            status=Status.PASS,
        ),
        Finding(
            rule_id="PLUGIN-X",
            control_ids=("ACME-C-01",),
            severity=Severity.INFO,
            title="A third-party plugin's own duty",
            resource=Resource(type="url", path="gs://example-bucket/a b.txt"),
            remediation=Remediation(text="n/a"),
        ),
    ]
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return ScanResult(
        command="audit",
        target="examples/ml-platform",
        started=now,
        finished=now,
        findings=findings,
        facts=FactStore(),
        coverage=_coverage(),
        issues=[
            ScanIssue("models/huge.pt", "file is 9 GiB, over the budget " + HOSTILE, "models.pickle", "error"),
            ScanIssue("k8s/odd.yaml", "unknown kind", None, "warning"),
        ],
        rules=rules,
        expired_waivers=[ExpiredWaiver(".shareguard-ignore.yaml", 12, "2026-03-31", "rotation " + HOSTILE, 1)],
        metadata={"scan_root": str(EXAMPLE), "vuln_db": "2026-11-20"},
    )


@pytest.fixture
def result() -> ScanResult:
    return full_result()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def example_result() -> ScanResult:
    """A real scan of the bundled example workspace with its waiver file applied (as the CLI does)."""
    from shareguard.scan import run_path_scan

    scanned = run_path_scan(EXAMPLE)
    return apply_waivers(scanned, EXAMPLE / WAIVER_FILENAME)


def _coverage() -> Coverage:
    """DATAFLOW-C-01 and IAM-C-02 were evaluated and passed; DATAFLOW-C-04 could not be (a parse error)."""
    cov = Coverage()
    cov.evaluated("DATAFLOW-010", ("DATAFLOW-C-01",), "dataflow/job.json#churn")
    cov.evaluated("IAM-002", ("IAM-C-02",), "iam/policy.json")
    cov.gap(("DATAFLOW-C-04",), "dataflow/broken.json", "invalid JSON")
    cov.input_evaluated("posture.describe", "dataflow/job.json")
    cov.input_skipped("posture.describe", "dataflow/broken.json", "invalid JSON")
    return cov


def image_scan_result() -> ScanResult:
    """An image scan with 30 Debian packages in its first layer, torch (a CUDA build) and the CUDA toolkit in
    its second, and no findings."""
    facts = FactStore()
    layers = ("sha256:" + "a" * 64, "sha256:" + "b" * 64)
    facts.add(ImageIdentity(reference="registry.example.com/ml/train:1.0", digest="sha256:" + "c" * 64, layers=layers))
    for i in range(30):
        facts.add(
            Package(name=f"lib{i}", version=f"1.{i}", ecosystem="Debian", path="var/lib/dpkg/status", layer=layers[0])
        )
    facts.add(
        Package(
            name="torch",
            version="2.4.0+cu121",
            ecosystem="PyPI",
            path="usr/local/lib/python3.11/site-packages/torch-2.4.0.dist-info/METADATA",
            layer=layers[1],
            origin="pip",
            extra=(("accelerator", "cuda"), ("cuda", "12.1"), ("cudnn", "8.9.2")),
        )
    )
    facts.add(
        Package(
            name="cuda",
            version="12.1.105",
            ecosystem="generic",
            path="usr/local/cuda/version.json",
            layer=layers[1],
            origin="ml-stack",
        )
    )
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return ScanResult(
        command="image",
        target="registry.example.com/ml/train:1.0",
        started=now,
        finished=now,
        findings=[],
        facts=facts,
        coverage=Coverage(),
    )


@pytest.fixture
def image_result() -> ScanResult:
    return image_scan_result()
