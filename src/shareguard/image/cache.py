"""The layer cache: what one layer yielded, stored as compressed JSON keyed by the layer and the analyzers.

Key: the layer's blob digest and diff id plus every inventory analyzer's `name:version`, so a new
analyzer version misses. Facts are stored by class name and fields (never pickle: a cache file must
not be able to run code); classes are resolved among the loaded `Fact` subclasses only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from shareguard.core.facts import Fact
from shareguard.sources.image.applier import LayerResult

CACHE_FORMAT = 1
SEPARATOR = "\0"
"""Between paths in the compact path list (NUL can never be part of a tar name we keep)."""


class CodecError(Exception):
    """A fact type whose fields are not plain data, or a cache entry that does not decode."""


def _fact_classes() -> dict[str, type[Fact]]:
    out: dict[str, type[Fact]] = {}
    stack: list[type[Fact]] = [Fact]
    while stack:
        cls = stack.pop()
        # `@dataclass(slots=True)` leaves the pre-slots class behind as a stale subclass of the same
        # name: prefer the class its module actually exports.
        exported = getattr(sys.modules.get(cls.__module__), cls.__qualname__, None)
        out[f"{cls.__module__}.{cls.__qualname__}"] = exported if isinstance(exported, type) else cls
        stack.extend(cls.__subclasses__())
    return out


def _enc(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple):
        return [_enc(v) for v in value]
    raise CodecError(f"cannot cache a {type(value).__name__} field")


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_dec(v) for v in value)
    return value


def encode_fact(fact: Fact) -> dict[str, Any]:
    cls = type(fact)
    return {
        "t": f"{cls.__module__}.{cls.__qualname__}",
        "f": {f.name: _enc(getattr(fact, f.name)) for f in dataclasses.fields(fact)},
    }


def decode_fact(doc: Any, classes: dict[str, type[Fact]]) -> Fact:
    if not isinstance(doc, dict) or not isinstance(doc.get("f"), dict):
        raise CodecError("malformed fact")
    cls = classes.get(str(doc.get("t")))
    if cls is None:
        raise CodecError(f"unknown fact type {doc.get('t')!r}")
    try:
        return cls(**{k: _dec(v) for k, v in doc["f"].items()})
    except TypeError as exc:
        raise CodecError(str(exc)) from None


def analyzers_key(analyzers: list[tuple[str, str]]) -> str:
    return ",".join(f"{n}:{v}" for n, v in sorted(analyzers))


class LayerCache:
    """One compressed JSON file per (layer, analyzer set) under `<cache_dir>/layers/`."""

    def __init__(self, cache_dir: Path, analyzers: str) -> None:
        self.dir = cache_dir / "layers"
        self.analyzers = analyzers

    def key(self, digest: str | None, diff_id: str) -> str:
        material = json.dumps([CACHE_FORMAT, digest, diff_id, self.analyzers])
        return hashlib.sha256(material.encode()).hexdigest()

    def _path(self, digest: str | None, diff_id: str) -> Path:
        return self.dir / f"{self.key(digest, diff_id)}.json.z"

    def get(self, digest: str | None, diff_id: str) -> LayerResult[Fact] | None:
        path = self._path(digest, diff_id)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            doc = json.loads(zlib.decompress(raw))
            if doc.get("format") != CACHE_FORMAT or doc.get("diff_id") != diff_id:
                return None
            classes = _fact_classes()
            paths = doc["paths"]
            return LayerResult(
                diff_id=diff_id,
                paths=paths.split(SEPARATOR) if paths else [],
                whiteouts=list(doc["whiteouts"]),
                opaque=list(doc["opaque"]),
                facts={p: [decode_fact(f, classes) for f in fs] for p, fs in doc["facts"]},
                issues=[(str(p), str(m), bool(e)) for p, m, e in doc["issues"]],
            )
        except (ValueError, KeyError, TypeError, zlib.error, CodecError):
            return None  # a damaged or foreign entry is a miss; the scan rewrites it

    def put(self, digest: str | None, diff_id: str, result: LayerResult[Fact]) -> None:
        """Store atomically; raises CodecError for facts that cannot be cached, OSError on I/O."""
        doc = {
            "format": CACHE_FORMAT,
            "diff_id": diff_id,
            "analyzers": self.analyzers,
            "paths": SEPARATOR.join(result.paths),
            "whiteouts": result.whiteouts,
            "opaque": result.opaque,
            "facts": [[p, [encode_fact(f) for f in fs]] for p, fs in result.facts.items()],
            "issues": [list(i) for i in result.issues],
        }
        data = zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self._path(digest, diff_id)
        fd, tmp = tempfile.mkstemp(prefix=".layer.", suffix=".tmp", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


IMAGE_FORMAT = 1


def code_key(objects: list[Any]) -> str:
    """Names, orders, versions and the source files' digests of the finalizers: any change to their code
    (which has no version to bump) misses the image cache."""
    digest = hashlib.sha256()
    for obj in objects:
        cls = type(obj)
        digest.update(f"{getattr(obj, 'name', '')}:{getattr(obj, 'order', '')}:{getattr(obj, 'version', '')}".encode())
        path = getattr(sys.modules.get(cls.__module__), "__file__", None)
        try:
            digest.update(Path(path).read_bytes() if path else cls.__qualname__.encode())
        except OSError:
            digest.update(cls.__qualname__.encode())
    return digest.hexdigest()


@dataclasses.dataclass
class ImageInventory:
    """What the layers and finalizers yielded for a whole image: the finalized facts, and the issues
    reading and merging them raised (replayed on a hit)."""

    facts: list[Fact]
    issues: list[tuple[str, str, str | None, str]]
    """(path, message, analyzer, kind) as in ScanIssue."""


class ImageCache:
    """One compressed JSON file per (image layers, analyzers, finalizers) under `<cache_dir>/images/`.

    A warm rescan of an unchanged image then skips merging ~200k cached paths and the finalizers;
    the per-layer cache still serves images that share only some layers.
    """

    def __init__(self, cache_dir: Path, analyzers: str, finalizers: str) -> None:
        self.dir = cache_dir / "images"
        self.material = [IMAGE_FORMAT, analyzers, finalizers]

    def _path(self, layers: list[tuple[str | None, str]]) -> Path:
        material = json.dumps([*self.material, layers])
        return self.dir / f"{hashlib.sha256(material.encode()).hexdigest()}.json.z"

    def get(self, layers: list[tuple[str | None, str]]) -> ImageInventory | None:
        try:
            raw = self._path(layers).read_bytes()
        except OSError:
            return None
        try:
            doc = json.loads(zlib.decompress(raw))
            if doc.get("format") != IMAGE_FORMAT or doc.get("layers") != [list(la) for la in layers]:
                return None
            classes = _fact_classes()
            return ImageInventory(
                facts=[decode_fact(f, classes) for f in doc["facts"]],
                issues=[(str(p), str(m), None if a is None else str(a), str(k)) for p, m, a, k in doc["issues"]],
            )
        except (ValueError, KeyError, TypeError, zlib.error, CodecError):
            return None  # a damaged or foreign entry is a miss; the scan rewrites it

    def put(self, layers: list[tuple[str | None, str]], inventory: ImageInventory) -> None:
        """Store atomically; raises CodecError for facts that cannot be cached, OSError on I/O."""
        doc = {
            "format": IMAGE_FORMAT,
            "layers": [list(la) for la in layers],
            "facts": [encode_fact(f) for f in inventory.facts],
            "issues": [list(i) for i in inventory.issues],
        }
        data = zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".image.", suffix=".tmp", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._path(layers))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
