"""Post analyzer: identify every vendor deep-learning image the scan saw evidence of, judge it against the release
catalog, and judge running workloads' age. Each judgement is an `Evaluation` (a duty may pass on it) or a finding;
an image seen but not identified is `Unassessed` with its evidence, never guessed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from shareguard.core.analyzer import Output
from shareguard.core.clock import ScanClock
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Unassessed
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import ConfigResource, Fact, FactStore, ImageIdentity, OSInfo
from shareguard.core.finding import Finding, Remediation
from shareguard.core.resource import Location, Resource
from shareguard.freshness import bulletins as bulletin_db
from shareguard.freshness import store
from shareguard.freshness.facts import ImageMarker, Workload
from shareguard.freshness.identify import (
    IMAGE_PROJECTS,
    Identification,
    add_dlvm_metadata,
    add_telemetry,
    from_family,
    from_internal,
    from_labels_env,
    from_license,
    from_reference,
)
from shareguard.freshness.judge import Judgement, judge
from shareguard.freshness.model import ReleaseCatalog, line_of
from shareguard.freshness.options import FreshnessOptions
from shareguard.freshness.rules import rule
from shareguard.image.facts import FrameworkBuild

RULES = {
    "dlc": {
        "eop": "FRESH-DLC-001",
        "eop-soon": "FRESH-DLC-002",
        "newer": "FRESH-DLC-003",
        "unsupported": "FRESH-DLC-004",
    },
    "dlvm": {"eop": "FRESH-DLVM-001", "eop-soon": "FRESH-DLVM-002", "unsupported": "FRESH-DLVM-004"},
}
DUTY = {"dlc": ("DLC-C-01",), "internal": ("DLC-C-01",), "dlvm": ("DLVM-C-01",), "workbench": ("DLVM-C-01",)}
MAX_STRINGS = 50_000
AWS_DLC_ACCOUNT = "763104351884"


def _family_rules(product: str) -> dict[str, str]:
    return RULES["dlc" if product in ("dlc", "internal") else "dlvm"]


def _strings(value: Any, budget: list[int]) -> Iterator[str]:
    stack = [value]
    while stack and budget[0] > 0:
        v = stack.pop()
        budget[0] -= 1
        if isinstance(v, str):
            if (
                "deeplearning-platform-release" in v
                or ".dkr.ecr." in v
                or "deep-learning-containers" in v
                or "cloud-notebooks-managed/" in v
            ):
                yield from v.split()
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)


def _project_families(value: Any) -> Iterator[tuple[str, str]]:
    """`{project: deeplearning-platform-release, family: …}` blocks (Terraform `vm_image`, API `vmImage`)."""
    stack, budget = [value], MAX_STRINGS
    while stack and budget > 0:
        v = stack.pop()
        budget -= 1
        if isinstance(v, dict):
            project, family = v.get("project"), v.get("family")
            if project in IMAGE_PROJECTS and isinstance(family, str) and family:
                yield str(project), family
            stack.extend(x for x in v.values() if isinstance(x, dict | list))
        elif isinstance(v, list):
            stack.extend(v)


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def collect(facts: FactStore, ctx: ScanContext, catalog: ReleaseCatalog) -> list[Identification]:
    """One identification per subject, from every kind of evidence the scan gathered."""
    out: dict[tuple[str, str], Identification] = {}
    images = facts.of(ImageIdentity)
    markers = facts.of(ImageMarker)
    own_subject = images[0].reference if images else (str(ctx.root) if ctx.command == "rootfs" and ctx.root else "")
    if images:
        img = images[0]
        found = from_labels_env(img.reference, img.labels, img.env)
        if found is not None:
            out[(img.reference, img.reference)] = found
    for m in markers:
        subject = own_subject if m.root == "" and own_subject else (m.root or ".")
        path = subject if subject == own_subject else m.path
        key = (subject, subject if subject == own_subject else m.root)
        ident = out.get(key) or Identification(subject=subject, path=path)
        out[key] = ident
        fields = dict(m.fields)
        if m.kind == "aws-dlc-telemetry":
            add_telemetry(ident, fields, m.path)
        else:
            add_dlvm_metadata(ident, fields, m.path, catalog)
    if own_subject:
        _add_installed(out, own_subject, facts)
    for res in facts.of(ConfigResource):
        budget = [MAX_STRINGS]  # per resource: one huge resource cannot hide the references of the others
        refs: list[Identification | None] = [
            from_reference(s.strip("\"',;()[]"), s, res.path, catalog) for s in _strings(res.attributes, budget)
        ]
        refs += [from_family(f, f"{p}/{f}", res.path, catalog) for p, f in _project_families(res.attributes)]
        for ref in refs:
            if ref is not None:
                ref.line = res.line
                out.setdefault((ref.subject, res.path), ref)
    for w in facts.of(Workload):
        own: list[Identification] = []
        licensed: list[Identification] = []
        for s in (*w.images, *w.families):
            lic = from_license(s, w.path, catalog)
            if lic is not None:
                licensed.append(lic)
                continue
            ref = from_reference(s, s, w.path, catalog)
            if ref is not None:
                own.append(out.setdefault((ref.subject, w.path), ref))
        for lic in licensed:
            if own:  # the workload's image or family says more: its licenses are supporting evidence
                own[0].evidence.extend(e for e in lic.evidence if e not in own[0].evidence)
            else:
                out.setdefault((lic.subject, w.path), lic)
    if any(r.product == "internal" for r in catalog.releases):
        candidates = [(img.reference, img.reference) for img in images] + _config_images(facts)
        candidates += [(w.path, i) for w in facts.of(Workload) for i in w.images]
        for path, ref_text in candidates:
            internal = from_internal(ref_text, path, catalog)
            if internal is not None:
                out.setdefault((internal.subject, path), internal)
    return list(out.values())


_DIST_NAMES = {"torch": "pytorch", "tensorflow": "tensorflow", "pytorch": "pytorch"}


def _add_installed(out: dict[tuple[str, str], Identification], subject: str, facts: FactStore) -> None:
    """The framework builds and OS the inventory found in the scanned image or root filesystem: supporting
    evidence for a marker's identification (a disagreeing version lowers the confidence to `medium`); alone they
    say what is installed, not which vendor image it is, so the image stays unidentified with them as evidence."""
    builds = facts.of(FrameworkBuild)
    if not builds:
        return
    key = (subject, subject)
    ident = out.get(key)
    if ident is None:
        ident = next((i for (s, _), i in out.items() if s == subject), None)
    seen: list[str] = []
    for b in builds:
        extra = ", ".join(f"{k} {v}" for k, v in (("CUDA", b.cuda), ("cuDNN", b.cudnn), ("ROCm", b.rocm)) if v)
        seen.append(f"installed {b.framework} {b.version}{' (' + extra + ')' if extra else ''} at {b.path}")
    for os_info in facts.of(OSInfo):
        seen.append(f"OS {os_info.id} {os_info.version_id}")
    if ident is None:
        out[key] = Identification(subject=subject, path=subject, evidence=seen)
        return
    ident.evidence.extend(seen)
    for b in builds:
        fw = _DIST_NAMES.get(b.framework.lower(), b.framework.lower())
        if ident.identified and fw == ident.framework and line_of(b.version) != line_of(ident.version):
            ident.confidence = "medium"
            ident.evidence.append(
                f"the installed {b.framework} {b.version} is not the {ident.version} the markers name"
            )


class FreshnessAnalyzer:
    name: str = "freshness.images"
    version: str = "1"
    order = 40
    controls: tuple[str, ...] = ("DLC-C-01", "DLVM-C-01", "DLC-C-04", "DLVM-C-04")
    inputs: tuple[type[Fact], ...] = (ImageIdentity, ImageMarker, ConfigResource, Workload)

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        clock = ctx.options.get(ScanClock)
        today = clock.today()
        try:
            catalog = store.load(ctx.settings)
        except ShareguardError as exc:
            ctx.error(exc.path or "release catalog", exc.message, self.name)
            return
        idents = collect(facts, ctx, catalog)
        stale = store.staleness_warning(catalog, today)
        if stale and idents:  # only where the catalog judged something
            ctx.warn("release catalog", stale, self.name)
        try:
            feed = bulletin_db.load(ctx.settings)
        except ShareguardError as exc:
            ctx.error(exc.path or "bulletins", exc.message, self.name)
            feed = []
        summary: list[dict[str, object]] = []
        for ident in idents:
            summary.append(ident.as_dict())
            yield from self._judge(ident, catalog, today)
        yield from self._bulletins(feed, idents, facts)
        yield from self._workloads(facts.of(Workload), ctx, clock)
        if idents:
            ctx.metadata["freshness"] = {
                "catalog": [
                    {"source": s.name, "url": s.url, "retrieved": s.retrieved.isoformat(), "revision": s.revision}
                    for s in catalog.sources
                ],
                "images": summary,
            }

    def _judge(self, ident: Identification, catalog: ReleaseCatalog, today: Any) -> Iterator[Output]:
        duty = DUTY.get(ident.product, ("DLC-C-01", "DLVM-C-01"))
        if not ident.identified:
            seen = "; ".join(ident.evidence) or "none"
            yield Unassessed(duty, f"{ident.subject}: deep-learning image unidentified (evidence seen: {seen})")
            return
        verdict = judge(ident, catalog, today)
        if not verdict.checked:
            yield Unassessed(duty, f"{ident.subject}: {verdict.reason}")
            return
        rules = _family_rules(ident.product)
        resource = Resource(
            type="container_image" if ident.product in ("dlc", "internal") else "vm_image",
            path=ident.path,
            name=ident.subject,
        )
        key = ident.path if ident.subject == ident.path else f"{ident.path}#{ident.subject}"
        for check in verdict.checked:
            if check in rules:
                yield Evaluation(rules[check], rule(rules[check]).control_ids, key)
        for j in verdict.judgements:
            if j.check in rules:
                yield self._finding(ident, j, rules[j.check], resource)

    def _bulletins(
        self, feed: list[bulletin_db.Bulletin], idents: list[Identification], facts: FactStore
    ) -> Iterator[Output]:
        """Bulletins naming an image in use (its repository, tag, family or reference) or a Dataflow job's SDK.
        Evaluated only where a bulletin database exists: without one, watching bulletins was not checked."""
        if not feed:
            return
        subjects = [(i, _names_of(i.subject, i.repository, i.tag, i.family)) for i in idents]
        for img in facts.of(ImageIdentity):
            if not any(i.subject == img.reference for i in idents):
                subjects.append((Identification(subject=img.reference, path=img.reference), _names_of(img.reference)))
        known = {(i.path, i.subject) for i in idents}
        for path, ref in _config_images(facts):
            if (path, ref) not in known:
                known.add((path, ref))
                subjects.append((Identification(subject=ref, path=path), _names_of(ref)))
        for ident, names in subjects:
            rule_id = "FRESH-BUL-002" if ident.product in ("dlvm", "workbench") else "FRESH-BUL-001"
            yield from self._bulletin_findings(feed, names, rule_id, ident.path, ident.subject)
        for res in facts.of(ConfigResource):
            sdk = res.attributes.get("sdk_version")
            if res.type == "gcp.dataflow.job" and isinstance(sdk, str) and sdk:
                names = {"apache-beam", f"apache-beam:{sdk}", "apache_beam", f"apache_beam:{sdk}", sdk}
                yield from self._bulletin_findings(feed, names, "FRESH-BUL-003", res.path, res.name)

    def _bulletin_findings(
        self, feed: list[bulletin_db.Bulletin], names: set[str], rule_id: str, path: str, subject: str
    ) -> Iterator[Output]:
        meta = rule(rule_id)
        yield Evaluation(rule_id, meta.control_ids, f"{path}#{subject}" if subject != path else path)
        for b, affected in bulletin_db.affecting(feed, names):
            fix = f"; fixed in {affected.fixed}" if affected.fixed else ""
            yield meta.finding(
                Resource(
                    type="container_image" if rule_id != "FRESH-BUL-003" else "gcp.dataflow.job",
                    path=path,
                    name=subject,
                ),
                evidence=f"bulletin {b.id} ({b.published}) affects {affected.product}{fix}",
                title=f"Bulletin {b.id} affects {subject}: {b.title[:120]}",
                remediation=Remediation(
                    text=f"{meta.remediation}{' Move to ' + affected.fixed + '.' if affected.fixed else ''}",
                    fixed_version=affected.fixed or None,
                    url=b.url or None,
                ),
                analyzer=self.name,
                properties={
                    "bulletin": b.id,
                    "cves": list(b.cves),
                    "fixed": affected.fixed,
                    "fingerprint_key": f"{b.id}|{subject}",
                },
            )

    def _finding(self, ident: Identification, j: Judgement, rule_id: str, resource: Resource) -> Finding:
        meta = rule(rule_id)
        what = "image family" if ident.product not in ("dlc", "internal") else "tag"
        text = (
            f"Move to {what} {j.target} and redeploy (recreate, for a VM)."
            if j.target
            else f"{meta.remediation} The release catalog lists no supported newer {what} for it."
        )
        command = None
        if j.target and ident.product == "internal":
            command = f"docker pull {ident.subject.split('@', 1)[0].rsplit(':', 1)[0]}:{j.target}"
        elif j.target and ident.product == "dlc" and ident.provider == "aws":
            repo = ident.repository or (j.target_release.repository if j.target_release else "")
            command = f"docker pull {AWS_DLC_ACCOUNT}.dkr.ecr.REGION.amazonaws.com/{repo}:{j.target}"
        elif j.target and ident.product == "dlc":
            command = f"docker pull us-docker.pkg.dev/deeplearning-platform-release/gcr.io/{j.target}"
        elif j.target:
            command = (
                "gcloud compute instances create NAME --image-project=deeplearning-platform-release "
                f"--image-family={j.target}"
            )
        props: dict[str, Any] = {"identified": ident.as_dict(), "fingerprint_key": f"{ident.subject}|{j.check}"}
        if j.target:
            props["move_to"] = j.target
        if j.target_release is not None and j.target_release.eop:
            props["move_to_end_of_patch"] = j.target_release.eop.isoformat()
        return meta.finding(
            resource,
            location=Location(line=ident.line),
            evidence=j.message,
            title=f"{meta.title}: {ident.subject}",
            severity=j.severity,
            remediation=Remediation(
                text=text, command=command or meta.cli, url=meta.references[0] if meta.references else None
            ),
            analyzer=self.name,
            properties=props,
        )

    def _workloads(self, workloads: list[Workload], ctx: ScanContext, clock: ScanClock) -> Iterator[Output]:
        limit = ctx.options.get(FreshnessOptions).limit_days
        now = clock.now()
        for w in workloads:
            if not w.running:
                continue
            rule_id = "FRESH-JOB-002" if w.kind.startswith("compute.") else "FRESH-JOB-001"
            meta = rule(rule_id)
            started = _parse_time(w.started)
            if started is None:
                yield Unassessed(
                    meta.control_ids, f"{w.path}: {w.name} is running but its description has no start time"
                )
                continue
            key = f"{w.path}#{w.name}"
            yield Evaluation(rule_id, meta.control_ids, key)
            age = (now - started).days
            if age <= limit:
                continue
            yield meta.finding(
                Resource(type=w.kind, path=w.path, name=w.name),
                evidence=f"{w.state} since {w.started} ({age} days, limit {limit})",
                title=f"{meta.title}: {w.name} ({age} days)",
                remediation=Remediation(text=_remedy(w), command=_command(w) or meta.cli),
                analyzer=self.name,
                properties={"age_days": age, "limit_days": limit, "images": list(w.images or w.families)},
            )


def _config_images(facts: FactStore) -> list[tuple[str, str]]:
    """(file, image reference) for every value of an image-valued attribute in configuration (Kubernetes
    `image`, Dataflow `container_image`, SageMaker `image_uri`…), bounded."""
    out: list[tuple[str, str]] = []
    for res in facts.of(ConfigResource):
        budget = MAX_STRINGS
        stack: list[Any] = [res.attributes]
        while stack and budget > 0:
            v = stack.pop()
            budget -= 1
            if isinstance(v, dict):
                for k, x in v.items():
                    if isinstance(x, str) and "image" in str(k).lower() and 0 < len(x) < 512 and " " not in x:
                        out.append((res.path, x))
                    elif isinstance(x, dict | list):
                        stack.append(x)
            elif isinstance(v, list):
                stack.extend(v)
    return out


def _names_of(subject: str, *extra: str) -> set[str]:
    """What a bulletin may call an image: its reference, `name:tag`, the name without registry, the tag."""
    names = {x for x in (subject, *extra) if x}
    ref = subject.split("@", 1)[0]
    name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    for n in {name, name.split("/", 1)[1] if "/" in name and "." in name.split("/", 1)[0] else name}:
        names.add(n)
        names.add(n.rsplit("/", 1)[-1])
        if tag:
            names.update({f"{n}:{tag}", f"{n.rsplit('/', 1)[-1]}:{tag}", tag})
    return names


def _remedy(w: Workload) -> str:
    return {
        "sagemaker.endpoint": "Create a new endpoint configuration on the latest patched image and update the endpoint to it.",
        "sagemaker.training_job": "Stop the training job and start it again on the latest patched image (resume from a checkpoint).",
        "sagemaker.processing_job": "Stop the processing job and run it again on the latest patched image.",
        "vertex.custom_job": "Cancel the custom job and run it again on the latest patched prebuilt container.",
        "vertex.endpoint": "Deploy the model again with the latest patched prebuilt container and undeploy the old one.",
        "compute.instance": "Recreate the VM from the latest image of its family (or a newer supported family).",
        "compute.disk": "Recreate the disk and its VM from the latest image of its family.",
    }.get(w.kind, "Restart it on the latest patched image.")


def _command(w: Workload) -> str | None:
    if w.kind == "sagemaker.endpoint":
        return f"aws sagemaker update-endpoint --endpoint-name {w.name} --endpoint-config-name NEW-CONFIG"
    if w.kind == "sagemaker.training_job":
        return f"aws sagemaker stop-training-job --training-job-name {w.name}"
    if w.kind == "vertex.custom_job":
        return f"gcloud ai custom-jobs cancel {w.name}"
    if w.kind == "compute.instance":
        return f"gcloud compute instances delete {w.name} && gcloud compute instances create {w.name} --image-project=deeplearning-platform-release --image-family=FAMILY"
    return None
