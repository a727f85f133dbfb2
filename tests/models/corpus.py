"""Test corpus builders: benign files written by the real libraries, malicious pickles assembled by
hand from opcodes (never by pickling objects with __reduce__, and never loaded)."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

# --- hand-assembled pickle pieces -------------------------------------------------------------


def sbu(s: str) -> bytes:
    """SHORT_BINUNICODE + MEMOIZE."""
    raw = s.encode()
    return b"\x8c" + bytes([len(raw)]) + raw + b"\x94"


def stack_global(module: str, name: str) -> bytes:
    return sbu(module) + sbu(name) + b"\x93\x94"


def call1(module: str, name: str, arg: str, proto: int = 4) -> bytes:
    """PROTO, module.name(arg) via STACK_GLOBAL + TUPLE1 + REDUCE, STOP."""
    return bytes([0x80, proto]) + stack_global(module, name) + sbu(arg) + b"\x85\x94R\x94."


def global0(module: str, name: str, arg: str) -> bytes:
    """Protocol 0: c<module>\\n<name>\\n(S'arg'\\ntR."""
    return f"c{module}\n{name}\n(S'{arg}'\ntR.".encode()


BENIGN_LIST = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e."  # [1, 2]


def marker_payload(marker: Path) -> bytes:
    """A pickle that WOULD create `marker` if it were ever loaded (it never is)."""
    return call1("builtins", "exec", f"open({str(marker)!r}, 'w').write('pwned')")


def bypass_samples(marker: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (content, expected callable or rule); one per published bypass class."""
    p = marker_payload(marker)
    return {
        "pip_main.pkl": (global0("pip", "main", "install evil"), "pip.main"),
        "timeit.pkl": (call1("timeit", "timeit", "import os"), "timeit.timeit"),
        "pkgutil.pkl": (call1("pkgutil", "resolve_name", "os:system"), "pkgutil.resolve_name"),
        "importlib.pkl": (call1("importlib", "import_module", "os"), "importlib.import_module"),
        "runpy.pkl": (call1("runpy", "_run_code", "import os"), "runpy._run_code"),
        "ctypes.pkl": (call1("ctypes", "CDLL", "libc.so.6"), "ctypes.CDLL"),
        "uuid.pkl": (call1("uuid", "_get_command_stdout", "id"), "uuid._get_command_stdout"),
        "collect_env.pkl": (call1("torch.utils.collect_env", "run", "id"), "torch.utils.collect_env.run"),
        "f2py.pkl": (call1("numpy.f2py", "run_main", "x"), "numpy.f2py.run_main"),
        "marshal.pkl": (call1("marshal", "loads", "x"), "marshal.loads"),
        "asyncio_subclass.pkl": (
            call1("asyncio.unix_events", "_UnixSubprocessTransport", "id"),
            "asyncio.unix_events._UnixSubprocessTransport",
        ),
        "nested_loads.pkl": (call1("pickle", "loads", "x"), "pickle.loads"),
        "load_from_bytes.pkl": (call1("torch.storage", "_load_from_bytes", "x"), "torch.storage._load_from_bytes"),
        "after_benign.pkl": (BENIGN_LIST + p, "builtins.exec"),
        "before_garbage.pkl": (p + b"\xff\xfe garbage \x00" * 4, "builtins.exec"),
        "memo_names.pkl": (
            # module/name strings memoised, then fetched with BINGET for STACK_GLOBAL
            b"\x80\x04" + sbu("x") + sbu("os") + sbu("system") + b"0" + b"h\x01h\x02\x93" + sbu("id") + b"\x85R.",
            "os.system",
        ),
        "wrong_ext_zip.txt": (_zip({"data.pkl": p}), "builtins.exec"),
        "bad_crc.zip": (_bad_crc_zip(p), "builtins.exec"),
        "nested.zip": (_zip({"inner.zip": _zip({"archive/data.pkl": p})}), "builtins.exec"),
        "model.joblib.gz": (gzip.compress(p), "builtins.exec"),
        "legacy.tar": (_tar({"sys_info": BENIGN_LIST, "pickle": p}), "builtins.exec"),
        "legacy_magic.pt": (_legacy_magic_then(p), "builtins.exec"),
        "inst_v0.pkl": (b"(S'id'\nios\nsystem\n.", "os.system"),
        "getattr.pkl": (call1("builtins", "getattr", "x"), "builtins.getattr"),
        "functools_partial.pkl": (call1("functools", "partial", "x"), "functools.partial"),
        "io_fileio.pkl": (call1("_io", "FileIO", "/etc/passwd"), "_io.FileIO"),
    }


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _bad_crc_zip(payload: bytes) -> bytes:
    raw = bytearray(_zip({"archive/data.pkl": payload}, zipfile.ZIP_DEFLATED))
    # Corrupt the CRC in both the local header (offset 14) and the central directory entry.
    raw[14:18] = b"\xde\xad\xbe\xef"
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 16 : cd + 20] = b"\xde\xad\xbe\xef"
    return bytes(raw)


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _legacy_magic_then(payload: bytes) -> bytes:
    # torch's legacy format: the pickled magic number 0x1950a86a20f9469cfc6c (LONG1), the protocol
    # version (1001), the sys info (here the payload), the object, the storage keys, raw storage bytes.
    magic = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
    return magic + b"\x80\x02M\xe9\x03." + payload + BENIGN_LIST + b"\x80\x02]q\x00." + b"\x00" * 64


# --- benign files from the real libraries -----------------------------------------------------


def write_benign(root: Path) -> dict[str, str]:
    """Write every benign sample the installed libraries can produce; name -> producer."""
    made: dict[str, str] = {}
    np = pytest.importorskip("numpy")
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(root / "plain.npy", arr)
    np.savez(root / "arrays.npz", a=arr, b=np.ones(3))
    np.savez_compressed(root / "arrays_c.npz", a=arr)
    made.update({"plain.npy": "numpy", "arrays.npz": "numpy", "arrays_c.npz": "numpy"})
    try:
        import torch

        sd = {"w": torch.zeros(4, 4), "b": torch.ones(4), "n": torch.tensor([1, 2], dtype=torch.int64)}
        torch.save(sd, root / "state.pt")
        torch.save(sd, root / "legacy_state.pt", _use_new_zipfile_serialization=False)
        torch.save(torch.nn.Linear(3, 2).state_dict(), root / "linear.bin")
        made.update({"state.pt": "torch", "legacy_state.pt": "torch legacy", "linear.bin": "torch"})
        lin = torch.nn.Linear(2, 2)
        torch.save(lin, root / "full_module.pt")
        opt = torch.optim.Adam(lin.parameters())
        torch.save({"model": lin.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, root / "train_ckpt.pt")
        torch.save(
            {"h": torch.ones(2, dtype=torch.float16), "bf": torch.ones(2, dtype=torch.bfloat16)}, root / "dtypes.pt"
        )
        made.update({"full_module.pt": "torch", "train_ckpt.pt": "torch", "dtypes.pt": "torch"})
        scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
        torch.jit.save(scripted, str(root / "scripted.pt"))
        made["scripted.pt"] = "torchscript"
    except ImportError:
        pass
    try:
        import joblib
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x = np.random.default_rng(0).normal(size=(40, 3))
        y = (x[:, 0] > 0).astype(int)
        lr = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
        rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
        joblib.dump(lr, root / "pipe.joblib")
        joblib.dump(rf, root / "forest.joblib")
        joblib.dump({"obj": np.array([{"a": 1}, None], dtype=object), "x": x}, root / "objarr.joblib")
        made.update({"pipe.joblib": "sklearn", "forest.joblib": "sklearn", "objarr.joblib": "joblib"})
        from sklearn.cluster import KMeans
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.neighbors import KNeighborsClassifier

        more = {
            "hgb": HistGradientBoostingClassifier(max_iter=3).fit(x, y),
            "knn": KNeighborsClassifier(algorithm="kd_tree").fit(x, y),
            "kmeans": KMeans(2, n_init=1, random_state=0).fit(x),
        }
        for name, est in more.items():
            (root / f"{name}.pkl").write_bytes(pickle.dumps(est, protocol=5))
            made[f"{name}.pkl"] = "sklearn pickle protocol 5"
        for comp in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4"):
            try:
                joblib.dump(rf, root / f"forest_{comp}.joblib", compress=(comp, 3))
                made[f"forest_{comp}.joblib"] = f"joblib {comp}"
            except (ValueError, ImportError):
                pass
    except ImportError:
        pass
    try:
        from safetensors.numpy import save_file

        save_file({"w": arr, "b": np.zeros(2, dtype=np.int64)}, str(root / "model.safetensors"), metadata={"k": "v"})
        made["model.safetensors"] = "safetensors"
    except ImportError:
        pass
    try:
        import gguf

        w = gguf.GGUFWriter(str(root / "model.gguf"), "llama")
        w.add_block_count(1)
        w.add_string("general.name", "tiny")
        w.add_tensor("t", np.ones((4, 8), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        made["model.gguf"] = "gguf"
    except ImportError:
        pass
    try:
        import onnx
        from onnx import TensorProto, helper

        node = helper.make_node("Relu", ["x"], ["y"])
        graph = helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        )
        onnx.save(helper.make_model(graph), str(root / "relu.onnx"))
        made["relu.onnx"] = "onnx"
    except ImportError:
        pass
    keras_cfg = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "config": {"name": "in"},
                    "registered_name": None,
                },
                {
                    "module": "keras.layers",
                    "class_name": "Dense",
                    "config": {"name": "d", "units": 2},
                    "registered_name": None,
                },
            ],
        },
        "registered_name": None,
    }
    (root / "model.keras").write_bytes(
        _zip(
            {
                "metadata.json": json.dumps({"keras_version": "3.10.0"}).encode(),
                "config.json": json.dumps(keras_cfg).encode(),
            }
        )
    )
    made["model.keras"] = "keras layout"
    try:
        import h5py

        with h5py.File(root / "model.h5", "w") as f:
            f.attrs["model_config"] = json.dumps(keras_cfg)
            f.attrs["keras_version"] = "2.15.0"
            f.create_dataset("w", data=arr)
        made["model.h5"] = "h5py keras layout"
    except ImportError:
        pass
    return made


def safetensors_bytes(header: dict[str, object], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data
