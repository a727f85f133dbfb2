"""ONNX models walked as protobuf wire format (no onnx package needed at run time).

Looks at: `ModelProto.opset_import` and every node's `domain` (in the main graph, subgraphs of
If/Loop/Scan attributes and model-local functions) for custom-operator domains, and every
tensor's `external_data` `location` for absolute paths or `..` escaping the model's directory.
Initializer payloads (raw_data) are skipped by offset, never read.
Field numbers: onnx/onnx.proto3 (ModelProto graph=7 opset_import=8 functions=25; GraphProto
node=1 initializer=5 sparse_initializer=15; NodeProto attribute=5 domain=7 op_type=4;
AttributeProto t=5 g=6 tensors=10 graphs=11; TensorProto name=8 external_data=13;
StringStringEntryProto key=1 value=2; FunctionProto node=7 opset_import=9 domain=10).
A model read whole has had MODEL-050 and MODEL-051 evaluated on it; a malformed protobuf (or one
over the node or nesting budget) is a part not analysed, with what was found before it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.formats.protowire import LEN, Field, Source, WireError, iter_fields, text
from shareguard.models.sink import Where

STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"})
MAX_NODES = 5_000_000
MAX_DEPTH = 32


@dataclass
class OnnxFacts:
    domains: dict[str, int] = field(default_factory=dict)
    """Custom domain -> offset of its first use."""
    ops: dict[str, str] = field(default_factory=dict)
    """Custom domain -> one op type using it."""
    external: list[tuple[str, str, int]] = field(default_factory=list)
    """(tensor name, location, offset)."""
    nodes: int = 0


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    src = Source(fh=fh, size=size)
    facts = OnnxFacts()
    try:
        _model(src, 0, src.size, facts)
    except WireError as exc:
        env.sink.not_analysed(where, f"malformed ONNX protobuf, not fully analysed: {exc}")
    else:
        env.sink.evaluate("MODEL-050", "MODEL-051")
    for domain, offset in facts.domains.items():
        op = facts.ops.get(domain, "")
        env.sink.add(
            "MODEL-050",
            where,
            title=f"ONNX model uses custom operator domain {domain!r}",
            evidence=f"domain={domain}" + (f" op_type={op}" if op else ""),
            offset=offset,
            key=domain,
            properties={"domain": domain, "op_type": op},
        )
    for tensor, location, offset in facts.external:
        if escapes(location):
            env.sink.add(
                "MODEL-051",
                where,
                title=f"ONNX external data of {tensor!r} points outside the model directory",
                evidence=f"location={location}",
                offset=offset,
                key=f"{tensor}:{location}",
                properties={"tensor": tensor, "location": location},
            )


def escapes(location: str) -> bool:
    loc = location.replace("\\", "/")
    if loc.startswith("/") or (len(loc) > 1 and loc[1] == ":") or loc.startswith("//"):
        return True
    norm = posixpath.normpath(loc)
    return norm == ".." or norm.startswith("../")


def _model(src: Source, start: int, end: int, facts: OnnxFacts) -> None:
    for f in iter_fields(src, start, end):
        if f.wtype != LEN:
            continue
        if f.number == 7:
            _graph(src, f, facts, 0)
        elif f.number == 8:
            _opset(src, f, facts)
        elif f.number == 25:
            _function(src, f, facts, 0)


def _opset(src: Source, f: Field, facts: OnnxFacts) -> None:
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.number == 1 and g.wtype == LEN:
            domain = text(src, g)
            if domain not in STANDARD_DOMAINS:
                facts.domains.setdefault(domain, g.offset)


def _graph(src: Source, f: Field, facts: OnnxFacts, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise WireError("subgraphs nested too deep")
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number == 1:
            _node(src, g, facts, depth)
        elif g.number in (5, 15):
            _tensor(src, g, facts, sparse=g.number == 15)


def _function(src: Source, f: Field, facts: OnnxFacts, depth: int) -> None:
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number == 7:
            _node(src, g, facts, depth)
        elif g.number == 9:
            _opset(src, g, facts)


def _node(src: Source, f: Field, facts: OnnxFacts, depth: int) -> None:
    facts.nodes += 1
    if facts.nodes > MAX_NODES:
        raise WireError(f"more than {MAX_NODES} nodes")
    domain = ""
    op = ""
    dom_off = f.offset
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number == 7:
            domain, dom_off = text(src, g), g.offset
        elif g.number == 4:
            op = text(src, g)
        elif g.number == 5:
            _attribute(src, g, facts, depth)
    if domain not in STANDARD_DOMAINS:
        facts.domains.setdefault(domain, dom_off)
        facts.ops.setdefault(domain, op)


def _attribute(src: Source, f: Field, facts: OnnxFacts, depth: int) -> None:
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number in (6, 11):
            _graph(src, g, facts, depth + 1)
        elif g.number in (5, 10):
            _tensor(src, g, facts, sparse=False)


def _tensor(src: Source, f: Field, facts: OnnxFacts, *, sparse: bool) -> None:
    if sparse:  # SparseTensorProto: values=1, indices=2 are TensorProtos
        for g in iter_fields(src, f.offset, f.offset + f.value):
            if g.wtype == LEN and g.number in (1, 2):
                _tensor(src, g, facts, sparse=False)
        return
    name = ""
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number == 8:
            name = text(src, g)
        elif g.number == 13:
            key = value = ""
            for h in iter_fields(src, g.offset, g.offset + g.value):
                if h.wtype == LEN and h.number == 1:
                    key = text(src, h)
                elif h.wtype == LEN and h.number == 2:
                    value = text(src, h)
            if key == "location":
                facts.external.append((name, value, g.offset))
