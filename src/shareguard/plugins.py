"""The composition root: built-in plugin modules, each exposing `register(registries)`.

The CLI and engine never name a scanner; they ask the registries. Third-party plugins use the
`shareguard.plugins` entry-point group instead of this list.
"""

from __future__ import annotations

BUILTIN_PLUGINS: tuple[str, ...] = ("shareguard.report.plugin",)
