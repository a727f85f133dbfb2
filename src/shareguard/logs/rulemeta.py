"""The built-in log rules published as rule metadata (`controls show`, SARIF rules, the roll-up)."""

from __future__ import annotations

from collections.abc import Iterable

from shareguard.core.rules import RuleMeta
from shareguard.logs.detect import builtin_rules
from shareguard.logs.run import rule_metas


class LogRules:
    name = "logs"

    def rules(self) -> Iterable[RuleMeta]:
        return rule_metas(builtin_rules())
