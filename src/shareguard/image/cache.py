"""The layer cache: what one layer yielded, stored as compressed JSON keyed by the layer and the analyzers.

Key: the layer's blob digest and diff id plus every analyzer's `name:version` (the inventory's and the
other file analyzers' alike), so a new analyzer version misses, a fingerprint of the code and rule data
of their packages and the scan options (`file_analyzers_key`), so an edited rule or check never replays
a stale finding. A layer keeps one record per path (`core.dispatch.FileRecord`): facts by class name and
fields (never pickle: a cache file must not be able to run code; classes are resolved among the loaded
`Fact` subclasses only), findings as their JSON model dump (validated again on load), coverage calls by
method name (only `Coverage`'s recording methods are replayed).

A layer entry (`encode_layer`) is one zlib stream: a JSON head on one line (format, diff id, whiteouts,
opaque directories, the records of the paths that yielded something, issues, the path count), then the
layer's paths NUL-separated as raw UTF-8: the ~100k paths of a large layer cost no JSON escaping to write
or read. An entry that does not decode is a miss with a warning (the layer is read and the entry rewritten).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shareguard.core.dispatch import COVERAGE_CALLS, FileRecord
from shareguard.core.facts import Fact, TextField
from shareguard.core.finding import Finding
from shareguard.core.options import OptionSet
from shareguard.sources.image.applier import LayerResult

CACHE_FORMAT = 4
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


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Exact types that encode as themselves (subclasses, e.g. a `StrEnum` member, take the `isinstance` route)."""


def _enc_deep(value: Any) -> Any:
    """Plain data of any nesting (facts of file analyzers carry attribute dicts), tagged so that tuples,
    lists and dicts come back as they were."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    # Strings and other scalars are most of what a tuple or list holds (controls, paths, licences): no
    # call for them.
    if cls is tuple:
        return {"t": [v if type(v) in _SCALARS else _enc_deep(v) for v in value]}
    if cls is list:
        return {"l": [v if type(v) in _SCALARS else _enc_deep(v) for v in value]}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple):
        return {"t": [_enc_deep(v) for v in value]}
    if isinstance(value, list):
        return {"l": [_enc_deep(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"d": [[k, _enc_deep(v)] for k, v in value.items()]}
    raise CodecError(f"cannot cache a {type(value).__name__} value")


def _dec_deep(value: Any) -> Any:
    cls = type(value)
    if cls is dict:
        if "t" in value:
            return tuple(v if type(v) in _SCALARS else _dec_deep(v) for v in value["t"])
        if "l" in value:
            return [v if type(v) in _SCALARS else _dec_deep(v) for v in value["l"]]
        return {str(k): v if type(v) in _SCALARS else _dec_deep(v) for k, v in value["d"]}
    if cls is list:
        raise CodecError("untagged list")
    return value


_LAYOUTS: dict[type[Fact], tuple[str, tuple[str, ...]]] = {}
"""Per fact class: its qualified name and field names (a memo of `dataclasses.fields`; classes never change)."""


def _layout(cls: type[Fact]) -> tuple[str, tuple[str, ...]]:
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = (
            f"{cls.__module__}.{cls.__qualname__}",
            tuple(f.name for f in dataclasses.fields(cls)),
        )
    return layout


NEVER_CACHED: tuple[type[Fact], ...] = (TextField,)
"""Raw free text (a secret before any detector masked it) is never written to disk: a rescan served
from the cache has the findings made from it (masked) but not these facts."""


def encode_facts(facts: list[Fact]) -> list[dict[str, Any]]:
    """Facts of any analyzer (plain data of any nesting), `NEVER_CACHED` ones left out."""
    out: list[dict[str, Any]] = []
    for f in facts:
        if isinstance(f, NEVER_CACHED):
            continue
        qualified, names = _layout(type(f))
        values = [getattr(f, name) for name in names]
        # what `_enc_deep` makes of the dict of the fields, without building that dict
        fields = [[n, v if type(v) in _SCALARS else _enc_deep(v)] for n, v in zip(names, values, strict=True)]
        out.append({"t": qualified, "f": {"d": fields}})
    return out


def decode_facts(docs: Any, classes: dict[str, type[Fact]]) -> list[Fact]:
    facts: list[Fact] = []
    for f in docs:
        cls = classes.get(str(f.get("t")))
        if cls is None:
            raise CodecError(f"unknown fact type {f.get('t')!r}")
        fields = _dec_deep(f["f"])
        if not isinstance(fields, dict):
            raise CodecError("malformed fact")
        try:
            facts.append(cls(**fields))
        except TypeError as exc:
            raise CodecError(str(exc)) from None
    return facts


def encode_record(record: FileRecord) -> dict[str, Any]:
    return {
        "findings": [f.model_dump(mode="json") for f in record.findings],
        "facts": encode_facts(record.facts),
        "coverage": [[m, _enc_deep(args)] for m, args in record.coverage],
        "issues": [list(i) for i in record.issues],
    }


def decode_record(doc: Any, classes: dict[str, type[Fact]]) -> FileRecord:
    if not isinstance(doc, dict):
        raise CodecError("malformed file record")
    facts = decode_facts(doc["facts"], classes)
    coverage: list[tuple[str, tuple[object, ...]]] = []
    for method, args in doc["coverage"]:
        decoded = _dec_deep(args)
        if method not in COVERAGE_CALLS or not isinstance(decoded, tuple):
            raise CodecError(f"unknown coverage call {method!r}")
        coverage.append((str(method), decoded))
    try:
        findings = [Finding.model_validate(f) for f in doc["findings"]]
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CodecError(f"malformed finding: {exc}") from None
    return FileRecord(
        findings=findings,
        facts=facts,
        coverage=coverage,
        issues=[(str(p), str(m), None if a is None else str(a), str(k)) for p, m, a, k in doc["issues"]],
    )


def analyzers_key(analyzers: list[tuple[str, str]]) -> str:
    return ",".join(f"{n}:{v}" for n, v in sorted(analyzers))


def _tree_fingerprint(directory: Path, digest: Any) -> None:
    """Every file below `directory` (sources, rule YAML, data) by path, size and mtime: a stat per
    file, no read. An edit anywhere in a capability's package changes it."""
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            digest.update(f"{os.path.relpath(dirpath, directory)}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())


def file_analyzers_key(analyzers: list[Any], options: OptionSet) -> str:
    """What file analyzers' cached records depend on: their `name:version`, the code and data of the
    packages that define them (a rule file edited without a version bump must not replay old
    findings), and the scan options they may read."""
    digest = hashlib.sha256()
    digest.update(analyzers_key([(a.name, a.version) for a in analyzers]).encode())
    packages: set[str] = set()
    for a in analyzers:
        module = type(a).__module__
        parts = module.split(".")
        packages.add(".".join(parts[:2]) if len(parts) > 2 else module)
        # Analyzers built from parts defined elsewhere (a posture format's claim and parse functions)
        for part in vars(a).values() if hasattr(a, "__dict__") else ():
            if not callable(part):  # e.g. a shared registry: the code it holds is fingerprinted by its own package
                continue
            owner = getattr(part, "__module__", None)
            if isinstance(owner, str) and owner.startswith("shareguard."):
                packages.add(".".join(owner.split(".")[:2]))
    for package in sorted(packages):
        mod = sys.modules.get(package)
        paths = getattr(mod, "__path__", None) if mod is not None else None
        digest.update(package.encode())
        for base in list(paths or []):
            _tree_fingerprint(Path(base), digest)
        if not paths:
            origin = getattr(mod, "__file__", None) if mod is not None else None
            if origin:
                try:
                    st = os.stat(origin)
                    digest.update(f"{origin}:{st.st_size}:{st.st_mtime_ns}".encode())
                except OSError:
                    pass
    # Options are frozen dataclasses: their repr names every field and value.
    digest.update(repr(sorted(repr(v) for v in options.values)).encode())
    return digest.hexdigest()


def encode_layer(result: LayerResult[FileRecord], analyzers: str) -> bytes:
    """One layer's entry, uncompressed: a JSON head (everything but the path list) on one line, then the
    paths, NUL-separated, as UTF-8 (lone surrogates kept). Compact JSON never holds a raw newline, and a
    layer's ~100k paths go in as one string, with no JSON escaping on the way in or out."""
    head = {
        "format": CACHE_FORMAT,
        "diff_id": result.diff_id,
        "analyzers": analyzers,
        "count": len(result.paths),
        "whiteouts": result.whiteouts,
        "opaque": result.opaque,
        "facts": [[p, [encode_record(r) for r in rs]] for p, rs in result.facts.items()],
        "issues": [list(i) for i in result.issues],
    }
    text = json.dumps(head, separators=(",", ":"), check_circular=False)
    return b"%s\n%s" % (text.encode(), SEPARATOR.join(result.paths).encode("utf-8", "surrogatepass"))


def decode_layer(raw: bytes, diff_id: str, classes: dict[str, type[Fact]]) -> LayerResult[FileRecord]:
    """`encode_layer` undone; CodecError (or a ValueError, KeyError, TypeError) for anything else."""
    text, newline, tail = raw.partition(b"\n")
    if not newline:
        raise CodecError("no path list")
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT or doc.get("diff_id") != diff_id:
        raise CodecError("another format or layer")
    paths = tail.decode("utf-8", "surrogatepass").split(SEPARATOR) if tail else []
    if len(paths) != doc["count"]:
        raise CodecError("path list does not match its count")
    return LayerResult(
        diff_id=diff_id,
        paths=paths,
        whiteouts=[str(p) for p in doc["whiteouts"]],
        opaque=[str(p) for p in doc["opaque"]],
        facts={str(p): [decode_record(r, classes) for r in rs] for p, rs in doc["facts"]},
        issues=[(str(p), str(m), bool(e)) for p, m, e in doc["issues"]],
    )


_DAMAGED = (ValueError, KeyError, TypeError, IndexError, AttributeError, zlib.error, CodecError, RecursionError)
"""What decoding a damaged or foreign entry may raise (a UnicodeDecodeError is a ValueError)."""


def _store(path: Path, data: bytes, prefix: str) -> None:
    """Write a cache entry atomically (a temporary file in the same directory, then a rename): a reader never
    sees half an entry, and an interrupted write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LayerCache:
    """One compressed entry (`encode_layer`) per (layer, analyzer set) under `<cache_dir>/layers/`."""

    def __init__(self, cache_dir: Path, analyzers: str) -> None:
        self.dir = cache_dir / "layers"
        self.analyzers = analyzers

    def key(self, digest: str | None, diff_id: str) -> str:
        material = json.dumps([CACHE_FORMAT, digest, diff_id, self.analyzers])
        return hashlib.sha256(material.encode()).hexdigest()

    def _path(self, digest: str | None, diff_id: str) -> Path:
        return self.dir / f"{self.key(digest, diff_id)}.json.z"

    def has(self, digest: str | None, diff_id: str) -> bool:
        """Whether an entry is stored (`get` may still find it damaged: a miss then)."""
        return self._path(digest, diff_id).is_file()

    def get(
        self, digest: str | None, diff_id: str, damaged: Callable[[str], None] | None = None
    ) -> LayerResult[FileRecord] | None:
        """The stored result, or None: not stored, or damaged (then `damaged` is told why; the scan reads
        the layer and rewrites the entry)."""
        path = self._path(digest, diff_id)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            return decode_layer(zlib.decompress(raw), diff_id, _fact_classes())
        except _DAMAGED as exc:
            if damaged is not None:
                damaged(f"cached layer result {path.name} not used ({type(exc).__name__}: {str(exc)[:200]})")
            return None

    def put(self, digest: str | None, diff_id: str, result: LayerResult[FileRecord]) -> None:
        """Store atomically; raises CodecError for facts that cannot be cached, OSError on I/O."""
        self.write(digest, diff_id, self.encode(result))

    def encode(self, result: LayerResult[FileRecord]) -> bytes:
        """The entry, uncompressed (Python work: done where the GIL is held anyway, see `write`);
        CodecError for facts that cannot be cached."""
        try:
            return encode_layer(result, self.analyzers)
        except RecursionError:
            raise CodecError("a fact nested too deeply to cache") from None

    def write(self, digest: str | None, diff_id: str, raw: bytes) -> None:
        """Compress and store an encoded entry atomically (zlib and the file calls release the GIL, so
        this can run on a thread beside a layer's walk without holding the walk up); OSError on I/O."""
        _store(self._path(digest, diff_id), zlib.compress(raw, 1), ".layer.")


IMAGE_FORMAT = 3


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
    records: list[tuple[str, FileRecord]] = dataclasses.field(default_factory=list)
    """What the file analyzers made of the files present in the merged image, by path."""


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

    def get(
        self, layers: list[tuple[str | None, str]], damaged: Callable[[str], None] | None = None
    ) -> ImageInventory | None:
        """The stored inventory, or None: not stored, or damaged (then `damaged` is told why)."""
        path = self._path(layers)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            doc = json.loads(zlib.decompress(raw))
            if doc.get("format") != IMAGE_FORMAT or doc.get("layers") != [list(la) for la in layers]:
                raise CodecError("another format or image")
            classes = _fact_classes()
            return ImageInventory(
                facts=decode_facts(doc["facts"], classes),
                issues=[(str(p), str(m), None if a is None else str(a), str(k)) for p, m, a, k in doc["issues"]],
                records=[(str(p), decode_record(r, classes)) for p, r in doc.get("records", [])],
            )
        except _DAMAGED as exc:  # the scan reads (or takes from the layer cache) and rewrites it
            if damaged is not None:
                damaged(f"cached image inventory {path.name} not used ({type(exc).__name__}: {str(exc)[:200]})")
            return None

    def put(self, layers: list[tuple[str | None, str]], inventory: ImageInventory) -> None:
        """Store atomically; raises CodecError for facts that cannot be cached, OSError on I/O."""
        try:
            doc = {
                "format": IMAGE_FORMAT,
                "layers": [list(la) for la in layers],
                "facts": encode_facts(inventory.facts),
                "issues": [list(i) for i in inventory.issues],
                "records": [[p, encode_record(r)] for p, r in inventory.records],
            }
            text = json.dumps(doc, separators=(",", ":"), check_circular=False)
        except RecursionError:
            raise CodecError("a fact nested too deeply to cache") from None
        _store(self._path(layers), zlib.compress(text.encode(), 1), ".image.")
