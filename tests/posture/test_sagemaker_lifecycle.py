"""SageMaker lifecycle configurations: the base64 script inside is decoded and read with the shell and launch-code
checks (Terraform `aws_sagemaker_studio_lifecycle_config` / `aws_sagemaker_notebook_instance_lifecycle_configuration`
and CloudFormation `AWS::SageMaker::StudioLifecycleConfig` / `AWS::SageMaker::NotebookInstanceLifecycleConfig`,
written from the provider and CloudFormation reference pages)."""

from __future__ import annotations

import base64
from pathlib import Path

from cloud_helpers import scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.posture.checks.sagemaker_lifecycle import decode, judge_script
from shareguard.posture.model import PostureResource

STUDIO_TF = """resource "aws_sagemaker_studio_lifecycle_config" "setup" {
  studio_lifecycle_config_name     = "setup"
  studio_lifecycle_config_app_type = "JupyterLab"
  studio_lifecycle_config_content  = base64encode(<<-EOT
    #!/bin/bash
    set -eux
    curl -fsSL https://tools.example.com/install.sh | bash
  EOT
  )
}
"""
SAFE_SCRIPT = """#!/bin/bash
set -eux
curl -fsSLo /tmp/install.sh https://tools.example.com/install.sh
echo "4f2a...  /tmp/install.sh" | sha256sum -c -
pip install --no-cache-dir pandas==2.2.3
"""
NOTEBOOK_TF = """resource "aws_sagemaker_notebook_instance_lifecycle_configuration" "lc" {
  name      = "lc"
  on_create = filebase64("${path.module}/scripts/on-create.sh")
  on_start  = base64encode(file("scripts/on-start.sh"))
}
"""
ON_CREATE = """#!/bin/bash
set -e
pip install --trusted-host pypi.internal \\
    -i http://pypi.internal/simple pandas
echo 'export GITHUB_TOKEN=ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A' >> /home/ec2-user/.bashrc
"""
ON_START = """#!/bin/bash
set -e
python /home/ec2-user/SageMaker/pipeline.py --runner=DataflowRunner \\
  --experiments=use_runner_v2,enable_stackdriver_agent_metrics
"""
CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  NotebookLifecycle:
    Type: AWS::SageMaker::NotebookInstanceLifecycleConfig
    Properties:
      NotebookInstanceLifecycleConfigName: nb-setup
      OnStart:
        - Content: !Base64 |
            #!/bin/bash
            wget -qO- https://tools.example.com/agent.sh | sh
  StudioLifecycle:
    Type: AWS::SageMaker::StudioLifecycleConfig
    Properties:
      StudioLifecycleConfigName: studio-setup
      StudioLifecycleConfigAppType: JupyterServer
      StudioLifecycleConfigContent: {content}
"""


def _hits(result: ScanResult, rule: str) -> list[tuple[str | None, int | None]]:
    return [(f.resource.name, f.location.line) for f in result.findings if f.rule_id == rule]


def _gaps(result: ScanResult, rule: str) -> list[str]:
    return [g.reason for ev in result.coverage.duties.values() for g in ev.gaps if g.reason.startswith(rule)]


def test_terraform_heredoc_script_pipes_a_download_into_bash(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(STUDIO_TF)
    result = scan(tmp_path)
    assert _hits(result, "SAGEMAKER-050") == [("aws_sagemaker_studio_lifecycle_config.setup", 4)]
    f = next(f for f in result.findings if f.rule_id == "SAGEMAKER-050")
    assert "script line 3" in f.title
    assert f.evidence == "curl -fsSL https://tools.example.com/install.sh | bash"


def test_verified_download_passes_from_evidence(tmp_path: Path) -> None:
    literal = base64.b64encode(SAFE_SCRIPT.encode()).decode()
    head = STUDIO_TF.split("  studio_lifecycle_config_content")[0]
    (tmp_path / "main.tf").write_text(f'{head}  studio_lifecycle_config_content  = "{literal}"\n}}\n')
    result = scan(tmp_path)
    assert not [f for f in result.findings if f.rule_id.startswith("SAGEMAKER-05")]
    assert "SAGEMAKER-050" in result.coverage.duties["SAGEMAKER-C-01"].rules
    assert not _gaps(result, "SAGEMAKER-05")


def test_script_files_beside_the_module(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(NOTEBOOK_TF)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "on-create.sh").write_text(ON_CREATE)
    (tmp_path / "scripts" / "on-start.sh").write_text(ON_START)
    result = scan(tmp_path)
    name = "aws_sagemaker_notebook_instance_lifecycle_configuration.lc"
    assert _hits(result, "SAGEMAKER-051") == [(name, 3), (name, 3)]  # --trusted-host and the http:// index
    assert _hits(result, "SAGEMAKER-052") == [(name, 3)]
    f = next(f for f in result.findings if f.rule_id == "SAGEMAKER-052")
    assert "ghp_" not in (f.evidence or "") and "ghp_" not in f.title
    assert _hits(result, "SAGEMAKER-053") == [(name, 4)]
    assert "script line 4" in next(f.title for f in result.findings if f.rule_id == "SAGEMAKER-053")


def test_script_not_in_the_scan_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(NOTEBOOK_TF)
    result = scan(tmp_path)
    assert not [f for f in result.findings if f.rule_id.startswith("SAGEMAKER-05")]
    assert len(_gaps(result, "SAGEMAKER-050")) == 2  # on_create and on_start
    assert any("not in the scanned directory" in g for g in _gaps(result, "SAGEMAKER-052"))


def test_script_outside_the_scan_root_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "on-create.sh").write_text(ON_CREATE)
    (root / "main.tf").write_text(NOTEBOOK_TF.replace("${path.module}/scripts/on-create.sh", "../on-create.sh"))
    result = scan(root)
    assert not _hits(result, "SAGEMAKER-051")
    assert any("not in the scanned directory" in g for g in _gaps(result, "SAGEMAKER-051"))


def test_cloudformation_base64_forms(tmp_path: Path) -> None:
    literal = base64.b64encode(b"#!/bin/bash\nbash <(curl -s https://tools.example.com/x.sh)\n").decode()
    (tmp_path / "stack.yaml").write_text(CFN.replace("{content}", literal))
    result = scan(tmp_path)
    assert sorted(_hits(result, "SAGEMAKER-050")) == [("NotebookLifecycle", 8), ("StudioLifecycle", 16)]


def test_cloudformation_variable_content_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(CFN.replace("{content}", "!Ref ScriptParameter"))
    result = scan(tmp_path)
    assert _hits(result, "SAGEMAKER-050") == [("NotebookLifecycle", 8)]
    assert any("studio_lifecycle_config_content" in g for g in _gaps(result, "SAGEMAKER-050"))


def test_other_interpreters_are_not_read_as_shell(tmp_path: Path) -> None:
    script = "#!/usr/bin/env python3\nimport os\nos.system('curl https://x.example.com/a.sh | sh')\n"
    literal = base64.b64encode(script.encode()).decode()
    (tmp_path / "stack.yaml").write_text(CFN.replace("{content}", literal))
    assert _hits(scan(tmp_path), "SAGEMAKER-050") == [("NotebookLifecycle", 8)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())))
def test_hostile_content_never_raises(value: str) -> None:
    res = PostureResource("aws.sagemaker.lifecycle_config", "x", "main.tf", 1, {"on_start": value})
    ctx = ScanContext(settings=Settings())
    script = decode(res, "on_start", value, ctx)
    list(judge_script(res, script, ctx))
