"""Layer application: upper layers win, whiteouts delete a path and below, opaque dirs delete below."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.sources.image.applier import LayerResult, merge


def test_upper_file_replaces_lower_facts() -> None:
    low = LayerResult("l1", paths=["a/b", "a/c"], facts={"a/b": ["old"], "a/c": ["keep"]})
    up = LayerResult("l2", paths=["a/b"])
    facts, files = merge([low, up])
    assert facts == {"a/c": ["keep"]}
    assert files == {"a/b": "l2", "a/c": "l1"}


def test_whiteout_deletes_path_and_subtree_not_siblings() -> None:
    low = LayerResult("l1", paths=["d/x", "d/y/z", "dd/x", "d"], facts={"d/x": [1], "dd/x": [2]})
    up = LayerResult("l2", whiteouts=["d"])
    facts, files = merge([low, up])
    assert files == {"dd/x": "l1"} and facts == {"dd/x": [2]}


def test_opaque_dir_keeps_the_dir_and_the_same_layer_entries() -> None:
    low = LayerResult("l1", paths=["opt/conda/a", "opt/conda", "opt/other"], facts={"opt/conda/a": [1]})
    up = LayerResult("l2", paths=["opt/conda/b"], opaque=["opt/conda"], facts={"opt/conda/b": [2]})
    facts, files = merge([low, up])
    assert files == {"opt/conda": "l1", "opt/other": "l1", "opt/conda/b": "l2"}
    assert facts == {"opt/conda/b": [2]}


def test_root_opaque_clears_everything_below() -> None:
    low = LayerResult("l1", paths=["a", "b/c"], facts={"a": [1]})
    up = LayerResult("l2", paths=["n"], opaque=[""])
    assert merge([low, up]) == ({}, {"n": "l2"})


def test_whiteout_then_recreate_in_the_same_layer() -> None:
    low = LayerResult("l1", paths=["etc/x"], facts={"etc/x": ["old"]})
    up = LayerResult("l2", paths=["etc/x"], whiteouts=["etc/x"], facts={"etc/x": ["new"]})
    assert merge([low, up]) == ({"etc/x": ["new"]}, {"etc/x": "l2"})


_names = st.sampled_from(["a", "b", "a/b", "a/c", "a/b/c", "b/a", "ab", "a/bc"])


def _reference(layers: list[LayerResult[int]]) -> tuple[dict[str, list[int]], dict[str, str | None]]:
    """The overlay semantics spelled out path by path (the spec the fast version must match)."""
    files: dict[str, str | None] = {}
    facts: dict[str, list[int]] = {}

    def deleted(path: str, layer: LayerResult[int]) -> bool:
        parts = path.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
        return (
            path in layer.whiteouts
            or any(a in layer.whiteouts or a in layer.opaque for a in ancestors)
            or ("" in layer.opaque)
        )

    for layer in layers:
        files = {p: d for p, d in files.items() if not deleted(p, layer)}
        facts = {p: f for p, f in facts.items() if not deleted(p, layer)}
        for p in layer.paths:
            files[p] = layer.diff_id
            facts.pop(p, None)
        facts.update(layer.facts)
    return facts, files


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_names, max_size=5, unique=True),
            st.lists(_names, max_size=2, unique=True),
            st.lists(st.sampled_from(["", "a", "a/b", "b"]), max_size=1),
        ),
        max_size=4,
    )
)
def test_matches_the_reference_semantics(spec: list[tuple[list[str], list[str], list[str]]]) -> None:
    layers = [
        LayerResult(f"l{i}", paths=paths, whiteouts=wh, opaque=op, facts={p: [i] for p in paths[:2]})
        for i, (paths, wh, op) in enumerate(spec)
    ]
    assert merge(layers) == _reference(layers)
