"""A small built-in set of personal-data and secret detectors for configuration text fields.

The interface (`Detection`, `detect`) is what the posture text-field rules use; the sensitive-data
capability can replace this package's implementation later without touching the rules. Patterns are data
(`patterns.yaml`), validators are code (`validators.py`); patterns are compiled with RE2 (linear time, no
catastrophic backtracking) when google-re2 is installed.
"""

from __future__ import annotations

from shareguard.posture.detectors.engine import Detection, Detector, detect, detectors

__all__ = ["Detection", "Detector", "detect", "detectors"]
