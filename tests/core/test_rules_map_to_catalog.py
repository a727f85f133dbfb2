"""Every rule any built-in plugin can fire rolls up to a customer duty of the catalog, with a remediation."""

from __future__ import annotations

from shareguard.catalog import Owner, load_catalog
from shareguard.core.engine import collect_rules
from shareguard.core.registry import load_registries


def test_every_builtin_rule_names_known_customer_duties_and_a_remediation() -> None:
    rules = collect_rules(load_registries())
    assert len(rules) > 100  # posture, models, vuln families are all registered
    controls = load_catalog().controls
    for rule in rules.values():
        assert rule.control_ids, rule.id
        for cid in rule.control_ids:
            assert cid in controls, f"{rule.id} names unknown duty {cid}"
            assert controls[cid].owner is Owner.CUSTOMER, f"{rule.id} names provider duty {cid}"
        assert rule.remediation.strip(), f"{rule.id} has no remediation"
