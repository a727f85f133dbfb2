"""The shared-responsibility duty catalog and the compliance frameworks it maps to (data + loader)."""

from shareguard.catalog.loader import load_catalog
from shareguard.catalog.model import Catalog, Control, Framework, Owner, Service

__all__ = ["Catalog", "Control", "Framework", "Owner", "Service", "load_catalog"]
