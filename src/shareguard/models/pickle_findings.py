"""Turn a pickle walk into findings: policy verdict per callable, anomalies, incomplete walks."""

from __future__ import annotations

from shareguard.core.finding import SeveritySource
from shareguard.models.formats.pickle_policy import Verdict, default_policy
from shareguard.models.formats.pickle_walker import GlobalUse, WalkResult
from shareguard.models.sink import FindingSink, Where

_SAFE_LOAD = (
    "Do not load this file. If it is a PyTorch checkpoint you must use, load it with "
    "torch.load(path, weights_only=True) (it refuses these callables), and convert it to safetensors."
)


def report_walk(sink: FindingSink, where: Where, res: WalkResult, *, expect_trailing: bool = False) -> None:
    policy = default_policy()
    first: dict[str, GlobalUse] = {}
    counts: dict[str, int] = {}
    for g in res.globals:
        counts[g.full] = counts.get(g.full, 0) + 1
        first.setdefault(g.full, g)
    for full, g in first.items():
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
        sink.add(
            "MODEL-003",
            where,
            title=f"Pickle stream not fully analysed: {res.error}",
            evidence=res.error,
            offset=res.error_offset,
            key="walk-error",
            properties={"pickles": res.pickles, "opcodes": res.opcodes},
        )
    elif res.malformed:
        sink.add(
            "MODEL-003",
            where,
            title=f"Malformed pickle stream: {res.malformed[0]}",
            evidence="; ".join(res.malformed[:5]),
            key="malformed",
        )
    if res.trailing_offset is not None and not (expect_trailing or res.torch_legacy):
        sink.add(
            "MODEL-004",
            where,
            evidence=f"non-pickle data from offset {res.trailing_offset}",
            offset=res.trailing_offset,
            key="trailing",
            properties={"pickles": res.pickles},
        )
