"""A frozen TensorFlow graph (a bare `GraphDef`, as `tf.io.write_graph` / TF1 freezing writes it to `*.pb`).

Field numbers (tensorflow/core/framework/graph.proto, node_def.proto): GraphDef.node=1 (NodeDef),
library=2 (FunctionDefLibrary), version=3 (deprecated int32), versions=4 (VersionDef),
debug_info=5 (GraphDebugInfo); NodeDef.name=1, op=2. `.pb` is the suffix of every protobuf, so a file is
taken for a GraphDef only when its first bytes are a NodeDef with a name and a TensorFlow op name; any
other `.pb` is not a model file and is left alone. The ops are judged like a SavedModel's (MODEL-040).
"""

from __future__ import annotations

import re
from typing import BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.formats.protowire import LEN, VARINT, Source, WireError, iter_fields
from shareguard.models.formats.savedmodel import graph_fields, report_ops
from shareguard.models.sink import Where

_TOP = {1: LEN, 2: LEN, 3: VARINT, 4: LEN, 5: LEN}
_OP_NAME = re.compile(rb"^[A-Z][A-Za-z0-9_]{0,127}$")
_NODE_NAME = re.compile(rb"^[A-Za-z0-9_.\-/>]{1,512}$")


def looks_like_graphdef(head: bytes) -> bool:
    """The head starts with a GraphDef node whose own first fields are a node name and an op name."""
    if head[:1] != b"\x0a":
        return False
    src = Source(data=head)
    try:
        length, start = src.varint(1, len(head))
        end = min(len(head), start + length)
        name = op = None
        pos = start
        while pos < end and (name is None or op is None):
            key, pos = src.varint(pos, end)
            if key & 7 != LEN:
                return False
            n, pos = src.varint(pos, end)
            if pos + n > end:
                return False
            value = head[pos : pos + n]
            pos += n
            if key >> 3 == 1:
                name = value
            elif key >> 3 == 2:
                op = value
            else:
                return False  # name and op come first in every writer's NodeDef
    except WireError:
        return False
    return bool(name and op and _NODE_NAME.match(name) and _OP_NAME.match(op))


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    src = Source(fh=fh, size=size)
    found: dict[str, tuple[str, int]] = {}
    try:
        for f in iter_fields(src, 0, src.size):
            if _TOP.get(f.number) != f.wtype:
                env.sink.not_a_model(
                    where,
                    f"a protobuf that starts like a GraphDef but has top-level field {f.number} of wire type "
                    f"{f.wtype}: not a TensorFlow graph shareguard analyses",
                )
                return
        graph_fields(src, 0, src.size, found, [0])
    except WireError as exc:
        env.sink.not_analysed(where, f"malformed TensorFlow GraphDef protobuf, not fully analysed: {exc}")
    else:
        env.sink.evaluate("MODEL-040")
    report_ops(env, where, found, "Frozen TensorFlow graph")
