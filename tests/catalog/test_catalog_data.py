"""The bundled duty catalog: required duties, stable ids, sources and framework mappings."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

import pytest

from shareguard.catalog import Catalog, Owner, load_catalog
from shareguard.catalog.query import service_controls

BUNDLED = Path(str(resources.files("shareguard.catalog").joinpath("data")))

FAMILIES = ("nist-800-53-rev5", "iso-27001-2022-annex-a")
VENDOR_HOSTS = {"aws.amazon.com", "docs.aws.amazon.com", "cloud.google.com", "kubernetes.io"}

# Every control id other engineers reference (preamble): they must never be renamed or renumbered.
STABLE_IDS = (
    [f"DLC-C-0{i}" for i in range(1, 7)]
    + [f"DLC-P-0{i}" for i in range(1, 5)]
    + [f"DLVM-C-0{i}" for i in range(1, 7)]
    + [f"DATAFLOW-C-0{i}" for i in range(1, 10)]
    + [f"SAGEMAKER-C-0{i}" for i in range(1, 4)]
    + [f"VERTEXAI-C-0{i}" for i in range(1, 4)]
    + [f"IAM-C-0{i}" for i in range(1, 6)]
    + [f"LOGGING-C-0{i}" for i in range(1, 4)]
    + [f"STORAGE-C-0{i}" for i in range(1, 6)]
    + [f"KMS-C-0{i}" for i in range(1, 4)]
    + [f"NETWORK-C-0{i}" for i in range(1, 4)]
    + [f"KUBERNETES-C-0{i}" for i in range(1, 6)]
)

# The customer duties the issue requires, each as (control id, words its title or description must contain).
REQUIRED_CUSTOMER_DUTIES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "latest patched images and security bulletins": [
        ("DLC-C-01", ("latest", "patched", "bulletin")),
        ("DLVM-C-01", ("latest", "patched", "bulletin")),
        ("DATAFLOW-C-01", ("supported", "bulletin")),
    ],
    "restart/update long-running jobs onto patched VMs": [
        ("DATAFLOW-C-02", ("long-running", "restart", "patched")),
        ("DLVM-C-04", ("long-running", "patched")),
        ("DLC-C-04", ("long-running", "patched")),
    ],
    "scan and patch custom images, minimal/distroless bases": [
        ("DLC-C-02", ("scan", "patch", "distroless")),
        ("DATAFLOW-C-03", ("scan", "patch", "distroless", "digest")),
        ("DLVM-C-02", ("scan", "patch", "minimal")),
    ],
    "manage access: individual users, least privilege, MFA": [
        ("IAM-C-01", ("individual",)),
        ("IAM-C-02", ("least privilege",)),
        ("IAM-C-03", ("multi-factor",)),
    ],
    "secure your own applications and test them": [
        ("DLC-C-03", ("secure", "applications", "test")),
        ("DLVM-C-03", ("secure", "applications", "test")),
        ("DATAFLOW-C-08", ("secure", "code", "test")),
    ],
    "log API and user activity": [("LOGGING-C-01", ("api", "user activity", "cloudtrail", "audit logs"))],
    "monitor for and report security incidents": [("LOGGING-C-02", ("monitor", "incident", "report"))],
    "TLS 1.2 minimum, 1.3 recommended": [("NETWORK-C-01", ("tls 1.2", "tls 1.3"))],
    "encryption with customer-managed keys where offered": [
        ("STORAGE-C-01", ("encrypt", "customer-managed")),
        ("KMS-C-01", ("customer-managed",)),
        ("DATAFLOW-C-05", ("cmek",)),
    ],
    "FIPS endpoints where required": [("NETWORK-C-02", ("fips",))],
    "discover sensitive data where stored": [("STORAGE-C-03", ("discover", "sensitive data"))],
    "no sensitive data in tags, labels, names, free text": [
        ("STORAGE-C-04", ("sensitive", "tags", "labels", "names", "free-text"))
    ],
    "no credentials in URLs": [("IAM-C-05", ("credentials", "url"))],
    "no deprecated or unmaintained options": [
        ("DATAFLOW-C-04", ("deprecated", "unmaintained", "--experiments=enable_stackdriver_agent_metrics")),
        ("DLC-C-05", ("deprecated", "unmaintained")),
    ],
    "comply with the laws and frameworks that apply": [
        ("DLC-C-06", ("comply", "laws")),
        ("DLVM-C-06", ("comply", "laws")),
        ("DATAFLOW-C-09", ("comply", "laws")),
    ],
}

# `shareguard controls --service dataflow` must list every required customer duty (own + shared ones).
DATAFLOW_LISTING = [
    *[f"DATAFLOW-C-0{i}" for i in range(1, 10)],
    "IAM-C-01",
    "IAM-C-02",
    "IAM-C-03",
    "IAM-C-05",
    "LOGGING-C-01",
    "LOGGING-C-02",
    "NETWORK-C-01",
    "NETWORK-C-02",
    "STORAGE-C-01",
    "STORAGE-C-03",
    "STORAGE-C-04",
    "KMS-C-01",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_catalog_loads_every_service(catalog: Catalog) -> None:
    expected = {"dlvm", "dlc", "dataflow", "iam", "logging", "storage", "kms", "network", "kubernetes"}
    assert expected <= set(catalog.services)
    assert len(catalog.controls) >= 60


def test_stable_ids_exist(catalog: Catalog) -> None:
    missing = [cid for cid in STABLE_IDS if cid not in catalog.controls]
    assert missing == []


@pytest.mark.parametrize("duty", sorted(REQUIRED_CUSTOMER_DUTIES))
def test_required_customer_duty_present(catalog: Catalog, duty: str) -> None:
    for cid, words in REQUIRED_CUSTOMER_DUTIES[duty]:
        control = catalog.control(cid)
        assert control.owner is Owner.CUSTOMER, cid
        text = f"{control.title} {control.description}".lower()
        absent = [w for w in words if w not in text]
        assert absent == [], f"{cid} ({duty}) lacks {absent}"


def test_every_referenced_framework_id_exists(catalog: Catalog) -> None:
    """Independent of the loader's own check: read the framework JSON and compare."""
    known: dict[str, set[str]] = {}
    for f in (BUNDLED / "frameworks").glob("*.json"):
        known[f.stem] = {r["id"] for r in json.loads(f.read_text(encoding="utf-8"))["requirements"]}
    referenced = 0
    for control in catalog.controls.values():
        for key, ids in control.frameworks.items():
            assert key in known, f"{control.id}: unknown framework {key}"
            for rid in ids:
                assert rid in known[key], f"{control.id}: {key} has no requirement {rid}"
                referenced += 1
    assert referenced > 300


def test_every_customer_duty_maps_to_nist_and_iso(catalog: Catalog) -> None:
    customer = [c for c in catalog.controls.values() if c.owner is Owner.CUSTOMER]
    assert len(customer) >= 45
    for control in customer:
        for family in FAMILIES:
            assert control.frameworks.get(family), f"{control.id} has no {family} mapping"


def test_cis_mappings_cover_both_clouds(catalog: Catalog) -> None:
    """The CIS benchmarks are mapped where they fit: both cloud families appear, newest and previous versions."""
    keys = {k for c in catalog.controls.values() for k in c.frameworks}
    assert {"cis-aws-foundations-7.0", "cis-aws-foundations-6.0", "cis-gcp-foundations-5.0"} <= keys
    assert "cis-gcp-foundations-4.0" in keys
    # CloudTrail in all regions is CIS AWS 4.1 in both versions; audit logging is CIS GCP 2.1.
    logging = catalog.control("LOGGING-C-01").frameworks
    assert "4.1" in logging["cis-aws-foundations-7.0"] and "4.1" in logging["cis-aws-foundations-6.0"]
    assert "2.1" in logging["cis-gcp-foundations-5.0"]
    assert "IA-2(1)" in catalog.control("IAM-C-03").frameworks["nist-800-53-rev5"]


def test_provider_duties_exist_per_ml_service(catalog: Catalog) -> None:
    for name in ("dlc", "dlvm", "dataflow", "sagemaker", "vertexai"):
        providers = [c for c in catalog.service(name).controls if c.owner is Owner.PROVIDER]
        assert providers, name
    for name in ("dlc", "dlvm", "dataflow"):
        titles = " ".join(c.title.lower() for c in catalog.service(name).controls if c.owner is Owner.PROVIDER)
        for word in ("infrastructure", "patch", "compliance", "bulletins"):
            assert word in titles, f"{name} provider duties lack {word!r}"


def test_every_control_has_text_and_a_vendor_source(catalog: Catalog) -> None:
    for control in catalog.controls.values():
        assert control.description and control.rationale, control.id
        for url in (control.source, *control.references):
            parsed = urlparse(url)
            assert parsed.scheme == "https" and parsed.hostname in VENDOR_HOSTS, f"{control.id}: {url}"


def test_every_service_names_its_shared_responsibility_page(catalog: Catalog) -> None:
    for svc in catalog.services.values():
        assert urlparse(svc.source).hostname in VENDOR_HOSTS, svc.service


def test_ml_services_rest_on_the_shared_ones(catalog: Catalog) -> None:
    for name in ("dlc", "dlvm", "dataflow"):
        assert {"iam", "logging", "storage", "kms", "network"} <= set(catalog.service(name).rests_on)
    assert "kubernetes" in catalog.service("dlc").rests_on


def test_dataflow_listing_holds_every_required_duty(catalog: Catalog) -> None:
    listed = [c.id for c in service_controls(catalog, "dataflow") if c.frameworks]
    assert [cid for cid in DATAFLOW_LISTING if cid not in listed] == []


def test_ids_number_consecutively_per_owner(catalog: Catalog) -> None:
    """New duties get the next number: no gaps that would hint at a renumbering."""
    for svc in catalog.services.values():
        for mark in ("C", "P"):
            nums = sorted(int(c.id.rsplit("-", 1)[1]) for c in svc.controls if f"-{mark}-" in c.id)
            assert nums == list(range(1, len(nums) + 1)), (svc.service, mark)


def test_bundled_frameworks_match_the_shared_copy(shared_data: Path) -> None:
    shared = shared_data / "frameworks"
    for f in (BUNDLED / "frameworks").glob("*.json"):
        assert json.loads(f.read_text(encoding="utf-8")) == json.loads((shared / f.name).read_text(encoding="utf-8"))


def test_cis_ids_are_quoted_strings_in_the_yaml() -> None:
    """An unquoted `4.10` would be the float 4.1; the loader rejects it, this keeps the data honest."""
    for f in (BUNDLED / "services").glob("*.yaml"):
        for line in f.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s+cis-", line):
                assert re.fullmatch(r'\s+cis-[a-z0-9.-]+: \[("[\d.]+"(, )?)+\]', line), f"{f.name}: {line}"
