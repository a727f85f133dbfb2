"""Property tests: whatever a catalog file holds, loading it succeeds or raises CatalogError, nothing else."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.catalog import load_catalog
from shareguard.core.errors import CatalogError

BUNDLED = Path(str(resources.files("shareguard.catalog").joinpath("data")))
REAL_SERVICE = (BUNDLED / "services" / "dataflow.yaml").read_text(encoding="utf-8")

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.dates()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_fields = st.sampled_from(["id", "owner", "title", "frameworks", "rests_on", "service", "controls", "source"])


@st.composite
def _mutated_real_file(draw: st.DrawFn) -> str:
    """The real dataflow.yaml with a slice cut out and random text spliced in."""
    text = REAL_SERVICE
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 200)))
    insert = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
    return text[:start] + insert + text[end:]


@st.composite
def _structured(draw: st.DrawFn) -> str:
    """Documents shaped like a catalog file, with random values in the known fields."""
    control = draw(st.dictionaries(_fields, _values, max_size=5))
    doc = {"service": "dataflow", "name": "x", "cloud": "gcp", "controls": [control]}
    doc.update(draw(st.dictionaries(_fields, _values, max_size=2)))
    return yaml.safe_dump(doc, allow_unicode=True)


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-catalog")
    (root / "services").mkdir()
    (root / "frameworks").symlink_to(BUNDLED / "frameworks", target_is_directory=True)
    return root


def _load(catalog_dir: Path, text: str) -> None:
    (catalog_dir / "services" / "x.yaml").write_text(text, encoding="utf-8")
    try:
        load_catalog(catalog_dir)
    except CatalogError as exc:
        assert exc.path is not None and exc.path.endswith("x.yaml")
        assert "\n" not in exc.one_line()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=400))
def test_random_text_only_raises_catalog_error(catalog_dir: Path, text: str) -> None:
    _load(catalog_dir, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_mutated_real_file())
def test_mutated_real_file_only_raises_catalog_error(catalog_dir: Path, text: str) -> None:
    _load(catalog_dir, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_structured())
def test_structured_garbage_only_raises_catalog_error(catalog_dir: Path, text: str) -> None:
    _load(catalog_dir, text)
