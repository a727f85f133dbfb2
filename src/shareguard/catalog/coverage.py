"""Which rules check a duty: read from the rule providers in the registries, never hard-coded."""

from __future__ import annotations

from shareguard.core.engine import collect_rules
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta


def rules_for_control(registries: Registries, control_id: str) -> list[RuleMeta]:
    """Every registered rule that names `control_id`, sorted by rule id (the same rule set a scan reports)."""
    wanted = control_id.upper()
    rules = collect_rules(registries)
    return [rules[k] for k in sorted(rules) if wanted in (c.upper() for c in rules[k].control_ids)]
