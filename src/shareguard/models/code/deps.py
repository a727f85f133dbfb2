"""Dependency pins of ML projects: requirements*.txt, pyproject.toml, environment.yml,
Pipfile.lock, poetry.lock. Exact pins become `Package` facts, which the vulnerability matcher
(`vuln.osv`) matches against OSV advisories exactly as it matches packages installed in an image:
framework versions whose model loading runs code are OSV records of the bundled snapshot there."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

CONDA_NAMES = {"pytorch": "torch", "py-xgboost": "xgboost"}


@dataclass(frozen=True)
class Dep:
    name: str
    spec: str
    """A PEP 440 specifier ('==2.5.1', '>=2,<2.6'); empty when unconstrained."""
    line: int | None
    pinned: str | None
    """The exact version when pinned (== or a lock file)."""


def is_dependency_file(name: str) -> bool:
    n = name.lower()
    return (
        (n.startswith("requirements") and n.endswith((".txt", ".in")))
        or n in ("pyproject.toml", "environment.yml", "environment.yaml", "pipfile.lock", "poetry.lock")
        or (n.startswith("constraints") and n.endswith(".txt"))
    )


def parse(name: str, text: str) -> list[Dep]:
    n = name.lower()
    if n.endswith((".txt", ".in")):
        return list(_requirements(text))
    if n == "pyproject.toml":
        return list(_pyproject(text))
    if n in ("environment.yml", "environment.yaml"):
        return list(_conda(text))
    if n == "pipfile.lock":
        return list(_pipfile_lock(text))
    if n == "poetry.lock":
        return list(_poetry_lock(text))
    return []


def _dep(req_text: str, line: int | None) -> Dep | None:
    try:
        req = Requirement(req_text)
    except InvalidRequirement:
        return None
    name = canonicalize_name(req.name)
    pinned = None
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        pinned = specs[0].version
    return Dep(name, str(req.specifier), line, pinned)


def _requirements(text: str) -> Iterator[Dep]:
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:")):
            continue
        dep = _dep(line, i)
        if dep is not None:
            yield dep


def _line_of(text: str, needle: str) -> int | None:
    idx = text.find(needle)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else None


def _pyproject(text: str) -> Iterator[Dep]:
    doc = tomllib.loads(text)
    project = doc.get("project", {})
    reqs: list[str] = [r for r in project.get("dependencies", []) if isinstance(r, str)]
    for group in project.get("optional-dependencies", {}).values():
        reqs.extend(r for r in group if isinstance(r, str))
    for r in reqs:
        dep = _dep(r, _line_of(text, r))
        if dep is not None:
            yield dep
    poetry = doc.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, spec in poetry.items():
        if name.lower() == "python":
            continue
        version = spec.get("version") if isinstance(spec, dict) else spec
        if isinstance(version, str):
            dep = _dep(f"{name}{_poetry_spec(version)}", _line_of(text, name))
            if dep is not None:
                yield dep


def _poetry_spec(v: str) -> str:
    v = v.strip()
    if not v or v == "*":
        return ""
    if v[0].isdigit():
        return f"=={v}"
    if v.startswith("^"):
        base = Version(v[1:])
        upper = f"{base.major + 1}.0.0" if base.major else f"0.{base.minor + 1}.0"
        return f">={base},<{upper}"
    if v.startswith("~"):
        base = Version(v.lstrip("~="))
        return f">={base},<{base.major}.{base.minor + 1}.0"
    return v


def _conda(text: str) -> Iterator[Dep]:
    doc = yaml.safe_load(text) or {}
    for item in doc.get("dependencies", []) if isinstance(doc, dict) else []:
        if isinstance(item, dict):
            for pip_req in item.get("pip", []) or []:
                if isinstance(pip_req, str):
                    dep = _dep(pip_req, _line_of(text, pip_req))
                    if dep is not None:
                        yield dep
        elif isinstance(item, str):
            spec = item.split("::", 1)[-1]
            m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(?:(==|=|>=|<=|<|>|!=)\s*([^\s=]+))?", spec)
            if not m:
                continue
            name = CONDA_NAMES.get(m.group(1).lower(), m.group(1))
            op, ver = m.group(2) or "", (m.group(3) or "").split("=", 1)[0]
            if op == "=":
                # conda's `=1.2` means 1.2.*; `=1.2.3` is the release 1.2.3 (any build)
                op = "=="
                if ver.count(".") < 2 and not ver.endswith("*"):
                    ver += ".*"
            dep = _dep(f"{name}{op or ''}{ver or ''}", _line_of(text, item))
            if dep is not None:
                yield dep


def _pipfile_lock(text: str) -> Iterator[Dep]:
    doc = json.loads(text)
    for section in ("default", "develop"):
        for name, info in (doc.get(section) or {}).items():
            if isinstance(info, dict) and isinstance(info.get("version"), str):
                dep = _dep(f"{name}{info['version']}", _line_of(text, f'"{name}"'))
                if dep is not None:
                    yield dep


def _poetry_lock(text: str) -> Iterator[Dep]:
    doc = tomllib.loads(text)
    for pkg in doc.get("package", []):
        name, version = pkg.get("name"), pkg.get("version")
        if isinstance(name, str) and isinstance(version, str):
            dep = _dep(f"{name}=={version}", _line_of(text, f'name = "{name}"'))
            if dep is not None:
                yield dep
