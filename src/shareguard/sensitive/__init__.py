"""Sensitive data and secrets where they are stored: detectors as data, a Hyperscan prefilter pass, validators
and context on candidates, readers for the common data formats, object stores and a Beam pipeline."""
