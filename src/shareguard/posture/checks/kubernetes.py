"""Kubernetes checks for training and serving pods (K8S-001…019); metadata in `posture/rules/kubernetes.yaml`.

Container-level settings override pod-level ones as the kubelet applies them; every container
(init and ephemeral too) is checked, and findings point at the exact field (or the container
when the field is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.masking import mask
from shareguard.posture.checks._common import (
    default_trusted_registries,
    is_floating_tag,
    is_placeholder,
    is_secret_name,
    is_trusted,
)
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.options import PostureOptions
from shareguard.posture.parsers.dockerfile import parse_image_ref
from shareguard.sensitive.text import secret_kind

Rule = Callable[[PostureResource, ScanContext], Iterable[Violation | Unresolved]]

DANGEROUS_CAPS = frozenset(
    {"ALL", "SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "SYS_RAWIO", "BPF",
     "PERFMON", "SYS_BOOT", "SYS_TIME", "MAC_ADMIN", "MAC_OVERRIDE", "SETFCAP", "SYSLOG"}
)  # fmt: skip
ACCELERATORS = ("nvidia.com/", "amd.com/gpu", "google.com/tpu", "aws.amazon.com/neuron", "habana.ai/", "intel.com/")
INTERNAL_LB_ANNOTATIONS = {
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
}


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _containers(res: PostureResource, *, ephemeral: bool = True) -> list[dict[str, Any]]:
    cs = res.attributes.get("containers") or []
    return [c for c in cs if isinstance(c, dict) and (ephemeral or c.get("container_type") != "ephemeral")]


def _label(c: dict[str, Any]) -> str:
    kind = {"init": "init container", "ephemeral": "ephemeral container"}.get(str(c.get("container_type")), "container")
    return f"{kind} {c.get('name') or '?'}"


def _sc_value(res: PostureResource, c: dict[str, Any], key: str) -> tuple[Any, str | None]:
    """Effective securityContext value (container overrides pod) and the path where it is set."""
    csc = _d(c.get("securityContext"))
    if key in csc:
        return csc[key], f"{c['path']}.securityContext.{key}"
    psc = _d(res.attributes.get("security_context"))
    if key in psc:
        return psc[key], f"{res.attributes.get('pod_spec_path')}.securityContext.{key}"
    return None, None


def _v(rule: str, path: str | None, detail: str, evidence: str | None = None) -> Violation:
    return Violation(rule, field_path=path, detail=detail, evidence=evidence, fingerprint_key=f"{path}|{detail}")


# --- pod hardening (KUBERNETES-C-01) ---------------------------------------------------------------


def run_as_non_root(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        non_root, nr_path = _sc_value(res, c, "runAsNonRoot")
        user, u_path = _sc_value(res, c, "runAsUser")
        if user == 0 or user == "0":
            yield _v("K8S-001", u_path, f"{_label(c)} runs as uid 0", "runAsUser: 0")
        elif non_root is not True and not (isinstance(user, int) and user > 0):
            yield _v(
                "K8S-001",
                nr_path or c["path"],
                f"{_label(c)} may run as root (no runAsNonRoot: true or non-zero runAsUser)",
            )


def privileged(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        value, path = _sc_value(res, c, "privileged")
        if value is True:
            yield _v("K8S-002", path, f"{_label(c)} is privileged", "privileged: true")


def privilege_escalation(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        value, path = _sc_value(res, c, "allowPrivilegeEscalation")
        if value is not False:
            detail = "allows privilege escalation" if value is True else "does not set allowPrivilegeEscalation: false"
            yield _v("K8S-003", path or c["path"], f"{_label(c)} {detail}")


def host_path(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    spec_path = res.attributes.get("pod_spec_path")
    for i, vol in enumerate(res.attributes.get("volumes") or []):
        hp = _d(vol).get("hostPath")
        if hp is not None:
            target = _d(hp).get("path", "?")
            yield _v(
                "K8S-004",
                f"{spec_path}.volumes[{i}].hostPath",
                f"volume {vol.get('name', i)} mounts host path {target}",
            )


def host_namespaces(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    spec_path = res.attributes.get("pod_spec_path")
    for attr, key in (("host_network", "hostNetwork"), ("host_pid", "hostPID"), ("host_ipc", "hostIPC")):
        if res.attributes.get(attr):
            yield _v("K8S-005", f"{spec_path}.{key}", f"{key}: true", f"{key}: true")


def read_only_root(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res, ephemeral=False):
        value, path = _sc_value(res, c, "readOnlyRootFilesystem")
        if value is not True:
            yield _v("K8S-006", path or c["path"], f"{_label(c)} has a writable root filesystem")


def _caps(c: dict[str, Any]) -> dict[str, Any]:
    return _d(_d(c.get("securityContext")).get("capabilities"))


def caps_not_dropped(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        drop = _caps(c).get("drop")
        if not isinstance(drop, list) or not any(str(x).upper() in ("ALL", "CAP_ALL") for x in drop):
            path = f"{c['path']}.securityContext.capabilities.drop" if isinstance(drop, list) else c["path"]
            yield _v("K8S-007", path, f"{_label(c)} does not drop ALL capabilities")


def dangerous_caps(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        add = _caps(c).get("add")
        if not isinstance(add, list):
            continue
        for i, cap in enumerate(add):
            name = str(cap).upper().removeprefix("CAP_")
            if name in DANGEROUS_CAPS:
                yield _v(
                    "K8S-008", f"{c['path']}.securityContext.capabilities.add[{i}]", f"{_label(c)} adds {name}", name
                )


def seccomp(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    pod = _d(_d(res.attributes.get("security_context")).get("seccompProfile")).get("type")
    for c in _containers(res, ephemeral=False):
        own = _d(_d(c.get("securityContext")).get("seccompProfile")).get("type")
        effective = own if own is not None else pod
        if effective not in ("RuntimeDefault", "Localhost"):
            path = f"{c['path']}.securityContext.seccompProfile" if own is not None else c["path"]
            detail = f"{_label(c)} runs {'Unconfined' if effective == 'Unconfined' else 'without a seccomp profile'}"
            yield _v("K8S-009", path, detail)


# --- images (KUBERNETES-C-02) ----------------------------------------------------------------------


def _images(res: PostureResource) -> Iterable[tuple[dict[str, Any], str, str]]:
    for c in _containers(res):
        image = c.get("image")
        if isinstance(image, str) and image.strip() and "{{" not in image and "$" not in image:
            yield c, image.strip(), f"{c['path']}.image"


def image_digest(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c, image, path in _images(res):
        ref = parse_image_ref(image)
        if not ref.digest and ref.tag is not None and not is_floating_tag(ref.tag):
            yield _v("K8S-010", path, f"{_label(c)} image {image} is not pinned by digest", image)


def image_latest(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c, image, path in _images(res):
        ref = parse_image_ref(image)
        if not ref.digest and (ref.tag is None or is_floating_tag(ref.tag)):
            what = "no tag" if ref.tag is None else f"the moving tag :{ref.tag}"
            yield _v("K8S-011", path, f"{_label(c)} image {image} uses {what}", image)


def image_registry(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    patterns = ctx.options.get(PostureOptions).trusted_registries or default_trusted_registries()
    for c, image, path in _images(res):
        ref = parse_image_ref(image)
        if not is_trusted(ref.full, patterns):
            yield _v(
                "K8S-012",
                path,
                f"{_label(c)} image from {ref.registry}/{ref.repository} (not a trusted registry)",
                image,
            )


# --- secrets and service accounts (KUBERNETES-C-03) ------------------------------------------------


def plain_env_secrets(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for c in _containers(res):
        env = c.get("env")
        if not isinstance(env, list):
            continue
        for i, e in enumerate(env):
            if not isinstance(e, dict) or "value" not in e or e.get("value") is None:
                continue
            name, value = str(e.get("name", "")), str(e.get("value"))
            kind = secret_kind(value)
            if kind or (is_secret_name(name) and not is_placeholder(value)):
                what = f"holds a secret ({kind})" if kind else "is a literal"
                yield _v(
                    "K8S-013", f"{c['path']}.env[{i}].value", f"{_label(c)} env {name} {what}", f"{name}={mask(value)}"
                )


def sa_token_automount(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    sa = res.attributes.get("service_account_name") or ""
    auto = res.attributes.get("automount_service_account_token")
    if sa in ("", "default") and auto is not False:
        path = f"{res.attributes.get('pod_spec_path')}"
        yield _v("K8S-014", path, "pod uses the default service account and mounts its token")


# --- limits (KUBERNETES-C-04) ----------------------------------------------------------------------


def resource_limits(res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
    for c in _containers(res, ephemeral=False):
        limits = _d(_d(c.get("resources")).get("limits"))
        accel = any(str(k).startswith(ACCELERATORS) for k in limits)
        missing = [k for k in ("memory", "cpu") if k not in limits and not (k == "cpu" and accel)]
        if missing:
            path = f"{c['path']}.resources.limits" if limits else c["path"]
            if res.attributes.get("kind") == "InferenceService":  # KServe's webhook fills in missing limits
                yield Unresolved("K8S-015", path, f"{_label(c)}: KServe fills in missing limits from its ConfigMap")
                continue
            yield _v("K8S-015", path, f"{_label(c)} has no {' or '.join(missing)} limit")


# --- network and stored secrets --------------------------------------------------------------------


def ingress_tls(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    spec = _d(res.attributes.get("spec"))
    ann = {str(k): str(v).lower() for k, v in _d(res.attributes.get("annotations")).items()}
    if not spec.get("tls"):
        yield _v("K8S-016", "spec", "Ingress serves plain HTTP (no spec.tls)")
    elif (
        ann.get("nginx.ingress.kubernetes.io/ssl-redirect") == "false"
        or ann.get("kubernetes.io/ingress.allow-http") == "true"
    ):
        yield _v("K8S-016", "metadata.annotations", "Ingress also serves plain HTTP (HTTP allowed by annotation)")


def public_load_balancer(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    spec = _d(res.attributes.get("spec"))
    if spec.get("type") != "LoadBalancer":
        return
    ann = {str(k): str(v).lower() for k, v in _d(res.attributes.get("annotations")).items()}
    if any(ann.get(k) == v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return
    ranges = spec.get("loadBalancerSourceRanges")
    if isinstance(ranges, list) and ranges and "0.0.0.0/0" not in ranges:
        return
    yield _v("K8S-017", "spec.type", "Service of type LoadBalancer is reachable from the internet")


def configmap_secrets(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    data = _d(res.attributes.get("data"))
    for key, value in data.items():
        text = str(value) if value is not None else ""
        kind = secret_kind(text)
        if kind or (is_secret_name(str(key)) and "\n" not in text.strip() and not is_placeholder(text)):
            what = f"holds a secret ({kind})" if kind else "is named like a credential"
            yield _v("K8S-018", f"data.{key}", f"ConfigMap key {key} {what}", f"{key}={mask(text[:64])}")


def committed_secret(res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
    for section in ("data", "stringData"):
        data = _d(res.attributes.get(section))
        real = [k for k, v in data.items() if v not in (None, "") and not is_placeholder(str(v))]
        if real:
            yield _v(
                "K8S-019",
                section,
                f"Secret manifest carries {len(real)} value(s) in {section}",
                f"{section}: {', '.join(map(str, real[:5]))}",
            )


WORKLOAD_RULES: tuple[Rule, ...] = (
    run_as_non_root,
    privileged,
    privilege_escalation,
    host_path,
    host_namespaces,
    read_only_root,
    caps_not_dropped,
    dangerous_caps,
    seccomp,
    image_digest,
    image_latest,
    image_registry,
    plain_env_secrets,
    sa_token_automount,
    resource_limits,
)


@dataclass(frozen=True)
class _Family:
    name: str
    types: frozenset[str]
    rules: tuple[Rule, ...]

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        for rule in self.rules:
            yield from rule(resource, ctx)


CHECKS = (
    _Family("kubernetes.workload", frozenset({"k8s.workload"}), WORKLOAD_RULES),
    _Family("kubernetes.ingress", frozenset({"k8s.ingress"}), (ingress_tls,)),
    _Family("kubernetes.service", frozenset({"k8s.service"}), (public_load_balancer,)),
    _Family("kubernetes.configmap", frozenset({"k8s.configmap"}), (configmap_secrets,)),
    _Family("kubernetes.secret", frozenset({"k8s.secret"}), (committed_secret,)),
)
