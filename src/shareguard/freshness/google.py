"""Google's deep-learning image lines (Deep Learning Containers, Deep Learning VM and Workbench image families):
a table naming its source page and date (`data/google.yaml`), expanded into `Release` records with the published
support windows, and the image/family name schemes used to identify what runs."""

from __future__ import annotations

import re

from shareguard.core.errors import CatalogError
from shareguard.core.settings import Budgets
from shareguard.freshness.dates import months_after, parse_date
from shareguard.freshness.model import PRODUCTS, CatalogSource, Release, normalise_framework
from shareguard.posture.parsers.yaml_safe import load_one

KIND = "google-dl-images"
MAX_BYTES = 1024 * 1024
_TOP = frozenset({"kind", "source", "also", "retrieved", "windows", "names", "lines"})
_LINE = frozenset({"framework", "version", "ga", "accelerators", "python"})

CONTAINER_NAME = re.compile(
    r"^(?P<framework>[a-z][a-z0-9]*)-(?P<accelerator>cu\d+|cpu|gpu|tpu)\.(?P<major>\d+)-(?P<minor>\d+)(?:\.(?P<python>py3\d+))?$"
)
"""`<framework>-<cuXXX|cpu>.<major>-<minor>.py3XX`, the Google Deep Learning Containers scheme."""
FAMILY_NAME = re.compile(
    r"^(?P<framework>[a-z][a-z0-9]*)-(?P<major>\d+)-(?P<minor>\d+)-(?P<accelerator>cu\d+|cpu|gpu|tpu)(?P<rest>(?:-[a-z0-9]+)*)$"
)
"""`<framework>-<major>-<minor>-<cuXXX|cpu>[-…]`: Deep Learning VM families; `…-notebooks`: Workbench families."""


def parse_table(text: str, origin: str) -> tuple[CatalogSource, list[Release]]:
    doc = load_one(text, origin, Budgets(max_config_bytes=MAX_BYTES, max_yaml_nodes=50_000, max_depth=20)).value
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise CatalogError(f"expected a mapping with kind: {KIND}", path=origin)
    unknown = sorted(str(k) for k in doc if k not in _TOP)
    if unknown:
        raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=origin)
    windows, names, lines = doc.get("windows"), doc.get("names"), doc.get("lines")
    if not isinstance(windows, dict) or not isinstance(names, dict) or not isinstance(lines, list):
        raise CatalogError("windows, names (mappings) and lines (a list) are required", path=origin)
    products = [p for p in PRODUCTS if p in windows and p != "dataflow-sdk"]
    for p in products:
        w = windows[p]
        if not isinstance(w, dict) or not all(
            isinstance(w.get(k), int) for k in ("patch_months", "availability_months")
        ):
            raise CatalogError(f"windows.{p}: patch_months and availability_months (integers) required", path=origin)
        if w["availability_months"] < w["patch_months"] or w["patch_months"] <= 0:
            raise CatalogError(f"windows.{p}: impossible window (availability before end of patch)", path=origin)
        if not isinstance(names.get(p), str):
            raise CatalogError(f"names.{p}: a name template is required", path=origin)
    source = CatalogSource(
        name="google-dl-images",
        url=str(doc.get("source") or ""),
        retrieved=parse_date(doc.get("retrieved"), f"{origin}: retrieved"),
        revision=str(doc.get("retrieved")),
    )
    out: list[Release] = []
    seen: set[tuple[str, str]] = set()
    for i, line in enumerate(lines):
        where = f"{origin}: lines[{i}]"
        if not isinstance(line, dict):
            raise CatalogError("expected a mapping", path=where)
        unknown = sorted(str(k) for k in line if k not in _LINE)
        if unknown:
            raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=where)
        stem, version = str(line.get("framework") or ""), str(line.get("version") or "")
        m = re.fullmatch(r"(\d+)\.(\d+)", version)
        if not stem or not m:
            raise CatalogError("framework and a MAJOR.MINOR version are required", path=where)
        key = (stem, version)
        if key in seen:
            raise CatalogError(f"duplicate entry: {stem} {version}", path=where)
        seen.add(key)
        ga = parse_date(line.get("ga"), where)
        if ga > source.retrieved:
            raise CatalogError(f"impossible date: GA {ga} is after the table's date {source.retrieved}", path=where)
        accelerators = line.get("accelerators")
        if not isinstance(accelerators, list) or not all(isinstance(a, str) for a in accelerators):
            raise CatalogError("accelerators: expected a list", path=where)
        python = str(line.get("python") or "py310")
        for product in products:
            w = windows[product]
            for acc in accelerators:
                try:
                    name = names[product].format(
                        framework=stem, accelerator=acc, major=m.group(1), minor=m.group(2), python=python
                    )
                except (KeyError, IndexError, ValueError) as exc:
                    raise CatalogError(f"names.{product}: bad template ({exc})", path=origin) from None
                out.append(
                    Release(
                        provider="google",
                        product=product,
                        repository=name,
                        framework=normalise_framework(stem),
                        version=version,
                        accelerator=acc,
                        python=python,
                        cuda=acc if acc.startswith("cu") else "",
                        ga=ga,
                        eop=months_after(ga, w["patch_months"]),
                        eoa=months_after(ga, w["availability_months"]),
                        tags=(name,),
                        origin=where,
                    )
                )
    return source, out
