"""The public log corpora of ../shared/data that the log benchmark (`logs_eval.py`) and the SigmaHQ tests
(`tests/logs/test_sigmahq.py`, which import this file by its path) both read: SigmaHQ's rules and the OTRF
CloudTrail dataset. The product never reads ../shared; callers skip cleanly where it is absent.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from shareguard.logs import ruleset
from shareguard.logs.detect import builtin_rules

SIGMA_RULES = Path("sigma", "rules")
"""SigmaHQ's rule tree, under the shared data folder."""
OTRF_CLOUDTRAIL = Path(
    "logs", "cloudtrail", "otrf", "datasets", "atomic", "aws", "collection", "ec2_proxy_s3_exfiltration.zip"
)
"""OTRF Security-Datasets' CloudTrail capture of an EC2 proxy S3 exfiltration (one JSON event a line), under
the shared data folder."""


def sigma_rules(shared: Path, *folders: str) -> ruleset.RuleSet:
    """SigmaHQ's rules of `folders` (below `sigma/rules`: `cloud/aws/cloudtrail`…)."""
    root = shared / SIGMA_RULES
    return ruleset.load([f for d in folders for f in ruleset.rule_files(root / d)])


def detection_rules(shared: Path, *folders: str) -> ruleset.RuleSet:
    """SigmaHQ's rules of `folders` plus shareguard's built-in pack (rules and correlations)."""
    rules = sigma_rules(shared, *folders)
    builtin = builtin_rules()
    rules.rules.extend(builtin.rules)
    rules.correlations.extend(builtin.correlations)
    return rules


def otrf_cloudtrail(shared: Path) -> bytes:
    """The OTRF CloudTrail dataset as it is zipped: one JSON event a line."""
    with zipfile.ZipFile(shared / OTRF_CLOUDTRAIL) as z:
        return z.read(z.namelist()[0])
