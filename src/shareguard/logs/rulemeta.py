"""The built-in log rules published as rule metadata (`controls show`, SARIF rules, the roll-up).

Read straight from the YAML (titles, levels, the `shareguard` attribute): publishing metadata must not cost
every command pySigma's import and the rules' compilation; `tests/logs/test_builtin_rules.py` checks that
this agrees with what pySigma loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity
from shareguard.logs.names import MONITORING_DUTY

_LEVELS = {"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
_GENERIC = (
    "Investigate the event: confirm who made the call and why; if it was not expected, revoke the "
    "principal's credentials and undo the change."
)


def _files() -> list[Traversable]:
    folder = resources.files("shareguard.logs").joinpath("rules").joinpath("builtin")
    return sorted((f for f in folder.iterdir() if f.name.endswith((".yml", ".yaml"))), key=lambda f: f.name)


@cache
def builtin_metas() -> tuple[RuleMeta, ...]:
    out: list[RuleMeta] = []
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # trusted package data
    for f in _files():
        for doc in yaml.load_all(f.read_text(encoding="utf-8"), Loader=loader):
            meta = doc.get("shareguard") or {}
            if meta.get("alert") is False:
                continue
            duties = tuple(meta.get("duties") or ())
            out.append(
                RuleMeta(
                    id=meta["id"],
                    title=doc["title"],
                    severity=Severity(_LEVELS.get(str(doc.get("level")), "unknown")),
                    control_ids=(MONITORING_DUTY, *(d for d in duties if d != MONITORING_DUTY)),
                    description=str(doc.get("description") or "").strip(),
                    remediation=str(meta.get("remediation") or _GENERIC).strip(),
                    references=tuple(doc.get("references") or ()),
                    tags=("logs", *(str(t) for t in doc.get("tags") or ())),
                )
            )
    return tuple(out)


@cache
def sigmahq_metas(cache_dir: Path | None) -> tuple[RuleMeta, ...]:
    """SigmaHQ's rules of the snapshot in use, from its manifest (one JSON file: no YAML, no pySigma)."""
    from shareguard.logs.snapshot import active_dir, manifest

    out: list[RuleMeta] = []
    for r in manifest(active_dir(cache_dir)).get("rules") or ():
        out.append(
            RuleMeta(
                id=r["id"],
                title=r["title"],
                severity=Severity(_LEVELS.get(r.get("level", ""), "unknown")),
                control_ids=(MONITORING_DUTY,),
                description=r.get("description", ""),
                remediation=_GENERIC,
                references=tuple(r.get("references") or ()),
                tags=("logs", "sigmahq", *r.get("tags", ())),
            )
        )
    return tuple(out)


class LogRules:
    name = "logs"

    def rules(self) -> Iterable[RuleMeta]:
        from shareguard.core.settings import Settings

        return builtin_metas() + sigmahq_metas(Settings.from_env().cache_dir)
