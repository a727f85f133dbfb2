"""Finalizers: run once over the merged facts of all layers (upper layers already applied)."""
