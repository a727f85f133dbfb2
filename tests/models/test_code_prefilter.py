"""The ML-code text prefilter (`ast_checks.may_judge`) skips walking only sources in which no check can
judge anything: prefiltered and full runs give identical findings, evaluations, gaps and issues (a
source that does not parse is still reported: it is parsed, only the walk of its tree is skipped)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings
from shareguard.models.analyzers import MLCodeAnalyzer
from shareguard.models.code import ast_checks
from shareguard.models.code.ast_checks import PREFILTER_TOKENS, may_judge, scan_source

ROOT = Path(__file__).resolve().parents[2]


def _run(path: str, text: str) -> tuple[list[object], list[tuple[str, str, str | None, str]]]:
    ctx = ScanContext(settings=Settings(cache_dir=Path("/nonexistent-cache")))
    data = text.encode()
    outs = list(MLCodeAnalyzer().analyze(FileEntry(rel_path=path, size=len(data), data=data), ctx))
    dumped = [o.model_dump(mode="json") if hasattr(o, "model_dump") else o for o in outs]
    return dumped, [(i.path, i.message, i.analyzer, i.kind) for i in ctx.issues]


def _both(path: str, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    prefiltered = _run(path, text)
    with monkeypatch.context() as m:
        m.setattr(ast_checks, "may_judge", lambda source: True)
        full = _run(path, text)
    return prefiltered, full


def _parses(src: str) -> bool:
    try:
        ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _assert_equivalent(path: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    prefiltered, full = _both(path, text, monkeypatch)
    assert prefiltered == full, (path, text[:300])


# --- the real sources: the snippets of the models tests, the test modules, the example platform ----


def _snippets() -> list[str]:
    """Every string literal of the models tests that looks like code, and the modules themselves."""
    out: list[str] = []
    for f in sorted((ROOT / "tests" / "models").glob("*.py")):
        text = f.read_text(encoding="utf-8")
        out.append(text)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 3:
                out.append(node.value)
    return out


SNIPPETS = _snippets()
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())


def test_the_corpus_is_not_vacuous() -> None:
    judged = [s for s in SNIPPETS if _parses(s) and scan_source(s).evaluated]
    skipped = [s for s in SNIPPETS if _parses(s) and not may_judge(s)]
    assert len(judged) > 20 and len(skipped) > 20, (len(judged), len(skipped))
    assert EXAMPLES


def test_prefilter_equivalence_over_the_models_test_snippets(monkeypatch: pytest.MonkeyPatch) -> None:
    for s in SNIPPETS:
        _assert_equivalent("app/snippet.py", s, monkeypatch)
        cell = {"cell_type": "code", "source": s}
        nb = {"cells": [cell, {"cell_type": "code", "source": "x = 1\n"}], "metadata": {}}
        _assert_equivalent("app/nb.ipynb", json.dumps(nb), monkeypatch)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_prefilter_equivalence_over_the_examples(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_equivalent(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"), monkeypatch)


def test_a_source_without_constructs_evaluates_nothing_and_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise AssertionError("walked")

    monkeypatch.setattr(ast_checks, "_walk", boom)
    src = "import os\n\ndef f(x):\n    return os.path.join(x, 'a')\n"
    assert scan_source(src, prefilter=True) == ast_checks.CodeScan([], frozenset())
    assert _run("app/m.py", src) == ([], [])
    # still parsed: code that does not parse is reported (its duties incomplete), construct or not
    _, issues = _run("app/bad.py", "def (:\n")
    assert [i[1].split(" (")[0] for i in issues] == ["Python source does not parse"]


def test_non_ascii_sources_are_always_parsed() -> None:
    # identifiers are NFKC-normalised by the parser: a fullwidth `ｔｏｒｃｈ.load` is `torch.load`
    src = "import \uff54\uff4f\uff52\uff43\uff48\n\uff54\uff4f\uff52\uff43\uff48.load('m')\n"
    assert may_judge(src)
    assert scan_source(src, prefilter=True).evaluated == {"MLCODE-001", "MLCODE-002"}


# --- generated sources --------------------------------------------------------------------------

IMPORTS = [
    "import torch", "import torch as t", "from torch import load", "from torch import load as L",
    "import pickle", "import pickle as p", "from pickle import loads as l", "import dill", "import joblib",
    "import pandas as pd", "import numpy as np", "import yaml", "from yaml import CSafeLoader",
    "import builtins", "import os", "from os import environ", "import keras", "import tensorflow as tf",
    "from transformers import AutoModel", "from huggingface_hub import hf_hub_download", "import shelve",
    "import json", "import sys", "from typing import Any", "import torch.serialization as ts",
    "from datasets import load_dataset", "import cloudpickle", "import _pickle", "import cPickle",
]  # fmt: skip
STATEMENTS = [
    "x = 1", "y = f(x)", "print('hello')", "json.loads(s)", "open('f').read()", "t.load('m')",
    "load('m', weights_only=True)", "L('m', weights_only=False)", "torch.load(f, weights_only=flag)",
    "p.loads(b)", "l(b)", "dill.load(f)", "joblib.load('m')", "pd.read_pickle('x')", "np.load('a')",
    "np.load('a', allow_pickle=True)", "yaml.load(s)", "yaml.load(s, CSafeLoader)", "yaml.safe_load(s)",
    "eval(expr)", "exec('x = 1')", "builtins.eval(e)", "os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'",
    "environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = v", "os.putenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0')",
    "os.environ.update({'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD': '1'})", "os.environ.setdefault('A', 'b')",
    "keras.models.load_model('m', safe_mode=False)", "tf.keras.models.load_model('m')", "my_load_model('m')",
    "AutoModel.from_pretrained('org/model', revision='main')", "AutoModel.from_pretrained(p, trust_remote_code=True)",
    "g(trust_remote_code=False)", "hf_hub_download('org/x', 'f.bin')", "load_dataset('org/d')",
    "shelve.open('db')", "ts.load(f)", "cloudpickle.loads(b)", "_pickle.load(f)", "cPickle.load(f)",
    "def f(a):\n    return a.load()", "class C:\n    def load(self):\n        return 1", "if x:\n    y = 2",
    "s = 'torch.load pickle yaml eval'", "# torch.load(f)", "obj.evaluate()", "v = os.path.join(a, b)",
    "x = (", "def broken(:", "\u00e9t\u00e9 = 1",
]  # fmt: skip
sources = st.lists(st.sampled_from(IMPORTS + STATEMENTS), min_size=0, max_size=8).map("\n".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=sources)
def test_prefilter_equivalence_over_generated_sources(src: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_equivalent("app/gen.py", src, monkeypatch)
    if _parses(src) and not may_judge(src):
        scan = scan_source(src)
        assert scan.hits == [] and scan.evaluated == frozenset(), src


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(sources, min_size=1, max_size=4))
def test_prefilter_equivalence_over_generated_notebooks(cells: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    nb = {"cells": [{"cell_type": "code", "source": c} for c in cells], "metadata": {}}
    _assert_equivalent("app/gen.ipynb", json.dumps(nb), monkeypatch)


def test_tokens_are_derived_from_the_tables() -> None:
    assert {"torch", "pickle", "yaml", "numpy", "eval", "exec", "environ", "trust_remote_code"} <= set(PREFILTER_TOKENS)
    assert "load" not in PREFILTER_TOKENS  # too common to be worth it: `torch`, `pickle`… are implied
