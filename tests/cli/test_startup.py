"""Start-up: what a command line imports before it does any work (docs/startup.md).

Each test runs a fresh interpreter, so the modules other tests imported do not hide an import that
came back; the CLI runs through `main()` as the installed `shareguard` script does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Libraries no start-up needs: heavy, and used by a few commands only (pipelines, columnar files,
# Sigma rules, SBOM writers, JSON schema checks, the terminal renderer, the detectors' engines).
HEAVY = ("apache_beam", "pyarrow", "numpy", "sigma", "cyclonedx", "jsonschema", "rich", "hyperscan", "re2")

_PROBE = """
import json, sys
from shareguard.cli.main import main
sys.argv = ["shareguard", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(argv: list[str]) -> tuple[int, str, set[str]]:
    """Exit code, what was printed before the probe's own line, and the modules loaded by `shareguard ARGV`."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    head, _, last = proc.stdout.rstrip("\n").rpartition("\n")
    probe = json.loads(last)
    return probe["code"], head, set(probe["modules"])


def test_version_imports_no_command_module() -> None:
    code, out, modules = loaded_by(["--version"])
    assert code == 0
    assert out.startswith("shareguard ")
    assert not {m for m in modules if m.startswith("shareguard.cli.") and m != "shareguard.cli.main"}
    assert not {m for m in modules if m.split(".")[0] in ("pydantic", "yaml", *HEAVY)}


@pytest.mark.parametrize("command", ["image", "audit", "config", "rootfs", "models"])
def test_scan_command_help_builds_no_catalog_and_no_heavy_library(command: str) -> None:
    code, out, modules = loaded_by([command, "--help"])
    assert code == 0
    assert "Usage:" in out
    assert "shareguard.catalog" not in modules  # its models are built when a report is written
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


_REGISTRIES_PROBE = """
import json, sys
from shareguard.cli.image import needed_plugin
from shareguard.core.registry import load_registries
load_registries(builtin_filter=needed_plugin)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_image_start_up_imports_no_reader_before_a_file_needs_it() -> None:
    """What `shareguard image` loads before its first layer: every capability's analyzers, but not the model
    format readers (imported with the first model file), SemVer (the first npm version), rich (a --quiet
    run prints nothing) or a library no image scan uses."""
    proc = subprocess.run(
        [sys.executable, "-c", _REGISTRIES_PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout))
    assert "shareguard.posture.plugin" in modules and "shareguard.models.analyzers" in modules  # the probe ran
    assert "shareguard.models.inspect" not in modules
    assert "semver" not in modules
    assert not {
        m
        for m in modules
        if m.split(".")[0] in ("apache_beam", "pyarrow", "numpy", "sigma", "cyclonedx", "jsonschema", "rich")
    }


def test_logs_registers_the_reporters_only_and_chooses_formats_as_with_every_plugin(tmp_path: Path) -> None:
    """`logs` reads only reporters from its registries; with the report and logs plugins alone every
    `--format` value is accepted or refused exactly as with every plugin loaded."""
    from shareguard.cli.common import OutputOptions, select_reporter
    from shareguard.cli.logs import needed_plugin
    from shareguard.core.errors import ConfigError
    from shareguard.core.registry import load_registries
    from shareguard.report.interface import Reporter

    full, lean = load_registries(), load_registries(builtin_filter=needed_plugin)
    names = full.of(Reporter).names()  # type: ignore[type-abstract]
    assert lean.of(Reporter).names() == [n for n in names if n in lean.of(Reporter)]  # type: ignore[type-abstract]

    def outcome(regs: object, fmt: str) -> str:
        opts = OutputOptions.build(fmt, tmp_path / "out", None, 0, True, None)
        try:
            return type(select_reporter(regs, opts, "logs")).__qualname__  # type: ignore[arg-type]
        except ConfigError as exc:
            return exc.one_line()

    for fmt in [*names, "xml"]:
        assert outcome(full, fmt) == outcome(lean, fmt), fmt


def test_logs_start_up_loads_no_other_capability() -> None:
    probe = (
        "import json, sys\n"
        "from shareguard.cli.logs import needed_plugin\n"
        "from shareguard.core.registry import load_registries\n"
        "load_registries(builtin_filter=needed_plugin)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout))
    assert "shareguard.logs.plugin" in modules
    for capability in ("image", "posture", "models", "vuln", "sensitive", "freshness"):
        assert not {m for m in modules if m.startswith(f"shareguard.{capability}.")}, capability


@pytest.mark.parametrize("argv", [["catalog", "show", "--format", "json"], ["bulletins", "show"], ["db", "--help"]])
def test_commands_that_read_local_data_import_no_http_client(argv: list[str]) -> None:
    code, _, modules = loaded_by(argv)
    assert code == 0
    assert "httpx" not in modules  # `catalog update` and `db update` import it when they fetch
