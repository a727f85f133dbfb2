"""Inline suppressions: `# shareguard:ignore RULE[,RULE…] reason` in any configuration file.

The comment may trail the offending line or stand on the line above it (Dockerfile, YAML,
HCL, shell, Python all use `#`; HCL and JSON-with-comments may use `//`). `RULE` may be a rule id
or `*`. A reason is required: a suppression without one does not apply and is reported as a
warning, so an unexplained silence never passes review. Works on the raw text, so it is the
same for every format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shareguard.core.finding import Finding, Status

MARKER = b"shareguard:ignore"
_COMMENT = re.compile(
    r"(?:#|//)\s*shareguard:ignore(?![\w-])[ \t]*(?P<rules>[A-Za-z0-9_*.\-]+(?:[ \t]*,[ \t]*[A-Za-z0-9_*.\-]+)*)?"
    r"(?P<reason>[^\n]*)"
)


@dataclass(frozen=True)
class Suppression:
    line: int
    rules: frozenset[str]
    reason: str

    def covers(self, rule_id: str, line: int | None) -> bool:
        if line is None or line not in (self.line, self.line + 1):
            return False
        return "*" in self.rules or rule_id in self.rules


@dataclass(frozen=True)
class SuppressionProblem:
    line: int
    message: str


def find_suppressions(text: str) -> tuple[list[Suppression], list[SuppressionProblem]]:
    """Every suppression comment of a file, and the malformed ones."""
    found: list[Suppression] = []
    problems: list[SuppressionProblem] = []
    if "shareguard:ignore" not in text:
        return found, problems
    for lineno, line in enumerate(text.splitlines(), start=1):
        if "shareguard:ignore" not in line:
            continue
        m = _COMMENT.search(line)
        if m is None:
            continue
        rules_text = m.group("rules") or ""
        reason = (m.group("reason") or "").strip().strip("-–—:").strip()
        # YAML/HCL block comments may end with closing quotes or `*/`; keep the reason clean.
        reason = reason.removesuffix("*/").strip()
        if not rules_text:
            problems.append(SuppressionProblem(lineno, "shareguard:ignore without a rule id; it is ignored"))
            continue
        if not reason:
            problems.append(
                SuppressionProblem(
                    lineno, f"shareguard:ignore {rules_text} has no reason; it is ignored (a reason is required)"
                )
            )
            continue
        rules = frozenset(r.strip() for r in rules_text.split(",") if r.strip())
        found.append(Suppression(lineno, rules, reason))
    return found, problems


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """Mark the failing findings a suppression covers as waived, with its reason."""
    if not suppressions:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.status is Status.FAIL:
            s = next((s for s in suppressions if s.covers(f.rule_id, f.location.line)), None)
            if s is not None:
                f = f.with_status(Status.WAIVED, f"inline suppression (line {s.line}): {s.reason}")
        out.append(f)
    return out
