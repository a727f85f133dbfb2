"""Which vendor deep-learning image runs, from whatever evidence exists, and how sure that is.

Evidence, strongest first: the image's own labels and environment (`com.amazonaws.ml.engines.sagemaker.dlc.*`,
`DLC_CONTAINER_TYPE`, `dlc_major_version`) and marker files (the DLC telemetry script, Deep Learning VM metadata)
give `high` confidence; an image reference or family name that matches the release catalog exactly is `high`,
one that only fits a vendor's naming scheme is `medium`. Nothing is guessed: evidence that names no framework
and version leaves the image `unidentified`, with the evidence listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shareguard.freshness.google import CONTAINER_NAME, FAMILY_NAME
from shareguard.freshness.model import ReleaseCatalog, normalise_framework

LABEL_PREFIX = "com.amazonaws.ml.engines.sagemaker.dlc."
AWS_DLC_REF = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+):(?P<tag>[A-Za-z0-9._-]+)$"
)
AWS_PUBLIC_REF = re.compile(
    r"^public\.ecr\.aws/deep-learning-containers/(?P<repo>[a-z0-9._-]+):(?P<tag>[A-Za-z0-9._-]+)$"
)
GOOGLE_REF = re.compile(
    r"^(?:[a-z0-9.-]*gcr\.io|[a-z0-9-]+-docker\.pkg\.dev)/deeplearning-platform-release/(?:gcr\.io/)?(?P<name>[a-z0-9.-]+)(?::(?P<tag>[A-Za-z0-9._-]+))?(?:@sha256:[0-9a-f]{64})?$"
)
GOOGLE_FAMILY = re.compile(
    r"(?:^|/)projects/deeplearning-platform-release/global/images/family/(?P<family>[a-z0-9-]+)$"
)
GOOGLE_IMAGE = re.compile(r"(?:^|/)projects/deeplearning-platform-release/global/images/(?P<image>[a-z0-9-]+)$")
GOOGLE_SHORT_FAMILY = re.compile(
    r"^(?:deeplearning-platform-release|cloud-notebooks-managed)/(?P<family>[a-z][a-z0-9-]+)$"
)
"""`project/family`, the short form gcloud and Terraform accept for an image family."""
GOOGLE_LICENSE = re.compile(
    r"(?:^|/)projects/deeplearning-platform-release/global/licenses/(?P<license>[a-z0-9][a-z0-9-]*)$"
)
"""A license of the Deep Learning VM project in a Compute Engine disk/instance description
(`projects/{project}/global/licenses/{license}`, the Compute Engine API's license URL)."""
IMAGE_PROJECTS = frozenset({"deeplearning-platform-release", "cloud-notebooks-managed"})
TRACKING_FAMILIES = frozenset({"workbench-instances"})
"""Families that always name the newest image (as do the `…-latest-…` ones)."""
AWS_TAG = re.compile(
    r"^(?P<version>\d+(?:\.\d+){1,2})-(?P<accelerator>gpu|cpu|neuronx|inf|inf2)(?:-(?P<python>py3\d+))?"
)


@dataclass
class Identification:
    """What one subject (an image, a root filesystem, a reference in configuration) runs."""

    subject: str
    """The image reference, root path or resource it is about."""
    path: str
    """Where the evidence is (a file of the workspace, or the image reference)."""
    provider: str = ""
    product: str = ""
    framework: str = ""
    version: str = ""
    accelerator: str = ""
    python: str = ""
    platform: str = ""
    container_type: str = ""
    repository: str = ""
    tag: str = ""
    family: str = ""
    confidence: str = ""
    evidence: list[str] = field(default_factory=list)
    line: int | None = None

    @property
    def identified(self) -> bool:
        return bool(self.provider and self.product and self.framework and self.version)

    def as_dict(self) -> dict[str, object]:
        keys = ("subject", "provider", "product", "framework", "version", "accelerator", "platform")
        out: dict[str, object] = {k: getattr(self, k) for k in keys if getattr(self, k)}
        for k in ("container_type", "repository", "tag", "family"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        out["confidence"] = self.confidence or "none"
        out["evidence"] = list(self.evidence)
        return out


def from_labels_env(
    subject: str, labels: tuple[tuple[str, str], ...], env: tuple[tuple[str, str], ...]
) -> Identification | None:
    """An image's own config: SageMaker DLC labels (`…dlc.framework.<fw>.<version>=true`, `…dlc.device.<d>`,
    `…dlc.job.<type>`, `…dlc.python.<py>`), `dlc_major_version`, and `DLC_CONTAINER_TYPE` in its env."""
    ident = Identification(subject=subject, path=subject)
    for key, value in labels:
        if not key.startswith(LABEL_PREFIX) or value.lower() != "true":
            if key == "dlc_major_version":
                ident.provider = "aws"
                ident.product = "dlc"
                ident.evidence.append(f"label dlc_major_version={value}")
            continue
        rest = key[len(LABEL_PREFIX) :]
        part, _, arg = rest.partition(".")
        ident.provider, ident.product = "aws", "dlc"
        ident.evidence.append(f"label {key}")
        if part == "framework" and arg:
            fw, _, ver = arg.partition(".")
            ver = ver.lstrip("v").replace("-", ".")
            if re.fullmatch(r"\d+(?:\.\d+)+", ver):
                ident.framework, ident.version = normalise_framework(fw), ver
        elif part == "device":
            ident.accelerator = arg.lower()
        elif part == "job":
            ident.container_type = arg.lower()
        elif part == "python":
            ident.python = arg.lower()
    for key, value in env:
        if key == "DLC_CONTAINER_TYPE" and value:
            ident.provider, ident.product = "aws", "dlc"
            ident.container_type = ident.container_type or value.lower()
            ident.evidence.append(f"env DLC_CONTAINER_TYPE={value}")
    if not ident.evidence:
        return None
    ident.platform = "sagemaker" if any(k.startswith(LABEL_PREFIX) for k, _ in labels) else ""
    ident.confidence = "high" if ident.identified else ""
    return ident


def add_telemetry(ident: Identification, fields: dict[str, str], path: str) -> None:
    """The DLC telemetry script's literal arguments (`--framework pytorch --framework-version 2.6.0 …`)."""
    ident.provider, ident.product = "aws", "dlc"
    shown = " ".join(f"--{k} {v}" for k, v in sorted(fields.items()))
    ident.evidence.append(f"{path}: {shown or 'no literal framework arguments'}")
    fw = normalise_framework(fields.get("framework", ""))
    ident.version = ident.version or fields.get("framework-version", "")
    ident.container_type = ident.container_type or fields.get("container-type", "").lower()
    if fw.startswith("huggingface-"):
        # `huggingface_pytorch`: PyTorch in the Hugging Face repositories (`huggingface-pytorch-training`).
        fw = fw.removeprefix("huggingface-")
        if ident.container_type and not ident.repository:
            ident.repository = f"huggingface-{fw}-{ident.container_type}"
    if fw:
        ident.framework = ident.framework or fw
    if ident.identified:
        ident.confidence = "high"


def add_dlvm_metadata(ident: Identification, fields: dict[str, str], path: str, catalog: ReleaseCatalog) -> None:
    """`opt/deeplearning/metadata/*`: the environment's container (`env_uri`) names the framework line."""
    ident.provider = "google"
    ident.product = ident.product or "dlvm"
    for name, value in sorted(fields.items()):
        ident.evidence.append(f"{path.rsplit('/', 1)[0]}/{name}: {value}")
    uri = fields.get("env_uri", "")
    if uri:
        ref = from_reference(uri, ident.subject, path, catalog)
        if ref is not None and ref.identified:
            ident.framework, ident.version, ident.accelerator = ref.framework, ref.version, ref.accelerator
            ident.python = ref.python
            ident.tag = ref.tag or ref.repository
    fw = fields.get("framework", "")
    m = re.fullmatch(r"(?P<fw>[A-Za-z][A-Za-z0-9_ -]*?)[: ]+(?P<ver>\d+\.\d+)(?:\.\d+)?", fw.strip())
    if m and not ident.framework:
        ident.framework, ident.version = normalise_framework(m.group("fw")), m.group("ver")
    if ident.identified:
        ident.confidence = "high"


def from_reference(ref: str, subject: str, path: str, catalog: ReleaseCatalog) -> Identification | None:
    """An image reference or VM image family/source image in configuration; None when it is no vendor DL image."""
    ref = ref.strip()
    m = AWS_DLC_REF.match(ref) or AWS_PUBLIC_REF.match(ref)
    if m:
        repo, tag = m.group("repo").rsplit("/", 1)[-1], m.group("tag")
        known = [r for r in catalog.releases if r.provider == "aws" and r.repository == repo]
        if not known:
            return None  # an ECR image that is no DLC repository
        ident = Identification(subject=ref, path=path, provider="aws", product="dlc", repository=repo, tag=tag)
        ident.evidence.append(f"image reference {ref}")
        exact = [r for r in known if tag in r.tags]
        t = AWS_TAG.match(tag)
        if exact:
            r = exact[0]
            ident.framework, ident.version, ident.accelerator = r.framework, r.version, r.accelerator
            ident.platform, ident.python, ident.confidence = r.platform, r.python, "high"
        elif t:
            ident.framework = known[0].framework
            ident.version, ident.accelerator = t.group("version"), t.group("accelerator")
            ident.python = t.group("python") or ""
            ident.platform = "sagemaker" if "sagemaker" in tag else ("ec2" if "ec2" in tag else "")
            ident.confidence = "medium"
        ident.container_type = known[0].container_type
        return ident
    m = GOOGLE_REF.match(ref)
    if m:
        name = m.group("name")
        c = CONTAINER_NAME.match(name)
        ident = Identification(subject=ref, path=path, provider="google", product="dlc", repository=name)
        ident.tag = m.group("tag") or ""
        ident.evidence.append(f"image reference {ref}")
        if c:
            ident.framework = normalise_framework(c.group("framework"))
            ident.version = f"{c.group('major')}.{c.group('minor')}"
            ident.accelerator, ident.python = c.group("accelerator"), c.group("python") or ""
            listed = any(name in r.tags for r in catalog.releases if r.provider == "google")
            ident.confidence = "high" if listed else "medium"
        return ident
    fam = GOOGLE_FAMILY.search(ref) or GOOGLE_SHORT_FAMILY.match(ref)
    image = None if fam else GOOGLE_IMAGE.search(ref)
    if fam or image:
        name = fam.group("family") if fam else image.group("image") if image else ""
        return from_family(name, ref, path, catalog, source_image=image is not None)
    return None


def from_family(
    name: str, subject: str, path: str, catalog: ReleaseCatalog, *, source_image: bool = False
) -> Identification:
    """A Deep Learning VM / Workbench image family (`pytorch-2-4-cu124-ubuntu-2204-py310`, `…-notebooks`) or a
    source image of one (`pytorch-2-4-cu124-v20240917-ubuntu-2204-py310`)."""
    ident = Identification(subject=subject, path=path, provider="google", family=name)
    ident.evidence.append(f"{'source image' if source_image else 'image family'} {name}")
    f = FAMILY_NAME.match(name)
    ident.product = "workbench" if name.endswith("-notebooks") or name.startswith("workbench-") else "dlvm"
    if name in TRACKING_FAMILIES or "latest" in name.split("-"):
        # A family that tracks the newest image: what it names is current by definition (a VM created from it
        # long ago is the long-running check's, DLVM-C-04).
        ident.framework, ident.version, ident.confidence = name.split("-", 1)[0], "latest", "high"
        ident.evidence.append("the family always names its newest image")
    elif f:
        ident.framework = normalise_framework(f.group("framework"))
        ident.version = f"{f.group('major')}.{f.group('minor')}"
        ident.accelerator = f.group("accelerator")
        exact = any(name in r.tags for r in catalog.releases if r.product == ident.product)
        ident.confidence = "high" if exact else "medium"
    return ident


def from_license(ref: str, path: str, catalog: ReleaseCatalog) -> Identification | None:
    """A Deep Learning VM project license on a disk (`disks[].licenses`, `compute#disk.licenses`): evidence that
    the disk was made from a Deep Learning VM image. A license named by the image family scheme also names the
    framework line (medium confidence: a license is not the image); any other name identifies no framework or
    version, so the subject stays unidentified with the license as its evidence, never guessed."""
    m = GOOGLE_LICENSE.search(ref)
    if m is None:
        return None
    name = m.group("license")
    if FAMILY_NAME.match(name):
        ident = from_family(name, ref, path, catalog)
        ident.evidence[0] = f"license {name} (named by the image family scheme)"
        if ident.identified and ident.version != "latest":
            ident.confidence = "medium"
        return ident
    ident = Identification(subject=ref, path=path, provider="google", product="dlvm")
    ident.evidence.append(f"license {name} of the Deep Learning VM project (names no framework or version)")
    return ident


def from_internal(ref: str, path: str, catalog: ReleaseCatalog) -> Identification | None:
    """An image a platform team publishes (its provider catalog imported with `catalog update`), by
    `name:tag` or digest, wherever the reference's registry prefix puts it."""
    base, _, digest = ref.partition("@")
    last = base.rsplit("/", 1)[-1]
    name, tag = (base.rsplit(":", 1)[0], last.rsplit(":", 1)[1]) if ":" in last else (base, "")
    for r in catalog.releases:
        if r.product != "internal" or not (name == r.repository or name.endswith("/" + r.repository)):
            continue
        ident = Identification(subject=ref, path=path, provider=r.provider, product="internal")
        ident.framework, ident.repository, ident.tag = r.framework, r.repository, tag
        ident.evidence.append(f"image reference {ref} (published by {r.provider})")
        exact = next(
            (x for x in catalog.releases if x.repository == r.repository and (tag in x.tags or digest in x.tags)), None
        )
        ident.version = exact.version if exact else (tag or digest)
        ident.confidence = "high" if exact else ""
        return ident
    return None
