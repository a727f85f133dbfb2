"""Load the catalog from the package's YAML/JSON data (or another directory), with clear errors."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shareguard.catalog.model import Catalog, Framework, Service
from shareguard.core.errors import CatalogError


def _yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _load_service(text: str, origin: str) -> Service:
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", path=origin, line=_yaml_error_line(exc)
        ) from None
    if not isinstance(doc, dict):
        raise CatalogError("expected a mapping with `service`, `name`, `cloud` and `controls`", path=origin)
    try:
        svc = Service.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = _line_of(text, first["loc"], doc)
        raise CatalogError(f"{where}: {first['msg']}", path=origin, line=line) from None
    controls = tuple(c.model_copy(update={"service": svc.service}) for c in svc.controls)
    return svc.model_copy(update={"controls": controls})


def _line_of(text: str, loc: tuple[Any, ...], doc: Any) -> int | None:
    """Best-effort line of a validation error: the line of the offending control's id."""
    if len(loc) >= 2 and loc[0] == "controls" and isinstance(loc[1], int):
        try:
            cid = doc["controls"][loc[1]].get("id")
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
        if cid:
            for n, line in enumerate(text.splitlines(), 1):
                if str(cid) in line:
                    return n
    return None


def _load_framework(text: str, origin: str, key: str) -> Framework:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc.msg}", path=origin, line=exc.lineno) from None
    try:
        return Framework.model_validate({**doc, "key": key})
    except ValidationError as exc:
        raise CatalogError(str(exc.errors()[0]["msg"]), path=origin) from None


def _iter_files(base: Traversable, suffixes: tuple[str, ...]) -> list[Traversable]:
    return sorted((f for f in base.iterdir() if f.name.endswith(suffixes)), key=lambda f: f.name)


def load_catalog_from(services_dir: Traversable, frameworks_dir: Traversable) -> Catalog:
    services: dict[str, Service] = {}
    seen: dict[str, str] = {}
    for f in _iter_files(services_dir, (".yaml", ".yml")):
        origin = str(f)
        svc = _load_service(f.read_text(encoding="utf-8"), origin)
        if svc.service in services:
            raise CatalogError(f"service {svc.service!r} defined twice", path=origin)
        for c in svc.controls:
            if c.id in seen:
                raise CatalogError(f"control id {c.id} also defined in {seen[c.id]}", path=origin)
            seen[c.id] = origin
        services[svc.service] = svc
    frameworks: dict[str, Framework] = {}
    for f in _iter_files(frameworks_dir, (".json",)):
        key = f.name.rsplit(".", 1)[0]
        frameworks[key] = _load_framework(f.read_text(encoding="utf-8"), str(f), key)
    catalog = Catalog(services=services, frameworks=frameworks)
    _check_mappings(catalog)
    return catalog


def _check_mappings(catalog: Catalog) -> None:
    ids = {k: fw.ids() for k, fw in catalog.frameworks.items()}
    for svc in catalog.services.values():
        for c in svc.controls:
            for fw_key, req_ids in c.frameworks.items():
                known = ids.get(fw_key)
                if known is None:
                    raise CatalogError(f"control {c.id} maps to unknown framework {fw_key!r}", path=svc.service)
                for rid in req_ids:
                    if rid not in known:
                        raise CatalogError(
                            f"control {c.id} maps to unknown {fw_key} requirement {rid!r}", path=svc.service
                        )


@lru_cache(maxsize=1)
def _bundled() -> Catalog:
    data = resources.files("shareguard.catalog").joinpath("data")
    return load_catalog_from(data.joinpath("services"), data.joinpath("frameworks"))


def load_catalog(path: Path | None = None) -> Catalog:
    """The bundled catalog, or one from `path` (a directory with `services/` and `frameworks/`)."""
    if path is None:
        return _bundled()
    if not path.is_dir():
        raise CatalogError("catalog directory not found", path=str(path))
    return load_catalog_from(path / "services", path / "frameworks")
