"""IAM checks: AWS policy documents (least privilege, PassRole, NotAction, MFA), root access keys; GCP
bindings (primitive roles, owner/editor held by named identities, public members, project-level
impersonation roles), user-managed SA keys."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.masking import mask
from shareguard.posture.checks._util import data, is_unknown, v
from shareguard.posture.model import PostureResource, Unresolved, Violation


@cache
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a pattern list; the pattern `*` means the action `*` itself, not every action."""
    parts = [r"\*\Z" if p == "*" else fnmatch.translate(p) for p in patterns]
    return re.compile("|".join(f"(?:{x})" for x in parts))


def _match(action: str, patterns: list[str]) -> bool:
    return _compiled(tuple(patterns)).match(action.lower()) is not None


def _is_wild_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


_OWNER_ROLES = frozenset({"roles/owner", "roles/editor"})
"""Basic roles that carry owner-level power over a project (IAM-010): not for identities in daily use."""
_NAMED_KINDS = frozenset({"user", "serviceAccount", "group", "domain"})


def has_mfa_condition(conditions: dict[str, dict[str, list[str]]]) -> bool:
    for body in conditions.values():
        for key in body:
            if key.lower() in ("aws:multifactorauthpresent", "aws:multifactorauthage"):
                return True
    return False


def allows_identity(st: dict[str, Any], context: str) -> bool:
    """An Allow statement of an identity policy (resource and key policies have principals)."""
    return (
        st.get("effect", "Allow").lower() == "allow" and context in ("identity", "unknown") and not st.get("principals")
    )


@dataclass(frozen=True)
class IamChecks:
    name: str = "iam"
    types: frozenset[str] = frozenset({"aws.iam.policy", "gcp.iam.policy", "gcp.iam.sa_key", "aws.iam.account_summary"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        if res.type == "aws.iam.policy":
            yield from self._aws(res)
        elif res.type == "gcp.iam.policy":
            yield from self._gcp(res)
        elif res.type == "gcp.iam.sa_key":
            key_type = res.attributes.get("key_type")
            if key_type in (None, "USER_MANAGED") and (res.source_format != "describe" or key_type == "USER_MANAGED"):
                yield v("IAM-008", res, "key_type")
        elif res.type == "aws.iam.account_summary":
            present = res.attributes.get("account_access_keys_present")
            if isinstance(present, int) and present > 0:
                yield v("IAM-005", res, "account_access_keys_present", evidence=f"AccountAccessKeysPresent: {present}")

    def _aws(self, res: PostureResource) -> Iterable[Violation]:
        tables = data("iam")
        context = str(res.attributes.get("context", "unknown"))
        statements = res.attributes.get("statements") or []
        all_actions = [a for st in statements if st.get("effect", "Allow").lower() == "allow" for a in st["actions"]]
        for i, st in enumerate(statements):
            field = f"statements[{i}]"
            if not allows_identity(st, context):
                continue
            actions = st["actions"]
            resources = st["resources"]
            wild_res = "*" in resources
            wild = [a for a in actions if _is_wild_action(a)]
            if wild and wild_res:
                yield v("IAM-001", res, field, evidence=f"Action {wild[0]} on Resource *", detail=wild[0], key=field)
            if wild_res and any(_match(a, ["iam:passrole", "iam:*", "*", "iam:pass*"]) for a in actions):
                compute = [a for a in all_actions if _match(a, tables["aws_compute_create_actions"])]
                detail = "with " + ", ".join(sorted(set(compute))[:3]) if compute else None
                yield v("IAM-002", res, field, evidence="iam:PassRole on Resource *", detail=detail, key=field)
            if st["not_actions"]:
                yield v("IAM-003", res, field, evidence="NotAction: " + ", ".join(st["not_actions"][:3]), key=field)
            sensitive = [a for a in actions if _match(a, tables["aws_mfa_sensitive_actions"])]
            if sensitive and not has_mfa_condition(st["conditions"]):
                yield v("IAM-004", res, field, evidence=", ".join(sensitive[:3]), key=field)

    def _gcp(self, res: PostureResource) -> Iterable[Violation | Unresolved]:
        tables = data("iam")
        scope = str(res.attributes.get("scope", ""))
        for i, b in enumerate(res.attributes.get("bindings") or []):
            field = f"bindings[{i}]"
            role = b.get("role") or ""
            members = [m for m in b.get("members") or [] if isinstance(m, str)]
            public = [m for m in members if m in tables["gcp_public_members"]]
            if public:
                yield v("IAM-007", res, field, evidence=f"{role}: {public[0]}", key=f"{field}:{role}")
            named = [m for m in members if m.split(":", 1)[0] in _NAMED_KINDS]
            if is_unknown(role):
                project = scope in tables["gcp_project_scopes"]
                for rule in ("IAM-006", "IAM-010", "IAM-009") if project else ("IAM-006", "IAM-010"):
                    yield Unresolved(rule, field, f"role is {role}")
                continue
            if role in tables["gcp_primitive_roles"] and named:
                yield v("IAM-006", res, field, evidence=f"{role}: {_mask_member(named[0])}", key=f"{field}:{role}")
            if role in _OWNER_ROLES and named:
                yield v("IAM-010", res, field, evidence=f"{role}: {_mask_member(named[0])}", key=f"{field}:{role}")
            if role in tables["gcp_impersonation_roles"] and scope in tables["gcp_project_scopes"] and members:
                yield v("IAM-009", res, field, evidence=f"{role} at {scope} level", key=f"{field}:{role}")


def _mask_member(member: str) -> str:
    kind, _, ident = member.partition(":")
    if kind == "user" and "@" in ident:
        local, _, domain = ident.partition("@")
        return f"{kind}:{mask(local, 2)}@{domain}"
    return member


CHECKS = (IamChecks(),)
