"""The layer cache: a rescan reads no unchanged layer; keys follow the analyzers; JSON, never pickle."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import DistInfoProbe, probe_registries, standard_image_layers, write_oci_layout

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.facts import Fact, ImageIdentity, OSInfo, Package
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.analyzer import InventoryFinalizer
from shareguard.image.cache import CodecError, _fact_classes, code_key, decode_fact, encode_fact
from shareguard.image.scan import scan_image
from shareguard.sources.image.model import ImageSource
from shareguard.sources.image.open import open_image_path


def _counting(source: ImageSource, opened: list[str]) -> ImageSource:
    def wrap(layer: Any) -> Any:
        inner = layer.opener

        @contextmanager
        def opener() -> Iterator[Any]:
            opened.append(layer.diff_id)
            with inner() as fh:
                yield fh

        return dataclasses.replace(layer, opener=opener)

    return dataclasses.replace(source, layers=tuple(wrap(la) for la in source.layers))


def _scan(path: Path, regs: Registries, cache: Path, opened: list[str], use_cache: bool = True) -> ScanResult:
    ctx = ScanContext(settings=Settings(cache_dir=cache))
    return scan_image(_counting(open_image_path(path, "linux/amd64"), opened), regs, ctx, use_cache=use_cache)


def _inventory(result: ScanResult) -> list[Fact]:
    return sorted((f for f in result.facts if not isinstance(f, ImageIdentity)), key=repr)


def test_rescan_reads_no_layer(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    cold: list[str] = []
    first = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", cold)
    warm: list[str] = []
    second = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", warm)
    assert len(cold) == 3 and warm == []
    assert _inventory(first) == _inventory(second) and _inventory(first)
    assert second.metadata["layers_from_cache"] == 3
    assert all(p.suffix == ".z" for p in (tmp_path / "cache" / "layers").iterdir())


def test_no_cache_option_reads_everything(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    opened: list[str] = []
    _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", opened, use_cache=False)
    _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", opened, use_cache=False)
    assert len(opened) == 6
    assert not (tmp_path / "cache").exists()


def test_new_analyzer_version_misses(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [])
    regs = probe_registries()
    bumped = DistInfoProbe()
    bumped.version = "2"
    reg = regs.of(FileAnalyzer)  # type: ignore[type-abstract]
    reg._items[bumped.name] = bumped  # replace in place: same name, new version
    opened: list[str] = []
    _scan(tmp_path / "oci", regs, tmp_path / "cache", opened)
    assert len(opened) == 3


def test_damaged_cache_entries_are_misses(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    first = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [])
    shutil.rmtree(tmp_path / "cache" / "images")  # this test is about the per-layer entries
    entries = sorted((tmp_path / "cache" / "layers").iterdir())
    entries[0].write_bytes(b"garbage")
    head, _, paths = zlib.decompress(entries[1].read_bytes()).partition(b"\n")
    doc = json.loads(head)
    doc["facts"] = [["x", [{"t": "os.system", "f": {"command": "touch /tmp/pwned"}}]]]
    entries[1].write_bytes(zlib.compress(json.dumps(doc).encode() + b"\n" + paths))
    opened: list[str] = []
    second = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", opened)
    assert len(opened) == 2
    assert _inventory(first) == _inventory(second)
    # Each damaged entry is a warning naming it, and is not in the image inventory's cached issues.
    damaged = [i.message for i in second.issues if "cached layer result" in i.message]
    assert len(damaged) == 2 and all(i.kind == "warning" for i in second.issues if "cached layer" in i.message)
    assert not (tmp_path / "cache" / "images").exists() or not any((tmp_path / "cache" / "images").iterdir())
    third: list[str] = []
    _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", third)
    assert third == []  # rewritten


_text = st.text(max_size=30)
_packages = st.builds(
    Package,
    name=_text,
    version=_text,
    ecosystem=st.sampled_from(["PyPI", "Debian", "npm"]),
    path=_text,
    layer=st.none() | _text,
    purl=st.none() | _text,
    os_managed=st.booleans(),
    licenses=st.lists(_text, max_size=3).map(tuple),
    extra=st.lists(st.tuples(_text, _text), max_size=3).map(tuple),
)
_os = st.builds(OSInfo, id=_text, version_id=_text, distroless=st.booleans(), layer=st.none() | _text)


@given(st.one_of(_packages, _os))
def test_fact_codec_round_trips(fact: Fact) -> None:
    encoded = json.loads(json.dumps(encode_fact(fact)))
    assert decode_fact(encoded, _fact_classes()) == fact


def test_codec_refuses_unknown_types_and_non_data_fields() -> None:
    import pytest

    with pytest.raises(CodecError):
        decode_fact({"t": "builtins.object", "f": {}}, _fact_classes())
    with pytest.raises(CodecError):
        decode_fact({"t": "shareguard.core.facts.Package", "f": {"nope": 1}}, _fact_classes())

    @dataclasses.dataclass(frozen=True)
    class Odd(Fact):
        value: object

    with pytest.raises(CodecError):
        encode_fact(Odd(value={"a": 1}))


def test_an_unwritable_cache_is_a_warning_and_the_scan_still_completes(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a directory")
    opened: list[str] = []
    result = _scan(tmp_path / "oci", probe_registries(), blocker, opened)
    reference = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [], use_cache=False)
    assert _inventory(result) == _inventory(reference)
    messages = [i.message for i in result.issues]
    assert any("layer result not cached" in m for m in messages), messages


def _issues(result: ScanResult) -> list[tuple[str, str, str]]:
    return [(i.path, i.message, i.kind) for i in result.issues]


def test_image_cache_serves_an_unchanged_image_with_its_issues(tmp_path: Path) -> None:
    layers = standard_image_layers()
    write_oci_layout(tmp_path / "oci", layers)
    first = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [])
    assert len(list((tmp_path / "cache" / "images").iterdir())) == 1
    shutil.rmtree(tmp_path / "cache" / "layers")  # the image entry alone must serve the rescan
    opened: list[str] = []
    second = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", opened)
    assert opened == []
    assert _inventory(first) == _inventory(second)
    assert _issues(first) == _issues(second)
    assert second.metadata["layers_from_cache"] == second.metadata["layers"]


def test_damaged_image_entry_is_a_miss(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    first = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [])
    (entry,) = (tmp_path / "cache" / "images").iterdir()
    doc = json.loads(zlib.decompress(entry.read_bytes()))
    doc["facts"] = [{"t": "os.system", "f": {"command": "touch /tmp/pwned"}}]
    entry.write_bytes(zlib.compress(json.dumps(doc).encode()))
    opened: list[str] = []
    second = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", opened)
    assert opened == []  # served by the per-layer entries instead
    assert _inventory(first) == _inventory(second)
    assert [i.kind for i in second.issues if "cached image inventory" in i.message] == ["warning"]
    third = _scan(tmp_path / "oci", probe_registries(), tmp_path / "cache", [])  # rewritten: no warning
    assert _issues(third) == _issues(first)


def test_finalizer_code_is_part_of_the_image_key() -> None:
    finalizers = list(load_registries().of(InventoryFinalizer))  # type: ignore[type-abstract]
    assert len(finalizers) > 1
    assert code_key(finalizers) == code_key(finalizers)
    assert code_key(finalizers) != code_key(finalizers[:-1])


def test_a_layer_cache_write_failure_keeps_the_image_entry_out(tmp_path: Path) -> None:
    # The image entry replays its issues on every hit: a transient "not cached" warning must not be one.
    write_oci_layout(tmp_path / "oci", standard_image_layers())
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "layers").write_text("a file where the layer cache directory should be")
    result = _scan(tmp_path / "oci", probe_registries(), cache, [])
    assert any("layer result not cached" in i.message for i in result.issues)
    assert not (cache / "images").exists() or not any((cache / "images").iterdir())
