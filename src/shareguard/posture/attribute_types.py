"""The resource kinds the attribute rule tables (`posture/attributes/*.yaml`) name: canonical type → the raw
types that spell it in Terraform (HCL and plan JSON), CloudFormation and describe-API output.

Kept apart from the rules themselves so `canonical` can map a raw type the tables introduce (e.g.
`aws_sagemaker_domain`, `AWS::SageMaker::Domain` → `aws.sagemaker.domain`) without importing the evaluator.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from shareguard.core.data_cache import load_bundled_yaml
from shareguard.core.errors import CatalogError

FORMATS = ("terraform", "cloudformation", "describe", "spec")
"""Spellings a table's `resources:` entry may list (plan JSON uses the Terraform names; `spec`: job specs and
SDK launch code read by their own parsers, e.g. `vertex:custom_job`)."""


@cache
def attribute_tables() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file name, parsed document) of every bundled attribute rule table, sorted by name."""
    base = resources.files("shareguard.posture").joinpath("attributes")
    out: list[tuple[str, dict[str, Any]]] = []
    for f in sorted(base.iterdir(), key=lambda t: t.name):
        if not f.name.endswith(".yaml"):
            continue
        origin = f"posture/attributes/{f.name}"
        try:
            doc = load_bundled_yaml(f.read_text(encoding="utf-8"))  # read back as JSON after the first run
        except yaml.YAMLError as exc:
            raise CatalogError(f"invalid YAML: {exc}", path=origin) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
            raise CatalogError("expected a mapping with `resources` and `rules`", path=origin)
        out.append((f.name, doc))
    return tuple(out)


@cache
def resource_kinds() -> dict[str, dict[str, tuple[str, ...]]]:
    """Canonical type → format → raw types, merged over every table."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, doc in attribute_tables():
        for ctype, spellings in (doc.get("resources") or {}).items():
            if not isinstance(spellings, dict) or set(spellings) - set(FORMATS):
                raise CatalogError(
                    f"resource {ctype}: expected keys among {FORMATS}", path=f"posture/attributes/{name}"
                )
            kind = out.setdefault(str(ctype), {})
            for fmt, raws in spellings.items():
                kind[fmt] = tuple(dict.fromkeys((*kind.get(fmt, ()), *(str(r) for r in raws))))
    return out


@cache
def raw_to_canonical() -> dict[str, str]:
    """Raw type → canonical type, for every raw type the tables name."""
    return {raw: ctype for ctype, by_fmt in resource_kinds().items() for raws in by_fmt.values() for raw in raws}
