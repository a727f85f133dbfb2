"""One analyzer model: the file analyzers `audit` runs, fed by image layers and root filesystems.

Model-file, ML-code and configuration analyzers see an image's files while each layer streams once;
what they make of a file is kept under its path (whiteouts delete it), cached with the layer, and
replayed on a rescan. Hostile and broken input is a per-entry issue, never a crash.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import file, make_layer, symlink, whiteout, write_docker_archive, write_oci_layout

from shareguard.core.context import ScanContext
from shareguard.core.dispatch import FileRecord, PathDispatch, installed_tree
from shareguard.core.entry import ContentNeeded, FileEntry
from shareguard.core.facts import Fact, TextField
from shareguard.core.options import OptionSet
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Budgets, Settings
from shareguard.image.cache import LayerCache, decode_record, encode_record
from shareguard.image.scan import file_analyzers, scan_image, scan_rootfs
from shareguard.posture.options import PostureOptions
from shareguard.sources.image.model import BlobReader
from shareguard.sources.image.open import open_image_path

EVIL_PICKLE = (
    b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
    b"\x8c\x02id\x94\x85\x94R\x94."
)
ROOT_DOCKERFILE = b'FROM python:3.11\nRUN pip install torch\nCMD ["python", "serve.py"]\n'
MANIFEST = b"""apiVersion: v1
kind: Pod
metadata:
  name: trainer
spec:
  containers:
    - name: t
      image: trainer:latest
      securityContext:
        privileged: true
"""
NOTEBOOK = json.dumps(
    {
        "cells": [{"cell_type": "code", "source": ["import torch\n", "m = torch.load('m.pt')\n"]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
).encode()


@pytest.fixture(scope="module")
def regs() -> Registries:
    return load_registries()


def scan(path: Path, regs: Registries, cache: Path, *, budgets: Budgets | None = None, **kw: object) -> ScanResult:
    ctx = ScanContext(settings=Settings(cache_dir=cache, budgets=budgets or Budgets()))
    return scan_image(open_image_path(path, "linux/amd64"), regs, ctx, **kw)  # type: ignore[arg-type]


def rules_at(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.rule_id, f.resource.path) for f in result.findings}


def test_baked_in_files_are_analyzed_with_the_layer_digest(tmp_path: Path, regs: Registries) -> None:
    base = make_layer([file("etc/os-release", "ID=debian\nVERSION_ID=12\n")])
    app = make_layer(
        [
            file("models/classifier.pkl", EVIL_PICKLE),
            file("app/Dockerfile", ROOT_DOCKERFILE),
            file("deploy/pod.yaml", MANIFEST),
            file("notebooks/train.ipynb", NOTEBOOK),
        ]
    )
    write_oci_layout(tmp_path / "img", [base, app])
    result = scan(tmp_path / "img", regs, tmp_path / "cache")
    found = rules_at(result)
    assert ("MODEL-001", "models/classifier.pkl") in found
    assert ("DOCKERFILE-001", "app/Dockerfile") in found
    assert any(path == "deploy/pod.yaml" for _, path in found)
    assert any(path == "notebooks/train.ipynb" for _, path in found)
    assert {f.location.layer_digest for f in result.findings if f.analyzer != "vuln.osv"} == {app.diff_id}
    # What was evaluated is recorded per analyzer and per duty, as for a workspace.
    assert "models/classifier.pkl" in result.coverage.inputs["models.files"].evaluated_paths
    assert "app/Dockerfile" in result.coverage.inputs["posture.dockerfile"].evaluated_paths
    assert not result.has_errors()


def test_rescan_replays_the_same_results_from_the_cache(tmp_path: Path, regs: Registries) -> None:
    layer = make_layer([file("models/a.pkl", EVIL_PICKLE), file("app/Dockerfile", ROOT_DOCKERFILE)])
    write_oci_layout(tmp_path / "img", [layer])
    cold = scan(tmp_path / "img", regs, tmp_path / "cache")
    warm = scan(tmp_path / "img", regs, tmp_path / "cache")
    assert warm.metadata["layers_from_cache"] == 1
    assert [f.fingerprint for f in warm.findings] == [f.fingerprint for f in cold.findings]
    assert [f.location for f in warm.findings] == [f.location for f in cold.findings]
    assert warm.coverage.inputs["models.files"].evaluated == cold.coverage.inputs["models.files"].evaluated == 1
    assert warm.coverage.duties.keys() == cold.coverage.duties.keys()
    # The layer cache alone (another image sharing the layer) replays them too.
    for entry in (tmp_path / "cache" / "images").iterdir():
        entry.unlink()
    layer_only = scan(tmp_path / "img", regs, tmp_path / "cache")
    assert rules_at(layer_only) == rules_at(cold)


def test_changed_options_or_analyzer_code_never_replay_stale_findings(
    tmp_path: Path, regs: Registries, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shareguard.image.cache as cache_module

    layer = make_layer([file("app/Dockerfile", ROOT_DOCKERFILE)])
    write_oci_layout(tmp_path / "img", [layer])
    scan(tmp_path / "img", regs, tmp_path / "cache")
    ctx = ScanContext(
        settings=Settings(cache_dir=tmp_path / "cache"), options=OptionSet((PostureOptions(fips_required=True),))
    )
    other = scan_image(open_image_path(tmp_path / "img", "linux/amd64"), regs, ctx)
    assert other.metadata["layers_from_cache"] == 0
    # An edit to a rule file or check (no version bump) changes the key: simulated by the code fingerprint.
    real = cache_module._tree_fingerprint
    monkeypatch.setattr(
        cache_module, "_tree_fingerprint", lambda d, digest: (real(d, digest), digest.update(b"edited"))
    )
    assert scan(tmp_path / "img", regs, tmp_path / "cache").metadata["layers_from_cache"] == 0


def test_a_tampered_cache_record_is_a_miss(tmp_path: Path, regs: Registries) -> None:
    layer = make_layer([file("app/Dockerfile", ROOT_DOCKERFILE)])
    write_oci_layout(tmp_path / "img", [layer])
    scan(tmp_path / "img", regs, tmp_path / "cache")
    for entry in (tmp_path / "cache" / "images").iterdir():
        entry.unlink()
    (entry,) = (tmp_path / "cache" / "layers").iterdir()
    head, _, paths = zlib.decompress(entry.read_bytes()).partition(b"\n")
    doc = json.loads(head)
    for _path, items in doc["facts"]:
        for record in items:  # one record per path (what the analyzers made of the file)
            record["coverage"].append(["__init__", {"t": []}])
    entry.write_bytes(zlib.compress(json.dumps(doc).encode() + b"\n" + paths))
    again = scan(tmp_path / "img", regs, tmp_path / "cache")
    assert again.metadata["layers_from_cache"] == 0
    assert ("DOCKERFILE-001", "app/Dockerfile") in rules_at(again)


def test_record_codec_round_trip_keeps_no_raw_text(regs: Registries) -> None:
    ctx = ScanContext(settings=Settings())
    dispatch = PathDispatch(file_analyzers(regs, "image"), ctx)
    record = dispatch.analyze("app/Dockerfile", len(ROOT_DOCKERFILE), ROOT_DOCKERFILE, "sha256:" + "1" * 64)
    assert record is not None and record.findings
    back = decode_record(json.loads(json.dumps(encode_record(record))), _classes())
    assert [f.fingerprint for f in back.findings] == [f.fingerprint for f in record.findings]
    assert back.coverage == record.coverage and back.issues == record.issues
    assert [f for f in record.facts if not isinstance(f, TextField)] == back.facts
    assert not any(isinstance(f, TextField) for f in back.facts)


def _classes() -> dict[str, type[Fact]]:
    from shareguard.image.cache import _fact_classes

    return _fact_classes()


def test_installed_software_and_unrelated_paths_are_not_offered(regs: Registries) -> None:
    dispatch = PathDispatch(file_analyzers(regs, "image"), ScanContext(settings=Settings()))
    assert installed_tree("usr/local/lib/python3.11/site-packages/torch/serialization.py")
    assert installed_tree("usr/share/doc/x/Dockerfile")
    assert not installed_tree("app/Dockerfile") and not installed_tree("opt/models/m.pkl")
    assert dispatch.wanting("usr/local/lib/python3.11/site-packages/x/model.pkl", 10) == []
    assert dispatch.wanting("usr/lib/x86_64-linux-gnu/libc.so.6", 10) == []
    assert dispatch.wanting("app/lib/helper.so", 10) == []

    def names(path: str) -> set[str]:
        return {a.name for a in dispatch.wanting(path, 100)}

    assert "models.files" in names("opt/models/model.pt")
    assert "models.code" in names("app/serve.py")
    assert "posture.dockerfile" in names("app/Dockerfile")
    assert "posture.kubernetes" in names("deploy/pod.yaml")
    # requirements pins are not what an image has installed: the dependency analyzer is workspace-only
    assert "models.deps" not in {a.name for a in file_analyzers(regs, "image")}


def test_path_only_entries_say_when_content_is_needed() -> None:
    entry = FileEntry.path_only("app/x.yaml", 10)
    with pytest.raises(ContentNeeded):
        entry.head()
    with pytest.raises(ContentNeeded):
        entry.read(100)


def test_hostile_and_broken_entries_are_per_entry_issues(tmp_path: Path, regs: Registries) -> None:
    layer = make_layer(
        [
            file("../../escape.pkl", EVIL_PICKLE),
            symlink("app/Dockerfile.link", "../../../../etc/shadow"),
            symlink("loop/a.yaml", "b.yaml"),
            symlink("loop/b.yaml", "a.yaml"),
            file("models/truncated.pkl", EVIL_PICKLE[:20]),
            file("models/big.pt", b"\x80\x04" + b"N" * 5000 + b"."),
            file("deploy/broken.yaml", b"apiVersion: v1\nkind: Pod\nmetadata: {name: [\n"),
            file("models/classifier.pkl", EVIL_PICKLE),
        ]
    )
    write_oci_layout(tmp_path / "img", [layer])
    result = scan(tmp_path / "img", regs, tmp_path / "cache", budgets=Budgets(max_member_bytes=4096))
    found = rules_at(result)
    assert ("MODEL-001", "models/classifier.pkl") in found
    assert not any("escape" in path for _, path in found)
    messages = " | ".join(f"{i.path}: {i.message}" for i in result.issues)
    assert "hostile entry skipped" in messages
    assert "over the 4096-byte budget" in messages
    # the wanted file that could not be read leaves the model duties incomplete, it never passes
    skipped = dict(result.coverage.inputs["models.files"].skipped)
    assert "models/big.pt" in skipped
    gaps = {g.path for c in ("DLC-C-03",) for g in result.coverage.duties[c].gaps}
    assert "models/big.pt" in gaps
    # the broken manifest is a per-file issue of its analyzer
    assert any(i.path == "deploy/broken.yaml" and i.analyzer == "posture.kubernetes" for i in result.issues)


def test_an_analyzer_crash_is_a_per_file_error(tmp_path: Path, regs: Registries) -> None:
    class Exploding:
        name = "test.exploding"
        version = "1"
        controls: tuple[str, ...] = ("DLC-C-03",)

        def required(self, path: str, size: int) -> bool:
            return path.endswith(".boom")

        def claims(self, entry: FileEntry) -> bool:
            return True

        def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Output]:
            raise RuntimeError("kaboom")

    from shareguard.core.analyzer import FileAnalyzer, Output

    local = load_registries()
    local.of(FileAnalyzer).add("test.exploding", Exploding())  # type: ignore[type-abstract]
    write_oci_layout(
        tmp_path / "img", [make_layer([file("app/x.boom", b"x"), file("app/Dockerfile", ROOT_DOCKERFILE)])]
    )
    result = scan(tmp_path / "img", local, tmp_path / "cache")
    assert ("DOCKERFILE-001", "app/Dockerfile") in rules_at(result)
    (issue,) = [i for i in result.issues if i.analyzer == "test.exploding"]
    assert issue.path == "app/x.boom" and "kaboom" in issue.message and issue.kind == "error"
    assert any(g.path == "app/x.boom" for g in result.coverage.duties["DLC-C-03"].gaps)


def test_rootfs_feeds_the_same_analyzers_and_never_follows_links(tmp_path: Path, regs: Registries) -> None:
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "models/classifier.pkl").write_bytes(EVIL_PICKLE)
    (root / "app/Dockerfile").write_bytes(ROOT_DOCKERFILE)
    (root / "app/Dockerfile.prod").symlink_to("Dockerfile")
    (root / "app/loop.yaml").symlink_to("loop.yaml")
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(EVIL_PICKLE)
    (root / "models/escape.pkl").symlink_to(outside)
    site = root / "usr/local/lib/python3.11/site-packages/pkg"
    site.mkdir(parents=True)
    (site / "fixture.pkl").write_bytes(EVIL_PICKLE)
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"), root=root)
    result = scan_rootfs(root, regs, ctx)
    found = rules_at(result)
    assert ("MODEL-001", "models/classifier.pkl") in found
    assert ("DOCKERFILE-001", "app/Dockerfile") in found
    assert not any(path in ("app/Dockerfile.prod", "models/escape.pkl") for _, path in found)
    assert not any("site-packages" in path for _, path in found)
    assert all(f.location.layer_digest is None for f in result.findings)


def test_file_records_are_dataclasses_of_plain_parts() -> None:
    assert {f.name for f in dataclasses.fields(FileRecord)} == {"findings", "facts", "coverage", "issues"}


def test_docker_archive_and_layer_cache_keys(tmp_path: Path, regs: Registries) -> None:
    archive = write_docker_archive(tmp_path / "a.tar", [make_layer([file("models/a.pkl", EVIL_PICKLE)])])
    result = scan(archive, regs, tmp_path / "cache")
    assert ("MODEL-001", "models/a.pkl") in rules_at(result)
    keys = {p.name for p in (tmp_path / "cache" / "layers").iterdir()}
    assert len(keys) == 1
    assert isinstance(LayerCache(tmp_path, "x").key(None, "sha256:" + "0" * 64), str)


def test_whiteouts_delete_findings_through_the_layer_cache(tmp_path: Path, regs: Registries) -> None:
    lower = make_layer([file("models/a.pkl", EVIL_PICKLE), file("app/Dockerfile", ROOT_DOCKERFILE)])
    write_oci_layout(tmp_path / "one", [lower])
    scan(tmp_path / "one", regs, tmp_path / "cache")  # the lower layer's records are now cached
    write_oci_layout(tmp_path / "two", [lower, make_layer([whiteout("models/a.pkl")])])
    result = scan(tmp_path / "two", regs, tmp_path / "cache")
    assert result.metadata["layers_from_cache"] == 1
    found = rules_at(result)
    assert ("MODEL-001", "models/a.pkl") not in found
    assert ("DOCKERFILE-001", "app/Dockerfile") in found
    assert "models.files" not in result.coverage.inputs  # nothing of it was evaluated


def test_a_truncated_layer_drops_its_records_and_the_scan_goes_on(tmp_path: Path, regs: Registries) -> None:
    # Many wanted files before the cut, so some analyses are still running on the worker when it fails.
    files = [file(f"app/svc{i}/Dockerfile", ROOT_DOCKERFILE) for i in range(40)]
    broken = make_layer([*files, file("models/late.pkl", EVIL_PICKLE), file("z/pad.bin", b"\0" * 200_000)])
    good = make_layer([file("models/classifier.pkl", EVIL_PICKLE)])
    write_oci_layout(tmp_path / "img", [good, broken])
    index = json.loads((tmp_path / "img" / "index.json").read_text())
    manifest = json.loads(
        (tmp_path / "img" / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text()
    )
    blob = tmp_path / "img" / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    blob.write_bytes(blob.read_bytes()[: len(blob.read_bytes()) * 2 // 3])
    result = scan(tmp_path / "img", regs, tmp_path / "cache")
    found = rules_at(result)
    assert ("MODEL-001", "models/classifier.pkl") in found
    assert not any(path.startswith(("app/", "models/late")) for _, path in found)  # the layer was not applied
    assert any("layer not scanned" in i.message for i in result.issues)
    assert result.has_errors()


@pytest.mark.parametrize("damage", ["truncated", "digest"])
def test_a_broken_middle_layer_is_its_own_error_while_the_next_is_read_at_once(
    tmp_path: Path, regs: Registries, damage: str
) -> None:
    """Layers are read at once (each with its own inflater): a broken layer in the middle fails alone,
    the layers around it are read and applied, on a cold scan as on a rescan that finds them in the
    cache."""
    first = make_layer([file("models/first.pkl", EVIL_PICKLE), *(file(f"pad/{i}", b"\1" * 5000) for i in range(50))])
    broken = make_layer([file("app/Dockerfile", ROOT_DOCKERFILE), file("z/pad.bin", b"\0" * 200_000)])
    last = make_layer([file("models/last.pkl", EVIL_PICKLE)])
    write_oci_layout(tmp_path / "img", [first, broken, last])
    index = json.loads((tmp_path / "img" / "index.json").read_text())
    manifest = json.loads(
        (tmp_path / "img" / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text()
    )
    blob = tmp_path / "img" / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    data = blob.read_bytes()
    if damage == "truncated":
        blob.write_bytes(data[: len(data) * 2 // 3])
    else:  # same size, other bytes: only the digest tells
        blob.write_bytes(data[:-20] + bytes(b ^ 0xFF for b in data[-20:]))
    for _ in range(2):
        result = scan(tmp_path / "img", regs, tmp_path / "cache")
        found = rules_at(result)
        assert ("MODEL-001", "models/first.pkl") in found
        assert ("MODEL-001", "models/last.pkl") in found
        assert not any(path.startswith("app/") for _, path in found)
        errors = [i for i in result.issues if "layer not scanned" in i.message]
        assert len(errors) == 1 and errors[0].path.startswith("layer 2 ")


@pytest.mark.parametrize("ahead", [True, False])
def test_only_local_blobs_are_read_at_once(tmp_path: Path, regs: Registries, ahead: bool) -> None:
    """An OCI layout's layers are read at once (two blobs open); a source that says not to (a registry
    stream, which could time out while it waits) has one blob open at a time. Same findings either way."""
    layers = [
        make_layer([file(f"models/m{i}.pkl", EVIL_PICKLE), file(f"pad{i}.bin", b"\1" * 300_000)]) for i in range(3)
    ]
    write_oci_layout(tmp_path / "img", layers)
    source = open_image_path(tmp_path / "img", "linux/amd64")
    assert all(layer.open_ahead for layer in source.layers)
    open_now: list[int] = [0]
    most: list[int] = [0]

    @contextmanager
    def counting(opener: Callable[[], AbstractContextManager[BlobReader]]) -> Iterator[BlobReader]:
        with opener() as blob:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
            try:
                yield blob
            finally:
                open_now[0] -= 1

    refs = tuple(
        dataclasses.replace(layer, opener=functools.partial(counting, layer.opener), open_ahead=ahead)
        for layer in source.layers
    )
    source = dataclasses.replace(source, layers=refs)
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"))
    result = scan_image(source, regs, ctx, use_cache=False)
    assert {p for r, p in rules_at(result) if r == "MODEL-001"} == {f"models/m{i}.pkl" for i in range(3)}
    assert most[0] == (2 if ahead else 1)
