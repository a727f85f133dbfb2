"""`terraform show -json` plan and state files."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings
from shareguard.posture.attribute_rules import attribute_rules
from shareguard.posture.parsers import describe, iam_policy, terraform_plan


def _entry(p: Path) -> FileEntry:
    return FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)


def test_plan_claimed_only_by_the_plan_parser() -> None:
    e = _entry(FIXTURES / "plan" / "plan.json")
    assert terraform_plan.claim(e)
    assert not describe.claim(e) and not iam_policy.claim(e)


def test_resource_changes_with_unknowns_and_deletes() -> None:
    e = _entry(FIXTURES / "plan" / "plan.json")
    res = terraform_plan.parse(e, ScanContext(settings=Settings()))
    by_name = {r.name: r for r in res}
    assert set(by_name) == {"module.pipeline.google_dataflow_flex_template_job.job", "google_dataflow_job.private"}
    private = by_name["google_dataflow_job.private"]
    assert private.attributes["kms_key_name"] == "(known after apply)"
    assert by_name["module.pipeline.google_dataflow_flex_template_job.job"].line == 31
    assert by_name["module.pipeline.google_dataflow_flex_template_job.job"].line_of("experiments") == 41


def test_state_file_child_modules(tmp_path: Path) -> None:
    state = {
        "format_version": "1.0",
        "terraform_version": "1.9.5",
        "values": {
            "root_module": {
                "resources": [],
                "child_modules": [
                    {
                        "address": "module.ml",
                        "resources": [
                            {
                                "address": "module.ml.aws_sagemaker_notebook_instance.nb",
                                "mode": "managed",
                                "type": "aws_sagemaker_notebook_instance",
                                "name": "nb",
                                "values": {
                                    "name": "nb",
                                    "root_access": "Enabled",
                                    "direct_internet_access": "Disabled",
                                    "subnet_id": "subnet-1",
                                    "kms_key_id": "k",
                                },
                            },
                            {
                                "address": "module.ml.data.aws_caller_identity.me",
                                "mode": "data",
                                "type": "aws_caller_identity",
                                "name": "me",
                                "values": {},
                            },
                        ],
                    }
                ],
            }
        },
    }
    p = tmp_path / "state.json"
    p.write_text(json.dumps(state, indent=2))
    lines = rule_lines(scan(p))
    assert set(lines) - set(attribute_rules()) == {"SAGEMAKER-001"}  # the attribute tables are tested apart
    text = p.read_text().splitlines()
    assert text[lines["SAGEMAKER-001"][0] - 1].strip().startswith('"root_access"')


def test_truncated_plan_is_a_per_file_error(tmp_path: Path) -> None:
    text = (FIXTURES / "plan" / "plan.json").read_text()
    (tmp_path / "plan.json").write_text(text[: len(text) // 2])
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["plan.json"]
