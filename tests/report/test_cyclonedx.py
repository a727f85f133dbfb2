"""CycloneDX 1.6 SBOM: validated with cyclonedx-python-lib's own strict JSON schema validator."""

from __future__ import annotations

import json
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from tests.report.sbom_fixtures import LAYER1, LAYER2, scan_result

from shareguard.catalog import load_catalog
from shareguard.core.registry import load_registries
from shareguard.report.cyclonedx import CycloneDxReporter
from shareguard.report.interface import Reporter


def _render(tmp_path: Path, vex: bool = False) -> tuple[str, dict[str, object]]:
    text = CycloneDxReporter().render(scan_result(tmp_path, vex=vex), load_catalog())
    return text, json.loads(text)


def test_valid_cyclonedx_16(tmp_path: Path) -> None:
    text, _ = _render(tmp_path, vex=True)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None


def test_components_os_and_image(tmp_path: Path) -> None:
    _, doc = _render(tmp_path)
    assert doc["specVersion"] == "1.6"
    meta = doc["metadata"]
    assert meta["component"]["type"] == "container"  # type: ignore[index]
    assert meta["component"]["name"] == "registry.example.com/ml/trainer:1.0"  # type: ignore[index]
    comps = {c["name"]: c for c in doc["components"]}  # type: ignore[union-attr]
    assert comps["debian"]["type"] == "operating-system" and comps["debian"]["version"] == "12"
    torch = comps["torch"]
    assert torch["purl"] == "pkg:pypi/torch@1.13.0%2Bcu117" and torch["type"] == "library"
    props = {p["name"]: p["value"] for p in torch["properties"]}
    assert props["shareguard:layer"] == LAYER2 and props["shareguard:path"].endswith("METADATA")
    assert comps["libssl3"]["purl"].startswith("pkg:deb/debian/libssl3@")
    assert {p["name"]: p["value"] for p in comps["libssl3"]["properties"]}["shareguard:layer"] == LAYER1
    assert comps["@types/node"]["purl"] == "pkg:npm/%40types/node@20.1.0"


def test_vulnerabilities_ratings_affects_and_vex(tmp_path: Path) -> None:
    _, doc = _render(tmp_path, vex=True)
    refs = {c["bom-ref"]: c["name"] for c in doc["components"]}  # type: ignore[union-attr]
    vulns = doc["vulnerabilities"]
    assert isinstance(vulns, list) and vulns
    by_id = {v["id"]: v for v in vulns}
    torch = by_id["PYSEC-2022-43015"]
    assert [refs[a["ref"]] for a in torch["affects"]] == ["torch"]
    assert torch["analysis"]["state"] == "not_affected"
    assert torch["analysis"]["justification"] == "code_not_reachable"
    assert torch["ratings"][0]["severity"] == "unknown"  # PyPA gives no rating; none is invented
    pyyaml = by_id["PYSEC-2021-142"]
    assert [refs[a["ref"]] for a in pyyaml["affects"]] == ["pyyaml"]
    assert "analysis" not in pyyaml
    assert "pip install 'pyyaml>=5.4'" in pyyaml["recommendation"]


def test_registered_only_for_image_and_rootfs() -> None:
    reporter = load_registries().of(Reporter).get("cyclonedx")  # type: ignore[type-abstract]
    assert reporter.commands == frozenset({"image", "rootfs"})


def test_docker_archive_component_has_its_id_as_version_and_ordered_layers() -> None:
    """A docker-archive has no manifest digest: the image id (config digest) is the version; the layers
    read in the image's order although the library sorts properties; no local directory in the name."""
    from datetime import UTC, datetime

    from shareguard.core.coverage import Coverage
    from shareguard.core.facts import FactStore, ImageIdentity, Package
    from shareguard.core.result import ScanResult

    layers = tuple(f"sha256:{c * 64}" for c in "9876543210ab")  # 12 layers, not in sorted order
    facts = FactStore()
    facts.add(
        ImageIdentity(reference="/home/me/train.tar (train:1.0)", config_digest="sha256:" + "e" * 64, layers=layers)
    )
    facts.add(Package(name="requests", version="2.31.0", ecosystem="PyPI", path="m/METADATA", layer=layers[3]))
    now = datetime(2026, 11, 23, tzinfo=UTC)
    result = ScanResult("image", "/home/me/train.tar", now, now, [], facts, Coverage())
    text = CycloneDxReporter().render(result, load_catalog())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    component = json.loads(text)["metadata"]["component"]
    assert component["version"] == "sha256:" + "e" * 64
    assert component["name"] == "train.tar (train:1.0)"
    ordered = [p["value"] for p in component["properties"] if p["name"].startswith("shareguard:layer:")]
    assert ordered == list(layers)
    assert [p["name"] for p in component["properties"]][:2] == ["shareguard:layer:01", "shareguard:layer:02"]


def test_fast_registration_writes_what_the_library_writes(tmp_path: Path) -> None:
    """`registered_once` only skips re-registering known elements: the BOM is the library's own output."""
    from cyclonedx.output.json import JsonV1Dot6

    from shareguard.report.cyclonedx import build_bom, registered_once
    from shareguard.report.sbom_inventory import collect

    result = scan_result(tmp_path, vex=True)
    fast = json.loads(JsonV1Dot6(registered_once(build_bom(collect(result)))).output_as_string())
    plain = json.loads(JsonV1Dot6(build_bom(collect(result))).output_as_string())
    for doc in (fast, plain):
        doc.pop("serialNumber", None)
        doc["metadata"].pop("timestamp", None)
    assert fast == plain
    assert len(fast["dependencies"]) == len(fast["components"]) + 1
