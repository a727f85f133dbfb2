"""Validators that cut detector false positives: check digits, number ranges, structure."""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

_PLACEHOLDER = re.compile(r"^(?:\$|\{\{|<|%|\*+$|x+$|\.\.\.|redacted$|placeholder$)", re.I)
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


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def credit_card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    # Issuer prefixes: Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay.
    if not re.match(r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38|62)", digits):
        return False
    return luhn(digits)


def iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    try:
        from stdnum import iban as std_iban  # python-stdnum knows each country's length and format
    except ImportError:  # pragma: no cover - fallback when python-stdnum is absent
        if not 15 <= len(compact) <= 34:
            return False
        moved = compact[4:] + compact[:4]
        num = "".join(str(int(c, 36)) for c in moved)
        return int(num) % 97 == 1
    return bool(std_iban.is_valid(compact))


def us_ssn(value: str) -> bool:
    area, group, serial = value.split("-")
    if area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000" and value not in ("123-45-6789", "078-05-1120")


def public_ipv4(value: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return ip.is_global


def personal_email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    if any(domain == d or domain.endswith("." + d) for d in _SA_DOMAINS):
        return False  # service-account identities, not people
    return not local.lower().startswith(("noreply", "no-reply", "donotreply"))


def jwt(value: str) -> bool:
    head = value.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def not_placeholder(value: str) -> bool:
    return not _PLACEHOLDER.match(value) and "${" not in value and "{{" not in value


def url_password(value: str) -> bool:
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return False
    return bool(password) and not_placeholder(password or "")


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
    "credit_card": credit_card,
    "iban": iban,
    "us_ssn": us_ssn,
    "public_ipv4": public_ipv4,
    "personal_email": personal_email,
    "jwt": jwt,
    "not_placeholder": not_placeholder,
    "url_password": url_password,
    "url_query_secret": url_query_secret,
}
