"""Posture data tables with an update command: the Amazon EKS release calendar (`eks_versions`, EKS-004) and the
Dataflow data (`dataflow`: deprecated experiments, Google-provided Flex Template base images, the long-running
job limit; DATAFLOW-004/007/008, SAGEMAKER-053).

Each is data with a bundled snapshot (`posture/data/<name>.yaml`, which names its source and retrieval date) and
an update: `shareguard catalog update --from FILE|DIR|URL` takes a table of the same shape (its `kind:` says
which), checks it with the bounded YAML loader against the schema below, and writes it to
`<cache>/posture-data/<name>.yaml` (atomically; never into the installed package). The checks prefer that copy
to the bundled snapshot; a copy that no longer validates is an error of the checks that read it (their duties
incomplete), never a silent fall-back. A table that does not validate is refused whole: the current copy stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from shareguard.core.errors import CatalogError, ShareguardError
from shareguard.core.output import write_atomically
from shareguard.core.settings import Budgets, Settings
from shareguard.posture.parsers.yaml_safe import load_one

MAX_BYTES = 1024 * 1024
"""A table is a few KB; anything over a MiB is not one."""
_BUDGETS = Budgets(max_config_bytes=MAX_BYTES, max_yaml_nodes=20_000, max_depth=10)
_KIND = re.compile(r"(?m)^kind:\s*[\"']?([a-z-]+)[\"']?\s*$")
_Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EksRow(_Model):
    eks_release: date | None = None
    end_of_standard_support: date
    end_of_extended_support: date
    source: _Text | None = None
    """Where a row comes from when not from the table's own source."""

    @model_validator(mode="after")
    def _ordered(self) -> EksRow:
        if self.end_of_extended_support < self.end_of_standard_support:
            raise ValueError("end_of_extended_support is before end_of_standard_support")
        return self


class EksCalendar(_Model):
    """`posture/data/eks_versions.yaml`: the "Amazon EKS Kubernetes release calendar" table."""

    kind: Literal["eks-release-calendar"]
    source: _Text
    source_file: _Text | None = None
    retrieved: date
    versions: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^\d{1,3}\.\d{1,4}$")], EksRow],
        Field(min_length=1, max_length=500),
    ]


class DeprecatedExperiment(_Model):
    reason: _Text
    reference: _Text


class DataflowData(_Model):
    """`posture/data/dataflow.yaml`: what the Dataflow checks compare jobs with."""

    kind: Literal["dataflow-data"]
    source: _Text
    retrieved: date
    deprecated_experiments: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,200}$")], DeprecatedExperiment],
        Field(max_length=1000),
    ]
    flex_template_minimal_images: Annotated[list[_Text], Field(min_length=1, max_length=1000)]
    long_running_days: Annotated[int, Field(gt=0, le=3650)]


SCHEMAS: dict[str, type[EksCalendar] | type[DataflowData]] = {
    "eks_versions": EksCalendar,
    "dataflow": DataflowData,
}
"""Table name (its bundled file's stem) → schema."""
_BY_KIND = {"eks-release-calendar": "eks_versions", "dataflow-data": "dataflow"}
TITLES = {"eks_versions": "EKS release calendar", "dataflow": "Dataflow data"}
BUNDLED = "bundled snapshot"


@dataclass(frozen=True)
class Table:
    """A table as read: hashed by name, origin, date and text (one parse per version of it)."""

    name: str
    """`eks_versions`, `dataflow`."""
    doc: dict[str, Any] = field(hash=False, compare=False)
    """The table as written (the bundled snapshot's shape)."""
    model: EksCalendar | DataflowData = field(hash=False, compare=False)
    """The same, checked and typed."""
    retrieved: date
    origin: str
    """`BUNDLED` or the path of the updated copy."""
    text: str
    entries: int
    """Versions of the calendar, deprecated experiments of the Dataflow data."""


def table_name(text: str) -> str | None:
    """The table a source's `kind:` line names, or None when it is no posture table."""
    m = _KIND.search(text[:MAX_BYTES])
    return _BY_KIND.get(m.group(1)) if m else None


def parse(text: str, origin: str) -> Table:
    """A table checked against its schema; anything else raises one `CatalogError` line naming the problem."""
    name = table_name(text)
    if name is None:
        raise CatalogError(f"not a posture table (kind: {' or '.join(sorted(_BY_KIND))})", path=origin)
    try:
        doc = load_one(text, origin, _BUDGETS).value
    except ShareguardError as exc:
        raise CatalogError(exc.message, path=origin, line=exc.line) from None
    if not isinstance(doc, dict):
        raise CatalogError("expected a mapping", path=origin)
    try:
        model = SCHEMAS[name].model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "table"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CatalogError(f"{where}: {err['msg']}{more}", path=origin) from None
    entries = len(model.versions) if isinstance(model, EksCalendar) else len(model.deprecated_experiments)
    return Table(name, doc, model, model.retrieved, origin, text, entries)


def local_path(name: str, settings: Settings) -> Path:
    return settings.cache_dir / "posture-data" / f"{name}.yaml"


def save(table: Table, settings: Settings) -> Path:
    path = local_path(table.name, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, table.text)
    return path


@cache
def bundled(name: str) -> Table:
    """The snapshot shipped in the package (read once per process: bundled data, not scan state)."""
    ref = resources.files("shareguard.posture").joinpath("data", f"{name}.yaml")
    table = parse(ref.read_text(encoding="utf-8"), f"shareguard/posture/data/{name}.yaml")
    return Table(table.name, table.doc, table.model, table.retrieved, BUNDLED, table.text, table.entries)


def load(name: str, settings: Settings) -> Table:
    """The updated copy when `catalog update` wrote one, else the bundled snapshot."""
    path = local_path(name, settings)
    try:
        st = path.stat()
    except OSError:
        return bundled(name)
    if st.st_size > MAX_BYTES:
        raise CatalogError(f"over the {MAX_BYTES}-byte budget", path=str(path))
    try:
        return _read_local(name, str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    except CatalogError as exc:
        raise CatalogError(f"the updated {TITLES[name]} is not valid: {exc.one_line()}", path=str(path)) from None


@lru_cache(maxsize=8)
def _read_local(name: str, path: str, inode: int, mtime_ns: int, size: int) -> Table:
    """One parse per version of an updated copy (keyed by inode, mtime and size; an update replaces the file)."""
    table = parse(Path(path).read_text(encoding="utf-8", errors="replace"), path)
    if table.name != name:
        raise CatalogError(f"holds the {TITLES[table.name]}, not the {TITLES[name]}", path=path)
    return table
