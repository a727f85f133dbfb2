"""ML-stack facts (CUDA, cuDNN, NCCL, framework build, accelerator) in the JSON report (`ml_stack`, validated
against the shipped schema) and in both SBOMs (validated with their own validators)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from tests.report.sbom_fixtures import LAYER2, scan_result

from shareguard.catalog import load_catalog
from shareguard.core.facts import Package
from shareguard.core.result import ScanResult
from shareguard.image.analyzers.ml_stack import generic_package
from shareguard.report.cyclonedx import CycloneDxReporter
from shareguard.report.json_report import JsonReporter, report_schema
from shareguard.report.spdx import SpdxReporter

SITE = "usr/local/lib/python3.11/site-packages"


def _with_stack(tmp_path: Path) -> ScanResult:
    result = scan_result(tmp_path)
    result.facts.add(
        generic_package(
            "cuda", "12.4.1", "usr/local/cuda-12.4/version.json", LAYER2, detected_from="version.json,cuda.h"
        )
    )
    result.facts.add(generic_package("cudnn", "9.1.0", "usr/include/cudnn_version_v9.h", LAYER2))
    result.facts.add(generic_package("nccl", "2.21.5", "usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5", LAYER2))
    result.facts.add(
        Package(
            name="tensorflow",
            version="2.16.1",
            ecosystem="PyPI",
            path=f"{SITE}/tensorflow-2.16.1.dist-info/METADATA",
            layer=LAYER2,
            origin="pip",
            extra=(("accelerator", "cuda"), ("cuda", "12.3"), ("cudnn", "8")),
        )
    )
    return result


def test_json_report_ml_stack_validates(tmp_path: Path) -> None:
    doc = json.loads(JsonReporter().render(_with_stack(tmp_path), load_catalog()))
    jsonschema.Draft202012Validator(report_schema()).validate(doc)
    stack = doc["ml_stack"]
    assert stack["accelerators"] == ["cuda"]
    assert [c["version"] for c in stack["cuda"]] == ["12.4.1"] and stack["cuda"][0]["detected_from"] == (
        "version.json,cuda.h"
    )
    assert [c["version"] for c in stack["cudnn"]] == ["9.1.0"] and [c["version"] for c in stack["nccl"]] == ["2.21.5"]
    [tf] = [f for f in stack["frameworks"] if f["name"] == "tensorflow"]
    assert (tf["accelerator"], tf["cuda"], tf["cudnn"], tf["layer"]) == ("cuda", "12.3", "8", LAYER2)


def test_json_report_without_ml_stack_has_no_key(tmp_path: Path) -> None:
    doc = json.loads(JsonReporter().render(scan_result(tmp_path), load_catalog()))
    assert "ml_stack" not in doc
    jsonschema.Draft202012Validator(report_schema()).validate(doc)


def test_cyclonedx_ml_stack(tmp_path: Path) -> None:
    text = CycloneDxReporter().render(_with_stack(tmp_path), load_catalog())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    meta = {(p["name"], p["value"]) for p in bom["metadata"]["properties"]}
    assert {
        ("shareguard:ml_stack:accelerator", "cuda"),
        ("shareguard:ml_stack:cuda", "12.4.1"),
        ("shareguard:ml_stack:cudnn", "9.1.0"),
        ("shareguard:ml_stack:nccl", "2.21.5"),
    } <= meta
    by_name = {c["name"]: c for c in bom["components"]}
    tf = {(p["name"], p["value"]) for p in by_name["tensorflow"]["properties"]}
    assert {("shareguard:ml:accelerator", "cuda"), ("shareguard:ml:cuda", "12.3")} <= tf
    cuda = {(p["name"], p["value"]) for p in by_name["cuda"]["properties"]}
    assert ("shareguard:ml:detected_from", "version.json,cuda.h") in cuda
    assert by_name["cuda"]["purl"] == "pkg:generic/nvidia/cuda@12.4.1"


def test_spdx_ml_stack(tmp_path: Path) -> None:
    text = SpdxReporter().render(_with_stack(tmp_path), load_catalog())
    doc = json.loads(text)
    assert doc["creationInfo"]["comment"] == ("ML stack: accelerators cuda; cuda 12.4.1; cudnn 9.1.0; nccl 2.21.5")
    [tf] = [p for p in doc["packages"] if p["name"] == "tensorflow"]
    assert tf["comment"].endswith("; build: accelerator cuda, cuda 12.3, cudnn 8")
    parse_anything = pytest.importorskip("spdx_tools.spdx.parser.parse_anything")
    validator = pytest.importorskip("spdx_tools.spdx.validation.document_validator")
    path = tmp_path / "sbom.spdx.json"
    path.write_text(text, encoding="utf-8")
    messages = validator.validate_full_spdx_document(parse_anything.parse_file(str(path)))
    assert messages == [], [m.validation_message for m in messages]
