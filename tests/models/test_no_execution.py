"""Nothing in a scanned file ever runs or is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .corpus import bypass_samples, call1, marker_payload
from .helpers import scan


def test_payloads_never_create_their_marker(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (data, _) in bypass_samples(marker).items():
        (corpus / name).write_bytes(data)
    (corpus / "direct.pkl").write_bytes(marker_payload(marker))
    findings, _ = scan(corpus)
    assert findings and not marker.exists()


def test_modules_named_in_a_pickle_are_never_imported(tmp_path: Path) -> None:
    """A module on sys.path that would write a marker on import must stay unimported, checked in
    a fresh interpreter (sys.modules snapshot before/after the scan)."""
    pkg = tmp_path / "site"
    pkg.mkdir()
    marker = tmp_path / "IMPORTED"
    (pkg / "sg_trap_module.py").write_text(f"open({str(marker)!r}, 'w').write('x')\ndef boom(*a): pass\n")
    target = tmp_path / "t"
    target.mkdir()
    (target / "trap.pkl").write_bytes(call1("sg_trap_module", "boom", "x"))
    (target / "trap0.pkl").write_bytes(b"csg_trap_module\nboom\n(S'x'\ntR.")
    script = f"""
import sys, json
sys.path.insert(0, {str(pkg)!r})
before = set(sys.modules)
from shareguard.scan import run_path_scan
res = run_path_scan(__import__('pathlib').Path({str(target)!r}), command='models', capabilities=frozenset({{'models'}}))
new = sorted(set(sys.modules) - before)
print(json.dumps({{"new": new, "evidence": sorted(f.evidence or '' for f in res.findings)}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "sg_trap_module" not in result["new"]
    assert "sg_trap_module.boom" in result["evidence"]
    assert not marker.exists()
