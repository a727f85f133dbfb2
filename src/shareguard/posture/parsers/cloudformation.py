"""AWS CloudFormation templates (YAML with intrinsic short tags, or JSON), loaded with the shared safe YAML
loader (alias-bomb, depth and size budgets; a line for every key).

Short tags become their long form (`!Ref X` → `{"Ref": "X"}`, `!Sub s` → `{"Fn::Sub": s}`,
`!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`), which checks treat as unknown values. Each resource's
`Properties` become a snake_case view (`KmsKeyId` → `kms_key_id`) canonicalised like Terraform's; embedded
policies (`PolicyDocument`, `AssumeRolePolicyDocument`, `KeyPolicy`) become `aws.iam.policy` resources.
"""

from __future__ import annotations

import re
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import as_list, snake, snake_view
from shareguard.posture.parsers.iam_policy import aws_policy_resource, normalize_aws_policy
from shareguard.posture.parsers.yaml_safe import load_one
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of

_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_AWS_TYPE = re.compile(rb"""["']?Type["']?\s*:\s*["']?AWS::""")

# Properties path holding a policy document → its context.
_POLICIES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::IAM::Policy": (("PolicyDocument", "identity"),),
    "AWS::IAM::RolePolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::Role": (("AssumeRolePolicyDocument", "trust"), ("Policies[*].PolicyDocument", "identity")),
    "AWS::IAM::User": (("Policies[*].PolicyDocument", "identity"),),
    "AWS::IAM::Group": (("Policies[*].PolicyDocument", "identity"),),
    "AWS::S3::BucketPolicy": (("PolicyDocument", "bucket"),),
    "AWS::KMS::Key": (("KeyPolicy", "key"),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument", "unknown"),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument", "unknown"),),
}


def intrinsic(tag: str, value: Any) -> Any:
    """`!Ref`/`!Sub`/… short form → the long JSON form."""
    name = tag.lstrip("!")
    if name == "Ref":
        return {"Ref": value}
    if name == "Condition":
        return {"Condition": value}
    if name == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{name}": value}


def claim(entry: FileEntry) -> bool:
    if entry.suffix not in _SUFFIXES:
        return False
    head = entry.head(8192)
    if b"AWSTemplateFormatVersion" in head:
        return True
    return b"Resources" in head and _AWS_TYPE.search(head) is not None


def required(path: str, size: int) -> bool:
    """The path rule of `claim` (which then sniffs the content)."""
    return suffix_of(name_of(path)) in _SUFFIXES


def _snake_path(path: str) -> str:
    out = []
    for seg in path.split("."):
        name, bracket, rest = seg.partition("[")
        out.append(snake(name) + (bracket + rest if bracket else ""))
    return ".".join(out)


def _policy_docs(props: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    head, _, tail = path.partition("[*].")
    if not tail:
        return [(head, props.get(head))] if head in props else []
    out = []
    for i, item in enumerate(as_list(props.get(head))):
        if isinstance(item, dict) and tail in item:
            out.append((f"{head}[{i}].{tail}", item[tail]))
    return out


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    doc = load_one(text, entry.rel_path, ctx.settings.budgets, tag_handler=intrinsic)
    if not isinstance(doc.value, dict):
        raise ParseError("CloudFormation template is not a mapping", path=entry.rel_path)
    resources = doc.value.get("Resources")
    if not isinstance(resources, dict):
        raise ParseError("CloudFormation template has no Resources mapping", path=entry.rel_path, line=doc.line)
    out: list[PostureResource] = []
    for logical_id, res in resources.items():
        if not isinstance(res, dict) or not isinstance(res.get("Type"), str):
            continue
        rtype = res["Type"]
        raw_props = res.get("Properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        base = f"Resources.{logical_id}"
        line = doc.line_of(base)
        raw_lines = doc.lines_under(f"{base}.Properties")
        lines = {_snake_path(p): n for p, n in raw_lines.items()}
        view = snake_view(props)
        out.append(
            build(
                raw_type=rtype,
                name=str(logical_id),
                file=entry.rel_path,
                line=line,
                view=view,
                source_format="cloudformation",
                lines=lines,
                raw=res,
                extra={"condition": res.get("Condition")} if res.get("Condition") else None,
            )
        )
        for path, context in _POLICIES.get(rtype, ()):
            for where, pdoc in _policy_docs(props, path):
                stmts = normalize_aws_policy(pdoc)
                if not stmts:
                    continue
                slines = [doc.line_of(f"{base}.Properties.{where}.Statement[{i}]") for i in range(len(stmts))]
                out.append(
                    aws_policy_resource(
                        stmts,
                        name=f"{logical_id}.{where}",
                        file=entry.rel_path,
                        line=doc.line_of(f"{base}.Properties.{where}"),
                        context=context,
                        source_format="cloudformation",
                        raw_type=rtype,
                        statement_lines=slines,
                        raw=pdoc,
                        bucket=props.get("Bucket"),
                    )
                )
    return out


FORMAT = FormatSpec(
    name="cloudformation",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(*_SUFFIXES),
    required=required,
)
