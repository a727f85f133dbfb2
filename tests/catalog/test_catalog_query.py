"""Selecting duties: service with the shared services it rests on, owner, framework aliases; rules per duty."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from shareguard.catalog import Catalog, Owner, load_catalog
from shareguard.catalog.coverage import rules_for_control
from shareguard.catalog.query import (
    mapped_requirements,
    parse_owner,
    resolve_framework,
    select_controls,
    service_controls,
)
from shareguard.core.analyzer import RuleProvider
from shareguard.core.errors import UnknownIdError
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta, load_rules_yaml

RULES_YAML = """\
- id: TEST-DF-001
  title: Streaming job started with a deprecated experiment
  severity: medium
  control_ids: [DATAFLOW-C-04]
  remediation: Drop the experiment and relaunch with --update.
- id: TEST-DF-000
  title: Monitoring agent experiment in a Flex Template
  severity: low
  control_ids: [dataflow-c-04, DATAFLOW-C-01]
  remediation: Remove it.
- id: TEST-IAM-001
  title: Wildcard action
  severity: high
  control_ids: [IAM-C-02]
  remediation: Name the actions.
"""


class _YamlRules:
    """A rule family as a capability ships one: rule metadata as YAML data."""

    name = "test-rules"

    def rules(self) -> Iterable[RuleMeta]:
        return load_rules_yaml(RULES_YAML, "test-rules.yaml").values()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("nist", "nist-800-53-rev5"),
        ("NIST", "nist-800-53-rev5"),
        ("iso27001", "iso-27001-2022-annex-a"),
        ("iso", "iso-27001-2022-annex-a"),
        ("cis-aws", "cis-aws-foundations-7.0"),
        ("cis-gcp", "cis-gcp-foundations-5.0"),
        ("cis-aws-foundations-6.0", "cis-aws-foundations-6.0"),
        ("nist-800-53-rev5", "nist-800-53-rev5"),
    ],
)
def test_resolve_framework(catalog: Catalog, name: str, key: str) -> None:
    assert resolve_framework(catalog, name) == key


def test_unknown_framework_lists_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(UnknownIdError, match=r"unknown framework .pci.*nist-800-53-rev5"):
        resolve_framework(catalog, "pci")


def test_parse_owner() -> None:
    assert parse_owner(" Customer ") is Owner.CUSTOMER
    with pytest.raises(UnknownIdError, match="customer, provider"):
        parse_owner("google")


def test_service_controls_own_then_shared(catalog: Catalog) -> None:
    ids = [c.id for c in service_controls(catalog, "dataflow")]
    assert ids[0].startswith("DATAFLOW-")
    assert ids.index("DATAFLOW-C-09") < ids.index("IAM-C-01")
    assert not any(i.startswith("KUBERNETES-") for i in ids)
    own = [c.id for c in service_controls(catalog, "DataFlow", include_shared=False)]
    assert own and all(i.startswith("DATAFLOW-") for i in own)


def test_select_controls_filters(catalog: Catalog) -> None:
    customers = select_controls(catalog, service="dlc", owner=Owner.CUSTOMER)
    assert customers and all(c.owner is Owner.CUSTOMER for c in customers)
    assert any(c.service == "kubernetes" for c in customers)
    providers = select_controls(catalog, owner=Owner.PROVIDER)
    assert {c.service for c in providers} == set(catalog.services)
    gcp = select_controls(catalog, framework="cis-gcp-foundations-5.0")
    assert gcp and all(c.frameworks["cis-gcp-foundations-5.0"] for c in gcp)
    assert "STORAGE-C-04" not in {c.id for c in gcp}
    with pytest.raises(UnknownIdError, match="unknown service 'bigtable'"):
        select_controls(catalog, service="bigtable")


def test_mapped_requirements_carry_titles(catalog: Catalog) -> None:
    reqs = mapped_requirements(catalog, catalog.control("IAM-C-03"))
    by_key = {(m.framework, m.requirement.id): m.requirement.title for m in reqs}
    assert by_key[("nist-800-53-rev5", "IA-2(1)")] == "Multi-factor Authentication to Privileged Accounts"
    assert "MFA" in by_key[("cis-aws-foundations-7.0", "2.10")]
    assert len(reqs) == sum(len(v) for v in catalog.control("IAM-C-03").frameworks.values())


def test_rules_for_control_reads_the_registries() -> None:
    registries = Registries()
    registries.of(RuleProvider).add("test-rules", _YamlRules())  # type: ignore[type-abstract]
    assert [r.id for r in rules_for_control(registries, "DATAFLOW-C-04")] == ["TEST-DF-000", "TEST-DF-001"]
    assert [r.id for r in rules_for_control(registries, "dataflow-c-01")] == ["TEST-DF-000"]
    assert rules_for_control(registries, "KMS-C-02") == []
    assert rules_for_control(Registries(), "DATAFLOW-C-04") == []
