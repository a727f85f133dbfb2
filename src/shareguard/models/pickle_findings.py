"""Turn a pickle walk into findings: policy verdict per callable, anomalies, incomplete walks.

A pickle walked to its end (every pickle of the stream, no error, nothing malformed) has had the
load-time-code rules evaluated on it; a walk that stopped early or met a malformed stream has not:
what it found before is reported, and the rest is a part not analysed (the file's duties stay
incomplete unless something failed). A tracking budget exceeded during the walk (memo, stack) is no gap:
the search for imports went on, and an import built from a value the walk stopped tracking is reported
as dangerous (MODEL-001), since it cannot be resolved to a safe name."""

from __future__ import annotations

from shareguard.core.finding import SeveritySource
from shareguard.models.formats.pickle_policy import Verdict, default_policy
from shareguard.models.formats.pickle_walker import GlobalUse, WalkResult
from shareguard.models.sink import FindingSink, Where

PICKLE_RULES = ("MODEL-001", "MODEL-002", "MODEL-005", "MODEL-006")
"""What a complete walk judges: every global (dangerous, unknown) and every call or BUILD it could not resolve."""
TRAILING_RULE = "MODEL-004"

_SAFE_LOAD = (
    "Do not load this file. If it is a PyTorch checkpoint you must use, load it with "
    "torch.load(path, weights_only=True) (it refuses these callables), and convert it to safetensors."
)


def report_walk(sink: FindingSink, where: Where, res: WalkResult, *, expect_trailing: bool = False) -> None:
    policy = default_policy()
    first: dict[str, GlobalUse] = {}
    counts: dict[str, int] = {}
    for g in res.globals:
        counts[g.full] = counts.get(g.full, 0) + res.global_counts.get((g.module, g.name), 1)
        first.setdefault(g.full, g)
    for full, g in first.items():
        if res.fully_resolved(full):
            continue  # every call reached a constant name, reported (and judged) as its own global
        verdict = policy.classify(g.module, g.name)
        if verdict is Verdict.SAFE:
            continue
        props = {"callable": full, "module": g.module, "name": g.name, "opcode": g.opcode, "occurrences": counts[full]}
        if verdict is Verdict.DANGEROUS:
            sink.add(
                "MODEL-001",
                where,
                title=f"Pickle imports dangerous callable {full}",
                evidence=full,
                offset=g.offset,
                remediation=_SAFE_LOAD,
                key=full,
                properties=props,
            )
        else:
            sink.add(
                "MODEL-002",
                where,
                title=f"Pickle imports unknown callable {full}",
                evidence=full,
                offset=g.offset,
                severity_source=SeveritySource.POLICY,
                key=full,
                properties=props,
            )
    seen: set[str] = set()
    for a in res.anomalies:
        if a.detail in seen:
            continue
        if a.origin is not None:
            module, _, name = a.origin.rpartition(".")
            if policy.classify(module, name) is not Verdict.SAFE:
                continue  # derived from a callable already reported on its own
        seen.add(a.detail)
        if a.kind == "unresolved_import":
            sink.add(
                "MODEL-001",
                where,
                title="Pickle imports a callable the scan cannot resolve to a name (built from values it does not track)",
                evidence=a.detail,
                offset=a.offset,
                remediation=_SAFE_LOAD,
                key=a.detail,
                properties={"kind": a.kind, "budgets": list(res.budgets)},
            )
            continue
        rule_id = "MODEL-005" if a.kind == "global_mutation" else "MODEL-006"
        sink.add(
            rule_id,
            where,
            title=a.detail,
            evidence=a.detail,
            offset=a.offset,
            severity_source=SeveritySource.POLICY,
            key=a.detail,
            properties={"kind": a.kind},
        )
    if res.error is not None:
        at = f" at byte {res.error_offset}" if res.error_offset is not None else ""
        done = f"; {res.pickles} pickle(s) before it were walked" if res.pickles else ""
        sink.not_analysed(where, f"pickle stream not fully analysed{at}: {res.error}{done}")
    elif res.malformed:
        sink.not_analysed(where, f"malformed pickle stream, not reliably analysed: {'; '.join(res.malformed[:3])}")
    else:
        sink.evaluate(*PICKLE_RULES)
        if not (expect_trailing or res.torch_legacy):
            sink.evaluate(TRAILING_RULE)
    if res.trailing_offset is not None and not (expect_trailing or res.torch_legacy):
        sink.add(
            "MODEL-004",
            where,
            evidence=f"non-pickle data from offset {res.trailing_offset}",
            offset=res.trailing_offset,
            key="trailing",
            properties={"pickles": res.pickles},
        )
