"""Validators: the fast paths decide exactly as the libraries and textbook definitions they stand in for."""

from __future__ import annotations

import math
import random
import string
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidComponent, ValidationError

from shareguard.sensitive.validators import credit_card, iban, luhn, shannon


def _luhn_reference(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=string.digits, min_size=1, max_size=25))
def test_luhn_is_the_textbook_check(digits: str) -> None:
    assert luhn(digits) == _luhn_reference(digits)


def test_luhn_known_numbers() -> None:
    assert luhn("79927398713") and not luhn("79927398710")
    assert not luhn("7992739871x") and not luhn("٧٩٩٢٧٣٩٨٧١٣") and not luhn("")
    assert credit_card("4111 1111 1111 1111") and not credit_card("4111 1111 1111 1112")


def _valid_iban(rng: random.Random, cc: str, bban: str) -> str:
    body = bban + cc + "00"
    check = 98 - int("".join(str(int(ch, 36)) for ch in body)) % 97
    return f"{cc}{check:02d}{bban}"


_REAL = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606",
         "BE68 5390 0754 7034", "ES91 2100 0418 4502 0005 1332", "NO93 8601 1117 947", "ME25 5050 0001 2345 6789 51",
         "NL91 ABNA 0417 1643 00", "IT60 X054 2811 1010 0000 0123 456", "CH93 0076 2011 6238 5295 7"]  # fmt: skip


def _stdnum_reference(value: str) -> bool:
    """python-stdnum's answer, except that a bank its bundled registry does not list (`InvalidComponent` from the
    country module, e.g. ECBS's own example `BE68 5390 0754 7034`) leaves the decision to the other checks."""
    try:
        stdnum_iban.validate(value)
    except InvalidComponent:
        return bool(stdnum_iban.is_valid(value, check_country=False))
    except ValidationError:
        return False
    return True


def test_real_ibans_and_their_mutations_decide_as_python_stdnum() -> None:
    """Mod 97 first, then the country's BBAN structure from python-stdnum's registry (looked up once per
    country), then the country module where python-stdnum has one (BE, ES, ME, NO): the same answer (an
    unlisted bank aside)."""
    rng = random.Random(17)
    values: list[str] = []
    for real in _REAL:
        values.append(real)
        compact = real.replace(" ", "")
        for _ in range(40):
            i = rng.randrange(len(compact))
            values.append(compact[:i] + rng.choice(string.ascii_uppercase + string.digits) + compact[i + 1 :])
            cc, bban = compact[:2], compact[4:]
            j = rng.randrange(len(bban))
            values.append(
                _valid_iban(rng, cc, bban[:j] + rng.choice(string.ascii_uppercase + string.digits) + bban[j + 1 :])
            )
            values.append(_valid_iban(rng, cc, bban[:j] + bban[j + 1 :]))  # wrong length, right check digits
    values += [_valid_iban(rng, "XX", "12345678901234"), _valid_iban(rng, "Q1", "12345678901234"), "DE89-3704.0044"]
    assert sum(stdnum_iban.is_valid(v) for v in values) > 50  # the valid side is covered too
    for v in values:
        assert iban(v) == _stdnum_reference(v), v


@settings(max_examples=300, deadline=None)
@given(
    cc=st.sampled_from(["DE", "GB", "FR", "BE", "ES", "NO", "NL", "IT", "XK", "ZZ"]),
    bban=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=4, max_size=30),
)
def test_any_iban_with_right_check_digits_decides_as_python_stdnum(cc: str, bban: str) -> None:
    value = _valid_iban(random.Random(0), cc, bban)
    assert iban(value) == _stdnum_reference(value)


_OCTETS = st.sampled_from(
    ["10", "127", "172", "192", "168", "16", "31", "32", "15", "0", "00", "010", "8", "255", "256"]
)


@settings(max_examples=400)
@given(st.lists(_OCTETS | st.integers(0, 300).map(str), min_size=1, max_size=5).map(".".join))
def test_public_ipv4_decides_as_ipaddress(value: str) -> None:
    """The RFC 1918 / loopback early exit (first octets only) gives `ipaddress`'s answer, malformed values too."""
    import ipaddress

    from shareguard.sensitive.validators import public_ipv4

    try:
        expected = ipaddress.IPv4Address(value).is_global
    except ValueError:
        expected = False
    assert public_ipv4(value) is expected


def _shannon_reference(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if value else 0.0


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=0, max_size=1500) | st.text(alphabet="ab0/+=", min_size=1000, max_size=1100))
def test_shannon_is_the_textbook_entropy(value: str) -> None:
    """The table of c·log2(c) (values under 1,025 characters) and the longer values' own logarithms both give
    the textbook −Σ p·log2(p), to rounding."""
    assert math.isclose(shannon(value), _shannon_reference(value), rel_tol=1e-12, abs_tol=1e-12)


def test_shannon_known_values() -> None:
    assert shannon("") == 0.0
    assert shannon("aaaa") == 0.0
    assert shannon("ab") == 1.0
    assert shannon(string.hexdigits[:16]) == 4.0
    assert shannon(string.hexdigits[:16] * 2) == 4.0
    assert shannon("xy" * 600) == 1.0  # past the table
