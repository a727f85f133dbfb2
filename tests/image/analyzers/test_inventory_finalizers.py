from __future__ import annotations

from inventory_harness import extra, inventory, packages

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.facts import OSInfo
from shareguard.core.registry import load_registries
from shareguard.image.analyzer import InventoryFinalizer
from shareguard.image.analyzers.finalizers.distro import osv_ecosystem
from shareguard.image.analyzers.finalizers.ownership import OwnershipFinalizer
from shareguard.image.facts import AptSource

UBUNTU_2204 = b'ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n'
DEBIAN_12 = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'

# Paragraphs as NVIDIA's CUDA repository ships them (nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04) beside
# Ubuntu's own packages.
CUDA_STATUS = b"""Package: cuda-cudart-12-4
Status: install ok installed
Priority: optional
Section: devel
Maintainer: cudatools <cudatools@nvidia.com>
Architecture: amd64
Version: 12.4.127-1

Package: libcudnn9-cuda-12
Status: install ok installed
Maintainer: cudatools <cudatools@nvidia.com>
Architecture: amd64
Source: cudnn
Version: 9.1.0.70-1

Package: libnccl2
Status: install ok installed
Maintainer: cudatools <cudatools@nvidia.com>
Architecture: amd64
Source: nccl
Version: 2.21.5-1+cuda12.4

Package: libnpp-12-4
Status: install ok installed
Maintainer: someone
Architecture: amd64
Version: 12.2.5.30-1

Package: libssl3
Status: install ok installed
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Architecture: amd64
Source: openssl
Version: 3.0.2-0ubuntu1.15
"""
NVIDIA_SOURCES = b"deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/ /\n"


def test_nvidia_packages_are_third_party_and_ubuntu_ones_are_not() -> None:
    files = {"etc/os-release": UBUNTU_2204, "var/lib/dpkg/status": CUDA_STATUS}
    by_name = {p.name: p for p in packages(inventory(files))}
    for name in ("cuda-cudart-12-4", "libcudnn9-cuda-12", "libnccl2"):
        pkg = by_name[name]
        assert pkg.origin == "third-party" and extra(pkg)["vendor"] == "nvidia", name
        assert pkg.purl is not None and pkg.purl.startswith("pkg:deb/nvidia/") and "distro=ubuntu-22.04" in pkg.purl
    assert by_name["libssl3"].origin == "os" and by_name["libssl3"].purl.startswith("pkg:deb/ubuntu/")  # type: ignore[union-attr]
    # A name that only NVIDIA uses *with its repository configured* needs the apt source as evidence.
    assert by_name["libnpp-12-4"].origin == "os"
    with_repo = files | {"etc/apt/sources.list.d/cuda-ubuntu2204-x86_64.list": NVIDIA_SOURCES}
    npp = {p.name: p for p in packages(inventory(with_repo))}["libnpp-12-4"]
    assert npp.origin == "third-party" and extra(npp)["repository"].startswith("https://developer.download.nvidia.com/")


def test_debian_own_nccl_is_not_third_party() -> None:
    status = b"Package: libnccl2\nStatus: install ok installed\nMaintainer: Debian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>\nArchitecture: amd64\nSource: nccl\nVersion: 2.18.3-1\n"
    [pkg] = packages(inventory({"etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status}))
    assert pkg.origin == "os" and pkg.ecosystem == "Debian"


def test_deb822_sources_are_read() -> None:
    sources = b"Types: deb\nURIs: https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/\nSuites: /\nSigned-By: /usr/share/keyrings/cuda-archive-keyring.gpg\n"
    facts = inventory({"etc/apt/sources.list.d/cuda.sources": sources, "etc/apt/sources.list.d/x/y.list": sources})
    assert [f.url for f in facts if isinstance(f, AptSource)] == [
        "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64"
    ]


def test_osv_ecosystems() -> None:
    def eco(os_id: str, version: str) -> str | None:
        from shareguard.image.analyzers._common import load_data

        return osv_ecosystem(OSInfo(id=os_id, version_id=version), load_data("os_ecosystems.yaml")[os_id])

    assert eco("debian", "12") == "Debian:12"
    assert eco("debian", "") == "Debian"
    assert eco("ubuntu", "22.04") == "Ubuntu:22.04:LTS"
    assert eco("ubuntu", "23.10") == "Ubuntu:23.10"
    assert eco("alpine", "3.19.1") == "Alpine:v3.19"
    assert eco("rocky", "9.3") == "Rocky Linux:9"
    assert eco("almalinux", "8.9") == "AlmaLinux:8"
    assert eco("rhel", "9.3") == "Red Hat"
    assert eco("fedora", "39") is None


def test_dpkg_owned_python_is_os_managed_and_pip_one_is_not() -> None:
    facts = inventory(
        {
            "etc/os-release": DEBIAN_12,
            "var/lib/dpkg/info/python3-yaml.list": b"/.\n/usr\n/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info\n/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n/usr/lib/python3/dist-packages/yaml/__init__.py\n",
            "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA": b"Name: PyYAML\nVersion: 6.0\n",
            "usr/local/lib/python3.11/dist-packages/PyYAML-6.0.1.dist-info/METADATA": b"Name: PyYAML\nVersion: 6.0.1\n",
        }
    )
    by_version = {p.version: p for p in packages(facts, "PyPI")}
    assert by_version["6.0"].os_managed and extra(by_version["6.0"])["os_package"] == "python3-yaml"
    assert not by_version["6.0.1"].os_managed


def test_rpm_image_without_readable_rpmdb_falls_back_to_location() -> None:
    rocky = b'ID="rocky"\nVERSION_ID="8.9"\n'
    facts = inventory(
        {
            "etc/os-release": rocky,
            "usr/lib/python3.6/site-packages/six-1.11.0.dist-info/METADATA": b"Name: six\nVersion: 1.11.0\n",
            "usr/local/lib/python3.6/site-packages/six-1.16.0.dist-info/METADATA": b"Name: six\nVersion: 1.16.0\n",
        }
    )
    by_version = {p.version: p for p in packages(facts, "PyPI")}
    assert by_version["1.11.0"].os_managed and not by_version["1.16.0"].os_managed


def test_ownership_without_owners_changes_nothing() -> None:
    facts = packages(inventory({"a/site-packages/x-1.dist-info/METADATA": b"Name: x\nVersion: 1\n"}))
    assert OwnershipFinalizer().finalize(list(facts), {}) == facts


def test_plugin_registers_every_analyzer_and_finalizer() -> None:
    regs = load_registries(("shareguard.image.plugin",))
    analyzers = regs.of(FileAnalyzer)  # type: ignore[type-abstract]
    finalizers = regs.of(InventoryFinalizer)  # type: ignore[type-abstract]
    assert {"inventory.dpkg", "inventory.rpm", "inventory.apk", "inventory.python", "inventory.conda"} <= set(
        analyzers.names()
    )
    assert all(isinstance(a, FileAnalyzer) and a.version for a in analyzers)
    orders = [f.order for f in finalizers]
    assert len(set(orders)) == len(orders) and all(isinstance(f, InventoryFinalizer) for f in finalizers)


def test_every_fact_type_survives_the_layer_cache_codec() -> None:
    from shareguard.image.cache import _fact_classes, decode_fact, encode_fact

    conda = b'{"name":"numpy","version":"1.26.4","build":"py311_0","channel":"https://conda.anaconda.org/conda-forge/linux-64","files":["lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA"]}'
    facts = inventory(
        {
            "etc/os-release": UBUNTU_2204,
            "var/lib/dpkg/status": CUDA_STATUS,
            "var/lib/dpkg/info/python3-yaml.list": b"/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info\n",
            "etc/apt/sources.list.d/cuda.list": NVIDIA_SOURCES,
            "opt/conda/conda-meta/numpy-1.26.4-py311_0.json": conda,
            "opt/conda/lib/python3.11/site-packages/numpy-1.26.4.dist-info/INSTALLER": b"conda\n",
            "x/torch/version.py": b"__version__ = '2.3.0+cu121'\ncuda = '12.1'\n",
        },
        "sha256:l",
    )
    classes = _fact_classes()
    kinds = set()
    for fact in facts:
        assert decode_fact(encode_fact(fact), classes) == fact
        kinds.add(type(fact).__name__)
    assert {"OSInfo", "Package", "OwnedFiles", "AptSource", "PythonInstaller"} <= kinds


def test_python_bundled_in_a_third_party_deb_is_matched_as_pypi() -> None:
    status = b"Package: google-cloud-cli\nStatus: install ok installed\nMaintainer: Google Cloud SDK <gcloud@google.com>\nArchitecture: amd64\nVersion: 528.0.0-0\n"
    site = "usr/lib/google-cloud-sdk/platform/bundledpythonunix/lib/python3.12/site-packages"
    facts = inventory(
        {
            "etc/os-release": DEBIAN_12,
            "var/lib/dpkg/status": status,
            "var/lib/dpkg/info/google-cloud-cli.list": f"/{site}/urllib3-2.2.1.dist-info\n/{site}/setuptools/_vendor/zipp-3.19.2.dist-info/METADATA\n".encode(),
            f"{site}/urllib3-2.2.1.dist-info/METADATA": b"Name: urllib3\nVersion: 2.2.1\n",
            f"{site}/setuptools/_vendor/zipp-3.19.2.dist-info/METADATA": b"Name: zipp\nVersion: 3.19.2\n",
        }
    )
    by_name = {p.name: p for p in packages(facts)}
    assert by_name["google-cloud-cli"].origin == "third-party"
    urllib3 = by_name["urllib3"]
    assert not urllib3.os_managed and extra(urllib3)["os_package"] == "google-cloud-cli"
    assert extra(urllib3)["os_package_origin"] == "third-party"
    assert extra(by_name["zipp"])["vendored_in"] == "setuptools" and not by_name["zipp"].os_managed
