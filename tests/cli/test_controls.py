"""`shareguard controls` end to end through the real application (typer's CliRunner on build_app())."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.catalog import Owner, load_catalog
from shareguard.cli.main import build_app
from shareguard.core.engine import collect_rules
from shareguard.core.registry import load_registries

REQUIRED_FOR_DATAFLOW = [
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


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> object:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_dataflow_listing_shows_every_required_duty_with_mappings() -> None:
    code, out, err = run("controls", "--service", "dataflow")
    assert code == 0, err
    for cid in REQUIRED_FOR_DATAFLOW:
        assert cid in out
    assert "NIST" in out and "ISO" in out and "CIS-GCP" in out
    rows = run_json("controls", "--service", "dataflow")
    assert isinstance(rows, list)
    by_id = {r["id"]: r for r in rows}
    assert "--experiments=enable_stackdriver_agent_metrics" in by_id["DATAFLOW-C-04"]["title"]
    for cid in REQUIRED_FOR_DATAFLOW:
        assert by_id[cid]["frameworks"]["nist-800-53-rev5"] and by_id[cid]["frameworks"]["iso-27001-2022-annex-a"]


def test_listing_everything_matches_the_catalog() -> None:
    rows = run_json("controls")
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == [c.id for s in load_catalog().services.values() for c in s.controls]
    assert {"id", "service", "owner", "title", "description", "rationale", "source", "frameworks"} <= set(rows[0])


def test_owner_filter() -> None:
    rows = run_json("controls", "--owner", "provider")
    assert isinstance(rows, list) and rows
    assert {r["owner"] for r in rows} == {Owner.PROVIDER.value}
    code, out, _ = run("controls", "--service", "dlvm", "--owner", "customer", "--no-shared")
    assert code == 0
    assert "DLVM-C-05" in out and "DLVM-P-01" not in out and "IAM-C-01" not in out


@pytest.mark.parametrize(("alias", "key"), [("nist", "nist-800-53-rev5"), ("iso27001", "iso-27001-2022-annex-a")])
def test_framework_filter_shows_requirement_ids(alias: str, key: str) -> None:
    code, out, _ = run("controls", "--framework", alias, "--service", "dataflow")
    assert code == 0
    assert key in out
    dataflow_c04 = load_catalog().control("DATAFLOW-C-04").frameworks[key]
    assert dataflow_c04[0] in out
    rows = run_json("controls", "--framework", alias)
    assert isinstance(rows, list)
    assert rows and all(r["frameworks"].get(key) for r in rows)


def test_cis_aws_filter_leaves_out_unmapped_duties() -> None:
    rows = run_json("controls", "--framework", "cis-aws", "--service", "dataflow")
    assert isinstance(rows, list)
    ids = {r["id"] for r in rows}
    assert "LOGGING-C-01" in ids and "DATAFLOW-C-05" not in ids


def test_show_one_control_in_full() -> None:
    code, out, err = run("controls", "show", "dataflow-c-04")
    assert code == 0, err
    assert "DATAFLOW-C-04" in out
    assert "https://cloud.google.com/dataflow/docs/resources/shared-responsibility" in out
    assert "Unsupported System Components" in out  # NIST SA-22 with its title
    assert "Configuration Management" in out  # ISO A.8.9 with its title
    assert "rationale" in out


def test_show_json_has_titles_and_rules_list() -> None:
    doc = run_json("controls", "show", "IAM-C-03")
    assert isinstance(doc, dict)
    assert doc["id"] == "IAM-C-03" and doc["owner"] == "customer"
    reqs = {(r["framework"], r["id"]): r["title"] for r in doc["requirements"]}
    assert reqs[("nist-800-53-rev5", "IA-2(1)")] == "Multi-factor Authentication to Privileged Accounts"
    assert isinstance(doc["rules"], list)


def test_show_lists_rules_of_the_registered_providers() -> None:
    """Whatever rules the built-in plugins register today appear under the duties they name."""
    rules = collect_rules(load_registries())
    assert rules, "the built-in plugins register rules"
    for rule in list(rules.values())[:5]:
        doc = run_json("controls", "show", rule.control_ids[0])
        assert isinstance(doc, dict)
        assert rule.id in {r["id"] for r in doc["rules"]}


def test_show_lists_rules_of_a_third_party_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule provider installed through the `shareguard.plugins` entry point shows up under its duty."""
    (tmp_path / "sg_demo_rules.py").write_text(
        textwrap.dedent(
            '''
            from shareguard.core.analyzer import RuleProvider
            from shareguard.core.rules import load_rules_yaml

            RULES = """
            - id: DEMO-DF-001
              title: Pipeline launched with the deprecated Monitoring agent experiment
              severity: medium
              control_ids: [DATAFLOW-C-04]
              remediation: Remove --experiments=enable_stackdriver_agent_metrics.
            """


            class DemoRules:
                name = "demo-rules"

                def rules(self):
                    return load_rules_yaml(RULES, "demo-rules.yaml").values()


            def register(registries):
                registries.of(RuleProvider).add("demo-rules", DemoRules())
            '''
        )
    )
    dist = tmp_path / "sg_demo_rules-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sg-demo-rules\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[shareguard.plugins]\ndemo = sg_demo_rules\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    code, out, err = run("controls", "show", "DATAFLOW-C-04")
    assert code == 0, err
    assert "DEMO-DF-001" in out and "Monitoring agent" in out
    doc = run_json("controls", "show", "DATAFLOW-C-04")
    assert isinstance(doc, dict)
    assert [r["id"] for r in doc["rules"] if r["id"].startswith("DEMO-")] == ["DEMO-DF-001"]
    untouched = run_json("controls", "show", "KMS-C-02")
    assert isinstance(untouched, dict)
    assert "DEMO-DF-001" not in {r["id"] for r in untouched["rules"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("controls", "show", "NOPE-C-01"), "unknown control id 'NOPE-C-01'"),
        (("controls", "--service", "bigtable"), "unknown service 'bigtable'"),
        (("controls", "--framework", "pci"), "unknown framework 'pci'"),
        (("controls", "--owner", "google"), "unknown owner 'google'"),
        (("controls", "--format", "sarif"), "--format sarif is not available"),
        (("controls", "--catalog", "/nonexistent/catalog"), "catalog directory not found"),
    ],
)
def test_errors_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err and err.startswith("error: ")


def test_malformed_custom_catalog_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "frameworks").mkdir()
    (tmp_path / "services").mkdir()
    bad = tmp_path / "services" / "demo.yaml"
    bad.write_text(
        "service: demo\nname: Demo\ncloud: aws\ncontrols:\n- id: DEMO-C-01\n  owner: customer\n  title: [x\n"
    )
    for args in (
        ("controls", "--catalog", str(tmp_path)),
        ("controls", "show", "DEMO-C-01", "--catalog", str(tmp_path)),
    ):
        code, out, err = run(*args)
        assert code == 2 and out == ""
        line = err.strip()
        assert len(line.splitlines()) == 1
        assert line.startswith(f"error: {bad}:") and "invalid YAML" in line
        assert line.split(":")[2].strip().isdigit()  # error: <path>:<line>: message


def test_custom_catalog_is_listed(tmp_path: Path) -> None:
    (tmp_path / "frameworks").mkdir()
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "demo.yaml").write_text(
        "service: demo\nname: Demo\ncloud: aws\ncontrols:\n- id: DEMO-C-01\n  owner: customer\n  title: Do it\n"
    )
    rows = run_json("controls", "--catalog", str(tmp_path))
    assert rows == [
        {
            "id": "DEMO-C-01",
            "service": "demo",
            "owner": "customer",
            "title": "Do it",
            "description": "",
            "rationale": "",
            "source": "",
            "references": [],
            "frameworks": {},
        }
    ]
    code, out, _ = run("controls", "--catalog", str(tmp_path), "show", "DEMO-C-01")
    assert code == 0 and "Do it" in out
