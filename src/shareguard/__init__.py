"""shareguard: the customer's half of the cloud shared-responsibility model for ML workloads.

Public API (stable):

- :func:`shareguard.api.scan_path` – run every analyzer that claims files under a path.
- :class:`shareguard.core.finding.Finding` – the one finding model.
- :func:`shareguard.catalog.load_catalog` – the duty catalog.
"""

__version__ = "0.1.0"
