"""CycloneDX 1.6 JSON: the inventory as components, the OS as an operating-system component, the
image as metadata.component, and each vulnerability finding with its rating, the component it
affects, and (VEX-waived findings) an analysis state of `not_affected` with the justification."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependable, Dependency
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, SeveritySource, Status
from shareguard.core.result import ScanResult
from shareguard.report.ml_stack import COMPONENTS, build_facts, summary
from shareguard.report.sbom_inventory import Inventory, SbomPackage, collect, display_target

_VEX_JUSTIFICATION = {
    # OpenVEX justification → CycloneDX impact-analysis justification
    "component_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_in_execute_path": ImpactAnalysisJustification.CODE_NOT_REACHABLE,
    "vulnerable_code_cannot_be_controlled_by_adversary": ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
    "inline_mitigations_already_exist": ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
}
_METHODS = {
    SeveritySource.CVSS_V3: VulnerabilityScoreSource.CVSS_V3_1,
    SeveritySource.CVSS_V4: VulnerabilityScoreSource.CVSS_V4,
    SeveritySource.CVSS_V2: VulnerabilityScoreSource.CVSS_V2,
}
_OS_TYPES = ("os", "third-party")


def _component_type(sp: SbomPackage) -> ComponentType:
    pkg = sp.package
    if pkg.origin == "ml-stack":
        # CUDA, cuDNN, NCCL and framework builds found by their own files
        return ComponentType.FRAMEWORK if pkg.name not in COMPONENTS else ComponentType.LIBRARY
    if pkg.origin in _OS_TYPES and pkg.ecosystem.split(":")[0] not in ("PyPI", "npm", "conda"):
        # OS packages hold programs and libraries alike; CycloneDX has no "os package" type.
        return ComponentType.LIBRARY if pkg.name.startswith("lib") else ComponentType.APPLICATION
    return ComponentType.LIBRARY


def _purl(text: str | None) -> PackageURL | None:
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _component(sp: SbomPackage) -> Component:
    pkg = sp.package
    props = [
        Property(name="shareguard:path", value=pkg.path),
        Property(name="shareguard:ecosystem", value=pkg.ecosystem),
    ]
    props.append(Property(name="shareguard:origin", value=pkg.origin))
    if pkg.layer:
        props.append(Property(name="shareguard:layer", value=pkg.layer))
    if pkg.source_name:
        props.append(
            Property(name="shareguard:source_package", value=f"{pkg.source_name} {pkg.source_version or ''}".strip())
        )
    if pkg.os_managed:
        props.append(Property(name="shareguard:os_managed", value="true"))
    extra = dict(pkg.extra)
    build = build_facts(pkg) if pkg.origin == "ml-stack" or pkg.ecosystem == "PyPI" else {}
    props.extend(Property(name=f"shareguard:ml:{k}", value=v) for k, v in build.items())
    if pkg.origin == "ml-stack":
        for key in ("detected_from", "cudart", "nvcc"):
            if extra.get(key):
                props.append(Property(name=f"shareguard:ml:{key}", value=extra[key]))
    return Component(
        name=pkg.name,
        version=pkg.version or None,
        type=_component_type(sp),
        bom_ref=sp.ref,
        purl=_purl(sp.purl),
        properties=props,
    )


def _rating(f: Finding) -> VulnerabilityRating:
    severity = (
        VulnerabilitySeverity.UNKNOWN
        if f.severity_source is SeveritySource.DEFAULT
        else VulnerabilitySeverity(f.severity.value)
    )
    score = f.properties.get("cvss_score")
    vector = f.properties.get("cvss_vector")
    method = _METHODS.get(f.severity_source)
    if method is VulnerabilityScoreSource.CVSS_V3_1 and isinstance(vector, str) and vector.startswith("CVSS:3.0"):
        method = VulnerabilityScoreSource.CVSS_V3
    return VulnerabilityRating(
        source=VulnerabilitySource(name=str(f.properties.get("severity_vendor") or "OSV")),
        score=Decimal(str(score)) if isinstance(score, int | float) else None,
        severity=severity,
        method=method or VulnerabilityScoreSource.OTHER,
        vector=vector if isinstance(vector, str) else None,
    )


def _vulnerability(index: int, f: Finding, ref: str) -> Vulnerability:
    vid = str(f.properties["vulnerability_id"])
    analysis = None
    vex = f.properties.get("vex")
    if f.status is Status.WAIVED and isinstance(vex, dict):
        analysis = VulnerabilityAnalysis(
            state=ImpactAnalysisState.NOT_AFFECTED,
            justification=_VEX_JUSTIFICATION.get(str(vex.get("justification"))),
            detail=str(vex.get("impact_statement") or f.waiver or ""),
        )
    elif f.status is Status.WAIVED:
        analysis = VulnerabilityAnalysis(state=ImpactAnalysisState.IN_TRIAGE, detail=f.waiver or "waived")
    recommendation = f.remediation.text + (f" Run: {f.remediation.command}" if f.remediation.command else "")
    refs = [u for u in f.properties.get("references", []) if isinstance(u, str) and u.startswith("http")]
    aliases = [a for a in f.properties.get("aliases", []) if isinstance(a, str)]
    return Vulnerability(
        bom_ref=f"vuln-{index}-{vid}",
        id=vid,
        source=VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{vid}")),
        ratings=[_rating(f)],
        description=f.title,
        recommendation=recommendation,
        advisories=[VulnerabilityAdvisory(url=XsUri(u)) for u in refs[:5]],
        affects=[BomTarget(ref=ref)],
        analysis=analysis,
        properties=[Property(name="shareguard:alias", value=a) for a in aliases]
        + [Property(name="shareguard:fixed_version", value=str(f.properties["fixed_version"]))]
        * bool(f.properties.get("fixed_version")),
    )


def _stack_properties(stack: dict[str, object]) -> list[Property]:
    """The ML stack at a glance on the BOM's metadata: accelerators and the CUDA/cuDNN/NCCL versions."""
    props = [Property(name="shareguard:ml_stack:accelerator", value=a) for a in stack["accelerators"]]  # type: ignore[attr-defined]
    for name in COMPONENTS:
        for entry in stack[name]:  # type: ignore[attr-defined]
            props.append(Property(name=f"shareguard:ml_stack:{name}", value=str(entry["version"])))
    return props


def build_bom(inv: Inventory) -> Bom:
    bom = Bom()
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="shareguard", version=__version__))
    if inv.image is not None:
        # A docker-archive has no manifest digest: its image id (the config digest) identifies it instead.
        # Properties are kept sorted by the library: each layer's name carries its position (zero-padded),
        # so the layers read in the image's order.
        width = max(2, len(str(len(inv.image.layers))))
        root = Component(
            type=ComponentType.CONTAINER,
            name=display_target(inv.image.reference),
            version=inv.image.digest or inv.image.config_digest or None,
            bom_ref="target",
            properties=[
                Property(name=f"shareguard:layer:{i:0{width}d}", value=d) for i, d in enumerate(inv.image.layers, 1)
            ]
            + [Property(name="shareguard:platform", value=inv.image.platform)],
        )
    else:
        root = Component(type=ComponentType.FILE, name=display_target(inv.target), bom_ref="target")
    bom.metadata.component = root
    stack = summary(sp.package for sp in inv.packages)
    if stack is not None:
        bom.metadata.properties.update(_stack_properties(stack))
    components = [_component(sp) for sp in inv.packages]
    if inv.os is not None:
        components.insert(
            0,
            Component(
                type=ComponentType.OPERATING_SYSTEM,
                name=inv.os.id,
                version=inv.os.version_id or None,
                description=inv.os.pretty_name or None,
                bom_ref="os",
            ),
        )
    for c in components:
        bom.components.add(c)
    # Bom.register_dependency scans every registered dependency per call (quadratic: ~30 s for
    # 1,300 packages); the graph here is one level deep, so build it directly.
    bom.dependencies.add(Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components]))
    for c in components:
        bom.dependencies.add(Dependency(ref=c.bom_ref))
    for i, (f, ref) in enumerate(inv.vulnerabilities):
        bom.vulnerabilities.add(_vulnerability(i, f, ref))
    return bom


class CycloneDxReporter:
    name = "cyclonedx"
    commands: frozenset[str] | None = frozenset({"image", "rootfs"})

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return JsonV1Dot6(registered_once(build_bom(collect(result)))).output_as_string(indent=2)


def registered_once(bom: Bom) -> Bom:
    """`bom`, whose dependency graph `build_bom` made complete, with `register_dependency` finding an
    already registered element in a set instead of by a scan.

    The library's JSON writer always calls `Bom.validate()`, which registers every component once more;
    `Bom.register_dependency` looks each up with a linear scan of all dependencies: quadratic, two thirds
    of the CPU of a 2,000-package BOM (`benchmarks/report_render.py`: 3.0 s, and 0.65 s vs 2.0 s for the
    BOM alone). An element already registered without new dependencies is a no-op there, so it is
    returned early here; anything else goes to the library's method. Set on this instance only (a
    subclass of `Bom` would not serialize: the library's serializer knows its own classes), and pinned by
    `tests/report/test_cyclonedx.py`: the output equals the library's own."""
    known = {d.ref for d in bom.dependencies}
    library = bom.register_dependency

    def register_dependency(target: Dependable, depends_on: Iterable[Dependable] | None = None) -> None:
        if not depends_on and target.bom_ref in known:
            return
        library(target, depends_on)

    bom.register_dependency = register_dependency  # type: ignore[method-assign]
    return bom
