"""Package URLs (purl spec) for every ecosystem the inventory emits, built with packageurl-python."""

from __future__ import annotations

from packageurl import PackageURL


def _s(purl: PackageURL) -> str:
    return str(purl.to_string())


def deb(namespace: str, name: str, version: str, arch: str | None, distro: str | None) -> str:
    qualifiers = {k: v for k, v in (("arch", arch), ("distro", distro)) if v}
    return _s(PackageURL(type="deb", namespace=namespace, name=name, version=version, qualifiers=qualifiers))


def rpm(namespace: str, name: str, version: str, epoch: str | None, arch: str | None, distro: str | None) -> str:
    qualifiers = {k: v for k, v in (("arch", arch), ("epoch", epoch), ("distro", distro)) if v}
    return _s(PackageURL(type="rpm", namespace=namespace, name=name, version=version, qualifiers=qualifiers))


def apk(namespace: str, name: str, version: str, arch: str | None, distro: str | None) -> str:
    qualifiers = {k: v for k, v in (("arch", arch), ("distro", distro)) if v}
    return _s(PackageURL(type="apk", namespace=namespace, name=name, version=version, qualifiers=qualifiers))


def pypi(name: str, version: str) -> str:
    return _s(PackageURL(type="pypi", name=name, version=version))


def npm(name: str, version: str) -> str:
    namespace, _, bare = name.rpartition("/")
    return _s(PackageURL(type="npm", namespace=namespace or None, name=bare, version=version))


def conda(name: str, version: str, build: str | None, channel: str | None, subdir: str | None) -> str:
    qualifiers = {k: v for k, v in (("build", build), ("channel", channel), ("subdir", subdir)) if v}
    return _s(PackageURL(type="conda", name=name, version=version, qualifiers=qualifiers))


def generic(namespace: str, name: str, version: str) -> str:
    return _s(PackageURL(type="generic", namespace=namespace, name=name, version=version))
