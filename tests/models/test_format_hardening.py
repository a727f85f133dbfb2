"""Issue #14 items 2, 3 and 13: the per-file findings cap never hides what is decided, compressed tar
archives are walked with the zip budgets, and valid variants (joblib `ZF`, legacy torch files, Python 2
`.npy` headers, protobufs of other message types) are analysed or said to be out of scope, never called
malformed. Malicious pickles are assembled from opcodes as bytes and never loaded."""

from __future__ import annotations

import io
import json
import pickle
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.settings import Budgets
from shareguard.core.severity import Severity
from shareguard.models.sink import MAX_FINDINGS_PER_FILE, FindingSink, Where

from .corpus import BENIGN_LIST, call1
from .helpers import DUTIES, callables, duty_statuses, model_issues, not_analysed, scan_result

PAYLOAD = call1("os", "system", "id")
"""os.system('id') as protocol-4 opcodes (never loaded)."""


def _evaluated(res: object, duty: str = "DLC-C-03") -> set[str]:
    ev = res.coverage.of(duty)  # type: ignore[attr-defined]
    return set(ev.rules) if ev else set()


# --- 2. the per-file findings cap -----------------------------------------------------------------


def _many_globals_then_system(n: int = MAX_FINDINGS_PER_FILE + 20) -> bytes:
    """n harmless-looking (unknown, medium) globals, then os.system: protocol 0, MARK … TUPLE STOP."""
    body = b"(" + b"".join(f"cpkg{i}.helpers\nthing\n".encode() for i in range(n))
    return body + b"cos\nsystem\nt."


def test_cap_keeps_the_critical_finding_through_the_cli(tmp_path: Path) -> None:
    d = tmp_path / "models"
    d.mkdir()
    (d / "m.pkl").write_bytes(_many_globals_then_system())
    out = tmp_path / "report.json"
    args = ["models", str(d), "--severity", "critical", "--exit-code", "1", "--format", "json", "-o", str(out), "-q"]
    res = CliRunner().invoke(build_app(), args)
    assert res.exit_code == 1, res.output
    doc = json.loads(out.read_text())
    assert [(f["rule_id"], f["severity"], f["evidence"]) for f in doc["findings"]] == [
        ("MODEL-001", "critical", "os.system")
    ]
    statuses = {c["id"]: c["status"] for c in doc["controls"] if c["id"] in DUTIES}
    assert statuses == dict.fromkeys(DUTIES, "fail")


def test_cap_summarises_the_rest_by_rule_and_count(tmp_path: Path) -> None:
    n = MAX_FINDINGS_PER_FILE + 20
    p = tmp_path / "m.pkl"
    p.write_bytes(_many_globals_then_system(n))
    res = scan_result(p)
    findings = list(res.findings)
    assert callables(findings) == {"os.system"}
    listed = [f for f in findings if "count" not in f.properties]
    summaries = [f for f in findings if "count" in f.properties]
    assert len(listed) == MAX_FINDINGS_PER_FILE
    assert [(s.rule_id, s.severity, s.properties["count"]) for s in summaries] == [("MODEL-002", Severity.MEDIUM, 21)]
    assert len(listed) - 1 + summaries[0].properties["count"] == n  # every unknown global accounted for
    warnings = [i.message for i in res.issues if i.kind == "warning"]
    assert any("MODEL-002 (medium): 21" in w for w in warnings), warnings
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "fail")
    # the summary is stable across runs (baselines and waivers key on it)
    again = [f for f in scan_result(p).findings if "count" in f.properties]
    assert [f.fingerprint for f in again] == [s.fingerprint for s in summaries]


def test_sink_keeps_the_most_severe_whatever_the_order() -> None:
    sink = FindingSink("models.files")
    where = Where("m.pkl")
    sink.add("MODEL-001", where, evidence="first.critical", key="c0")
    for i in range(MAX_FINDINGS_PER_FILE * 2):
        sink.add("MODEL-004", where, evidence=f"low {i}", key=f"l{i}")  # low
        if i % 100 == 0:
            sink.add("MODEL-001", where, evidence=f"critical {i}", key=f"c{i + 1}")
    kept = sink.findings
    assert len(kept) == MAX_FINDINGS_PER_FILE
    assert sum(f.severity is Severity.CRITICAL for f in kept) == 11
    out = sink.result()
    assert sum(f.properties.get("count", 1) for f in out if f.rule_id == "MODEL-004") == MAX_FINDINGS_PER_FILE * 2
    assert kept[0].evidence == "first.critical"  # the listed ones keep the order they were found in


# --- 3. compressed tar archives -------------------------------------------------------------------


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        k = min(len(b), self.n)
        b[:k] = bytes(k)
        self.n -= k
        return k


def _bomb_tar(mode: str, size: int, before: dict[str, bytes] | None = None, **kw: int) -> bytes:
    """A compressed tar of `before` then one `size`-byte member of zeros (streamed, never in memory)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode, **kw) as tf:  # type: ignore[call-overload]
        for name, data in (before or {}).items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("zeros.txt")
        ti.size = size
        tf.addfile(ti, io.BufferedReader(_Zeros(size)))
    return bio.getvalue()


@pytest.mark.parametrize(
    ("mode", "name"), [("w:gz", "m.tar.gz"), ("w:bz2", "m.tar.bz2"), ("w:xz", "m.tar.xz"), ("w", "m.tar")]
)
def test_malicious_pickle_in_a_compressed_tar_fails(tmp_path: Path, mode: str, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(_tar({"README": b"hello", "model/data.pkl": PAYLOAD, "model/ok.pkl": BENIGN_LIST}, mode))
    res = scan_result(p)
    assert model_issues(res) == []
    assert callables(list(res.findings)) == {"os.system"}
    (f,) = [f for f in res.findings if f.rule_id == "MODEL-001"]
    assert f.severity is Severity.CRITICAL and f.location.member is not None
    assert f.location.member.endswith("model/data.pkl")
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "fail")


def test_benign_compressed_tar_passes(tmp_path: Path) -> None:
    p = tmp_path / "m.tgz"
    p.write_bytes(_tar({"a.pkl": BENIGN_LIST, "b.pkl": pickle.dumps({"w": [1.0, 2.0]}, protocol=4)}, "w:gz"))
    res = scan_result(p)
    assert model_issues(res) == []
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_bz2_tar_bomb_is_a_part_not_analysed(tmp_path: Path) -> None:
    # 80 MiB of zeros in ~150 bytes: over the 1000:1 ratio once past the 64 MiB floor.
    data = _bomb_tar("w:bz2", 80 << 20, compresslevel=9)
    assert len(data) < 4096
    issues = not_analysed(tmp_path, "bomb.tar.bz2", data)
    assert "ratio" in issues, issues


def test_xz_tar_bomb_over_the_decompression_budget(tmp_path: Path) -> None:
    data = _bomb_tar("w:xz", 8 << 20, preset=0)
    issues = not_analysed(tmp_path, "bomb.tar.xz", data, Budgets(max_decompressed_bytes=4 << 20))
    assert "budget" in issues, issues


def test_payload_before_a_bomb_still_fails(tmp_path: Path) -> None:
    p = tmp_path / "bomb.tar.xz"
    p.write_bytes(_bomb_tar("w:xz", 8 << 20, {"evil.pkl": PAYLOAD}, preset=0))
    res = scan_result(p, Budgets(max_decompressed_bytes=4 << 20))
    assert callables(list(res.findings)) == {"os.system"}
    assert model_issues(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "fail")


def test_tar_member_over_the_per_member_limit(tmp_path: Path) -> None:
    data = _tar({"big.pkl": BENIGN_LIST + b"\0" * 5000}, "w:gz")
    issues = not_analysed(tmp_path, "m.tar.gz", data, Budgets(max_member_bytes=4096))
    assert "per-member limit" in issues, issues


def test_tar_member_count_budget(tmp_path: Path) -> None:
    data = _tar({f"{i}.pkl": BENIGN_LIST for i in range(5)}, "w:bz2")
    issues = not_analysed(tmp_path, "m.tar.bz2", data, Budgets(max_archive_members=3))
    assert "more than 3 tar members" in issues, issues


def test_tar_nesting_depth(tmp_path: Path) -> None:
    inner = _tar({"evil.pkl": PAYLOAD}, "w:gz")
    data = _tar({"inner.tar.gz": inner}, "w:gz")  # gzip → tar → gzip → tar → pickle: depth 4
    issues = not_analysed(tmp_path, "m.tar.gz", data, Budgets(max_archive_depth=3))
    assert "nesting depth" in issues, issues


def test_huge_pax_record_in_a_streamed_tar_is_bounded(tmp_path: Path) -> None:
    # tarfile reads a pax record whole: one declaring 20 MiB (over the 16 MiB header budget) is
    # refused before it is buffered.
    import gzip

    size = 20 << 20
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = size
    bio = io.BytesIO()
    with gzip.GzipFile(fileobj=bio, mode="wb", compresslevel=1) as g:
        g.write(pax.tobuf(format=tarfile.USTAR_FORMAT))
        for _ in range(size >> 20):
            g.write(bytes(1 << 20))
    issues = not_analysed(tmp_path, "pax.tar.gz", bio.getvalue())
    assert "tar header records over" in issues, issues


@pytest.mark.parametrize(("mode", "name"), [("w:gz", "m.tar.gz"), ("w:bz2", "m.tar.bz2"), ("w:xz", "m.tar.xz")])
def test_truncated_compressed_tar_is_incomplete(tmp_path: Path, mode: str, name: str) -> None:
    data = _tar({"a.pkl": pickle.dumps(list(range(20000)), protocol=4)}, mode)
    not_analysed(tmp_path, name, data[: len(data) // 2])


def test_truncated_after_the_payload_still_fails(tmp_path: Path) -> None:
    data = _tar({"evil.pkl": PAYLOAD, "big.pkl": pickle.dumps(list(range(50000)), protocol=4)}, "w:gz")
    p = tmp_path / "m.tar.gz"
    p.write_bytes(data[: len(data) * 2 // 3])
    res = scan_result(p)
    assert callables(list(res.findings)) == {"os.system"}
    assert model_issues(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "fail")


def test_compressed_tar_inside_a_zip(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bundle/model.tar.xz", _tar({"evil.pkl": PAYLOAD}, "w:xz"))
    p = tmp_path / "bundle.zip"
    p.write_bytes(buf.getvalue())
    res = scan_result(p)
    assert model_issues(res) == []
    assert callables(list(res.findings)) == {"os.system"}


# --- 13. valid variants are not malformed ---------------------------------------------------------


def _zfile(data: bytes, *, py2_space: bool = False) -> bytes:
    """joblib < 0.10's `write_zfile`: b"ZF", hex length ljust to len(hex(2**64)) (19), zlib data."""
    width = 20 if py2_space else 19  # joblib <= 0.8.4 on Python 2: one character wider
    return b"ZF" + f"{len(data):#x}".ljust(width).encode() + zlib.compress(data, 3)


@pytest.mark.parametrize("py2_space", [False, True])
def test_joblib_zf_benign_passes(tmp_path: Path, py2_space: bool) -> None:
    p = tmp_path / "model.pkl"
    p.write_bytes(_zfile(pickle.dumps({"coef": [0.5, 1.5], "names": ["a", "b"]}, protocol=2), py2_space=py2_space))
    res = scan_result(p)
    assert model_issues(res) == []
    assert list(res.findings) == []
    assert {"MODEL-001", "MODEL-002"} <= _evaluated(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_joblib_zf_payload_fails(tmp_path: Path) -> None:
    p = tmp_path / "model.pkl"
    p.write_bytes(_zfile(PAYLOAD))
    res = scan_result(p)
    assert model_issues(res) == []
    assert callables(list(res.findings)) == {"os.system"}


def test_joblib_zf_declared_length_over_budget(tmp_path: Path) -> None:
    data = b"ZF" + f"{1 << 40:#x}".ljust(19).encode() + zlib.compress(BENIGN_LIST)
    issues = not_analysed(tmp_path, "model.pkl", data)
    assert "declares" in issues, issues


def test_joblib_zf_array_file_is_data(tmp_path: Path) -> None:
    # joblib 0.9 wrote each array's raw bytes to `<file>_NN.npy.z` (read with ndarray.__setstate__):
    # bytes that happen to look like a pickle (here 128 as int64) are not walked.
    p = tmp_path / "model.pkl_01.npy.z"
    p.write_bytes(_zfile(struct.pack("<4q", 128, 2, 3, 4)))
    res = scan_result(p)
    assert model_issues(res) == [] and list(res.findings) == []


@pytest.mark.parametrize("n", [1, 40, 128, 130, 4096])
def test_legacy_torch_file_passes(tmp_path: Path, n: int) -> None:
    torch = pytest.importorskip("torch")
    p = tmp_path / "legacy.pt"
    state = {"w": torch.arange(float(n)), "steps": torch.ones(n, dtype=torch.int64)}
    torch.save(state, p, _use_new_zipfile_serialization=False)
    res = scan_result(p)
    assert model_issues(res) == [], n
    assert list(res.findings) == []
    assert {"MODEL-001", "MODEL-002", "MODEL-005", "MODEL-006"} <= _evaluated(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def _legacy(obj_pickle: bytes, raw: bytes = b"\x80\x00" + b"\0" * 200) -> bytes:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    proto = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0"], protocol=2)
    return magic + proto + sys_info + obj_pickle + keys + struct.pack("<q", 25) + raw


def test_legacy_torch_payload_in_the_object_pickle_fails(tmp_path: Path) -> None:
    p = tmp_path / "legacy.pt"
    p.write_bytes(_legacy(PAYLOAD))
    res = scan_result(p)
    assert model_issues(res) == []
    assert callables(list(res.findings)) == {"os.system"}


def test_legacy_torch_payload_in_the_storage_keys_pickle_fails(tmp_path: Path) -> None:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    data = magic + pickle.dumps(1001, protocol=2) + BENIGN_LIST + BENIGN_LIST + PAYLOAD + b"\x80\x00" * 50
    p = tmp_path / "legacy.pt"
    p.write_bytes(data)
    res = scan_result(p)
    assert model_issues(res) == []
    assert callables(list(res.findings)) == {"os.system"}


def test_truncated_legacy_torch_file_is_incomplete(tmp_path: Path) -> None:
    data = _legacy(BENIGN_LIST)
    magic_proto = len(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)) + len(pickle.dumps(1001, protocol=2))
    issues = not_analysed(tmp_path, "legacy.pt", data[:magic_proto])
    assert "ends before its sys info pickle" in issues, issues


def _npy(header: str, data: bytes = b"") -> bytes:
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    h = (header + " " * pad + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


def test_python2_npy_header_with_long_suffix(tmp_path: Path) -> None:
    p = tmp_path / "a.npy"
    p.write_bytes(_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }", b"\0" * 16))
    res = scan_result(p)
    assert model_issues(res) == []
    assert "MODEL-020" in _evaluated(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_python2_npy_object_array_is_still_reported(tmp_path: Path) -> None:
    p = tmp_path / "a.npy"
    p.write_bytes(_npy("{'descr': '|O', 'fortran_order': False, 'shape': (1L, 2L), }", PAYLOAD))
    res = scan_result(p)
    assert {"MODEL-020", "MODEL-001"} <= {f.rule_id for f in res.findings}


def test_npy_header_that_is_not_a_literal_is_still_not_analysed(tmp_path: Path) -> None:
    issues = not_analysed(tmp_path, "a.npy", _npy("{'descr': '<f8', 'shape': __import__('os')}"))
    assert "invalid or truncated .npy header" in issues


def test_onnx_tensor_protobufs_are_not_models(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    np = pytest.importorskip("numpy")
    from onnx import numpy_helper

    d = tmp_path / "test_data_set_0"
    d.mkdir()
    for i, shape in enumerate([(2, 3, 4), (1, 3, 4), (5,), (1, 1)]):
        t = numpy_helper.from_array(np.ones(shape, dtype=np.float32), f"in{i}")
        (d / f"input_{i}.pb").write_bytes(t.SerializeToString())
    model = onnx.helper.make_model(
        onnx.helper.make_graph(
            [onnx.helper.make_node("Relu", ["X"], ["Y"])],
            "g",
            [onnx.helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [1])],
            [onnx.helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, [1])],
        )
    )
    (d / "model.pb").write_bytes(model.SerializeToString())  # a real ONNX model under another name
    res = scan_result(d)
    assert model_issues(res) == []
    assert {"MODEL-050", "MODEL-051"} <= _evaluated(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_saved_model_name_on_another_message_type_is_not_malformed(tmp_path: Path) -> None:
    d = tmp_path / "export"
    d.mkdir()
    # fields 3 (string) and 4 (varint): valid protobuf wire format, not a SavedModel
    (d / "saved_model.pb").write_bytes(b"\x1a\x05hello\x20\x2a")
    res = scan_result(d)
    issues = [i for i in res.issues if i.analyzer == "models.files"]
    assert [i.kind for i in issues] == ["warning"], issues
    assert "not a model file" in issues[0].message
    assert "malformed" not in issues[0].message


def test_truncated_saved_model_is_still_not_analysed(tmp_path: Path) -> None:
    d = tmp_path / "export"
    d.mkdir()
    (d / "saved_model.pb").write_bytes(b"\x08\x01\x12\x40\x12\x10")  # meta_graphs runs past the end
    res = scan_result(d)
    assert any("malformed SavedModel" in m for m in model_issues(res))
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "incomplete")
