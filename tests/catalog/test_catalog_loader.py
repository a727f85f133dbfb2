"""Malformed catalogs: each problem is one CatalogError naming the file and, where it can, the line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shareguard.catalog import load_catalog
from shareguard.catalog.loader import MAX_FILE_BYTES
from shareguard.core.errors import CatalogError

MakeCatalog = Callable[..., Path]

HEADER = """\
service: demo
name: Demo service
cloud: shared
controls:
"""


def _error(root: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    return info.value


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_custom_catalog_loads(make_catalog: MakeCatalog, minimal_service: str) -> None:
    catalog = load_catalog(make_catalog(**{"demo.yaml": minimal_service}))
    assert set(catalog.services) == {"demo"}
    assert catalog.control("demo-c-01").frameworks["nist-800-53-rev5"] == ("SC-28",)
    assert catalog.control("DEMO-C-01").service == "demo"


def test_bad_yaml_names_file_and_line(make_catalog: MakeCatalog) -> None:
    text = HEADER + "- id: DEMO-C-01\n  owner: customer\n  title: [unclosed\n- id: DEMO-C-02\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert err.path is not None and err.path.endswith("demo.yaml")
    assert err.line is not None and err.line >= 7
    assert "invalid YAML" in err.message
    assert err.one_line().startswith(f"{err.path}:{err.line}: ")


def test_missing_field_points_at_the_control(make_catalog: MakeCatalog) -> None:
    text = HEADER + "- id: DEMO-P-01\n  owner: provider\n  title: ok\n- id: DEMO-C-01\n  owner: customer\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "controls.1.title" in err.message and "Field required" in err.message
    assert err.line == _line_of(text, "DEMO-C-01")


def test_missing_top_level_field(make_catalog: MakeCatalog) -> None:
    text = "service: demo\nname: Demo\ncontrols: []\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "cloud" in err.message and err.line == 1


def test_unknown_field_is_rejected(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace("  title: Encrypt your data\n", "  title: Encrypt your data\n  titel: typo\n")
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "titel" in err.message and err.line == _line_of(text, "titel")


def test_duplicate_id_in_one_file(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service + "- id: DEMO-C-01\n  owner: customer\n  title: again\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "duplicate control id DEMO-C-01" in err.message
    assert err.line == len(text.splitlines()) - 2


def test_id_prefix_must_match_the_service(make_catalog: MakeCatalog, minimal_service: str) -> None:
    """Ids carry their service, so one id can never be defined by two services."""
    other = minimal_service.replace("service: demo", "service: demo2").replace("DEMO-P-01", "DEMO2-P-01")
    err = _error(make_catalog(**{"a.yaml": minimal_service, "b.yaml": other}))
    assert err.path is not None and err.path.endswith("b.yaml")
    assert "must start with 'DEMO2-'" in err.message and err.line == _line_of(other, "DEMO-C-01")


def test_same_service_in_two_files(make_catalog: MakeCatalog, minimal_service: str) -> None:
    err = _error(make_catalog(**{"a.yaml": minimal_service, "b.yaml": minimal_service}))
    assert err.path is not None and err.path.endswith("b.yaml")
    assert "also defined in" in err.message and err.line == 1


def test_unknown_framework_requirement_points_at_the_id(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace("[SC-28]", "[SC-28, SC-999]")
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "unknown nist-800-53-rev5 requirement 'SC-999'" in err.message
    assert err.line == _line_of(text, "SC-999")


def test_unknown_framework_key(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace("iso-27001-2022-annex-a:", "iso-27001-2013:")
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "unknown framework 'iso-27001-2013'" in err.message
    assert err.line == _line_of(text, "iso-27001-2013")


def test_unquoted_numeric_cis_id_gets_a_hint(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace('["3.1.1"]', '["3.1.1", 4.10]')
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "quote numeric ids" in err.message
    assert err.line == _line_of(text, "4.10")


@pytest.mark.parametrize("bad_id", ["demo-c-1", "DEMO-X-01", "DEMO-C-001", "DEMO_C_01", "-C-01"])
def test_bad_id_pattern(make_catalog: MakeCatalog, bad_id: str) -> None:
    text = HEADER + f"- id: {bad_id}\n  owner: customer\n  title: t\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "controls.0.id" in err.message and "pattern" in err.message
    assert err.line == 5


def test_owner_must_match_the_id(make_catalog: MakeCatalog) -> None:
    text = HEADER + "- id: DEMO-C-01\n  owner: provider\n  title: t\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "lacks '-P-'" in err.message and err.line == 6


def test_unknown_owner(make_catalog: MakeCatalog) -> None:
    text = HEADER + "- id: DEMO-C-01\n  owner: shared\n  title: t\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "controls.0.owner" in err.message and err.line == 6


def test_duplicate_yaml_key(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace("  title: Encrypt your data\n", "  title: Encrypt your data\n  title: Again\n")
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "duplicate key 'title'" in err.message and err.line == _line_of(text, "Again")


def test_rests_on_unknown_service(make_catalog: MakeCatalog, minimal_service: str) -> None:
    text = minimal_service.replace("controls:", "rests_on: [iam]\ncontrols:")
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "rests_on names unknown service 'iam'" in err.message and err.line == _line_of(text, "rests_on")


def test_top_level_not_a_mapping(make_catalog: MakeCatalog) -> None:
    err = _error(make_catalog(**{"demo.yaml": "- just\n- a list\n"}))
    assert "expected a mapping" in err.message


def test_empty_file(make_catalog: MakeCatalog) -> None:
    err = _error(make_catalog(**{"demo.yaml": ""}))
    assert "expected a mapping" in err.message


def test_not_utf8(make_catalog: MakeCatalog) -> None:
    err = _error(make_catalog(**{"demo.yaml": b"service: d\xe9mo\n"}))
    assert "not UTF-8" in err.message


def test_oversized_file(make_catalog: MakeCatalog) -> None:
    err = _error(make_catalog(**{"demo.yaml": "#" * (MAX_FILE_BYTES + 1)}))
    assert "larger than" in err.message


def test_yaml_bomb_is_refused_quickly(make_catalog: MakeCatalog) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    text = HEADER.replace("controls:\n", "") + "\n".join(lines) + "\ncontrols: *a9\n"
    started = time.monotonic()
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert time.monotonic() - started < 5
    assert "aliases are not allowed" in err.message and err.line is not None


def test_deep_nesting_is_an_error_not_a_crash(make_catalog: MakeCatalog) -> None:
    """50,000 brackets crash libyaml (C stack) and take PyYAML's scanner quadratic time: refused early."""
    text = HEADER + "- id: DEMO-C-01\n  owner: customer\n  title: " + "[" * 50_000 + "]" * 50_000 + "\n"
    started = time.monotonic()
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert time.monotonic() - started < 5
    assert err.path is not None and err.path.endswith("demo.yaml")
    assert "nesting deeper than" in err.message and err.line == 7


def test_deep_block_nesting_is_refused(make_catalog: MakeCatalog) -> None:
    text = HEADER + "\n".join(" " * (2 * i) + f"k{i}:" for i in range(200)) + "\n"
    err = _error(make_catalog(**{"demo.yaml": text}))
    assert "nesting deeper than" in err.message and err.line is not None


def test_bad_framework_json_names_the_line(make_catalog: MakeCatalog, minimal_service: str) -> None:
    root = make_catalog(**{"demo.yaml": minimal_service})
    (root / "frameworks" / "broken.json").write_text('{\n  "framework": "x",\n  "requirements": [,]\n}\n')
    err = _error(root)
    assert err.path is not None and err.path.endswith("broken.json")
    assert "invalid JSON" in err.message and err.line == 3


def test_framework_json_without_requirements(make_catalog: MakeCatalog, minimal_service: str) -> None:
    root = make_catalog(**{"demo.yaml": minimal_service})
    (root / "frameworks" / "broken.json").write_text(json.dumps({"framework": "x"}))
    err = _error(root)
    assert "requirements" in err.message and err.path is not None and err.path.endswith("broken.json")


def test_duplicate_requirement_id(make_catalog: MakeCatalog, minimal_service: str) -> None:
    root = make_catalog(**{"demo.yaml": minimal_service})
    reqs = [{"id": "R-1", "title": "a"}, {"id": "R-1", "title": "b"}]
    (root / "frameworks" / "dup.json").write_text(json.dumps({"framework": "x", "requirements": reqs}))
    err = _error(root)
    assert "duplicate requirement id 'R-1'" in err.message


def test_missing_directories(tmp_path: Path) -> None:
    assert "not found" in _error(tmp_path / "nope").message
    (tmp_path / "frameworks").mkdir()
    err = _error(tmp_path)
    assert "not found" in err.message and err.path is not None and err.path.endswith("services")
