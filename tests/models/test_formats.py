"""Every format reader on real files (benign: no finding) and crafted hostile ones."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest

from shareguard.core.settings import Budgets
from shareguard.core.severity import Severity

from .corpus import BENIGN_LIST, bypass_samples, call1, safetensors_bytes, write_benign
from .helpers import (
    callables,
    duty_statuses,
    model_issues,
    not_analysed,
    rules,
    scan,
    scan_bytes,
    scan_bytes_issues,
    scan_result,
)


def test_benign_files_from_real_libraries_raise_no_finding(tmp_path: Path) -> None:
    made = write_benign(tmp_path)
    assert len(made) >= 4
    findings, issues = scan(tmp_path)
    assert not issues
    assert [(f.resource.path, f.rule_id, f.evidence) for f in findings] == []


@pytest.mark.parametrize("name", sorted(bypass_samples(Path("/nonexistent/marker"))))
def test_each_bypass_class_is_flagged_critical(tmp_path: Path, name: str) -> None:
    data, expected = bypass_samples(tmp_path / "marker")[name]
    findings = scan_bytes(tmp_path, name, data)
    crit = [f for f in findings if f.rule_id == "MODEL-001"]
    assert expected in callables(findings), [(f.rule_id, f.evidence) for f in findings]
    assert all(f.severity is Severity.CRITICAL for f in crit)
    hit = next(f for f in crit if f.evidence == expected)
    assert hit.location.offset is not None
    assert "weights_only=True" in hit.remediation.text


def test_unknown_callable_is_medium(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, "x.pkl", call1("somepkg.mod", "helper", "x"))
    assert [(f.rule_id, f.severity) for f in findings] == [("MODEL-002", Severity.MEDIUM)]


def test_sklearn_module_function_is_not_auto_allowed(tmp_path: Path) -> None:
    findings = scan_bytes(tmp_path, "x.pkl", call1("sklearn.utils", "check_array", "x"))
    assert rules(findings) == {"MODEL-002"}


def test_torch_zip_members_and_location(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "ok.pt"
    torch.save({"w": torch.zeros(2)}, path)
    raw = path.read_bytes()
    # Replace data.pkl with a payload (same member name) while keeping the storages.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = call1("os", "system", "id") if info.filename.endswith("data.pkl") else src.read(info)
            dst.writestr(info.filename, data)
    findings = scan_bytes(tmp_path, "evil.pt", out.getvalue())
    hit = next(f for f in findings if f.rule_id == "MODEL-001")
    assert hit.location.member is not None and hit.location.member.endswith("data.pkl")


def test_numpy_object_array(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    p = tmp_path / "obj.npy"
    np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    findings, _ = scan(p)
    assert rules(findings) == {"MODEL-020"}
    # an object .npy whose pickle is a payload
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (118 - len(header)) + b"\n"
    evil = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + call1("os", "system", "id")
    findings = scan_bytes(tmp_path, "evil.npy", evil)
    assert "os.system" in callables(findings) and "MODEL-020" in rules(findings)


def test_npz_member_with_object_array(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    p = tmp_path / "o.npz"
    np.savez(p, a=np.array([1, None], dtype=object))
    findings, _ = scan(p)
    hit = next(f for f in findings if f.rule_id == "MODEL-020")
    assert hit.location.member == "a.npy"


def test_joblib_object_array_payload_is_found(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    p = tmp_path / "a.joblib"
    joblib.dump({"x": np.arange(10.0), "o": np.array([1, None], dtype=object), "y": np.ones((3, 3))}, p)
    raw = p.read_bytes()
    assert not scan(p)[0]
    # a payload appended after the joblib stream is walked too
    findings = scan_bytes(tmp_path, "b.joblib", raw + call1("os", "system", "id"))
    assert "os.system" in callables(findings)


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.pkl", b"\x80\x04" + b"N0" * (40 * 1024 * 1024) + b"N.")
    budgets = Budgets(max_decompressed_bytes=8 * 1024 * 1024)
    issues = not_analysed(tmp_path, "bomb.zip", buf.getvalue(), budgets)
    assert "data.pkl" in issues and "decompression bomb" in issues


def test_nested_archives_beyond_the_limit(tmp_path: Path) -> None:
    data = call1("os", "system", "id")
    for i in range(5):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"l{i}.zip" if i else "data.pkl", data)
        data = buf.getvalue()
    issues = not_analysed(tmp_path, "deep.zip", data, Budgets(max_archive_depth=2))
    assert "nested deeper" in issues


def test_encrypted_flag_member_is_still_analysed(tmp_path: Path) -> None:
    raw = bytearray(zipfile_bytes({"data.pkl": call1("os", "system", "id")}))
    raw[6] |= 1
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 8] |= 1
    findings = scan_bytes(tmp_path, "enc.zip", bytes(raw))
    assert "os.system" in callables(findings) and "MODEL-012" in rules(findings)


def zipfile_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def test_extension_lies(tmp_path: Path) -> None:
    assert "not a recognised model format (PNG image)" in not_analysed(
        tmp_path, "model.pt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50
    )
    assert "os.system" in callables(scan_bytes(tmp_path, "notes.txt", call1("os", "system", "id")))
    assert "7z archive: content not analysed" in not_analysed(tmp_path, "x.7z", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40)


@pytest.mark.parametrize(
    "header,data,fragment",
    [
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 4, "file has"),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\x00" * 4, "need 8"),
        ({"a": {"dtype": "XX", "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 4, "unknown dtype"),
        (
            {
                "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
            },
            b"\x00" * 6,
            "overlaps",
        ),
        ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    ],
)
def test_safetensors_header_problems(tmp_path: Path, header: dict[str, object], data: bytes, fragment: str) -> None:
    findings = scan_bytes(tmp_path, "m.safetensors", safetensors_bytes(header, data))
    assert any(f.rule_id == "MODEL-060" and fragment in (f.evidence or "") for f in findings), findings


def test_safetensors_huge_header_length(tmp_path: Path) -> None:
    findings, issues = scan_bytes_issues(tmp_path, "m.safetensors", struct.pack("<Q", 2**60) + b"{}")
    assert rules(findings) <= {"MODEL-060"} and (findings or issues)


def test_gguf_header_problems(tmp_path: Path) -> None:
    base = b"GGUF" + struct.pack("<I", 3)
    assert "unsupported version 9" in not_analysed(tmp_path, "v.gguf", b"GGUF" + struct.pack("<I", 9) + b"\x00" * 16)
    cases = {
        "counts": base + struct.pack("<QQ", 2**40, 0),
        "string": base + struct.pack("<QQ", 0, 1) + struct.pack("<Q", 2**50),
        "truncated": base + struct.pack("<Q", 1),
    }
    for name, data in cases.items():
        findings = scan_bytes(tmp_path, f"{name}.gguf", data)
        assert rules(findings) == {"MODEL-061"}, name


def test_real_gguf_with_bad_tensor_offset(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    p = tmp_path / "t.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_tensor("t", np.ones((4, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert not scan(p)[0]
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(p.read_bytes()[:-64])
    assert rules(scan(cut)[0]) == {"MODEL-061"}


def test_onnx_custom_domain_and_external_data_escape(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("EvilOp", ["x"], ["y"], domain="com.evil")
    init = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    init.data_location = TensorProto.EXTERNAL
    entry = init.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    del init.float_data[:]
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[init],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.evil", 1)])
    p = tmp_path / "evil.onnx"
    p.write_bytes(model.SerializeToString())
    findings, _ = scan(p)
    assert {f.rule_id for f in findings} == {"MODEL-050", "MODEL-051"}
    ext = next(f for f in findings if f.rule_id == "MODEL-051")
    assert "../../etc/passwd" in (ext.evidence or "")


def _pb(fields: list[tuple[int, bytes | int]]) -> bytes:
    out = b""
    for num, val in fields:
        if isinstance(val, int):
            out += _varint(num << 3) + _varint(val)
        else:
            out += _varint(num << 3 | 2) + _varint(len(val)) + val
    return out


def _varint(v: int) -> bytes:
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def test_savedmodel_dangerous_ops_in_graph_and_functions(tmp_path: Path) -> None:
    node_ok = _pb([(1, b"x"), (2, b"MatMul")])
    node_read = _pb([(1, b"rf"), (2, b"ReadFile")])
    fn_node = _pb([(1, b"py"), (2, b"PyFunc")])
    function = _pb([(1, _pb([(1, b"f")])), (3, fn_node)])
    graph = _pb([(1, node_ok), (1, node_read), (2, _pb([(1, function)]))])
    saved = _pb([(1, 1), (2, _pb([(2, graph)]))])
    d = tmp_path / "sm"
    d.mkdir()
    (d / "saved_model.pb").write_bytes(saved)
    findings, _ = scan(d)
    assert {f.properties["op"] for f in findings if f.rule_id == "MODEL-040"} == {"ReadFile", "PyFunc"}
    assert not scan(d)[1]
    findings, issues = scan_bytes_issues(d, "saved_model.pb", saved[:-3])
    assert issues and "malformed SavedModel protobuf" in issues[0]
    assert {f.rule_id for f in findings} <= {"MODEL-040"}


def _frozen_graph(*ops: str) -> bytes:
    """A bare GraphDef as tf.io.write_graph writes it: nodes (name, op, inputs), then versions."""
    nodes = [_pb([(1, f"n{i}".encode()), (2, op.encode()), (3, b"n0")]) for i, op in enumerate(ops)]
    return _pb([*((1, n) for n in nodes), (4, _pb([(1, 1395)]))])


def test_frozen_graph_dangerous_ops(tmp_path: Path) -> None:
    (tmp_path / "frozen_inference_graph.pb").write_bytes(_frozen_graph("Placeholder", "MatMul", "WriteFile"))
    (tmp_path / "clean.pb").write_bytes(_frozen_graph("Placeholder", "MatMul", "Softmax"))
    res = scan_result(tmp_path)
    assert {(f.resource.path, f.properties["op"]) for f in res.findings} == {("frozen_inference_graph.pb", "WriteFile")}
    assert duty_statuses(res)["DLC-C-03"] == "fail"
    assert not model_issues(res)
    only_clean = tmp_path / "clean"
    only_clean.mkdir()
    (only_clean / "graph.pb").write_bytes(_frozen_graph("Const", "Identity"))
    assert duty_statuses(scan_result(only_clean))["DLC-C-03"] == "pass"


def test_other_protobufs_named_pb_are_not_models(tmp_path: Path) -> None:
    # a tf.train.Example-like message and an ONNX-like one: not GraphDefs, neither findings nor gaps
    (tmp_path / "example.pb").write_bytes(_pb([(1, _pb([(1, _pb([(1, b"feature")]))]))]))
    (tmp_path / "other.pb").write_bytes(_pb([(1, 7), (2, b"hello")]))
    res = scan_result(tmp_path)
    assert not res.findings and not model_issues(res)
    assert duty_statuses(res)["DLC-C-03"] == "not_assessed"


def test_truncated_frozen_graph_is_not_fully_analysed(tmp_path: Path) -> None:
    data = _frozen_graph("Placeholder", "ReadFile", "MatMul")
    _, issues = scan_bytes_issues(tmp_path, "g.pb", data[:-7])
    assert issues and "malformed TensorFlow GraphDef" in issues[0]


def _keras_cfg(layer: dict[str, object]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}


def test_keras_lambda_and_foreign_modules(tmp_path: Path) -> None:
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "lam", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAA=="}}},
    }
    bad = {"module": "os", "class_name": "system", "config": {"name": "x"}}
    for version, cfg in (("3.8.0", _keras_cfg(lam)), ("3.10.0", _keras_cfg(bad))):
        data = zipfile_bytes(
            {"metadata.json": json.dumps({"keras_version": version}).encode(), "config.json": json.dumps(cfg).encode()}
        )
        findings = scan_bytes(tmp_path, f"m{version}.keras", data)
        if cfg is not None and version == "3.8.0":
            hit = next(f for f in findings if f.rule_id == "MODEL-030")
            assert "CVE-2025-1550" in hit.remediation.text
        else:
            hit = next(f for f in findings if f.rule_id == "MODEL-031")
            assert hit.severity is Severity.CRITICAL


def test_keras_h5_lambda(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    lam = {
        "class_name": "Lambda",
        "config": {"name": "l", "function": ["4wEAAA==", None, None], "function_type": "lambda"},
    }
    p = tmp_path / "m.h5"
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = json.dumps(_keras_cfg(lam))
        f.attrs["keras_version"] = "2.15.0"
    assert "MODEL-030" in rules(scan(p)[0])


def test_legacy_torch_tar_and_stream(tmp_path: Path) -> None:
    samples = bypass_samples(tmp_path / "m")
    for name in ("legacy.tar", "legacy_magic.pt"):
        assert "builtins.exec" in callables(scan_bytes(tmp_path, name, samples[name][0]))


def test_gzip_corrupt_and_truncated_streams(tmp_path: Path) -> None:
    import gzip

    good = gzip.compress(BENIGN_LIST + call1("os", "system", "id"))
    findings, issues = scan_bytes_issues(tmp_path, "t.pkl.gz", good[: len(good) // 2])
    assert issues and not [f for f in findings if f.rule_id != "MODEL-001"]
    assert "Corrupt compressed data" in not_analysed(tmp_path, "c.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 40)
