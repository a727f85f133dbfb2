"""Object stores as a source of entries: `s3://bucket/prefix`, `gs://bucket/prefix` (and any fsspec URL).

fsspec (s3fs, gcsfs) lists the objects under the URL and reads each one, at most `max_bytes + 1` bytes
(a larger object is scanned in part, and says so). An object that cannot be read becomes a per-object error;
a listing that fails is one clear error. Credentials and endpoints come from the usual environment
(`AWS_*`, `AWS_ENDPOINT_URL`, `GOOGLE_APPLICATION_CREDENTIALS`, `STORAGE_EMULATOR_HOST`), never from a
scanned object.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shareguard.core.entry import FileEntry
from shareguard.core.errors import InputError

SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "memory://")
MAX_OBJECTS = 1_000_000


def is_url(target: str) -> bool:
    return target.startswith(SCHEMES)


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec is a declared dependency
        raise InputError("object stores need fsspec (pip install fsspec s3fs gcsfs)") from exc
    protocol = url.split("://", 1)[0]
    kwargs: dict[str, Any] = {}
    if protocol == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
    elif protocol in ("gs", "gcs"):
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        if emulator:
            kwargs["endpoint_url"] = emulator
            kwargs["token"] = "anon"
    try:
        fs, path = fsspec.core.url_to_fs(url, **kwargs)
    except (ImportError, ValueError) as exc:
        raise InputError(f"cannot open {protocol}:// ({type(exc).__name__}: {exc})", path=url) from None
    return fs, path


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    """Path relative to the URL (what findings show)."""
    full: str
    size: int


def list_objects(url: str) -> tuple[Any, list[ObjectInfo]]:
    fs, root = _filesystem(url)
    root = root.rstrip("/")
    try:
        if fs.isfile(root):
            info = fs.info(root)
            return fs, [ObjectInfo(root.rsplit("/", 1)[-1], root, int(info.get("size") or 0))]
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        raise InputError("no such bucket or prefix", path=url) from None
    except (OSError, PermissionError) as exc:
        raise InputError(f"cannot list objects ({type(exc).__name__}: {_short(exc)})", path=url) from None
    out = []
    for full, info in sorted(found.items()):
        if info.get("type") == "directory":
            continue
        key = full[len(root) :].lstrip("/") if full.startswith(root) else full
        out.append(ObjectInfo(key, full, int(info.get("size") or 0)))
        if len(out) >= MAX_OBJECTS:
            break
    return fs, out


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200]


def entries(url: str, max_bytes: int) -> Iterator[FileEntry | tuple[str, str]]:
    """One `FileEntry` per object (its first `max_bytes + 1` bytes in memory), or `(key, error)` for an
    object that could not be read."""
    fs, objects = list_objects(url)
    for obj in objects:
        if obj.size == 0:
            continue
        try:
            with fs.open(obj.full, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except (OSError, PermissionError, ValueError) as exc:
            yield obj.key, f"cannot read object ({type(exc).__name__}: {_short(exc)})"
            continue
        yield FileEntry(rel_path=obj.key, size=obj.size, data=data)
