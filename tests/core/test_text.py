"""`shorten`: a display shortens at a word boundary with an ellipsis, never inside a word that fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shareguard.core.text import ELLIPSIS, shorten


def test_whole_when_it_fits() -> None:
    assert shorten("Container runs as root", 40) == "Container runs as root"
    assert shorten("  two\nlines  ", 40) == "two lines"


def test_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    assert shorten("PyTorch: torch.load with weights_only=True can still run code", 30) == "PyTorch: torch.load with…"
    assert shorten("a-very-long-single-token-without-spaces", 10) == "a-very-lo…"


words = st.lists(st.text(alphabet="abcdefghij:,;-", min_size=1, max_size=12), min_size=1, max_size=30)


@given(parts=words, width=st.integers(min_value=2, max_value=120))
def test_never_longer_and_a_prefix_of_the_text(parts: list[str], width: int) -> None:
    text = " ".join(parts)
    out = shorten(text, width)
    assert len(out) <= width
    if len(text) <= width:
        assert out == text
        return
    assert out.endswith(ELLIPSIS)
    kept = out[: -len(ELLIPSIS)]
    assert text.startswith(kept)
    if " " in kept:
        # Cut between words: what follows the kept part (before punctuation was trimmed) is a word's end.
        rest = text[len(kept) :]
        assert rest[:1] in (" ", ":", ",", ";", "-") or rest == ""
