"""Open `--input PATH`: an OCI layout directory, an oci-archive tar, or a docker-archive tar."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.errors import InputError
from shareguard.sources.image.docker_archive import is_docker_archive, open_docker_archive
from shareguard.sources.image.layout import is_oci_layout, open_layout
from shareguard.sources.image.model import ImageSource
from shareguard.sources.image.store import BlobStore, DirStore, TarStore


def open_image_path(path: Path, platform: str, *, platform_given: bool = False) -> ImageSource:
    """`platform_given`: the user asked for that platform (`--platform`), so a single-image archive of
    another platform is an error rather than a warning."""
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.is_file()
    except OSError as exc:
        raise InputError(f"cannot access: {exc.strerror}", path=str(path)) from None
    if not exists:
        raise InputError("no such image file or directory", path=str(path))
    store: BlobStore = DirStore(path) if is_dir else TarStore(path)
    if is_oci_layout(store):
        return open_layout(store, str(path), platform)
    if is_docker_archive(store):
        return open_docker_archive(store, str(path), platform, platform_given=platform_given)
    kind = "directory" if is_dir else "archive"
    raise InputError(
        f"not an image: the {kind} has neither an OCI layout (oci-layout, index.json) nor a docker manifest.json",
        path=str(path),
    )
