"""External accuracy check: other open tools' own published test cases, run through shareguard's detectors.

The cases (`tests/data/sensitive_external/cases.jsonl`, sources in its README) are the upstream test
expectations of gitleaks, detect-secrets and Presidio, verbatim. Each case names a kind (one or a few
shareguard detectors), a text and whether upstream expects a detection of that kind in it. A case shareguard
deliberately decides the other way carries `disagree` (the reason); shareguard is measured against its own
expectation (upstream's, flipped where it disagrees), and the upstream figures are printed beside.

    python benchmarks/sensitive_external.py          # the per-kind table
    python benchmarks/sensitive_external.py --peers  # and detect-secrets / Presidio on the same cases

`--peers` runs detect-secrets (its default plugins, `scan_file` on each case as a file) and Presidio's regex
recognizers (a result of score >= 0.5, as in `sensitive_scan.py`) in the peer venv `sensitive_scan.py` makes
(benchmarks/work/sensitive-peers). A peer counts only with its detector of that kind (detect-secrets' generic
high-entropy and keyword plugins name no kind; its IPv4-only plugin is left out of the IP cases, mostly IPv6);
a kind it has no detector for is left blank.

`tests/sensitive/test_external_cases.py` imports this file by path and pins the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shareguard.sensitive.analyzer import DETECTION_FLOOR
from shareguard.sensitive.engine import engine
from shareguard.sensitive.formats import Limits, Scanner

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "sensitive_external" / "cases.jsonl"

KINDS: dict[str, frozenset[str]] = {
    "slack": frozenset({"slack_token", "slack_webhook"}),
    "private_key": frozenset({"private_key", "openssh_private_key", "putty_private_key"}),
    "ip": frozenset({"ipv4_public", "ipv6_public"}),
    "phone": frozenset({"phone", "phone_national"}),
    "azure_storage": frozenset({"azure_storage_key", "azure_storage_connection_string"}),
    "huggingface_token": frozenset({"huggingface_token"}),
}
"""Kinds covering several shareguard detectors; any other kind is one detector id."""


@dataclass(frozen=True)
class Case:
    source: str
    file: str
    kind: str
    text: str
    expect: bool
    """Upstream's expectation: a detection of this kind in `text`."""
    disagree: str | None
    """Why shareguard deliberately decides the other way, if it does."""

    @property
    def ours(self) -> bool:
        """shareguard's expectation."""
        return self.expect != bool(self.disagree)


def load(path: Path = CASES) -> list[Case]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Case(d["source"], d["file"], d["kind"], d["text"], d["expect"], d.get("disagree")))
    return out


def detectors_of(kind: str) -> frozenset[str]:
    return KINDS.get(kind, frozenset({kind}))


def detected(case: Case) -> bool:
    """Whether shareguard's data-at-rest path (the file scanner, the finding floor) reports the case's kind in
    its text, as a plain text file."""
    outcome = Scanner(engine(), Limits()).scan("case.txt", case.text.encode("utf-8"))
    wanted = detectors_of(case.kind)
    return any(loc.hit.detector.id in wanted and loc.hit.confidence >= DETECTION_FLOOR for loc in outcome.hits)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif got:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(cases: Iterable[Case], *, upstream: bool = False) -> dict[str, Score]:
    """Per-kind scores against shareguard's expectations (or upstream's as written)."""
    out: dict[str, Score] = defaultdict(Score)
    for c in cases:
        got = detected(c)
        expected = c.expect if upstream else c.ours
        out[c.kind].add(expected, got)
        out["(all)"].add(expected, got)
    return dict(out)


def misses(cases: Iterable[Case]) -> list[tuple[Case, bool]]:
    """The cases where shareguard decides against its own expectation, with what it decided."""
    return [(c, got) for c in cases if (got := detected(c)) != c.ours]


PEER_KINDS: dict[str, dict[str, str]] = {
    "detect-secrets": {
        "AWS Access Key": "aws_access_key_id aws_secret_access_key",
        "Slack Token": "slack",
        "JSON Web Token": "jwt",
        "Stripe Access Key": "stripe_key",
        "GitHub Token": "github_token",
        "GitLab Token": "gitlab_token",
        "OpenAI Token": "openai_api_key",
        "Private Key": "private_key",
        "PyPI Token": "pypi_token",
        "Basic Auth Credentials": "url_userinfo",
        "SendGrid API Key": "sendgrid_api_key",
        "Telegram Bot Token": "telegram_bot_token",
        "Azure Storage Account access key": "azure_storage",
    },
    "presidio": {
        "EMAIL_ADDRESS": "email",
        "CREDIT_CARD": "credit_card",
        "IBAN_CODE": "iban",
        "US_SSN": "us_ssn",
        "IP_ADDRESS": "ip",
        "UK_NINO": "gb_nino",
        "IN_PAN": "in_pan",
        "IN_AADHAAR": "in_aadhaar",
        "CA_SIN": "ca_sin",
        "PHONE_NUMBER": "phone",
        "IT_FISCAL_CODE": "it_codice_fiscale",
    },
}
"""Peer finding type → the kinds (space-separated) it counts for."""

PEER_SCRIPT = r"""
import json, os, sys, tempfile
which = sys.argv[1]
texts = json.load(sys.stdin)
out = []
if which == "detect-secrets":
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings
    with default_settings(), tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            path = os.path.join(tmp, f"case{i}.txt")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            out.append(sorted({s.type for s in scan_file(path)}))
else:
    from presidio_analyzer import predefined_recognizers as pr
    names = ["EmailRecognizer", "CreditCardRecognizer", "IbanRecognizer", "UsSsnRecognizer", "IpRecognizer",
             "UkNinoRecognizer", "InPanRecognizer", "InAadhaarRecognizer", "CaSinRecognizer",
             "PhoneRecognizer", "ItFiscalCodeRecognizer"]
    recs = [getattr(pr, n)() for n in names if hasattr(pr, n)]
    for text in texts:
        out.append(sorted({r.entity_type for rec in recs for r in rec.analyze(text, rec.supported_entities, None)
                           if r.score >= 0.5}))
print(json.dumps(out))
"""
PEER_PYTHON = Path(__file__).resolve().parent / "work" / "sensitive-peers" / "bin" / "python"


def peer_scores(which: str, cases: list[Case], *, upstream: bool = False) -> dict[str, Score]:
    """Per-kind scores of a peer on the cases of the kinds it has a detector for."""
    table = PEER_KINDS[which]
    covered = {k for kinds in table.values() for k in kinds.split()}
    mine = [c for c in cases if c.kind in covered]
    res = subprocess.run(
        [str(PEER_PYTHON), "-c", PEER_SCRIPT, which],
        input=json.dumps([c.text for c in mine]),
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(res.stdout.strip().splitlines()[-1])
    out: dict[str, Score] = defaultdict(Score)
    for c, types in zip(mine, found, strict=True):
        got = any(c.kind in table.get(t, "").split() for t in types)
        expected = c.expect if upstream else c.ours
        out[c.kind].add(expected, got)
        out["(all)"].add(expected, got)
    return dict(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", action="store_true", help="detect-secrets and Presidio on the same cases")
    args = ap.parse_args()
    cases = load()
    ours = score(cases)
    theirs = score(cases, upstream=True)
    print(f"{len(cases)} cases, {sum(1 for c in cases if c.disagree)} marked as deliberate disagreements\n")
    print("| kind | cases | P (ours) | R (ours) | P (upstream exp.) | R (upstream exp.) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in sorted(ours, key=lambda k: (k == "(all)", k)):
        o, t = ours[kind], theirs[kind]
        n = o.tp + o.fp + o.fn + o.tn
        print(f"| {kind} | {n} | {o.precision:.3f} | {o.recall:.3f} | {t.precision:.3f} | {t.recall:.3f} |")
    if args.peers:
        if not PEER_PYTHON.exists():
            print("\n--peers: run benchmarks/sensitive_scan.py once to make the peer venv", file=sys.stderr)
            return 1
        peers = {w: (peer_scores(w, cases), peer_scores(w, cases, upstream=True)) for w in PEER_KINDS}
        print("\nOn the kinds each peer has a detector for (P / R; against shareguard's expectations | upstream's):\n")
        print("| kind | shareguard | detect-secrets | Presidio |")
        print("| --- | --- | --- | --- |")
        for kind in sorted(ours, key=lambda k: (k == "(all)", k)):
            cells = [
                f"{ours[kind].precision:.2f} / {ours[kind].recall:.2f} \\| {theirs[kind].precision:.2f} / {theirs[kind].recall:.2f}"
            ]
            for w in PEER_KINDS:
                o, t = peers[w][0].get(kind), peers[w][1].get(kind)
                cells.append(
                    ""
                    if o is None or t is None
                    else f"{o.precision:.2f} / {o.recall:.2f} \\| {t.precision:.2f} / {t.recall:.2f}"
                )
            print(f"| {kind} | " + " | ".join(cells) + " |")
        print("\nshareguard on the same cases as each peer (the kinds the peer has a detector for):")
        for w, table in PEER_KINDS.items():
            covered = {k for kinds in table.values() for k in kinds.split()}
            mine = [c for c in cases if c.kind in covered]
            o, t = score(mine)["(all)"], score(mine, upstream=True)["(all)"]
            po, pt = peers[w][0]["(all)"], peers[w][1]["(all)"]
            print(
                f"  {w:15} {len(mine)} cases: shareguard P {o.precision:.3f} R {o.recall:.3f} (upstream exp. "
                f"{t.precision:.3f} / {t.recall:.3f}); {w} P {po.precision:.3f} R {po.recall:.3f} (upstream exp. "
                f"{pt.precision:.3f} / {pt.recall:.3f})"
            )
    wrong = misses(cases)
    if wrong:
        print("\nstill wrong (against shareguard's own expectation):")
        for c, got in wrong:
            print(f"  {c.kind:22} {'FP' if got else 'FN'}  {c.source}:{c.file}  {c.text[:70]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
