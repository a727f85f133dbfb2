"""Issue #14, pickle walker: a budget never lowers a verdict (11), real memos are not malformed and cost
memory bounded by what the decision needs (12), the ecosystem's data classes are reviewed safe (14), a
pickle behind a short header is walked (15). Every pickle here is walked, never loaded."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import tracemalloc
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.severity import Severity
from shareguard.models.formats import pickle_walker
from shareguard.models.formats.pickle_policy import Verdict, default_policy
from shareguard.models.formats.pickle_walker import WalkResult, walk_stream
from shareguard.models.formats.sniff import Kind, pickle_offset, sniff
from shareguard.models.formats.stream import ChunkedReader

from .corpus import call1, sbu, stack_global
from .helpers import DUTIES, duty_statuses, model_issues, scan_bytes, scan_result


def walk(data: bytes) -> WalkResult:
    return walk_stream(ChunkedReader(io.BytesIO(data)))


@contextmanager
def budgets(**values: int) -> Iterator[None]:
    """Lower walker budgets (module constants) for the block; hypothesis-safe (no fixture)."""
    old = {k: getattr(pickle_walker, k) for k in values}
    try:
        for k, v in values.items():
            setattr(pickle_walker, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(pickle_walker, k, v)


def memo_index_payload(padding: int, pad: bytes = b"N\x940") -> bytes:
    """The item-11 sample: `padding` memo entries (`pad`: None, MEMOIZE, POP), then 'posix' and 'system'
    memoised, fetched back by index (LONG_BINGET) for STACK_GLOBAL, and called."""
    out = bytearray(b"\x80\x04")
    out += pad * padding
    out += b"\x8c\x05posix\x940\x8c\x06system\x940"
    out += b"j" + struct.pack("<I", padding) + b"j" + struct.pack("<I", padding + 1) + b"\x93"
    out += b"\x8c\x02id\x85R."
    return bytes(out)


def critical(tmp_path: Path, name: str, data: bytes) -> list[str]:
    """Scan one file: it must fail its duties with a critical MODEL-001; returns the critical evidence."""
    p = tmp_path / name
    p.write_bytes(data)
    res = scan_result(p)
    crit = [f.evidence or "" for f in res.findings if f.rule_id == "MODEL-001" and f.severity is Severity.CRITICAL]
    assert crit, ([(f.rule_id, f.severity, f.title) for f in res.findings], model_issues(res))
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "fail")
    return crit


# -- 11: a budget never lowers the severity of what follows it ---------------------------------


@pytest.mark.slow
def test_item11_import_by_memo_index_after_4m_padding_is_critical(tmp_path: Path) -> None:
    """The reported sample itself: 4.1 M padding entries (12 MB), then posix.system by memo index."""
    data = memo_index_payload(4_100_000)
    assert 12_000_000 < len(data) < 13_000_000
    assert critical(tmp_path, "padded.pkl", data) == ["posix.system"]


def test_item11_names_memoised_past_the_dense_memo_still_resolve(tmp_path: Path) -> None:
    with budgets(MAX_MEMO=1000):
        assert critical(tmp_path, "padded.pkl", memo_index_payload(1100)) == ["posix.system"]
        res = walk(memo_index_payload(1100))
    assert not res.malformed and res.budgets and {g.full for g in res.globals} == {"posix.system"}


def test_item11_past_every_memo_budget_an_unresolvable_import_is_dangerous(tmp_path: Path) -> None:
    with budgets(MAX_MEMO=1000, MAX_MEMO_EXTRA=1):
        res = walk(memo_index_payload(1100))
        assert [a.kind for a in res.anomalies][:1] == ["unresolved_import"] and not res.malformed
        evidence = critical(tmp_path, "padded.pkl", memo_index_payload(1100))
    assert "STACK_GLOBAL" in evidence[0] and "budget" in evidence[0]


def test_item11_memo_text_budget(tmp_path: Path) -> None:
    data = memo_index_payload(20, sbu("padding") + b"0")  # 8 arena bytes each
    with budgets(MAX_MEMO_TEXT=64):
        res = walk(data)
        assert any(a.kind == "unresolved_import" for a in res.anomalies), res
        critical(tmp_path, "text.pkl", data)


def test_item11_stack_budget_drops_the_stack_but_not_the_search(tmp_path: Path) -> None:
    """Over the stack budget the walk used to stop (the rest unanalysed); now it drops the stack and
    walks on: the names pushed before are lost, so the import built from them is dangerous, and a
    later plain GLOBAL is still found."""
    data = (
        b"\x80\x04\x8c\x05posix\x8c\x06system"
        + b"N" * 1500
        + b"0" * 1500
        + b"\x93\x8c\x02id\x85R0"
        + b"cbuiltins\nexec\n."
    )
    with budgets(MAX_STACK=1000):
        res = walk(data)
        assert res.error is None and not res.malformed and res.budgets
        assert any(a.kind == "unresolved_import" for a in res.anomalies)
        assert "builtins.exec" in {g.full for g in res.globals}
        critical(tmp_path, "deep.pkl", data)


def test_item11_a_long_memoised_name_is_not_dropped_to_medium(tmp_path: Path) -> None:
    # os + "path.os.path.os…system" (a getattr chain over 255 bytes): the memo does not keep the
    # name's text, so the import cannot be resolved: dangerous, as the module alone would make it.
    chain = "path.os." * 40 + "system"
    raw = chain.encode()
    data = b"\x80\x04" + sbu("os") + b"0X" + struct.pack("<I", len(raw)) + raw + b"\x940h\x00h\x01\x93" + sbu("id")
    evidence = critical(tmp_path, "chain.pkl", data + b"\x85R.")
    assert "STACK_GLOBAL" in evidence[0]


def test_item11_a_memoised_global_past_the_tracked_budget_is_not_a_silent_pass() -> None:
    # The global is judged where it is imported (GLOBAL/STACK_GLOBAL), whatever the memo keeps.
    data = b"\x80\x04" + b"cos\nsystem\n\x94" * 5 + b"h\x04\x8c\x02id\x85R."
    with budgets(MAX_TRACKED=2):
        res = walk(data)
    assert "os.system" in {g.full for g in res.globals} and res.global_counts[("os", "system")] == 5


# -- 12: benign pickles with big memos ----------------------------------------------------------


def _benign_past_cap(n: int) -> bytes:
    """Many memoised objects, then classes first seen after them (their module string is memoised
    past the cap and fetched back by the second class of the same module)."""
    rows = [{"id": i, "name": f"item{i}", "ok": i % 2 == 0} for i in range(n)]
    tail = [collections.OrderedDict(a=1), collections.Counter("ab"), collections.OrderedDict(b=2)]
    return pickle.dumps([rows, tail], protocol=4)


@pytest.mark.parametrize("cap", [1000, 1500, 4000])
def test_item12_benign_memo_over_the_dense_budget_is_not_malformed(tmp_path: Path, cap: int) -> None:
    data = _benign_past_cap(1200)
    assert b"\x8c\x0bcollections\x94" in data and b"\x93" in data
    with budgets(MAX_MEMO=cap):
        res = walk(data)
        assert res.error is None and not res.malformed and not res.anomalies, res
        assert {g.full for g in res.globals} == {"collections.OrderedDict", "collections.Counter"}
        p = tmp_path / "rows.pkl"
        p.write_bytes(data)
        scanned = scan_result(p)
    assert not scanned.findings and not model_issues(scanned)
    assert duty_statuses(scanned) == dict.fromkeys(DUTIES, "pass")


def test_item12_memo_memory_is_bounded_by_names_not_objects() -> None:
    """10 k small dicts (40 k memo entries): the old memo held every object (≈ 7 MB traced here); the
    walk now keeps 4 bytes per entry plus the names' bytes (the rest is the 64 KiB read buffer)."""
    data = pickle.dumps([{"id": i, "name": f"n{i}", "v": [i]} for i in range(10_000)], protocol=4)
    tracemalloc.start()
    try:
        res = walk_stream(ChunkedReader(io.BytesIO(data), chunk=1 << 16))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.error is None and not res.malformed
    assert peak < 2_500_000, f"peak {peak / 1e6:.1f} MB for a {len(data) / 1e6:.2f} MB pickle"


def test_item12_memo_semantics_kept() -> None:
    # PUT keys out of order, overwrites, MEMOIZE after holes (it takes len(memo), which may overwrite).
    put = b"r" + struct.pack("<I", 7)  # LONG_BINPUT 7
    data = b"\x80\x04\x8c\x02os" + put + b"0\x8c\x04math" + b"\x94" + b"0"  # memo {7: 'os', 1: 'math'}
    data += b"\x8c\x06system\x94" + b"0" + b"j" + struct.pack("<I", 7) + b"h\x02\x93\x8c\x02id\x85R."
    res = walk(data)
    assert {g.full for g in res.globals} == {"os.system"} and not res.malformed
    # GET of a key never set is malformed (the unpickler fails there), a negative PUT stops the walk.
    assert walk(b"\x80\x04h\x05\x8c\x02id\x93.").malformed
    assert walk(b"(p-1\n.").error == "negative memo key"


# -- 14: the ecosystem's own data classes --------------------------------------------------------


def _ecosystem_objects() -> dict[str, Any]:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    sp = pytest.importorskip("scipy.sparse")
    joblib_compat = pytest.importorskip("joblib.numpy_pickle_compat")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    pipeline = pytest.importorskip("sklearn.pipeline")
    linear = pytest.importorskip("sklearn.linear_model")
    df = pd.DataFrame(
        {
            "a": [1, 2, 3],
            "b": [1.5, None, 2.0],
            "c": ["x", "y", None],
            "cat": pd.Categorical(["u", "v", "u"]),
            "dt": pd.to_datetime(["2020-01-01", None, "2021-01-01"]),
            "td": pd.to_timedelta([1, 2, 3], unit="s"),
            "i": pd.array([1, None, 3], dtype="Int64"),
            "bo": pd.array([True, None, False], dtype="boolean"),
            "s": pd.array(["a", None, "c"], dtype="string"),
            "f": pd.array([1.0, None, 3.0], dtype="Float64"),
            "p": pd.period_range("2020-01", periods=3, freq="M"),
            "iv": pd.IntervalIndex.from_breaks([0, 1, 2, 3]),
            "sp": pd.arrays.SparseArray([0, 0, 1]),
            "utc": pd.date_range("2020", periods=3, tz="UTC"),
            # pickled as getattr(zoneinfo.ZoneInfo, "_unpickle")("Europe/Berlin", 1)
            "berlin": pd.date_range("2020", periods=3, tz=zoneinfo.ZoneInfo("Europe/Berlin")),
        }
    )
    objs: dict[str, Any] = {
        "frame": df,
        "frame_multiindex": df.set_index(["a", "c"]),
        "series": pd.Series([1, 2, 3], name="s", index=pd.Index(["a", "b", "c"])),
        "indexes": [
            pd.RangeIndex(10),
            pd.MultiIndex.from_tuples([(1, "a"), (2, "b")]),
            pd.date_range("2020-01-01", periods=5, freq="D"),
            pd.timedelta_range("1 day", periods=3),
            pd.period_range("2020", periods=3, freq="Y"),
            pd.CategoricalIndex(["a", "b"]),
            pd.interval_range(0, 3),
        ],
        "scalars": [
            pd.Timestamp("2020-01-01"),
            pd.Timedelta("1 day"),
            pd.NaT,
            pd.NA,
            pd.Period("2020-01", freq="M"),
            pd.Interval(0, 1),
            pd.offsets.BusinessDay(2),
        ],
        "numpy": [np.matrix([[1, 2], [3, 4]]), np.ma.masked_array([1, 2], mask=[0, 1])],
        "ndarray_wrappers": [
            joblib_compat.NDArrayWrapper("x.npy", np.ndarray),
            joblib_compat.ZNDArrayWrapper("x.npy", np.ndarray, 0),
        ],
        "function_transformers": pipeline.make_pipeline(
            *(
                preprocessing.FunctionTransformer(f)
                for f in (np.log, np.exp, np.sqrt, np.abs, np.square, np.tanh, np.sign, np.log2, np.log10)
            ),
            preprocessing.FunctionTransformer(np.log1p, inverse_func=np.expm1),
            linear.LogisticRegression(),
        ),
    }
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        m = sp.random(5, 5, density=0.3, format=fmt, random_state=0)
        objs[f"sparse_{fmt}"] = [m, getattr(sp, f"{fmt}_array")(m)]
    return objs


@pytest.mark.parametrize("proto", [2, 4, 5])
def test_item14_ecosystem_data_classes_are_silent(tmp_path: Path, proto: int) -> None:
    policy = default_policy()
    for name, obj in _ecosystem_objects().items():
        data = pickle.dumps(obj, protocol=proto)  # our own objects, pickled here; the bytes are only walked
        res = walk(data)
        assert res.error is None and not res.malformed and not res.anomalies, (name, res)
        loud = {g.full: policy.classify(g.module, g.name) for g in res.globals}
        # a name-resolving callable is judged by the names it reached, which are in `globals` too
        loud = {k: v for k, v in loud.items() if not res.fully_resolved(k)}
        assert all(v is Verdict.SAFE for v in loud.values()), (name, {k: v for k, v in loud.items() if v != "safe"})
        p = tmp_path / f"{name}.pkl"
        p.write_bytes(data)
        scanned = scan_result(p)
        assert not scanned.findings and not model_issues(scanned), name
        assert duty_statuses(scanned) == dict.fromkeys(DUTIES, "pass"), name


def test_item14_reviewed_entries_are_data_with_reasons() -> None:
    policy = default_policy()
    assert len(policy.reasons) > 50
    for full, reason in policy.reasons.items():
        assert len(reason) > 20, full
        module = full.removesuffix(".*").rpartition(".")[0] if full.endswith(".*") else full.rpartition(".")[0]
        assert not any(full == p or full.startswith(p + ".") for p in policy.dangerous_prefixes), full
        assert not any(module == p or module.startswith(p + ".") for p in policy.dangerous_prefixes), full
    assert policy.reason("pandas", "DataFrame") and policy.reason("pandas._libs.tslibs.offsets", "Day")
    assert policy.reason("pandas", "read_pickle") is None


@pytest.mark.parametrize(
    "full",
    [
        "pandas.read_pickle",
        "pandas.eval",
        "pandas.core.computation.eval.eval",
        "pandas.io.pickle.read_pickle",
        "pandas.read_csv",
        "numpy.load",
        "numpy.loadtxt",
        "numpy.frompyfunc",
        "numpy.core._ufunc_reconstruct",
        "numpy._core._ufunc_reconstruct",
        "scipy.sparse.load_npz",
        "scipy.io.loadmat",
        "pandas._libs.tslibs.offsets.to_offset",
        "builtins.eval",
        "builtins.getattr",
        "zoneinfo.ZoneInfo.from_file",
    ],
)
def test_item14_code_and_file_callables_are_never_allowlisted(full: str) -> None:
    module, _, name = full.rpartition(".")
    assert default_policy().classify(module, name) is not Verdict.SAFE


@pytest.mark.parametrize(
    "full", ["pandas.eval", "pandas.core.computation.eval.eval", "numpy.loadtxt", "scipy.io.loadmat"]
)
def test_item14_ecosystem_code_and_file_helpers_are_dangerous(full: str) -> None:
    module, _, name = full.rpartition(".")
    assert default_policy().classify(module, name) is Verdict.DANGEROUS


# -- 15: a pickle behind a prefix ----------------------------------------------------------------

HASH_LINE = b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"


def test_item15_hash_line_then_pickle_is_walked(tmp_path: Path) -> None:
    payload = call1("os", "system", "id")
    assert sniff(HASH_LINE + payload, "x.cache") is Kind.PICKLE and pickle_offset(HASH_LINE + payload) == 65
    assert critical(tmp_path, "entry.cache", HASH_LINE + payload) == ["os.system"]
    assert critical(tmp_path, "entry.pkl", HASH_LINE + payload) == ["os.system"]


def test_item15_benign_prefixed_pickle_passes(tmp_path: Path) -> None:
    data = HASH_LINE + pickle.dumps({"weights": [1.0, 2.0], "names": ["a", "b"]}, protocol=4)
    p = tmp_path / "entry.cache"
    p.write_bytes(data)
    res = scan_result(p)
    assert not res.findings and not model_issues(res)
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "pass")


def test_item15_binary_length_header_then_framed_pickle(tmp_path: Path) -> None:
    body = pickle.dumps(list(range(100)), protocol=5)
    payload = call1("os", "system", "id", proto=4)
    framed = b"\x80\x04\x95" + struct.pack("<Q", len(payload) - 2) + payload[2:]
    assert pickle_offset(struct.pack("<Q", len(body)) + body) == 8
    assert critical(tmp_path, "blob.bin", struct.pack("<Q", len(framed)) + framed) == ["os.system"]


@pytest.mark.parametrize(
    "data",
    [
        b"hello\nworld\n",
        b"# title\n\x80\x04 not a pickle at all, only a byte that looks like a header",
        b"x" * 200 + b"\n" + pickle.dumps([1, 2, 3], protocol=4),  # header longer than the window
        b"\x00\x01binary\n\x80\x04\x95" + b"\x00" * 20,
    ],
)
def test_item15_no_pickle_is_invented(data: bytes) -> None:
    assert pickle_offset(data) is None and sniff(data, "notes.txt") is Kind.UNKNOWN


# -- property: no budget hides an import --------------------------------------------------------


@st.composite
def _padding(draw: st.DrawFn) -> bytes:
    ops = draw(
        st.lists(
            st.sampled_from(
                [b"N\x940", b"\x8c\x03pad\x940", b"]\x94", b"N0", b"cmath\nfloor\n\x940", b"(N\x94t0", b"N"]
            ),
            max_size=60,
        )
    )
    return b"".join(ops)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _padding(),
    st.integers(1, 40),
    st.integers(1, 8),
    st.integers(8, 400),
    st.integers(4, 80),
    st.sampled_from(["binget", "long_binget"]),
)
def test_no_budget_hides_an_import(
    padding: bytes, max_memo: int, max_extra: int, max_text: int, max_stack: int, get: str
) -> None:
    """posix.system built from memoised names after arbitrary padding, under arbitrary small budgets:
    the walk either resolves it or reports an import it cannot resolve past a budget — never neither."""
    n = padding.count(b"\x94")  # the padding's memo keys (MEMOIZE only)

    def fetch(k: int) -> bytes:
        return b"h" + bytes([k]) if get == "binget" else b"j" + struct.pack("<I", k)

    data = (
        b"\x80\x04"
        + padding
        + b"\x8c\x05posix\x940\x8c\x06system\x940"
        + fetch(n)
        + fetch(n + 1)
        + b"\x93\x8c\x02id\x85R."
    )
    with budgets(MAX_MEMO=max_memo, MAX_MEMO_EXTRA=max_extra, MAX_MEMO_TEXT=max_text, MAX_STACK=max_stack):
        res = walk(data)
    assert res.error is None, res.error
    found = "posix.system" in {g.full for g in res.globals}
    assert found or any(a.kind == "unresolved_import" for a in res.anomalies), res


# -- getattr(<global>, "<attribute>") is judged by the name it reaches ---------------------------


def _getattr_call(module: str, name: str, attr: str, arg: str) -> bytes:
    """getattr(module.name, attr)(arg): what pandas writes for a ZoneInfo column."""
    get = stack_global("builtins", "getattr") + stack_global(module, name) + sbu(attr) + b"\x86\x94R\x94"
    return b"\x80\x04" + get + sbu(arg) + b"\x85\x94R\x94."


def _callables(tmp_path: Path, data: bytes) -> dict[str, str]:
    found = scan_bytes(tmp_path, "x.pkl", data)
    return {str(f.properties.get("callable")): f.rule_id for f in found}


def test_getattr_of_reviewed_class_is_judged_by_the_attribute(tmp_path: Path) -> None:
    assert _callables(tmp_path, _getattr_call("zoneinfo", "ZoneInfo", "_unpickle", "Europe/Berlin")) == {}


def test_getattr_reaching_an_unknown_or_dangerous_name_is_reported_as_that_name(tmp_path: Path) -> None:
    assert _callables(tmp_path, _getattr_call("collections", "OrderedDict", "fromkeys", "x")) == {
        "collections.OrderedDict.fromkeys": "MODEL-002"
    }
    found = _callables(tmp_path, _getattr_call("subprocess", "Popen", "communicate", "x"))
    assert found["subprocess.Popen.communicate"] == "MODEL-001"


@pytest.mark.parametrize(
    "data",
    [
        # a dunder attribute (the object.__subclasses__ gadget) stays an unresolved getattr
        _getattr_call("builtins", "object", "__subclasses__", "x"),
        # the attribute name computed by a call
        b"\x80\x04"
        + stack_global("builtins", "getattr")
        + stack_global("zoneinfo", "ZoneInfo")
        + stack_global("builtins", "str")
        + sbu("_unpickle")
        + b"\x85\x94R\x94\x86\x94R\x94"
        + sbu("x")
        + b"\x85\x94R\x94.",
        # getattr handed to another callable instead of called
        b"\x80\x04" + stack_global("builtins", "list") + stack_global("builtins", "getattr") + b"\x85\x94R\x94.",
    ],
    ids=["dunder", "computed-name", "passed-on"],
)
def test_getattr_that_cannot_be_resolved_stays_critical(tmp_path: Path, data: bytes) -> None:
    assert _callables(tmp_path, data).get("builtins.getattr") == "MODEL-001"


def test_one_unresolved_getattr_keeps_getattr_critical_beside_resolved_ones(tmp_path: Path) -> None:
    resolved = stack_global("builtins", "getattr") + stack_global("zoneinfo", "ZoneInfo") + sbu("_unpickle")
    resolved += b"\x86\x94R\x94"
    # memo 0 holds getattr; call it again on a computed target
    again = b"h\x02" + stack_global("builtins", "str") + sbu("os") + b"\x85\x94R\x94" + sbu("system") + b"\x86\x94R\x94"
    data = b"\x80\x04(" + resolved + again + b"t."
    assert _callables(tmp_path, data).get("builtins.getattr") == "MODEL-001"


def test_old_numpy_ufunc_reconstruct_is_judged_by_the_ufunc_it_imports(tmp_path: Path) -> None:
    def ufunc(module: str, name: str) -> bytes:
        return (
            b"\x80\x02" + stack_global("numpy.core", "_ufunc_reconstruct") + sbu(module) + sbu(name) + b"\x86\x94R\x94."
        )

    assert _callables(tmp_path, ufunc("numpy", "log1p")) == {}
    assert _callables(tmp_path, ufunc("os", "system")) == {"os.system": "MODEL-001"}
    computed = b"\x80\x04" + stack_global("numpy.core", "_ufunc_reconstruct") + sbu("os") + b"\x85\x94R\x94."
    assert _callables(tmp_path, computed).get("numpy.core._ufunc_reconstruct") == "MODEL-001"
