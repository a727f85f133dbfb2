"""Planted secrets and personal data for the sensitive-data tests: generated (seeded) so that every value
passes its detector's validator, and nothing usable is committed."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def iban(country: str, bban: str) -> str:
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    return f"{country}{check:02d}{bban}"


@dataclass(frozen=True)
class Planted:
    aws_key_id: str
    aws_secret: str
    github: str
    stripe: str
    slack: str
    hf: str
    card: str
    iban: str
    email: str
    password_url: str

    def secrets(self) -> list[str]:
        """Every value no output may show unmasked."""
        return [
            self.aws_key_id,
            self.aws_secret,
            self.github,
            self.stripe,
            self.slack,
            self.hf,
            self.card,
            self.iban,
            self.email,
            self.password_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1],
        ]


def planted(seed: int = 17) -> Planted:
    rng = random.Random(seed)
    alnum = string.ascii_letters + string.digits
    b32 = string.ascii_uppercase + "234567"
    return Planted(
        aws_key_id="AKIA" + "".join(rng.choice(b32) for _ in range(16)),
        aws_secret="".join(rng.choice(alnum + "/+") for _ in range(38)) + "Q9",
        github="ghp_" + "".join(rng.choice(alnum) for _ in range(36)),
        stripe="sk_live_" + "".join(rng.choice(alnum) for _ in range(24)),
        slack="xoxb-"
        + "".join(rng.choice(string.digits) for _ in range(12))
        + "-"
        + "".join(rng.choice(alnum) for _ in range(24)),
        hf="hf_" + "".join(rng.choice(alnum) for _ in range(34)),
        card=luhn_complete("4", 16, rng),
        iban=iban("DE", "".join(rng.choice(string.digits) for _ in range(18))),
        email=f"{''.join(rng.choice(string.ascii_lowercase) for _ in range(8))}.doe@corp-mail.example.org",
        password_url="postgres://svc:" + "".join(rng.choice(alnum) for _ in range(16)) + "@db.internal:5432/app",
    )


def planted_files(p: Planted) -> dict[str, str]:
    """name → content: the planted values in the formats the capability reads."""
    return {
        "notes.txt": f"contact {p.email} about the migration\npayment card {p.card} on file\n",
        "creds.env": f"AWS_ACCESS_KEY_ID={p.aws_key_id}\nAWS_SECRET_ACCESS_KEY={p.aws_secret}\n",
        "customers.csv": f"id,name,email,iban\n1,Jane,{p.email},{p.iban}\n",
        "events.jsonl": '{"user": {"contact": "' + p.email + '"}, "token": "' + p.github + '"}\n',
        "app.py": f'STRIPE = "{p.stripe}"\nSLACK = "{p.slack}"\nHF = "{p.hf}"\nDB = "{p.password_url}"\n',
    }
