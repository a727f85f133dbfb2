"""Registers user CEL rules as a posture check over every resource type (see `posture.cel_rules`)."""

from __future__ import annotations

from shareguard.posture.cel_rules import CelCheck

CHECKS = (CelCheck(),)
