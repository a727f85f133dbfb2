"""The package inventory of a scan as report rows: what `--list-packages` adds to the JSON report and the
HTML report's inventory section shows (name, version, ecosystem, layer, origin, purl, ML build facts)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from shareguard.core.result import ScanResult
from shareguard.report.ml_stack import build_facts
from shareguard.report.sbom_inventory import collect


def package_rows(result: ScanResult) -> list[dict[str, Any]]:
    """One row per distinct package (ecosystem, name, version, path), in a stable order; the keys a
    package does not have are left out (`layer` outside images, `purl` where none can be formed)."""
    rows: list[dict[str, Any]] = []
    for p in collect(result).packages:
        pkg = p.package
        row: dict[str, Any] = {
            "name": pkg.name,
            "version": pkg.version,
            "ecosystem": pkg.ecosystem,
            "origin": pkg.origin,
            "path": pkg.path,
        }
        if pkg.layer:
            row["layer"] = pkg.layer
        if p.purl:
            row["purl"] = p.purl
        if pkg.licenses:
            row["licenses"] = list(pkg.licenses)
        ml = build_facts(pkg)
        if ml:
            row["ml"] = ml
        rows.append(row)
    return rows


def layer_ecosystem_counts(rows: list[dict[str, Any]], layers: tuple[str, ...] = ()) -> list[tuple[str, str, int]]:
    """(layer or "", ecosystem, packages): layers in the image's order (`layers`: its diff ids), any other
    layer after them in the order first seen, then packages of no layer."""
    counts: Counter[tuple[str, str]] = Counter((r.get("layer", ""), r["ecosystem"]) for r in rows)
    order = {layer: i for i, layer in enumerate(layers)}
    for r in rows:
        layer = r.get("layer", "")
        if layer:
            order.setdefault(layer, len(order))
    order.setdefault("", len(order))
    return [(layer, eco, n) for (layer, eco), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))]
