"""AST checks over Python sources, notebooks and env files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shareguard.models.code.ast_checks import check_env_text, check_source
from shareguard.models.code.notebook import code_cells

from .helpers import DUTIES, duty_statuses, scan, scan_result


def ids(src: str) -> list[str]:
    return [h.rule_id for h in check_source(src)]


@pytest.mark.parametrize(
    "src,expected",
    [
        ("import torch\ntorch.load('x', weights_only=False)", ["MLCODE-001"]),
        ("import torch as t\nt.load('x')", ["MLCODE-002"]),
        ("from torch import load\nload('x', weights_only=True)", []),
        ("import torch\ntorch.load('x', weights_only=flag)", ["MLCODE-002"]),
        ("from pickle import loads as l\nl(b'')", ["MLCODE-004"]),
        ("import dill\ndill.load(f)", ["MLCODE-004"]),
        ("import joblib\njoblib.load('m.joblib')", ["MLCODE-004"]),
        ("import pandas as pd\npd.read_pickle('x')", ["MLCODE-004"]),
        ("import numpy as np\nnp.load('a', allow_pickle=True)", ["MLCODE-008"]),
        ("import numpy as np\nnp.load('a')", []),
        ("import yaml\nyaml.load(s)", ["MLCODE-005"]),
        ("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)", []),
        ("import yaml\nfrom yaml import CSafeLoader\nyaml.load(s, CSafeLoader)", []),
        ("import yaml\nyaml.unsafe_load(s)", ["MLCODE-005"]),
        ("import yaml\nyaml.full_load(s)", ["MLCODE-005"]),
        ("from transformers import AutoModel\nAutoModel.from_pretrained(p, trust_remote_code=True)", ["MLCODE-006"]),
        ("import keras\nkeras.models.load_model('m', safe_mode=False)", ["MLCODE-007"]),
        ("eval(cfg['expr'])", ["MLCODE-009"]),
        ("eval('1+1')", []),
        ("model.eval()", []),
        ("import os\nos.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'", ["MLCODE-003"]),
        ("import os\nos.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '0'", []),
        ("import os\nos.environ.update({'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD': 'true'})", ["MLCODE-003"]),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('org/m')", ["MLCODE-010"]),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('org/m', revision='main')", ["MLCODE-010"]),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('org/m', revision='" + "a" * 40 + "')", []),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('./local_dir')", []),
        ("from huggingface_hub import hf_hub_download\nhf_hub_download(repo_id='o/r', filename='f')", ["MLCODE-010"]),
    ],
)
def test_checks(src: str, expected: list[str]) -> None:
    assert ids(src) == expected


def test_env_and_shell_files() -> None:
    assert [h.rule_id for h in check_env_text("export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1\n")] == ["MLCODE-003"]
    assert check_env_text("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=0\n") == []


def test_notebook_cells_and_magics(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "torch.load(x)"},
            {
                "cell_type": "code",
                "source": ["%pip install torch\n", "!ls\n", "import torch\n", "torch.load('m.pt')\n"],
            },
            {"cell_type": "code", "source": "%%bash\nrm -rf /\n"},
        ],
        "nbformat": 4,
    }
    cells = code_cells(json.dumps(nb))
    assert [c.index for c in cells] == [1, 2]
    p = tmp_path / "n.ipynb"
    p.write_text(json.dumps(nb))
    findings, _ = scan(p)
    assert [(f.rule_id, f.location.field_path, f.location.line) for f in findings] == [("MLCODE-002", "cells[1]", 4)]


def test_unparseable_sources_are_incomplete_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def (:\n")
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "deep.py").write_text("x = " + "(" * 5000 + ")" * 5000)
    res = scan_result(tmp_path)
    assert res.findings == []
    assert sorted((i.path, i.kind) for i in res.issues) == [
        ("bad.ipynb", "error"),
        ("bad.py", "error"),
        ("deep.py", "error"),
    ]
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "incomplete")
