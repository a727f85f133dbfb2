"""Configuration and posture audit: parsers → normalised resources → checks (Python and CEL)."""
