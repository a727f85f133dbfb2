"""What two runs of `shareguard data` are compared on (the Beam tests against the plain run)."""

from __future__ import annotations

import json


def finding_keys(doc: dict) -> list[tuple]:
    """Each finding of a JSON report as (rule, path, detector, location, evidence), sorted."""
    return sorted(
        (f["rule_id"], f["resource"]["path"], f["properties"]["detector"], json.dumps(f["location"], sort_keys=True),
         f["evidence"])
        for f in doc["findings"]
    )  # fmt: skip
