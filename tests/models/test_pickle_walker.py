"""The opcode walk: every protocol, memo/stack resolution, multi-pickle streams, hostile input."""

from __future__ import annotations

import io
import pickle
import pickletools
import struct

import pytest

from shareguard.models.formats.pickle_walker import probe_pickle, walk_stream
from shareguard.models.formats.stream import ChunkedReader

from .corpus import BENIGN_LIST, call1, global0, sbu, stack_global


def walk(data: bytes, chunk: int = 1 << 20):  # type: ignore[no-untyped-def]
    return walk_stream(ChunkedReader(io.BytesIO(data), chunk=chunk))


def names(data: bytes) -> set[str]:
    return {g.full for g in walk(data).globals}


@pytest.mark.parametrize("proto", range(6))
def test_every_protocol_of_real_pickles_walks_cleanly(proto: int) -> None:
    import collections
    import datetime

    obj = {
        "a": [1, 2.5, -3, 2**70, None, True, "é", b"\x00" * 300, bytearray(b"x")],
        "t": (1,),
        "s": {1, 2},
        "f": frozenset({3}),
        "d": collections.OrderedDict(x=1),
        "when": datetime.date(2020, 1, 2),
        "big": "y" * 10_000,
    }
    res = walk(pickle.dumps(obj, protocol=proto))
    assert res.error is None and res.pickles == 1 and not res.anomalies and not res.malformed
    assert {g.full for g in res.globals} <= {
        "collections.OrderedDict",
        "datetime.date",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "__builtin__.set",
        "__builtin__.frozenset",
        "__builtin__.bytearray",
        "_codecs.encode",
        "copy_reg._reconstructor",
        "__builtin__.object",
    }


def test_opcode_table_covers_pickletools() -> None:
    from shareguard.models.formats.pickle_walker import _HANDLERS

    codes = {ord(op.code.encode("latin-1")) for op in pickletools.opcodes}
    assert codes - set(_HANDLERS) == {ord(".")}  # STOP is handled by the loop itself


def test_stack_global_from_memo_and_get() -> None:
    data = b"\x80\x04" + sbu("os") + sbu("system") + b"0" + b"0" + b"h\x00h\x01\x93" + sbu("id") + b"\x85R."
    assert names(data) == {"os.system"}


def test_protocol0_put_get_names(tmp_path: object) -> None:
    data = b"Vos\np2\n0Vsystem\np3\n0g2\ng3\n\x93(Vls\ntR."
    assert names(data) == {"os.system"}


def test_unresolved_stack_global_is_reported() -> None:
    data = b"\x80\x04" + stack_global("builtins", "str") + b")R" + sbu("system") + b"\x93."
    res = walk(data)
    assert any(a.kind == "unresolved_global" for a in res.anomalies)


def test_inst_obj_newobj_newobj_ex_and_ext() -> None:
    inst = b"(S'x'\nios\nsystem\n."
    obj = b"\x80\x02(csubprocess\nPopen\nS'id'\no."
    newobj = b"\x80\x02cposix\nsystem\n)\x81."
    newobj_ex = b"\x80\x04cnt\nsystem\n)}\x92."
    assert names(inst) == {"os.system"}
    assert names(obj) == {"subprocess.Popen"}
    assert names(newobj) == {"posix.system"}
    assert names(newobj_ex) == {"nt.system"}
    ext = walk(b"\x80\x02\x82\x07)R.")
    assert any(a.kind == "extension" for a in ext.anomalies)


def test_build_on_a_global_is_a_mutation() -> None:
    data = b"\x80\x04" + stack_global("torch", "_utils") + b"}" + sbu("_rebuild_tensor") + sbu("builtins") + b"sb."
    res = walk(data)
    assert any(a.kind == "global_mutation" for a in res.anomalies)


def test_every_pickle_in_a_stream_is_walked() -> None:
    data = BENIGN_LIST + BENIGN_LIST + call1("os", "system", "id")
    res = walk(data)
    assert res.pickles == 3 and "os.system" in {g.full for g in res.globals}


def test_payload_before_trailing_garbage_is_found() -> None:
    res = walk(call1("os", "system", "id") + b"\xff\x00garbage")
    assert "os.system" in {g.full for g in res.globals}
    assert res.trailing_offset is not None and res.error is None


def test_truncated_stream_keeps_what_came_before() -> None:
    data = global0("os", "system", "id")[:-3]
    res = walk(data)
    assert "os.system" in {g.full for g in res.globals} and res.error is not None


def test_invalid_opcode_reports_offset() -> None:
    res = walk(b"\x80\x04K\x01\xff.")
    assert res.error is not None and "invalid opcode" in res.error and res.error_offset == 4


def test_memo_out_of_range_is_malformed_not_a_crash() -> None:
    res = walk(b"\x80\x04h\x09\x93.")
    assert res.malformed and any(a.kind == "unresolved_global" for a in res.anomalies)


def test_huge_declared_lengths_are_skipped_not_allocated() -> None:
    for op in (b"\x8e" + struct.pack("<Q", 2**62), b"B" + struct.pack("<I", 2**31), b"\x8d" + struct.pack("<Q", 2**40)):
        res = walk(b"\x80\x04" + op + b"x" * 10)
        assert res.error is not None and "past the end" in res.error


def test_large_argument_skipped_by_seek_with_small_buffer() -> None:
    blob = b"\x00" * 5_000_000
    data = b"\x80\x04\x8e" + struct.pack("<Q", len(blob)) + blob + b"0" + call1("os", "system", "x")[2:]
    res = walk(data, chunk=4096)
    assert res.error is None and "os.system" in {g.full for g in res.globals}


def test_recursion_bomb_is_handled() -> None:
    depth = 200_000
    data = b"\x80\x02" + b"(" * depth + b"l" * depth + b"."
    res = walk(data)
    assert res.error is None


def test_frames_and_protocol5_buffers() -> None:
    import pickle as p

    buf = p.PickleBuffer(b"abc")
    data = p.dumps([buf, "x" * 70_000], protocol=5, buffer_callback=lambda b: True)
    res = walk(data)
    assert res.error is None and res.pickles == 1


def test_probe() -> None:
    assert probe_pickle(pickle.dumps([1], protocol=0))
    assert probe_pickle(b"\x80\x04")
    assert not probe_pickle(b"import os\nprint(1)\n")
    assert not probe_pickle(b"# README\n")
    assert not probe_pickle(b"Version: 1\nName: x\n")
    assert not probe_pickle(b"")


def test_opcode_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from shareguard.models.formats import pickle_walker

    monkeypatch.setattr(pickle_walker, "MAX_OPCODES", 100_000)
    res = walk(b"\x80\x04" + b"N0" * 200_000 + b"N.")
    assert res.error is not None and "budget" in res.error
