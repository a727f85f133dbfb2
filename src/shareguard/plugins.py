"""The composition root: built-in plugin modules, each exposing `register(registries)`.

The CLI and engine never name a scanner; they ask the registries. Third-party plugins use the
`shareguard.plugins` entry-point group instead of this list.
"""

from __future__ import annotations

BUILTIN_PLUGINS: tuple[str, ...] = (
    "shareguard.report.plugin",  # table, json, sarif, html
    "shareguard.report.sbom_plugin",  # cyclonedx, spdx
    "shareguard.image.plugin",  # inventory analyzers (dpkg, rpm, apk, python, conda, npm, ml-stack)
    "shareguard.vuln.plugin",  # OSV matcher (post analyzer over Package facts)
    "shareguard.posture.plugin",  # config parsers + checks (python and CEL)
    "shareguard.models.plugin",  # model files and ML code
    "shareguard.freshness.plugin",  # DL image release catalogs, long-running jobs, bulletins
    "shareguard.sensitive.plugin",  # sensitive data and secrets in files, layers and objects
    "shareguard.logs.plugin",  # audit logs: Sigma rules over CloudTrail, Cloud Audit Logs, Kubernetes audit
)
