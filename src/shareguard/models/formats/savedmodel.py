"""TensorFlow SavedModel (`saved_model.pb`) walked as protobuf wire format, without TensorFlow.

Field numbers (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
framework/graph.proto, node_def.proto, function.proto): SavedModel.meta_graphs=2;
MetaGraphDef.graph_def=2; GraphDef.node=1, library=2; NodeDef.name=1, op=2;
FunctionDefLibrary.function=1; FunctionDef.signature=1 (OpDef.name=1), node_def=3.
The op list is data (savedmodel_ops.yaml). A graph read whole has had MODEL-040 evaluated on it; a
malformed protobuf (or one over the node budget) is a part not analysed, with the ops found before it.
A valid protobuf whose top-level fields are not SavedModel's (another message type under that name) is
not a model file shareguard analyses: said as a warning, never called malformed.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import BinaryIO

import yaml

from shareguard.models.formats.env import Env
from shareguard.models.formats.protowire import LEN, VARINT, Field, Source, WireError, iter_fields, text
from shareguard.models.sink import Where

MAX_NODES = 5_000_000


@lru_cache(maxsize=1)
def dangerous_ops() -> dict[str, str]:
    raw = resources.files("shareguard.models.formats").joinpath("savedmodel_ops.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(raw)
    return {op: group for group, ops in doc.items() for op in ops}


_TOP = {1: VARINT, 2: LEN}
"""SavedModel's top-level fields: saved_model_schema_version (int64), meta_graphs (MetaGraphDef)."""


def report_ops(env: Env, where: Where, found: dict[str, tuple[str, int]], what: str) -> None:
    """One MODEL-040 finding per dangerous op a graph uses (the first node that uses it)."""
    table = dangerous_ops()
    for op, (node, offset) in sorted(found.items()):
        env.sink.add(
            "MODEL-040",
            where,
            title=f"{what} uses op {op} ({table[op].replace('_', ' ')})",
            evidence=f"op={op} node={node}",
            offset=offset,
            key=op,
            properties={"op": op, "node": node, "group": table[op]},
        )


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    src = Source(fh=fh, size=size)
    found: dict[str, tuple[str, int]] = {}
    counter = [0]
    try:
        other = _other_message(src)
    except WireError as exc:
        env.sink.not_analysed(where, f"malformed SavedModel protobuf, not analysed: {exc}")
        return
    if other is not None:
        env.sink.not_a_model(
            where,
            f"a valid protobuf of another message type ({other}), not a SavedModel: not a model file shareguard "
            "analyses",
        )
        return
    try:
        for f in iter_fields(src, 0, src.size):
            if f.number == 2 and f.wtype == LEN:
                for g in iter_fields(src, f.offset, f.offset + f.value):
                    if g.number == 2 and g.wtype == LEN:
                        _graph(src, g, found, counter)
    except WireError as exc:
        env.sink.not_analysed(where, f"malformed SavedModel protobuf, not fully analysed: {exc}")
    else:
        env.sink.evaluate("MODEL-040")
    report_ops(env, where, found, "SavedModel")


def _other_message(src: Source) -> str | None:
    """Why the (wire-valid) top-level message is not a SavedModel, or None when its fields fit;
    WireError when the bytes are not protobuf wire format at all."""
    for f in iter_fields(src, 0, src.size):
        if _TOP.get(f.number) != f.wtype:
            return f"top-level field {f.number} of wire type {f.wtype}"
    return None


def _graph(src: Source, f: Field, found: dict[str, tuple[str, int]], counter: list[int]) -> None:
    graph_fields(src, f.offset, f.offset + f.value, found, counter)


def graph_fields(src: Source, start: int, end: int, found: dict[str, tuple[str, int]], counter: list[int]) -> None:
    """The dangerous ops of a GraphDef (its nodes and its function library) between `start` and `end`."""
    for g in iter_fields(src, start, end):
        if g.wtype != LEN:
            continue
        if g.number == 1:
            _node(src, g, found, counter)
        elif g.number == 2:
            for fn in iter_fields(src, g.offset, g.offset + g.value):
                if fn.number == 1 and fn.wtype == LEN:
                    for part in iter_fields(src, fn.offset, fn.offset + fn.value):
                        if part.number == 3 and part.wtype == LEN:
                            _node(src, part, found, counter)


def _node(src: Source, f: Field, found: dict[str, tuple[str, int]], counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise WireError(f"more than {MAX_NODES} nodes")
    name = op = ""
    op_off = f.offset
    for g in iter_fields(src, f.offset, f.offset + f.value):
        if g.wtype != LEN:
            continue
        if g.number == 1:
            name = text(src, g, 256)
        elif g.number == 2:
            op, op_off = text(src, g, 256), g.offset
    if op in dangerous_ops():
        found.setdefault(op, (name, op_off))
