"""Memory and hang budgets of the posture parsers: Dockerfile ARG self-doubling, a 15 MB HCL list, FIFOs and
endless devices named `*.tf` beside a Terraform file. Each is a per-file issue; the scan goes on."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from core.test_waivers_hostile import finishes
from shareguard.core.errors import BudgetExceeded
from shareguard.posture.parsers import _hcl_ts
from shareguard.posture.parsers.dockerfile import parse_text
from shareguard.posture.parsers.terraform import load_hcl
from shareguard.scan import run_path_scan

DLVM_TF = (
    'resource "google_compute_instance" "vm" {\n'
    '  name = "trainer"\n'
    "  boot_disk {\n    initialize_params {\n"
    '      image = "projects/deeplearning-platform-release/global/images/family/pytorch-latest-gpu"\n'
    "    }\n  }\n"
    "  machine_type = var.machine\n"
    "}\n"
)


def _scan(root: Path):  # type: ignore[no-untyped-def]
    return run_path_scan(root, command="config", capabilities=frozenset({"posture"}))


def test_self_doubling_args_are_a_per_file_budget_issue(tmp_path: Path) -> None:
    """682 bytes that expand to gigabytes: refused after the expansion budget, in milliseconds."""
    text = "ARG A=0123456789abcdef\n" + "ARG A=$A$A\n" * 60 + "FROM python:3.11\nRUN echo $A\n"
    assert len(text) < 1000
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match="variable expansion"):
        parse_text(text, "Dockerfile")
    assert time.monotonic() - start < 5
    (tmp_path / "bomb").mkdir()
    (tmp_path / "bomb" / "Dockerfile").write_text(text)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text("FROM python:3.11\nRUN pip install --trusted-host x y==1\n")
    result = _scan(tmp_path)
    issues = {i.path: i for i in result.issues}
    assert "variable expansion" in issues["bomb/Dockerfile"].message and issues["bomb/Dockerfile"].kind == "error"
    assert any(f.resource.path == "good/Dockerfile" for f in result.findings)


def test_many_references_to_a_large_value_are_charged_as_they_expand() -> None:
    big = "x" * (1 << 20)
    with pytest.raises(BudgetExceeded, match="variable expansion"):
        parse_text(f"FROM scratch\nENV A={big}\nRUN echo " + "$A" * 100 + "\n", "Dockerfile")


def test_ordinary_expansion_is_unchanged() -> None:
    df = parse_text("ARG V=1.2\nFROM python:${V}-slim AS b\nARG V\nARG X=${V}.3\nENV Y=$X-$V\nRUN echo $Y\n")
    assert df.stages[0].base == "python:1.2-slim"
    assert df.stages[0].env["Y"] == "1.2.3-1.2"


def test_huge_hcl_list_is_refused_before_python_objects() -> None:
    """15 MB of `1,` (7.5 million values): 7 GB of Python objects before; now refused in well under a second."""
    text = "locals {\n  x = [" + "1," * 7_500_000 + "1]\n}\n"
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match="more than 1000000 values"):
        load_hcl(text, "big.tf")
    assert time.monotonic() - start < 5


def test_hcl_values_are_counted_while_converting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_hcl_ts, "MAX_VALUES", 100)
    text = "locals {\n  x = [" + ", ".join(f"{{ a = {i} }}" for i in range(60)) + "]\n}\n"
    if not _hcl_ts.available():
        pytest.skip("tree-sitter-hcl not installed")
    with pytest.raises(BudgetExceeded, match="more than 100 values"):
        _hcl_ts.loads(text, "x.tf")


def test_huge_hcl_file_is_a_per_file_issue(tmp_path: Path) -> None:
    (tmp_path / "big.tf").write_text("locals {\n  x = [" + "1," * 7_500_000 + "1]\n}\n")
    result = _scan(tmp_path)
    assert any(i.path == "big.tf" and "values" in i.message for i in result.issues)


def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
        return
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers: endless zero bytes
    except OSError as exc:
        pytest.skip(f"cannot create a device node here: {exc}")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_special_file_named_tf_beside_a_terraform_file(tmp_path: Path, kind: str) -> None:
    """The sibling lookups (variables, project metadata) read outside the workspace walker: a FIFO or a
    `/dev/zero` named `*.tf` must not block or fill memory."""
    (tmp_path / "main.tf").write_text(DLVM_TF)
    _special(tmp_path / "metadata.tf", kind)
    _special(tmp_path / "variables.tf", kind)
    result = finishes(lambda: _scan(tmp_path), 60)
    assert any(f.resource.path == "main.tf" for f in result.findings)
