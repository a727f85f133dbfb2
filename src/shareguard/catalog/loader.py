"""Load the catalog from the package's YAML/JSON data (or another directory), with clear errors.

Every problem becomes a `CatalogError` naming the file and, where it can be found, the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shareguard.catalog.model import Catalog, Framework, Owner, Service
from shareguard.catalog.yaml_source import line_of, load_yaml, yaml_error_line, yaml_error_text
from shareguard.core.data_cache import cached_parse
from shareguard.core.errors import CatalogError

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A catalog file is hand-written; anything bigger is a mistake or an attack."""

_OWNER_MARK = {Owner.CUSTOMER: "-C-", Owner.PROVIDER: "-P-"}


@dataclass(frozen=True)
class _ServiceFile:
    service: Service
    origin: str
    text: str

    def error(self, message: str, loc: tuple[Any, ...]) -> CatalogError:
        return CatalogError(message, path=self.origin, line=line_of(self.text, loc))


def _read_text(f: Traversable, origin: str) -> str:
    try:
        data = f.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror or exc}", path=origin) from None
    if len(data) > MAX_FILE_BYTES:
        raise CatalogError(f"file larger than {MAX_FILE_BYTES} bytes", path=origin)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text (byte {exc.start})", path=origin) from None


def _validation_message(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    msg = f"{where}: {err['msg']}" if where else str(err["msg"])
    if isinstance(err.get("input"), int | float) and not isinstance(err.get("input"), bool):
        msg += ' (quote numeric ids, e.g. "4.10")'
    return msg


def _trusted_yaml(text: str) -> Any:
    return load_yaml(text, trusted=True)


def _parse_service(text: str, origin: str, *, trusted: bool) -> Service:
    try:
        # The bundled catalog's parse is read back from the cache directory after the first run (a user's
        # catalog is parsed strictly every time, and never copied into the cache).
        doc: Any = cached_parse(text, "yaml.catalog", _trusted_yaml) if trusted else load_yaml(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"invalid YAML: {yaml_error_text(exc)}", path=origin, line=yaml_error_line(exc)) from None
    except RecursionError:
        raise CatalogError("invalid YAML: nesting too deep", path=origin) from None
    if not isinstance(doc, dict):
        raise CatalogError("expected a mapping with `service`, `name`, `cloud` and `controls`", path=origin, line=1)
    try:
        svc = Service.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogError(_validation_message(first), path=origin, line=line_of(text, tuple(first["loc"]))) from None
    except RecursionError:
        raise CatalogError("nesting too deep", path=origin) from None
    controls = tuple(c.model_copy(update={"service": svc.service}) for c in svc.controls)
    return svc.model_copy(update={"controls": controls})


def _check_ids(sf: _ServiceFile, seen: dict[str, str]) -> None:
    """Ids are stable references: `<SERVICE>-C-nn` for customer duties, `<SERVICE>-P-nn` for provider ones."""
    prefix = sf.service.service.upper().replace("-", "") + "-"
    for i, c in enumerate(sf.service.controls):
        if not c.id.startswith(prefix):
            raise sf.error(f"control id {c.id} must start with {prefix!r} (the service name)", ("controls", i, "id"))
        if _OWNER_MARK[c.owner] not in c.id:
            raise sf.error(
                f"control {c.id} is owned by the {c.owner.value} but its id lacks {_OWNER_MARK[c.owner]!r}",
                ("controls", i, "owner"),
            )
        if c.id in seen:
            raise sf.error(f"duplicate control id {c.id} (also in {seen[c.id]})", ("controls", i, "id"))
        seen[c.id] = sf.origin


def _check_mappings(sf: _ServiceFile, frameworks: dict[str, Framework]) -> None:
    ids = {key: fw.ids() for key, fw in frameworks.items()}
    for i, c in enumerate(sf.service.controls):
        for fw_key, req_ids in c.frameworks.items():
            known = ids.get(fw_key)
            if known is None:
                raise sf.error(
                    f"control {c.id} maps to unknown framework {fw_key!r} (known: {', '.join(sorted(ids))})",
                    ("controls", i, "frameworks", fw_key),
                )
            for j, rid in enumerate(req_ids):
                if rid not in known:
                    raise sf.error(
                        f"control {c.id} maps to unknown {fw_key} requirement {rid!r}",
                        ("controls", i, "frameworks", fw_key, j),
                    )


def _check_rests_on(files: dict[str, _ServiceFile]) -> None:
    for sf in files.values():
        for i, name in enumerate(sf.service.rests_on):
            if name not in files:
                raise sf.error(f"rests_on names unknown service {name!r}", ("rests_on", i))


@lru_cache(maxsize=16)
def _load_framework(text: str, origin: str, key: str) -> Framework:
    """Parse one framework file; cached by content because the same lists back every catalog a process loads."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc.msg}", path=origin, line=exc.lineno) from None
    except RecursionError:
        raise CatalogError("invalid JSON: nesting too deep", path=origin) from None
    if not isinstance(doc, dict):
        raise CatalogError("expected an object with `framework` and `requirements`", path=origin, line=1)
    try:
        fw = Framework.model_validate({**doc, "key": key})
    except ValidationError as exc:
        raise CatalogError(_validation_message(exc.errors()[0]), path=origin) from None
    if len(fw.ids()) != len(fw.requirements):
        dup = sorted({r.id for r in fw.requirements if sum(1 for s in fw.requirements if s.id == r.id) > 1})
        raise CatalogError(f"duplicate requirement id {dup[0]!r}", path=origin)
    return fw


def _iter_files(base: Traversable, suffixes: tuple[str, ...]) -> Iterator[Traversable]:
    if not base.is_dir():
        raise CatalogError("catalog directory not found", path=str(base))
    yield from sorted((f for f in base.iterdir() if f.name.endswith(suffixes) and f.is_file()), key=lambda f: f.name)


def load_catalog_from(services_dir: Traversable, frameworks_dir: Traversable, *, trusted: bool = False) -> Catalog:
    """Load and cross-check a catalog. `trusted` (the bundled data only) selects the faster libyaml parser."""
    frameworks: dict[str, Framework] = {}
    for f in _iter_files(frameworks_dir, (".json",)):
        origin = str(f)
        key = f.name.rsplit(".", 1)[0]
        frameworks[key] = _load_framework(_read_text(f, origin), origin, key)
    files: dict[str, _ServiceFile] = {}
    seen: dict[str, str] = {}
    for f in _iter_files(services_dir, (".yaml", ".yml")):
        origin = str(f)
        text = _read_text(f, origin)
        sf = _ServiceFile(_parse_service(text, origin, trusted=trusted), origin, text)
        if sf.service.service in files:
            raise sf.error(
                f"service {sf.service.service!r} also defined in {files[sf.service.service].origin}", ("service",)
            )
        _check_ids(sf, seen)
        _check_mappings(sf, frameworks)
        files[sf.service.service] = sf
    _check_rests_on(files)
    return Catalog(services={name: sf.service for name, sf in files.items()}, frameworks=frameworks)


@lru_cache(maxsize=1)
def _bundled() -> Catalog:
    data = resources.files("shareguard.catalog").joinpath("data")
    return load_catalog_from(data.joinpath("services"), data.joinpath("frameworks"), trusted=True)


def load_catalog(path: Path | None = None) -> Catalog:
    """The bundled catalog, or one from `path` (a directory with `services/` and `frameworks/`)."""
    if path is None:
        return _bundled()
    if not path.is_dir():
        raise CatalogError("catalog directory not found", path=str(path))
    return load_catalog_from(path / "services", path / "frameworks")
