"""Classify a pickle global (`module`, `qualname`) as safe, dangerous or unknown — allowlist first.

The lists are data (`pickle_policy.yaml`); nothing here imports the named module.
"""

from __future__ import annotations

import _compat_pickle
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import yaml


class Verdict(StrEnum):
    SAFE = "safe"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"


_CLASS_NAME = re.compile(r"^_?[A-Z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Policy:
    safe: frozenset[str]
    class_modules: tuple[str, ...]
    dangerous_prefixes: tuple[str, ...]
    dangerous: frozenset[str]
    reasons: dict[str, str] = field(default_factory=dict)
    """Why a reviewed name (or `module.*` for reviewed class modules) is safe: data, shown by `reason`."""
    class_modules_exact: tuple[str, ...] = ()
    """Modules (not their submodules) whose CamelCase classes are reviewed safe."""

    def reason(self, module: str, name: str) -> str | None:
        """The reviewed reason a name is safe, if it is one of the reviewed entries."""
        full = f"{module}.{name}"
        return self.reasons.get(full) or (self.reasons.get(f"{module}.*") if _CLASS_NAME.match(name) else None)

    def classify(self, module: str, name: str) -> Verdict:
        """The worse verdict of the name as written and as Python 3's pickle would import it."""
        spellings = _spellings(module, name)
        verdict = self._classify_one(*spellings[-1])
        if len(spellings) > 1 and self._classify_one(module, name) is Verdict.DANGEROUS:
            verdict = Verdict.DANGEROUS  # the raw spelling can only make it worse
        return verdict

    def _classify_one(self, module: str, name: str) -> Verdict:
        full = f"{module}.{name}"
        if full in self.safe:
            return Verdict.SAFE
        if full in self.dangerous or _under(full, self.dangerous_prefixes) or _under(module, self.dangerous_prefixes):
            return Verdict.DANGEROUS
        if _CLASS_NAME.match(name) and (_under(module, self.class_modules) or module in self.class_modules_exact):
            return Verdict.SAFE
        return Verdict.UNKNOWN


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _spellings(module: str, name: str) -> list[tuple[str, str]]:
    out = [(module, name)]
    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        out.append(mapped)
    elif module in _compat_pickle.IMPORT_MAPPING:
        out.append((_compat_pickle.IMPORT_MAPPING[module], name))
    return out


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("shareguard.models.formats").joinpath("pickle_policy.yaml").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # bundled data; libyaml when there
    safe = doc.get("safe", {})
    bad = doc.get("dangerous", {})
    reasons = {str(e["name"]): str(e["reason"]) for e in safe.get("reviewed", [])}
    exact = tuple(str(e["module"]) for e in safe.get("reviewed_class_modules", []))
    reasons.update({f"{e['module']}.*": str(e["reason"]) for e in safe.get("reviewed_class_modules", [])})
    return Policy(
        safe=frozenset([*safe.get("callables", []), *(k for k in reasons if not k.endswith(".*"))]),
        class_modules=tuple(safe.get("class_modules", [])),
        dangerous_prefixes=tuple(bad.get("modules", [])),
        dangerous=frozenset(bad.get("callables", [])),
        reasons=reasons,
        class_modules_exact=exact,
    )
