"""picklescan's own samples (tests/data/picklescan, hostile: never loaded) are all classified.

Expectations are derived from picklescan's tests/test_scanner.py (which globals it reports as
dangerous per file) plus the later samples' names (malicious14-20: runpy, bdb, pip, inductor,
pydoc, functools.partial+torch.load, venv). Benign files must raise nothing; every other file
must be flagged — a dangerous callable or another finding — or be an issue that says why it was not
analysed (its duties incomplete, never passing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import callables, rules, scan_result

DANGEROUS = {
    "malicious0.pkl": "__builtin__.eval",
    "malicious1_v0.pkl": "__builtin__.eval",
    "malicious1_v3.pkl": "builtins.eval",
    "malicious1_v4.pkl": "builtins.eval",
    "malicious1.zip": "builtins.eval",
    "malicious1_0x1.zip": "builtins.eval",
    "malicious1_0x20.zip": "builtins.eval",
    "malicious1_0x40.zip": "builtins.eval",
    "malicious1_central_directory.zip": "builtins.eval",
    "malicious1_wrong_ext.zip": "builtins.eval",
    "malicious2_v0.pkl": "posix.system",
    "malicious2_v3.pkl": "posix.system",
    "malicious2_v4.pkl": "posix.system",
    "malicious3.pkl": "httplib.HTTPSConnection",
    "malicious4.pickle": "requests.api.get",
    "malicious5.pickle": "aiohttp.client.ClientSession",
    "malicious6.pkl": "requests.api.get",
    "malicious7.pkl": "socket.create_connection",
    "malicious8.pkl": "subprocess.run",
    "malicious9.pkl": "sys.exit",
    "malicious10.pkl": "__builtin__.exec",
    "malicious11.pkl": "os.system",
    "malicious12.pkl": "operator.attrgetter",
    "malicious13a.pkl": "pickle.loads",
    "malicious13b.pkl": "_pickle.loads",
    "malicious14.pkl": "runpy._run_code",
    "malicious15a.pkl": "bdb.Bdb.run",  # getattr(bdb.Bdb, "run"): reported as the name it reaches
    "malicious15b.pkl": "bdb.Bdb.run",
    "malicious16.pkl": "pip.main",
    "malicious17.pkl": "torch._inductor.codecache.compile_file",
    "malicious18.pkl": "pydoc.pipepager",
    "malicious19.pkl": "torch.serialization.load",
    "malicious20.pkl": "venv.create",
    "malicious-invalid-bytes.pkl": "os.system",
    "broken_model.pkl": "builtins.exec",
    "pytorch_magic_bypass.pt": "posix.system",
}
# Flagged by another rule: the reason it was not (or not only) a plain callable.
OTHER = {
    "sys_module_override_sploit.pkl": "MODEL-005",  # BUILD rewrites torch._utils
    "benign_password_protected.zip": "MODEL-012",  # the encrypted flag (loaders ignore it)
}
# Not (fully) analysed: an issue saying why (the duties stay incomplete).
NOT_ANALYSED = {
    "malicious1.7z": "7z archive: content not analysed",
    "bad_pytorch.pt": "not a recognised model format (PNG image)",
    "not_a_pickle.bin": "pickle stream not fully analysed",  # truncated stream that would import module `mod`
    "broken_model.pkl": "pickle stream not fully analysed",  # exec found before the stream breaks
}
BENIGN = {"benign0_v0.pkl", "benign0_v3.pkl", "benign0_v4.pkl", "pytorch_model.bin", "new_pytorch_model.bin"}


@pytest.fixture(scope="module")
def scanned(picklescan_samples: Path) -> tuple[dict[str, list[object]], dict[str, list[str]]]:
    data = picklescan_samples
    res = scan_result(data)
    by: dict[str, list[object]] = {p.name: [] for p in data.iterdir() if p.is_file()}
    for f in res.findings:
        by.setdefault(f.resource.path, []).append(f)
    issues: dict[str, list[str]] = {}
    for i in res.issues:
        issues.setdefault(i.path, []).append(i.message)
    return by, issues


@pytest.fixture(scope="module")
def results(scanned: tuple[dict[str, list[object]], dict[str, list[str]]]) -> dict[str, list[object]]:
    return scanned[0]


def test_every_sample_has_an_expectation(results: dict[str, list[object]]) -> None:
    assert set(results) == set(DANGEROUS) | set(OTHER) | set(NOT_ANALYSED) | BENIGN
    assert not BENIGN & set(NOT_ANALYSED)


def test_samples_not_analysed_say_why(scanned: tuple[dict[str, list[object]], dict[str, list[str]]]) -> None:
    issues = scanned[1]
    assert set(issues) == set(NOT_ANALYSED), issues
    for name, fragment in NOT_ANALYSED.items():
        assert any(fragment in m for m in issues[name]), (name, issues[name])


def test_dangerous_samples(results: dict[str, list[object]]) -> None:
    for name, expected in DANGEROUS.items():
        assert expected in callables(results[name]), (name, [(f.rule_id, f.evidence) for f in results[name]])  # type: ignore[attr-defined]


def test_other_flagged_samples(results: dict[str, list[object]]) -> None:
    for name, rule in OTHER.items():
        assert rule in rules(results[name]), (name, rules(results[name]))  # type: ignore[arg-type]


def test_benign_samples(results: dict[str, list[object]]) -> None:
    for name in BENIGN:
        assert results[name] == [], name
