"""SigmaHQ's rules as data: a snapshot bundled in the package, refreshed by `shareguard logs rules update`.

`import_rules(source, dest)` copies, from a SigmaHQ checkout (or any Sigma folder), the rules whose
`logsource` shareguard ingests (fieldmap.yaml: CloudTrail, Cloud Audit Logs, Kubernetes audit) into
`dest`, keeping their paths and bytes (a rule is never edited: DRL 1.1 asks for the author, the rule's
link and the licence to be kept, and they are in the file), and writes beside them:

- `MANIFEST.json`: the source, its commit (a `SNAPSHOT` file's first word, or `.git/HEAD`), when, the
  files with their SHA-256, and the rules left out with the reason (a log source shareguard does not read);
- `LICENSE`: the source's licence file, and `NOTICE`: the attribution (SigmaHQ, DRL 1.1 and its URI).

The bundled snapshot lives in `rules/sigmahq/` (built with `--into` from the checkout named in its
manifest); `update` writes into the cache (`<cache>/sigmahq/`), which then replaces the bundled one for
that user (shareguard never writes into its own package). Nothing here is imported until a log is read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from shareguard.logs.fields import field_maps
from shareguard.logs.snapshot import MANIFEST as MANIFEST  # re-exported
from shareguard.logs.snapshot import active_dir as active_dir  # re-exported
from shareguard.logs.snapshot import bundled_dir as bundled_dir  # re-exported
from shareguard.logs.snapshot import manifest as manifest  # re-exported
from shareguard.logs.snapshot import user_dir as user_dir  # re-exported

LICENSE_URI = "https://github.com/SigmaHQ/Detection-Rule-License/blob/main/LICENSE.Detection.Rules.md"
NOTICE = (
    "The Sigma rules in this folder are copied unchanged from the SigmaHQ rule repository\n"
    "(https://github.com/SigmaHQ/sigma), {commit}.\n"
    "They are licensed under the Detection Rule License (DRL) 1.1: {uri}\n"
    "Each rule names its author(s) in its `author` field; shareguard shows the author with every match.\n"
    "LICENSE beside this file is the source's own licence file.\n"
)
MAX_RULE_BYTES = 1024 * 1024
MAX_FILES = 20_000


@dataclass
class ImportReport:
    dest: Path
    source: str
    commit: str
    kept: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def rule_files(folder: Traversable | Path) -> list[Traversable | Path]:
    """The snapshot's rule files, in manifest order (only those the manifest lists)."""
    files = manifest(folder).get("files") or []
    return [folder.joinpath(*str(f["path"]).split("/")) for f in files if isinstance(f, dict) and "path" in f]


def import_rules(source: Path, dest: Path) -> ImportReport:
    """Import the rules of `source` shareguard can evaluate into `dest` (replaced whole, atomically)."""
    from shareguard.core.errors import ConfigError

    if not source.is_dir():
        raise ConfigError("not a Sigma rule folder", path=str(source))
    maps = field_maps()
    report = ImportReport(dest, str(source), _commit(source))
    tmp = dest.with_name(dest.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    entries: list[dict[str, str]] = []
    metas: list[dict[str, Any]] = []
    files = sorted(p for p in source.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    for path in files[:MAX_FILES]:
        rel = path.relative_to(source).as_posix()
        raw = path.read_bytes()
        reason, docs = _unusable(raw, maps)
        if reason:
            report.skipped.append((rel, reason))
            continue
        target = tmp.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        entries.append({"path": rel, "sha256": hashlib.sha256(raw).hexdigest()})
        metas.extend(_meta(d, rel) for d in docs if isinstance(d, dict) and d.get("id") and d.get("title"))
        report.kept.append(rel)
    licence = next((p for p in (source / "LICENSE", source.parent / "LICENSE") if p.is_file()), None)
    if licence is not None:
        shutil.copyfile(licence, tmp / "LICENSE")
    commit = f"commit {report.commit}" if report.commit else "commit unknown"
    (tmp / "NOTICE").write_text(NOTICE.format(commit=commit, uri=LICENSE_URI), encoding="utf-8")
    doc = {
        "source": "SigmaHQ/sigma" if report.commit else report.source,
        "commit": report.commit,
        "imported": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license": "DRL-1.1",
        "license_uri": LICENSE_URI,
        "files": entries,
        "rules": metas,
        "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
    }
    (tmp / MANIFEST).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return report


def _meta(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """What `controls show`, SARIF and the roll-up publish about a rule (read without pySigma, see rulemeta)."""
    author = str(doc.get("author") or "").strip()
    credit = f" Sigma rule by {author} (Detection Rule License 1.1)." if author else ""
    return {
        "id": f"sigma:{doc['id']}",
        "title": str(doc["title"]),
        "level": str(doc.get("level") or ""),
        "description": str(doc.get("description") or "").strip() + credit,
        "references": [str(r) for r in doc.get("references") or ()],
        "tags": [str(t) for t in doc.get("tags") or ()],
        "author": author,
        "path": path,
    }


def _unusable(raw: bytes, maps: dict[Any, Any]) -> tuple[str | None, list[Any]]:
    """Why a file is left out of the snapshot (None: kept), and its YAML documents. Rules that fail to
    compile are kept: every run lists them as not evaluated, with pySigma's or the compiler's reason."""
    if len(raw) > MAX_RULE_BYTES:
        return f"over the {MAX_RULE_BYTES}-byte budget", []
    try:
        docs = list(yaml.safe_load_all(raw.decode("utf-8", errors="replace")))
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return f"not YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", []
    sources: list[dict[str, Any]] = [
        d["logsource"] for d in docs if isinstance(d, dict) and isinstance(d.get("logsource"), dict)
    ]
    if not sources:
        return "no logsource (a correlation or filter rule over other files is kept only with its base rules)", []
    for ls in sources:
        if any(fm.selects(ls.get("product"), ls.get("service"), ls.get("category")) for fm in maps.values()):
            return None, docs
    first = sources[0]
    named = "/".join(str(first.get(k)) for k in ("product", "service", "category") if first.get(k))
    return f"log source {named} is not one shareguard reads", []


def _commit(source: Path) -> str:
    for base in (source, *source.parents[:3]):
        snap = base / "SNAPSHOT"
        if snap.is_file():
            words = snap.read_text(encoding="utf-8", errors="replace").split()
            return words[0] if words else ""
        head = base / ".git" / "HEAD"
        if head.is_file():
            text = head.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("ref: "):
                ref = base / ".git" / text[5:]
                return ref.read_text(encoding="utf-8").strip() if ref.is_file() else ""
            return text
    return ""
