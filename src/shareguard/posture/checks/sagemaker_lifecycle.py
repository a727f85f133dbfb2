"""SageMaker lifecycle configurations (Studio and notebook instance): the base64 script is decoded and read with
the shell checks of the Dockerfile analyzer (a `RUN` heredoc is the same shell) and the launch-code option
reader; findings name the lifecycle configuration, at the line of its content attribute, with the script line.

Where the script comes from (`posture/attributes/sagemaker_studio.yaml` maps the types to
`aws.sagemaker.lifecycle_config`): Terraform `studio_lifecycle_config_content` / `on_create` / `on_start` as a
base64 literal, `base64encode("…")` or `base64encode(<<EOT … EOT)`, or `filebase64("f")` /
`base64encode(file("f"))` naming a file next to the module (read inside the scanned directory only, within the
config size budget); CloudFormation `StudioLifecycleConfigContent` / `OnCreate[].Content` / `OnStart[].Content`
as a base64 literal or `Fn::Base64` of a literal or `Fn::Sub` template. Anything else (a variable, a file
outside the scan) leaves the script rules unresolved: never a pass.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.errors import ShareguardError
from shareguard.posture import tables
from shareguard.posture.checks.dockerfile import (
    pipe_to_shell,
    plain_http_index,
    secrets_in_build_vars,
    tls_disabled,
    unsigned_packages,
)
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.parsers.dockerfile import Dockerfile, parse_text
from shareguard.posture.parsers.launch_code import options_in

RULES = ("SAGEMAKER-050", "SAGEMAKER-051", "SAGEMAKER-052", "SAGEMAKER-053")
_FROM_DOCKERFILE: dict[str, str] = {
    "DOCKERFILE-019": "SAGEMAKER-050",
    "DOCKERFILE-016": "SAGEMAKER-051",
    "DOCKERFILE-017": "SAGEMAKER-051",
    "DOCKERFILE-018": "SAGEMAKER-051",
    "DOCKERFILE-014": "SAGEMAKER-052",
}
_SHELL_RULES: tuple[Callable[[Dockerfile, ScanContext], Iterable[Violation]], ...] = (
    pipe_to_shell,
    tls_disabled,
    plain_http_index,
    unsigned_packages,
    secrets_in_build_vars,
)
_FIELDS = ("studio_lifecycle_config_content", "on_create", "on_start")
_DELIM = "SHAREGUARD_LIFECYCLE_SCRIPT_END"
_HEADER_LINES = 2
"""`FROM scratch` and `RUN <<…` precede the script in the Dockerfile it is read as."""
_SHELLS = re.compile(r"\b(?:ba|z|da|k)?sh\b")
_B64 = re.compile(r"^[A-Za-z0-9+/\s]+={0,2}$")
_HEREDOC = re.compile(r"^\$\{base64encode\(\s*<<(-?)([A-Za-z_]\w*)\n(.*?)\n\s*\2\s*\)\}$", re.S)
_QUOTED = re.compile(r'^\$\{base64encode\(\s*"((?:[^"\\]|\\.)*)"\s*\)\}$', re.S)
_FILE = re.compile(r'^\$\{(?:filebase64\(\s*"([^"]+)"\s*\)|base64encode\(\s*file\(\s*"([^"]+)"\s*\)\s*\))\}$')


@dataclass(frozen=True)
class Script:
    field: str
    """Attribute path of the content (`on_start`, `on_create[0].content`)."""
    text: str | None
    """The decoded script; None when it cannot be known statically."""
    why: str = ""


def _scripts(res: PostureResource) -> Iterator[tuple[str, Any]]:
    a = res.attributes
    for name in _FIELDS:
        value = a.get(name)
        if isinstance(value, list):  # CloudFormation OnCreate/OnStart: [{Content: …}]
            for i, item in enumerate(value):
                if isinstance(item, dict) and "content" in item:
                    yield f"{name}[{i}].content", item["content"]
        elif value is not None:
            yield name, value


def _b64(text: str) -> str | None:
    if not _B64.match(text):
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _dedent(body: str) -> str:
    """`<<-EOT`: Terraform strips the smallest common leading whitespace."""
    lines = body.split("\n")
    pad = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[pad:] for x in lines)


def _read_beside(res: PostureResource, name: str, ctx: ScanContext) -> tuple[str | None, str]:
    rel = re.sub(r"^\$\{path\.(?:module|root)\}/", "", name)
    if "${" in rel:
        return None, f"script file {name} is an expression"
    root = Path(ctx.root).resolve() if ctx.root else None
    if root is None or not root.is_dir():
        return None, f"script file {rel} is not in the scanned directory"
    target = (root / Path(res.file).parent / rel).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None, f"script file {rel} is not in the scanned directory"
    limit = ctx.settings.budgets.max_config_bytes
    if target.stat().st_size > limit:
        return None, f"script file {rel} is over the {limit}-byte budget"
    return target.read_bytes().decode("utf-8", errors="replace"), ""


def decode(res: PostureResource, field: str, value: Any, ctx: ScanContext) -> Script:
    if isinstance(value, dict) and len(value) == 1 and "Fn::Base64" in value:
        inner = value["Fn::Base64"]
        if isinstance(inner, dict) and "Fn::Sub" in inner:
            sub = inner["Fn::Sub"]
            inner = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(inner, str):
            return Script(field, inner)
        return Script(field, None, f"{field} is {str(value)[:80]}")
    if not isinstance(value, str):
        return Script(field, None, f"{field} is {str(value)[:80]}")
    if "${" not in value:
        text = _b64(value.strip())
        return Script(field, text, "" if text is not None else f"{field} is not base64")
    if m := _HEREDOC.match(value.strip()):
        body = m.group(3)
        return Script(field, _dedent(body) if m.group(1) else body)
    if m := _QUOTED.match(value.strip()):
        return Script(field, m.group(1).encode().decode("unicode_escape", errors="replace"))
    if m := _FILE.match(value.strip()):
        text, why = _read_beside(res, m.group(1) or m.group(2), ctx)
        return Script(field, text, why)
    return Script(field, None, f"{field} is {value[:80]}")


def _line(res: PostureResource, field: str) -> int | None:
    return res.line_of(field)


def judge_script(res: PostureResource, script: Script, ctx: ScanContext) -> Iterator[Violation | Unresolved]:
    text = script.text
    if text is None:
        for rid in RULES:
            yield Unresolved(rid, script.field, script.why)
        return
    line = _line(res, script.field)
    body = text.replace("\r\n", "\n")
    first, _, rest = body.partition("\n")
    if first.startswith("#!"):
        if not _SHELLS.search(first):
            return  # a script for another interpreter: not read as shell (SageMaker runs it by its shebang)
        body = "\n" + rest  # the heredoc is shell already; a blank line keeps the script's line numbers
    lines = body.split("\n")
    df = parse_text(f"FROM scratch\nRUN <<{_DELIM}\n{body}\n{_DELIM}\n", f"{res.file}:{script.field}")
    for rule in _SHELL_RULES:
        for v in rule(df, ctx):
            mapped = _FROM_DOCKERFILE.get(v.rule_id)
            if mapped is None:
                continue
            n = v.line - _HEADER_LINES if v.line and v.line > _HEADER_LINES else 0
            at = f" (script line {n})" if n else ""
            detail = f"{script.field}{at}: {v.detail}" if v.detail else f"{script.field}{at}"
            evidence = (v.evidence or "").replace("RUN …", script.field)
            if n and mapped != "SAGEMAKER-052":  # the script line itself (a secret's evidence stays masked)
                evidence = lines[n - 1].strip()[:160] if n <= len(lines) else evidence
            yield Violation(mapped, script.field, evidence, detail, line, f"{script.field}|{detail}")
    try:
        options = options_in(body, "shell", f"{res.file}:{script.field}")
    except ShareguardError as exc:
        yield Unresolved("SAGEMAKER-053", script.field, f"{script.field}: {exc.message}")
        return
    deprecated = tables.load("dataflow", ctx.settings).doc["deprecated_experiments"]
    for value, script_line in options.get("experiments", []):
        name = str(value).split("=", 1)[0]
        if name in deprecated:
            yield Violation(
                "SAGEMAKER-053",
                script.field,
                name,
                f"{script.field} (script line {script_line}): --experiments={name}",
                line,
                f"{script.field}|{name}",
            )


@dataclass(frozen=True)
class LifecycleChecks:
    name: str = "sagemaker_lifecycle"
    types: frozenset[str] = frozenset({"aws.sagemaker.lifecycle_config"})

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        for field, value in _scripts(resource):
            yield from judge_script(resource, decode(resource, field, value, ctx), ctx)


CHECKS = (LifecycleChecks(),)
