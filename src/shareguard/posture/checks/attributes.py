"""The one evaluator of the attribute rule tables (`posture/attributes/*.yaml`, see `posture.attribute_rules`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shareguard.core.context import ScanContext
from shareguard.posture.attribute_rules import judge, rules_by_type
from shareguard.posture.model import PostureResource, Unresolved, Violation


def _types() -> frozenset[str]:
    return frozenset(rules_by_type())


@dataclass(frozen=True)
class AttributeChecks:
    name: str = "attributes"
    types: frozenset[str] = field(default_factory=_types)

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        for compiled in rules_by_type().get(res.type, ()):
            out = judge(compiled, res)
            if out is not None:
                yield out


CHECKS = (AttributeChecks(),)
