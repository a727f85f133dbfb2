"""The built-in log rules published as rule metadata (`controls show`, SARIF rules, the roll-up)."""

from __future__ import annotations

from collections.abc import Iterable

from shareguard.core.rules import RuleMeta
from shareguard.logs.detect import builtin_rules


class LogRules:
    name = "logs"

    def rules(self) -> Iterable[RuleMeta]:
        for info in builtin_rules().infos():
            yield RuleMeta(
                id=info.id,
                title=info.title,
                severity=info.severity,
                control_ids=info.duties,
                description=info.description,
                remediation=info.remediation,
                references=info.references,
                tags=("logs", *info.tags),
            )
