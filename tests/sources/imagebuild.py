"""Build real images for tests: layer tars (with `tarfile`), OCI layouts, oci- and docker-archives.

Layers are made from real package metadata of this machine (dpkg status, os-release, installed
*.dist-info), so the scanners see what real images hold, not hand-written stubs.
"""

from __future__ import annotations

import email.parser
import gzip
import hashlib
import io
import json
import shutil
import sysconfig
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from shareguard.core.analyzer import FileAnalyzer, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, OSInfo, Package
from shareguard.core.registry import Registries
from shareguard.image.analyzer import InventoryFinalizer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "tar": "application/vnd.oci.image.layer.v1.tar",
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    size: int | None = None
    """Declared size when it must differ from len(data) (hostile tests)."""


def file(name: str, data: bytes | str) -> Entry:
    return Entry(name, data.encode() if isinstance(data, str) else data)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, type=tarfile.SYMTYPE, linkname=target)


def hardlink(name: str, target: str) -> Entry:
    return Entry(name, type=tarfile.LNKTYPE, linkname=target)


def directory(name: str) -> Entry:
    return Entry(name, type=tarfile.DIRTYPE)


def whiteout(path: str) -> Entry:
    parent, _, base = path.rpartition("/")
    return file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")


def opaque(directory_path: str) -> Entry:
    return file(f"{directory_path}/.wh..wh..opq", b"")


def layer_tar(entries: list[Entry], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type = e.type
            info.linkname = e.linkname
            info.mode = 0o755 if e.type == tarfile.DIRTYPE else 0o644
            info.mtime = 1_700_000_000
            if e.type == tarfile.REGTYPE:
                info.size = len(e.data)
                tf.addfile(info, io.BytesIO(e.data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def compress(tar: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(tar, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(tar)
    return tar


@dataclass
class Layer:
    tar: bytes
    compression: str = "gzip"
    media_type: str | None = None
    blob: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.blob = compress(self.tar, self.compression)
        if self.media_type is None:
            self.media_type = LAYER_TYPES[self.compression]

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)

    @property
    def digest(self) -> str:
        return sha256(self.blob)


def make_layer(entries: list[Entry], compression: str = "gzip") -> Layer:
    return Layer(layer_tar(entries), compression)


def config_json(
    layers: list[Layer], os_: str = "linux", arch: str = "amd64", labels: dict[str, str] | None = None
) -> bytes:
    doc = {
        "architecture": arch,
        "os": os_,
        "created": "2024-05-01T12:00:00Z",
        "config": {"Labels": labels or {"org.opencontainers.image.title": "test"}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }
    return json.dumps(doc, sort_keys=True).encode()


def _put_blob(root: Path, data: bytes) -> str:
    digest = sha256(data)
    path = root / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def _manifest(root: Path, layers: list[Layer], config: bytes) -> tuple[bytes, str]:
    cdigest = _put_blob(root, config)
    for layer in layers:
        _put_blob(root, layer.blob)
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cdigest, "size": len(config)},
        "layers": [{"mediaType": la.media_type, "digest": la.digest, "size": len(la.blob)} for la in layers],
    }
    body = json.dumps(doc, sort_keys=True).encode()
    return body, _put_blob(root, body)


def write_oci_layout(root: Path, layers: list[Layer], *, config: bytes | None = None, tag: str = "test") -> str:
    """An OCI layout directory with one image; returns the manifest digest."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    body, digest = _manifest(root, layers, config or config_json(layers))
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(body),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    return digest


def write_multiarch_layout(root: Path, images: dict[str, list[Layer]], tag: str = "test") -> dict[str, str]:
    """An OCI layout whose index.json points at an image index of several platforms."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries = []
    digests = {}
    for platform, layers in images.items():
        os_, arch, *variant = platform.split("/")
        body, digest = _manifest(root, layers, config_json(layers, os_, arch))
        plat: dict[str, str] = {"os": os_, "architecture": arch}
        if variant:
            plat["variant"] = variant[0]
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body), "platform": plat})
        digests[platform] = digest
    index_body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    idigest = _put_blob(root, index_body)
    top = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_INDEX,
                "digest": idigest,
                "size": len(index_body),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(top))
    digests["index"] = idigest
    return digests


def tar_directory(src: Path, dest: Path) -> Path:
    """An uncompressed tar of a directory's contents (how oci-archive and docker save lay them out)."""
    with tarfile.open(dest, "w") as tf:
        for path in sorted(src.rglob("*")):
            tf.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)
    return dest


def write_docker_archive(
    dest: Path, layers: list[Layer], *, tag: str = "test:latest", config: bytes | None = None
) -> Path:
    """A `docker save` archive (legacy layout: <id>/layer.tar, <config-hex>.json, manifest.json)."""
    config = config or config_json(layers)
    chex = hashlib.sha256(config).hexdigest()
    with tarfile.open(dest, "w") as tf:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))

        names = []
        for layer in layers:
            lid = layer.diff_id.split(":", 1)[1]
            add(f"{lid}/layer.tar", compress(layer.tar, layer.compression if layer.compression != "zstd" else "tar"))
            add(f"{lid}/VERSION", b"1.0")
            names.append(f"{lid}/layer.tar")
        add(f"{chex}.json", config)
        add("manifest.json", json.dumps([{"Config": f"{chex}.json", "RepoTags": [tag], "Layers": names}]).encode())
        add("repositories", json.dumps({tag.split(":")[0]: {tag.split(":")[1]: names[-1].split("/")[0]}}).encode())
    return dest


# -- real package metadata of this machine ------------------------------------------------------


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def dist_info(name: str) -> Path | None:
    """The installed *.dist-info directory of a distribution (e.g. `packaging`, `PyYAML`)."""
    norm = name.lower().replace("-", "_")
    for path in site_packages().glob("*.dist-info"):
        if path.name.lower().split("-", 1)[0].replace("-", "_") == norm:
            return path
    return None


def dist_info_entries(name: str, prefix: str = "usr/local/lib/python3.11/site-packages") -> list[Entry]:
    path = dist_info(name)
    if path is None:
        return []
    out = [directory(f"{prefix}/{path.name}")]
    for f in sorted(path.iterdir()):
        if f.is_file():
            out.append(file(f"{prefix}/{path.name}/{f.name}", f.read_bytes()))
    return out


def real_os_entries() -> list[Entry]:
    """Debian's layout: etc/os-release is a relative symlink to ../usr/lib/os-release."""
    out = [directory("etc"), directory("usr"), directory("usr/lib")]
    src = Path("/usr/lib/os-release")
    if not src.is_file():
        src = Path("/etc/os-release")
    out.append(symlink("etc/os-release", "../usr/lib/os-release"))
    out.append(file("usr/lib/os-release", src.read_bytes()))
    return out


def real_dpkg_status() -> bytes | None:
    path = Path("/var/lib/dpkg/status")
    return path.read_bytes() if path.is_file() else None


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, symlinks=True)


# -- small analyzers the pipeline tests register themselves ------------------------------------


class OsReleaseProbe:
    """Parses a real os-release (both of its standard paths)."""

    name = "test.os-release"
    version = "1"
    controls: tuple[str, ...] = ()
    links = True
    path_hint = PathHint.ending("os-release", installed=True)

    def __init__(self) -> None:
        self.calls: list[str] = []

    def required(self, path: str, size: int) -> bool:
        return path in ("etc/os-release", "usr/lib/os-release")

    def claims(self, entry: FileEntry) -> bool:
        return self.required(entry.rel_path, entry.size)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, entry.read(entry.size), entry.layer
        self.calls.append(path)
        fields = {}
        for line in content.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip('"')
        return [OSInfo(id=fields.get("ID", ""), version_id=fields.get("VERSION_ID", ""), path=path, layer=layer)]


class DistInfoProbe:
    """`*.dist-info/METADATA` → a PyPI package (name and version from the real headers)."""

    name = "test.dist-info"
    version = "1"
    controls: tuple[str, ...] = ()
    links = True
    path_hint = PathHint.ending("METADATA", installed=True)

    def __init__(self) -> None:
        self.calls: list[str] = []

    def required(self, path: str, size: int) -> bool:
        return path.endswith(".dist-info/METADATA")

    def claims(self, entry: FileEntry) -> bool:
        return self.required(entry.rel_path, entry.size)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, entry.read(entry.size), entry.layer
        self.calls.append(path)
        msg = email.parser.BytesHeaderParser().parsebytes(content)
        return [
            Package(name=msg["Name"], version=msg["Version"], ecosystem="PyPI", path=path, layer=layer, origin="pip")
        ]


class DpkgProbe:
    """`var/lib/dpkg/status` → installed Debian packages (python-debian's deb822 parser)."""

    name = "test.dpkg"
    version = "1"
    controls: tuple[str, ...] = ()
    links = True
    path_hint = PathHint(prefixes=("var/lib/dpkg/",), installed=True)

    def required(self, path: str, size: int) -> bool:
        return path == "var/lib/dpkg/status"

    def claims(self, entry: FileEntry) -> bool:
        return self.required(entry.rel_path, entry.size)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, entry.read(entry.size), entry.layer
        from debian.deb822 import Deb822

        out: list[Fact] = []
        for para in Deb822.iter_paragraphs(content.decode("utf-8", "replace")):
            if "installed" in para.get("Status", "") and para.get("Package"):
                out.append(
                    Package(
                        name=para["Package"],
                        version=para.get("Version", ""),
                        ecosystem="Debian",
                        path=path,
                        layer=layer,
                    )
                )
        return out


class FilesProbe:
    """A finalizer that records the merged `files` map it is given."""

    name = "test.files"
    order = 10

    def __init__(self) -> None:
        self.files: dict[str, str | None] = {}

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        self.files = dict(files)
        return facts


def probe_registries(*, finalizer: FilesProbe | None = None) -> Registries:
    regs = Registries()
    reg = regs.of(FileAnalyzer)  # type: ignore[type-abstract]
    for probe in (OsReleaseProbe(), DistInfoProbe(), DpkgProbe()):
        reg.add(probe.name, probe)
    if finalizer is not None:
        regs.of(InventoryFinalizer).add(finalizer.name, finalizer)  # type: ignore[type-abstract]
    return regs


def standard_image_layers(compressions: tuple[str, str, str] = ("gzip", "zstd", "tar")) -> list[Layer]:
    """Base OS + dpkg; then pip packages; then an upper layer deleting one package and adding a file."""
    status = real_dpkg_status() or b""
    base = [*real_os_entries(), directory("var"), directory("var/lib"), directory("var/lib/dpkg")]
    base.append(file("var/lib/dpkg/status", status))
    pip = dist_info_entries("packaging") + dist_info_entries("PyYAML")
    yaml_info = dist_info("PyYAML")
    upper = [file("app/main.py", "print('hi')\n")]
    if yaml_info is not None:
        upper.insert(0, whiteout(f"usr/local/lib/python3.11/site-packages/{yaml_info.name}"))
    return [
        make_layer(base, compressions[0]),
        make_layer(pip, compressions[1]),
        make_layer(upper, compressions[2]),
    ]
