"""Inventory analyzers (one module per package manager or concept) and the finalizers that merge their facts."""
