"""Vulnerability data: OSV import, local store, per-ecosystem version order, matching."""
