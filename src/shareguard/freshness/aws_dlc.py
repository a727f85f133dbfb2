"""Import AWS Deep Learning Containers' per-release YAML metadata as published.

The files are `docs/src/data/<ecr repository>/<version>-<accelerator>-<platform>.yml` in
aws/deep-learning-containers (documented by `docs/src/data/template/image-template.yml`): framework, version,
accelerator, python, cuda, os, platform, `ga` and `eop` dates, tags. Input comes as that directory, a `.tar.gz`
of the repository (GitHub's archive) or a URL to one; every file is budgeted, and a malformed file, an
impossible date, an unknown field or a duplicate entry is an error naming the file and entry.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from shareguard.core.errors import CatalogError
from shareguard.core.settings import Budgets
from shareguard.freshness.dates import parse_date
from shareguard.freshness.model import Release, normalise_framework
from shareguard.posture.parsers.yaml_safe import load_one

MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 20_000
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024

FIELDS = frozenset(
    {
        # image-template.yml: common, metadata, support-policy and release-notes fields
        "framework",
        "version",
        "accelerator",
        "platform",
        "tags",
        "python",
        "cuda",
        "sdk",
        "os",
        "public_registry",
        "example_ecr_account",
        "example_region",
        "ecr_repository",
        "ga",
        "eop",
        "announcements",
        "packages",
        "optional",
        # further metadata columns the published tables use
        "engine",
        "transformers",
        "optimum",
    }
)
REQUIRED = ("framework", "version", "accelerator", "platform", "tags")
SKIP_DIRS = frozenset({"template"})
"""`template/` documents the format; it is no release."""


def _date(value: Any, key: str, where: str) -> date | None:
    return None if value is None else parse_date(value, where, key)


def _text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | list | dict):
        raise CatalogError(f"{key}: expected text, got {type(value).__name__}", path=where)
    return str(value)


def _container_type(repository: str) -> str:
    for kind in ("training", "inference"):
        if kind in repository.split("-"):
            return kind
    return ""


def parse_release(repository: str, text: str, where: str) -> Release:
    """One release file; `where` names it in errors."""
    doc = load_one(text, where, Budgets(max_config_bytes=MAX_FILE_BYTES, max_yaml_nodes=20_000, max_depth=20)).value
    if not isinstance(doc, dict):
        raise CatalogError("expected a mapping of release fields", path=where)
    unknown = sorted(str(k) for k in doc if k not in FIELDS)
    if unknown:
        raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=where)
    missing = [k for k in REQUIRED if doc.get(k) in (None, "", [])]
    if missing:
        raise CatalogError(f"missing field(s) {', '.join(missing)}", path=where)
    tags = doc["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise CatalogError("tags: expected a list of image tags", path=where)
    if len(set(tags)) != len(tags):
        raise CatalogError("tags: duplicate tag", path=where)
    ga = _date(doc.get("ga"), "ga", where)
    eop = _date(doc.get("eop"), "eop", where)
    if ga and eop and eop <= ga:
        raise CatalogError(f"impossible dates: end of patch {eop} is not after GA {ga}", path=where)
    if (ga is None) != (eop is None):
        raise CatalogError("ga and eop go together (support-policy fields)", path=where)
    return Release(
        provider="aws",
        product="dlc",
        repository=str(doc.get("ecr_repository") or repository),
        framework=normalise_framework(_text(doc["framework"], "framework", where)),
        version=_text(doc["version"], "version", where),
        accelerator=_text(doc["accelerator"], "accelerator", where).lower(),
        python=_text(doc.get("python"), "python", where),
        cuda=_text(doc.get("cuda"), "cuda", where),
        os=_text(doc.get("os"), "os", where),
        platform=_text(doc["platform"], "platform", where).lower(),
        variant=_text(doc.get("engine") or doc.get("sdk"), "engine", where),
        container_type=_container_type(repository),
        ga=ga,
        eop=eop,
        tags=tuple(tags),
        origin=where,
    )


def _check_duplicates(releases: list[Release]) -> None:
    """Two entries for one release: the same first (most specific) tag, or the same file, in one repository.

    Floating tags (`0.5-gpu-py312-ec2`) legitimately move from release to release; and the published fields
    alone do not tell releases apart (`vllm/0.20.1-gpu-sagemaker.yml` says `platform: ec2`, as the ec2 file
    does): the file and its first tag do."""
    seen: dict[tuple[str, ...], str] = {}
    for r in releases:
        folder = PurePosixPath(r.origin).parent.name
        for key in ((folder, "tag", r.tags[0]), (folder, "file", PurePosixPath(r.origin).name)):
            if key in seen:
                raise CatalogError(f"duplicate entry: {r.repository} {r.tags[0]} is also in {seen[key]}", path=r.origin)
            seen[key] = r.origin


def _from_members(members: Iterable[tuple[str, bytes]]) -> list[Release]:
    out: list[Release] = []
    for rel, data in members:
        parts = PurePosixPath(rel).parts
        repository = parts[-2]
        text = data.decode("utf-8", errors="strict") if data.isascii() else data.decode("utf-8", errors="replace")
        out.append(parse_release(repository, text, rel))
    _check_duplicates(out)
    if not out:
        raise CatalogError("no release files (<repository>/<version>-<accelerator>-<platform>.yml) found")
    return out


def _dir_members(root: Path) -> Iterator[tuple[str, bytes]]:
    count = 0
    for path in sorted(root.glob("*/*.yml")):
        if path.parent.name in SKIP_DIRS or path.is_symlink() or not path.is_file():
            continue
        count += 1
        if count > MAX_FILES:
            raise CatalogError(f"more than {MAX_FILES} release files", path=str(root))
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CatalogError(f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte budget", path=str(path))
        yield f"{root.name}/{path.parent.name}/{path.name}", path.read_bytes()


def _tar_members(data: bytes, origin: str) -> Iterator[tuple[str, bytes]]:
    """`*/docs/src/data/<repository>/<file>.yml` members of a repository archive (regular files only)."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CatalogError(f"not a readable tar archive: {exc}", path=origin) from None
    count = 0
    with tar:
        try:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) < 3 or parts[-3] != "data" or not member.name.endswith(".yml"):
                    continue
                if "docs" not in parts or parts[-2] in SKIP_DIRS or not member.isreg():
                    continue
                count += 1
                if count > MAX_FILES:
                    raise CatalogError(f"more than {MAX_FILES} release files", path=origin)
                if member.size > MAX_FILE_BYTES:
                    raise CatalogError(f"over the {MAX_FILE_BYTES}-byte budget", path=f"{origin}:{member.name}")
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                yield f"{parts[-3]}/{parts[-2]}/{parts[-1]}", fh.read(MAX_FILE_BYTES + 1)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise CatalogError(f"truncated or damaged archive: {exc}", path=origin) from None


def import_directory(root: Path) -> list[Release]:
    """The releases of an AWS `docs/src/data` directory (or a checkout containing one)."""
    for candidate in (root, root / "docs" / "src" / "data"):
        if candidate.is_dir() and any(candidate.glob("*/*.yml")):
            return _from_members(_dir_members(candidate))
    raise CatalogError("no AWS DLC release files (<repository>/<version>-<accelerator>-<platform>.yml)", path=str(root))


def import_archive(data: bytes, origin: str) -> list[Release]:
    if len(data) > MAX_ARCHIVE_BYTES:
        raise CatalogError(f"archive over the {MAX_ARCHIVE_BYTES}-byte budget", path=origin)
    return _from_members(_tar_members(data, origin))
