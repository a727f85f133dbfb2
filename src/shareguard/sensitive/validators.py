"""Validators that cut false positives: check digits, number ranges, national-id rules (python-stdnum),
phone-number plans (phonenumbers), decoded structure, entropy. Each takes the matched value (a str) and
says whether it is real. They run only on the candidates the prefilter found, never over whole inputs."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from functools import cache
from importlib import import_module
from itertools import pairwise
from types import ModuleType
from urllib.parse import parse_qsl, urlsplit

_PLACEHOLDER = re.compile(
    r"^(?:\$|\{\{|<|%|\*+$|x+$|\.\.\.|redacted$|placeholder$|changeme$|change_me$|example|your[_-]|dummy|test$|none$|null$)",
    re.I,
)
_SA_DOMAINS = ("gserviceaccount.com", "appspot.gserviceaccount.com", "cloudservices.gserviceaccount.com")
_SECRET_QUERY = frozenset(
    {
        "token",
        "access_token",
        "id_token",
        "api_key",
        "apikey",
        "key",
        "x-amz-signature",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "sig",
        "signature",
        "client_secret",
        "password",
        "passwd",
    }
)
_NON_ID = re.compile(r"[^0-9A-Za-z]")


_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")
"""A digit doubled, its two digits summed (Luhn): 5 → 10 → 1."""


def luhn(digits: str) -> bool:
    """The Luhn check in C-level byte operations (a loop in Python cost ~20 µs a number, `int` per digit
    ~3 µs): the ASCII codes summed, less 48 for each digit; a string that is not all ASCII digits fails it."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    rev = digits[::-1].encode("ascii")
    return (sum(rev[0::2]) + sum(rev[1::2].translate(_DOUBLED)) - 48 * len(rev)) % 10 == 0


_IIN = re.compile(
    r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38|62|50(?:1[89]|20|38)|5893|6304|67(?:59|6[1-3]))"
)
"""Issuer prefixes (ISO/IEC 7812 IIN ranges): Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, and Maestro's
issued ranges (5018, 5020, 5038, 5893, 6304, 6759, 6761-6763; Dankort 5019), not all of its reserved 50/56-69:
a random Luhn-valid number starts there too often."""
_CARD_SEPARATOR = re.compile(r"[ -]")
_UATP = re.compile(r"^1[0-9]{14}$")
"""UATP (airline) cards: major industry identifier 1, always 15 digits."""


def credit_card(value: str) -> bool:
    digits = value.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    if " " in value or "-" in value:
        groups = [len(g) for g in _CARD_SEPARATOR.split(value)]
        if len(groups) > 5 or min(groups) < 3:
            return False  # `4 1 1 1 …` or `12-34-…` are not how cards are written
    return (_IIN.match(digits) is not None or _UATP.match(digits) is not None) and luhn(digits)


@cache
def _stdnum(name: str) -> ModuleType:
    return import_module(f"stdnum.{name}")


def _stdnum_valid(module: str, value: str) -> bool:
    try:
        return bool(_stdnum(module).is_valid(value))
    except Exception:  # python-stdnum raises its own ValidationError subclasses on odd input
        return False


def iban(value: str) -> bool:
    """python-stdnum's IBAN validation (mod 97, the country's BBAN structure from its registry, the
    country's own module where it has one), with the registry entry looked up once per country: its
    per-number lookup was ~90 µs, most of the cost of a valid IBAN."""
    compact = value.replace(" ", "").replace("-", "").replace(".", "").strip().upper()  # python-stdnum's compact
    if not _iban_mod97(compact):
        return False  # most candidates fail here, without python-stdnum's per-country checks
    bban, own_module = _iban_country(compact[:2])
    if bban is None or bban.fullmatch(compact[4:]) is None:
        return False
    return not own_module or _iban_national_valid(compact)


def _iban_national_valid(compact: str) -> bool:
    """The country module's further checks (national check digits); a bank python-stdnum's bundled registry
    does not list (`InvalidComponent`, e.g. ECBS's own example `BE68 5390 0754 7034`) is still an IBAN of the
    right form, which mod 97 and the BBAN structure have already decided."""
    try:
        return bool(_stdnum("iban").validate(compact))
    except _stdnum("exceptions").InvalidComponent:
        return True
    except Exception:  # python-stdnum's other ValidationErrors: length, format, checksums
        return False


_IBAN_FIELD = re.compile(r"([1-9][0-9]*)!([nac])")
_IBAN_CLASS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}


@cache
def _iban_country(cc: str) -> tuple[re.Pattern[str] | None, bool]:
    """(the BBAN structure of country `cc` as a pattern, or None where python-stdnum's IBAN registry does
    not know it; whether python-stdnum has a country module with further IBAN rules)."""
    from stdnum import numdb
    from stdnum.util import get_cc_module

    if not (cc.isascii() and cc.isalpha()):
        return None, False
    entry = numdb.get("iban").info(cc)[0][1]
    if not entry:
        return None, False
    structure = _IBAN_FIELD.sub(lambda m: f"{_IBAN_CLASS[m.group(2)]}{{{m.group(1)}}}", entry.get("bban", ""))
    return re.compile(structure), get_cc_module(cc, "iban") is not None


_BASE36 = {ord(ch): str(i) for i, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", start=10)}


def _iban_mod97(compact: str) -> bool:
    """ISO 13616's check (the country and check digits moved to the end, letters as 10-35, mod 97 == 1): a
    necessary condition of python-stdnum's validation, at a fraction of its cost."""
    if not compact.isascii() or not compact.isalnum():
        return False
    moved = compact[4:] + compact[:4]
    return int(moved.translate(_BASE36)) % 97 == 1


_SSN_SEPARATOR = re.compile(r"[-. ]")


def us_ssn(value: str) -> bool:
    area, group, serial = _SSN_SEPARATOR.split(value)
    if area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000" and value not in ("123-45-6789", "078-05-1120", "219-09-9999")


def de_idnr(value: str) -> bool:
    return _stdnum_valid("de.idnr", value)


def fr_nir(value: str) -> bool:
    return _stdnum_valid("fr.nir", value)


def it_codicefiscale(value: str) -> bool:
    return _stdnum_valid("it.codicefiscale", value)


def es_dni(value: str) -> bool:
    return _stdnum_valid("es.dni", value)


def es_nie(value: str) -> bool:
    return _stdnum_valid("es.nie", value)


def nl_bsn(value: str) -> bool:
    return len(set(_NON_ID.sub("", value))) > 2 and _stdnum_valid("nl.bsn", value)


def pl_pesel(value: str) -> bool:
    return len(set(value)) > 2 and _stdnum_valid("pl.pesel", value)


def in_aadhaar(value: str) -> bool:
    return _stdnum_valid("in_.aadhaar", value)


def in_pan(value: str) -> bool:
    return _stdnum_valid("in_.pan", value)


def gb_nhs(value: str) -> bool:
    return len(set(_NON_ID.sub("", value))) > 2 and _stdnum_valid("gb.nhs", value)


def ca_sin(value: str) -> bool:
    return _stdnum_valid("ca.sin", value)


_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def gb_nino(value: str) -> bool:
    """HMRC's National Insurance number rules (python-stdnum has no module for it)."""
    compact = value.replace(" ", "").upper()
    return len(compact) == 9 and compact[:2] not in _NINO_BAD_PREFIXES and compact[2:8] != "000000"


def passport(value: str) -> bool:
    return any(c.isdigit() for c in value) and len(set(value)) > 3


def date_in_past(value: str) -> bool:
    parts = re.split(r"[-/.]", value)
    y, m, d = (parts[0], parts[1], parts[2]) if len(parts[0]) == 4 else (parts[2], parts[1], parts[0])
    try:
        date = _dt.date(int(y), int(m), int(d))
    except ValueError:
        return False
    return date < _dt.date.today()


@cache
def _phonenumbers() -> ModuleType:
    return import_module("phonenumbers")


def phone_international(value: str) -> bool:
    """`phonenumbers` decides. It is given `+` and the digits only: its parser drops the same punctuation
    (spaces, dots, dashes, brackets: all the detector's pattern lets through) at a quarter of the cost of
    parsing them, and a valid number is always a possible one (its type's lengths are among the possible
    lengths), so `is_valid_number` alone is the same test."""
    pn = _phonenumbers()
    compact = "+" + "".join(ch for ch in value if "0" <= ch <= "9")
    try:
        number = pn.parse(compact, None)
    except pn.NumberParseException:
        return False
    return bool(pn.is_valid_number(number))


_NATIONAL_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "NL", "ES", "IT")


def phone_national(value: str) -> bool:
    pn = _phonenumbers()
    for region in _NATIONAL_REGIONS:
        try:
            number = pn.parse(value, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(number):
            return True
    return False


_PRIVATE_172 = frozenset(str(n) for n in range(16, 32))


def public_ipv4(value: str) -> bool:
    """A valid, globally reachable address (`ipaddress`); the private ranges of RFC 1918 and loopback, what
    logs mostly hold, are turned down from their first octets without parsing: whatever follows, such a value
    is never global (and, malformed, no address either)."""
    head, _, rest = value.partition(".")
    if (
        head == "10"
        or head == "127"
        or (head == "192" and rest.startswith("168."))
        or (head == "172" and rest.partition(".")[0] in _PRIVATE_172)
    ):
        return False
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return ip.is_global


def public_ipv6(value: str) -> bool:
    try:
        ip = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return ip.is_global and value.count(":") >= 3


def mac_address(value: str) -> bool:
    compact = value.replace(":", "").replace("-", "").lower()
    return len(set(compact)) > 2 and compact not in ("ffffffffffff", "000000000000")


def personal_email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    if any(domain == d or domain.endswith("." + d) for d in _SA_DOMAINS):
        return False  # service-account identities, not people
    if domain.rsplit(".", 1)[-1] in ("png", "jpg", "gif", "svg", "webp", "js", "css", "py"):
        return False  # `icon@2x.png`, `pkg@1.2.js`
    return not local.lower().startswith(("noreply", "no-reply", "donotreply", "git@"))


_C_LOG2_C = tuple(c * math.log2(c) if c else 0.0 for c in range(1025))
"""c·log2(c) for the counts of a value up to 1024 characters (the longest most detectors take)."""


def shannon(value: str) -> float:
    """Shannon entropy in bits per character: log2(n) − Σ c·log2(c) / n over the counts c of its n
    characters, the terms looked up (a generator of logarithms cost more than the rest of a validator)."""
    if not value:
        return 0.0
    n = len(value)
    counts = Counter(value).values()
    if n < len(_C_LOG2_C):
        return math.log2(n) - sum(map(_C_LOG2_C.__getitem__, counts)) / n
    return math.log2(n) - sum(c * math.log2(c) for c in counts) / n


_PREFIX_SEPARATOR = re.compile(r"[_-]")


def not_repetitive(value: str) -> bool:
    """A token body that is not a run of one character or a short repeated unit (`hf_aaaa…`, `ghp_xxxx…`)."""
    body = _PREFIX_SEPARATOR.split(value, maxsplit=1)[-1]  # after the prefix: `glpat-` bodies hold `_` and `-` too
    return len(set(body)) >= 6 and shannon(body) >= 2.5


def slack_token(value: str) -> bool:
    """Slack's token shapes: numeric workspace/user/bot ids then a secret (`xoxb-<id>-<id>-<secret>`), or one
    long body (configuration and refresh tokens, `xoxe-1-<146 chars>`); not `xoxb-xxxx…` or `xoxp-1234567890`."""
    parts = value.split("-")[1:]
    if len(parts) < 2:
        return False
    secret = parts[-1]
    if len(secret) < 10 or secret.isdigit() or len(set(secret)) < 6:
        return False
    return len(secret) >= 100 or any(p.isdigit() and len(p) >= 6 for p in parts[:-1])


def not_sequential(value: str) -> bool:
    """A whole token (no prefix separator to skip) neither repetitive nor holding a run of 8 consecutive characters (`abcdefgh…`,
    `12345678`): placeholders such as `AIzaSyabcdefghijklmnopqrstuvwxyz1234567`; a random body has one with a
    probability of about 1e-11."""
    if len(set(value)) < 6 or shannon(value) < 2.5:
        return False
    run = 1
    for a, b in pairwise(value):
        run = run + 1 if ord(b) - ord(a) == 1 else 1
        if run >= 8:
            return False
    return True


def high_entropy(value: str) -> bool:
    return shannon(value) >= 3.5 and len(set(value)) >= 10


def aws_secret(value: str) -> bool:
    return (
        shannon(value) >= 3.8
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


_CODE_LIKE = re.compile(r"[()\[\]{}$%<>]|^(?:self|os|this|env|process|config|settings|args|params)\.", re.I)
_WORDS = frozenset(
    {"none", "null", "true", "false", "required", "optional", "string", "str", "password", "passwd", "secret",
     "token", "undefined", "empty", "prompt", "hidden", "masked", "sensitive", "default", "value", "bytes"}
)  # fmt: skip


def not_placeholder(value: str) -> bool:
    return not _PLACEHOLDER.match(value) and "${" not in value and "{{" not in value


_IDENTIFIER = re.compile(r"[A-Za-z_]+(?:\.[A-Za-z_]+)*")


def password_value(value: str) -> bool:
    """A literal password, not code (`get_password()`, `self.password`), a type or a placeholder."""
    v = value.strip("\"'`")
    if len(v) < 6 or v.lower() in _WORDS or not not_placeholder(v) or _CODE_LIKE.search(v):
        return False
    if _IDENTIFIER.fullmatch(v) and ("_" in v or "." in v):
        return False  # an identifier or attribute path (`db_password`, `cfg.secret`)
    return len(set(v)) >= 4


def generic_secret(value: str) -> bool:
    """A high-entropy string next to a secret keyword: letters and digits, ≥ 4.0 bits per character."""
    if not not_placeholder(value) or ("/" in value.strip("/") and value.count("/") > 2):
        return False  # a path
    letters = sum(map(str.isalpha, value))
    digits = sum(map(str.isdigit, value))
    return letters >= 6 and digits >= 2 and shannon(value) >= 4.0


def jwt(value: str) -> bool:
    head = value.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def url_password(value: str) -> bool:
    try:
        password = urlsplit(value).password
    except ValueError:
        return False
    return bool(password) and not_placeholder(password or "") and (password or "").lower() not in _WORDS


def url_query_secret(value: str) -> bool:
    try:
        query = urlsplit(value).query
    except ValueError:
        return False
    for key, val in parse_qsl(query, keep_blank_values=False):
        if key.lower() in _SECRET_QUERY and len(val) >= 8 and not_placeholder(val):
            return True
    return False


VALIDATORS: dict[str, Callable[[str], bool]] = {
    f.__name__: f
    for f in (
        credit_card,
        iban,
        us_ssn,
        de_idnr,
        fr_nir,
        it_codicefiscale,
        es_dni,
        es_nie,
        nl_bsn,
        pl_pesel,
        in_aadhaar,
        in_pan,
        gb_nhs,
        gb_nino,
        ca_sin,
        passport,
        date_in_past,
        phone_international,
        phone_national,
        public_ipv4,
        public_ipv6,
        mac_address,
        personal_email,
        not_repetitive,
        high_entropy,
        slack_token,
        not_sequential,
        aws_secret,
        not_placeholder,
        password_value,
        generic_secret,
        jwt,
        url_password,
        url_query_secret,
    )
}
