"""Keras models: the `.keras` zip's `config.json` and the `.h5` file's `model_config` attribute.

Both hold the same JSON config; loading it imports every `module` it names and, for Lambda
layers, unmarshals Python bytecode (base64 in `function`). Nothing is deserialized here: the JSON
is walked as data. `.h5` attributes are read with h5py (attributes only, no datasets); without
h5py the JSON is found in the raw bytes (HDF5 stores small attributes uncompressed).

A config walked whole has had MODEL-030 and MODEL-031 evaluated on it; so has an HDF5 file whose
attributes h5py read and that holds no model config (nothing in it can name code to load). A config
over budget or not JSON, one too large to walk, or an HDF5 file read without h5py in whose raw bytes
no config was found, is a part not analysed.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from shareguard.core.severity import Severity
from shareguard.models.formats.env import Env
from shareguard.models.formats.pickle_policy import Verdict, default_policy
from shareguard.models.sink import Where

MAX_CONFIG = 64 * 1024 * 1024
MAX_NODES = 2_000_000
RAW_CONFIG_WINDOW = 16 * 1024 * 1024
KERAS_MODULES = ("keras", "tf_keras", "tensorflow", "keras_nlp", "keras_hub", "keras_cv")
LAMBDA_CLASSES = frozenset({"Lambda", "__lambda__"})
CONFIG_RULES = ("MODEL-030", "MODEL-031")


def scan_config_stream(env: Env, where: Where, fh: BinaryIO, size: int | None, version: str | None = None) -> None:
    raw = fh.read(MAX_CONFIG + 1)
    if len(raw) > MAX_CONFIG:
        env.sink.not_analysed(where, f"Keras config over the {MAX_CONFIG}-byte budget")
        return
    try:
        config = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as exc:
        env.sink.not_analysed(where, f"Keras config is not JSON: {str(exc)[:200]}")
        return
    check_config(env, where, config, version)


def check_config(env: Env, where: Where, config: Any, version: str | None) -> None:
    old = _older_than_3_9(version)
    seen: set[str] = set()
    nodes, whole = _dicts(config)
    if whole:
        env.sink.evaluate(*CONFIG_RULES)
    else:
        env.sink.not_analysed(where, f"Keras config has over {MAX_NODES} JSON values; the rest was not walked")
    for node, path in nodes:
        cls = node.get("class_name")
        if not isinstance(cls, str):
            continue
        layer = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
        if cls in LAMBDA_CLASSES:
            where_s = layer or path
            if f"lambda:{where_s}" in seen:
                continue
            seen.add(f"lambda:{where_s}")
            note = (
                f" Keras {version} is older than 3.9: CVE-2025-1550 lets such configs run code even with safe_mode=True."
                if old
                else ""
            )
            env.sink.add(
                "MODEL-030",
                where,
                title=f"Keras Lambda layer {where_s!r} holds serialized Python code",
                evidence=f"class_name={cls} at {path}",
                key=f"lambda:{where_s}",
                remediation=(
                    "Replace the Lambda layer with a registered custom layer; load with "
                    "keras.models.load_model(..., safe_mode=True) and Keras >= 3.9." + note
                ),
                properties={"layer": layer, "path": path},
            )
            continue
        module = node.get("module")
        registered = node.get("registered_name")
        if isinstance(module, str) and module and not _is_keras(module):
            verdict = default_policy().classify(module, cls)
            key = f"{module}.{cls}"
            if key in seen:
                continue
            seen.add(key)
            env.sink.add(
                "MODEL-031",
                where,
                title=f"Keras config imports {key}",
                evidence=f"module={module} class_name={cls} at {path}",
                severity=Severity.CRITICAL if verdict is Verdict.DANGEROUS else None,
                key=key,
                properties={"module": module, "class_name": cls, "registered_name": registered},
            )
        elif isinstance(registered, str) and ">" in registered and f"reg:{registered}" not in seen:
            seen.add(f"reg:{registered}")
            env.sink.add(
                "MODEL-031",
                where,
                title=f"Keras config uses custom registered object {registered}",
                evidence=f"registered_name={registered} at {path}",
                key=f"reg:{registered}",
                properties={"registered_name": registered},
            )


def _is_keras(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def _older_than_3_9(version: str | None) -> bool:
    if not version:
        return False
    try:
        from packaging.version import InvalidVersion, Version

        return Version(version) < Version("3.9")
    except (ImportError, InvalidVersion):
        return False


def _dicts(root: Any) -> tuple[list[tuple[dict[str, Any], str]], bool]:
    """Every dict in the JSON with a path, iteratively (no recursion on hostile depth); and whether
    the walk was whole (False when it stopped at the node budget)."""
    out: list[tuple[dict[str, Any], str]] = []
    stack: list[tuple[Any, str]] = [(root, "$")]
    count = 0
    while stack:
        value, path = stack.pop()
        count += 1
        if count > MAX_NODES:
            out.reverse()
            return out, False
        if isinstance(value, dict):
            out.append((value, path))
            for k, v in value.items():
                if isinstance(v, dict | list):
                    stack.append((v, f"{path}.{k}"))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, dict | list):
                    stack.append((v, f"{path}[{i}]"))
    out.reverse()
    return out, True


def scan_h5(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    configs, version, read = _h5_attributes(fh)
    if not configs:
        if read:
            env.sink.evaluate(*CONFIG_RULES)  # attributes read: no model config, nothing names code to load
        else:
            env.sink.not_analysed(
                where,
                "HDF5 attributes could not be read (h5py missing or failed) and no model config was found in the raw bytes",
            )
        return
    for raw in configs:
        try:
            config = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            env.sink.not_analysed(where, f"HDF5 model config is not JSON: {str(exc)[:200]}")
            continue
        check_config(env, where, config, version)


def _h5_attributes(fh: BinaryIO) -> tuple[list[str], str | None, bool]:
    """The model/training configs and the Keras version; and whether h5py read the attributes (when
    not, the configs are the JSON found in the raw bytes, and none found proves nothing)."""
    try:
        import h5py
    except ImportError:
        return _raw_json_configs(fh), None, False
    try:
        fh.seek(0)
        with h5py.File(fh, "r") as f:
            out: list[str] = []
            for key in ("model_config", "training_config"):
                if key in f.attrs:
                    out.append(_as_text(f.attrs[key]))
            version = f.attrs.get("keras_version")
            return out, _as_text(version) if version is not None else None, True
    except (OSError, ValueError, KeyError, RuntimeError, OverflowError, TypeError):
        fh.seek(0)
        return _raw_json_configs(fh), None, False


def _as_text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _raw_json_configs(fh: BinaryIO, limit: int = 64 * 1024 * 1024) -> list[str]:
    """Model configs found as JSON in the raw HDF5 bytes (bounded attempts and sizes)."""
    fh.seek(0)
    data = fh.read(limit)
    out: list[str] = []
    dec = json.JSONDecoder()
    pos = data.find(b'{"class_name"')
    attempts = 0
    while pos >= 0 and len(out) < 8 and attempts < 32:
        attempts += 1
        text = data[pos : pos + RAW_CONFIG_WINDOW].decode("utf-8", errors="replace")
        try:
            _, end = dec.raw_decode(text)
            out.append(text[:end])
            pos = data.find(b'{"class_name"', pos + len(text[:end].encode("utf-8", errors="replace")))
            continue
        except (ValueError, RecursionError):
            pass
        pos = data.find(b'{"class_name"', pos + 1)
    return out
