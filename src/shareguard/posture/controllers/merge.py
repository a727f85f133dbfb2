"""Kubernetes strategic merge patch over plain YAML values, as the controllers apply it to pod specs: maps merge
key by key, lists of containers / env / volumes / volume mounts / ports / pull secrets merge item by item on their
merge key, any other list and every scalar of the patch replaces the base. Inputs are never modified."""

from __future__ import annotations

from typing import Any

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
}
"""Fields of PodSpec / Container that the Kubernetes API marks `patchStrategy: merge`, with their merge key."""


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """`patch` applied to `base` (a field of either may be absent)."""
    if patch is None:
        return base
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base.get(k), v, str(k)) if k in base else v
        return out
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        return merge_list(base, patch, MERGE_KEYS[key])
    return patch


def merge_list(base: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    """Items of `patch` merged into the `base` item with the same merge key, or appended."""
    out = list(base)
    index = {item.get(merge_key): i for i, item in enumerate(out) if isinstance(item, dict)}
    for item in patch:
        k = item.get(merge_key) if isinstance(item, dict) else None
        if k is not None and k in index:
            out[index[k]] = merge(out[index[k]], item)
        else:
            out.append(item)
    return out


def named(items: Any, name: str) -> dict[str, Any] | None:
    """The mapping in list `items` whose `name` is `name`."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
