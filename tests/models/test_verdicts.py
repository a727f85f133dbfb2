"""Duty verdicts from what the model-file and ML-code analyzers really evaluated (issue #13).

A duty passes only where a rule of it was evaluated on something in its scope and nothing failed:
claiming a file assesses nothing, code without the construct a rule judges evaluates nothing, and
input that could not be analysed leaves the duties `incomplete`. Through the documented API:
`run_path_scan(path)` and `rollup(result, load_catalog())`. Samples are never loaded.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from shareguard.catalog import load_catalog
from shareguard.core.result import ScanResult
from shareguard.report.rollup import DutyStatus, rollup
from shareguard.scan import run_path_scan

from .corpus import call1, safetensors_bytes
from .helpers import DUTIES, duty_statuses, scan_result

PICKLE_RULES = {"MODEL-001", "MODEL-002", "MODEL-004", "MODEL-005", "MODEL-006"}


def _workspace(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    root = tmp_path / "ws"
    root.mkdir(parents=True)
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_bytes(content)
    return root


def _audit(tmp_path: Path, files: dict[str, bytes | str]) -> ScanResult:
    return run_path_scan(_workspace(tmp_path, files))


def _statuses(res: ScanResult) -> dict[str, str]:
    return duty_statuses(res)


def _evaluated_rules(res: ScanResult, duty: str = "DLC-C-03") -> set[str]:
    ev = res.coverage.of(duty)
    return set(ev.rules) if ev is not None else set()


def _clean_pickle() -> bytes:
    buf = io.BytesIO()
    pickle.dump({"weights": [0.5, 1.5, -2.0], "labels": ("cat", "dog"), "meta": {"epochs": 3, "ok": True}}, buf)
    return buf.getvalue()


# --- the examples of the issue ----------------------------------------------------------------


def test_hello_world_workspace_passes_no_duty(tmp_path: Path) -> None:
    res = _audit(tmp_path, {"hello.py": 'print("hello")\n'})
    assert not res.issues
    rows = rollup(res, load_catalog()).duties()
    assert {d.control.id: d.status for d in rows if d.control.id in DUTIES} == dict.fromkeys(
        DUTIES, DutyStatus.NOT_ASSESSED
    )
    assert [d.control.id for d in rows if d.status is DutyStatus.PASS] == []
    assert "models.code" in res.coverage.inputs  # the file was read, and nothing in it was in scope


def test_python_syntax_error_leaves_the_ml_code_duties_incomplete(tmp_path: Path) -> None:
    res = _audit(tmp_path, {"train.py": "import torch\ndef (:\n"})
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")
    issue = next(i for i in res.issues if i.analyzer == "models.code")
    assert issue.kind == "error" and issue.path == "train.py" and "does not parse" in issue.message
    row = next(d for d in rollup(res, load_catalog()).duties() if d.control.id == "DLC-C-03")
    assert row.gaps and "train.py" in (row.reason or "")


def test_syntax_error_does_not_hide_a_failure_elsewhere(tmp_path: Path) -> None:
    res = _audit(tmp_path, {"bad.py": "def (:\n", "load.py": "import torch\ntorch.load('m.pt', weights_only=False)\n"})
    assert _statuses(res) == dict.fromkeys(DUTIES, "fail")


def test_clean_real_pickle_passes(tmp_path: Path) -> None:
    res = _audit(tmp_path, {"models/clf.pkl": _clean_pickle()})
    assert not res.findings and not res.issues
    assert _statuses(res) == dict.fromkeys(DUTIES, "pass")
    assert _evaluated_rules(res) == PICKLE_RULES
    ev = res.coverage.of("DLC-C-03")
    assert ev is not None and ev.resources == {"models/clf.pkl"}


def test_malicious_pickle_fails(tmp_path: Path) -> None:
    res = _audit(tmp_path, {"models/clf.pkl": call1("os", "system", "id")})
    assert _statuses(res) == dict.fromkeys(DUTIES, "fail")
    assert {f.rule_id for f in res.findings} == {"MODEL-001"}


def test_truncated_pickle_is_incomplete(tmp_path: Path) -> None:
    data = _clean_pickle()
    res = _audit(tmp_path, {"models/clf.pkl": data[: len(data) // 2]})
    assert not res.findings
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")
    issue = next(i for i in res.issues if i.analyzer == "models.files")
    assert issue.kind == "error" and "not fully analysed" in issue.message and "byte" in issue.message
    assert _evaluated_rules(res) == set()  # a walk that stopped early evaluated no rule


def test_payload_before_truncation_still_fails(tmp_path: Path) -> None:
    data = call1("os", "system", "id")
    res = _audit(tmp_path, {"m.pkl": data[:-1]})  # no STOP: truncated after the REDUCE
    assert _statuses(res) == dict.fromkeys(DUTIES, "fail")
    assert any(i.analyzer == "models.files" for i in res.issues)


def test_clean_file_beside_a_truncated_one_is_incomplete(tmp_path: Path) -> None:
    data = _clean_pickle()
    res = _audit(tmp_path, {"a.pkl": data, "b.pkl": data[:-5]})
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")


# --- model-file formats: what each reader's silence means --------------------------------------


def test_torch_checkpoint_passes_on_its_pickle(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    root = _workspace(tmp_path, {})
    torch.save({"w": torch.zeros(3)}, root / "model.pt")
    res = run_path_scan(root)
    assert not res.findings and not res.issues
    assert _statuses(res) == dict.fromkeys(DUTIES, "pass")
    assert _evaluated_rules(res) >= PICKLE_RULES


def test_joblib_file_passes(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    root = _workspace(tmp_path, {})
    joblib.dump({"x": np.arange(10.0), "names": ["a", "b"]}, root / "m.joblib")
    res = run_path_scan(root)
    assert _statuses(res) == dict.fromkeys(DUTIES, "pass"), res.issues


def test_safetensors_numpy_and_onnx_evaluate_their_own_rules(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    root = _workspace(
        tmp_path,
        {
            "w.safetensors": safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 4
            )
        },
    )
    np.save(root / "a.npy", np.arange(4.0))
    res = scan_result(root)
    assert not res.findings and not res.issues
    assert _evaluated_rules(res) == {"MODEL-060", "MODEL-020"}
    assert _statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_keras_config_evaluates_the_keras_rules(tmp_path: Path) -> None:
    cfg = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"layers": [{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}}]},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.10.0"}))
        zf.writestr("config.json", json.dumps(cfg))
        zf.writestr("model.weights.h5", b"")
    res = scan_result(_workspace(tmp_path, {"m.keras": buf.getvalue()}))
    assert not res.findings and not res.issues
    assert _evaluated_rules(res) == {"MODEL-030", "MODEL-031"}


def test_zip_of_documents_assesses_nothing(tmp_path: Path) -> None:
    """A zip is claimed by its bytes (a .docx is one); members that are no model are not in scope."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("notes.txt", "hello")
    res = scan_result(_workspace(tmp_path, {"report.docx": buf.getvalue()}))
    assert not res.findings and not res.issues
    assert _statuses(res) == dict.fromkeys(DUTIES, "not_assessed")


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        ("m.pt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a recognised model format"),
        ("m.7z", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, "7z archive"),
        ("a.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 20) + b"{'descr': '<f8', ", "npy header"),
        ("a.npy", b"\x93NUMPY\x09\x00" + b"\x00" * 20, "version 9 is not supported"),
        ("m.onnx", b"\x08\x07\x3a\x50\x0a\x02ab", "malformed ONNX"),
        ("v.gguf", b"GGUF" + struct.pack("<I", 7) + b"\x00" * 16, "unsupported version 7"),
        ("x.pkl.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 40, "Corrupt compressed data"),
    ],
)
def test_input_that_cannot_be_analysed_is_incomplete(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    res = scan_result(_workspace(tmp_path, {name: data}))
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete"), (res.findings, res.issues)
    assert [f for f in res.findings if f.status.value == "fail"] == []
    msgs = [i.message for i in res.issues if i.analyzer == "models.files"]
    assert any(fragment in m for m in msgs), msgs


def test_safetensors_truncated_header_is_its_rules_failure(tmp_path: Path) -> None:
    """safetensors holds no code: a truncated header is what MODEL-060 judges, not a part left unread."""
    res = scan_result(_workspace(tmp_path, {"w.safetensors": struct.pack("<Q", 64) + b'{"a": {'}))
    assert {f.rule_id for f in res.findings} == {"MODEL-060"}
    assert _statuses(res) == dict.fromkeys(DUTIES, "fail")


# --- ML code: a rule is evaluated only where its construct occurs -----------------------------


@pytest.mark.parametrize(
    "src,evaluated",
    [
        ('print("hello")\n', set()),
        ("import os\nos.path.join('a', 'b')\nmodel.eval()\n", set()),
        ("import torch\ntorch.load('m.pt', weights_only=True)\n", {"MLCODE-001", "MLCODE-002"}),
        ("import yaml\nyaml.safe_load(open('c.yaml'))\n", {"MLCODE-005"}),
        ("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\n", {"MLCODE-005"}),
        ("import numpy as np\nnp.load('a.npy')\n", {"MLCODE-008"}),
        ("import numpy as np\nnp.load('a.npy', allow_pickle=flag)\n", set()),  # undecided: neither flagged nor passed
        ("eval('1 + 1')\n", {"MLCODE-009"}),
        (
            "from transformers import AutoModel\nAutoModel.from_pretrained('o/m', revision='" + "a" * 40 + "')\n",
            {"MLCODE-006", "MLCODE-010"},
        ),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('./local')\n", {"MLCODE-006"}),
        ("import keras\nkeras.models.load_model('m.keras')\n", {"MLCODE-007"}),
        ("import os\nos.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '0'\n", {"MLCODE-003"}),
    ],
)
def test_code_rules_evaluated_where_their_construct_is(tmp_path: Path, src: str, evaluated: set[str]) -> None:
    res = scan_result(_workspace(tmp_path, {"app.py": src}))
    assert not res.findings and not res.issues
    assert _evaluated_rules(res) == evaluated
    expected = "pass" if evaluated else "not_assessed"
    assert _statuses(res) == dict.fromkeys(DUTIES, expected)


def test_safe_load_beside_an_unsafe_one_fails(tmp_path: Path) -> None:
    src = "import torch\ntorch.load('a.pt', weights_only=True)\ntorch.load('b.pt')\n"
    res = scan_result(_workspace(tmp_path, {"app.py": src}))
    assert [f.rule_id for f in res.findings] == ["MLCODE-002"]
    assert _statuses(res) == dict.fromkeys(DUTIES, "fail")


def test_env_files(tmp_path: Path) -> None:
    res = scan_result(_workspace(tmp_path, {".env": "DB_HOST=db\n", "run.sh": "python train.py\n"}))
    assert _statuses(res) == dict.fromkeys(DUTIES, "not_assessed")
    res = scan_result(_workspace(tmp_path / "b", {".env": "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=0\n"}))
    assert _evaluated_rules(res) == {"MLCODE-003"} and _statuses(res) == dict.fromkeys(DUTIES, "pass")


def _notebook(cells: list[str], language: str | None = "python") -> str:
    meta = {"kernelspec": {"language": language, "name": "k"}} if language else {}
    return json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells], "metadata": meta, "nbformat": 4})


def test_notebooks(tmp_path: Path) -> None:
    ok = _notebook(["import torch\n", "m = torch.load('m.pt', weights_only=True)\n"])
    res = scan_result(_workspace(tmp_path / "a", {"n.ipynb": ok}))
    assert _statuses(res) == dict.fromkeys(DUTIES, "pass")
    # a cell that does not parse: the rest is checked, the notebook's duties cannot pass
    bad = _notebook(["import torch\n", "m = torch.load('m.pt', weights_only=True)\n", "x = (\n"])
    res = scan_result(_workspace(tmp_path / "b", {"n.ipynb": bad}))
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")
    assert any("cells[2]" in i.message for i in res.issues)
    # another kernel's language: nothing in the scope of the Python checks
    r_nb = _notebook(["x <- readRDS('m.rds')\n"], language="R")
    res = scan_result(_workspace(tmp_path / "c", {"n.ipynb": r_nb}))
    assert not res.issues and _statuses(res) == dict.fromkeys(DUTIES, "not_assessed")
    # not a notebook at all
    res = scan_result(_workspace(tmp_path / "d", {"n.ipynb": "{not json"}))
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")


# --- dependency files: their pins feed the vulnerability matcher -------------------------------


def test_dependency_file_that_does_not_parse_is_incomplete(tmp_path: Path) -> None:
    res = scan_result(_workspace(tmp_path, {"pyproject.toml": "[project\ndependencies = [\n"}))
    issue = next(i for i in res.issues if i.analyzer == "models.deps")
    assert issue.kind == "error" and "not parsed" in issue.message
    assert _statuses(res) == dict.fromkeys(DUTIES, "incomplete")


def test_loose_pins_are_said_not_matched(tmp_path: Path) -> None:
    res = scan_result(_workspace(tmp_path, {"requirements.txt": "numpy>=1.0\n"}))
    row = next(d for d in rollup(res, load_catalog()).duties() if d.control.id == "DLC-C-03")
    assert row.status is DutyStatus.NOT_ASSESSED
    assert "without an exact pin" in (row.reason or "")
