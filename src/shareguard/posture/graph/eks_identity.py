"""EKS-010 across resources: an EKS cluster whose pods get no workload identity (IAM roles for service accounts or
EKS Pod Identity) — every pod then acts as the node's IAM role, or ships long-lived keys.

Evidence of workload identity for a cluster, in the same module / plan / template (Terraform HCL and plan JSON,
CloudFormation):

- IRSA: an `aws_iam_openid_connect_provider` / `AWS::IAM::OIDCProvider` whose URL is the cluster's issuer
  (`aws_eks_cluster.X.identity[0].oidc[0].issuer`, `!GetAtt X.OpenIdConnectIssuerUrl`);
- EKS Pod Identity: an `aws_eks_pod_identity_association` / `AWS::EKS::PodIdentityAssociation`, or the
  `eks-pod-identity-agent` add-on (`aws_eks_addon` / `AWS::EKS::Addon`), naming the cluster (by reference or
  name); EKS Auto Mode (`compute_config.enabled`) runs the Pod Identity agent itself.

Silence is read with care. IAM for a cluster often lives in another stack or module; so a cluster without any
such evidence fails only where its IAM setup is demonstrably in the scanned files (its cluster role is an
`aws_iam_role` / `AWS::IAM::Role` of the scan): otherwise it is unresolved (“not in the scanned files”), never a
pass. A provider, association or add-on whose cluster reference cannot be resolved leaves every cluster of its
module / template without other evidence unresolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.posture.check import to_finding
from shareguard.posture.graph.refs import Key, Literal, Ref, arn_name, key_of, raw_type, resolve, scope_of
from shareguard.posture.graph.rule_verdicts import rule_verdicts
from shareguard.posture.model import Violation, coverage_key, posture_of
from shareguard.posture.parsers._common import as_bool
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULE = "EKS-010"
_CLUSTERS = frozenset({"aws_eks_cluster", "AWS::EKS::Cluster"})
_ROLES = frozenset({"aws_iam_role", "AWS::IAM::Role"})
_OIDC = {"aws_iam_openid_connect_provider": "url", "AWS::IAM::OIDCProvider": "url"}
_ASSOCIATIONS = {"aws_eks_pod_identity_association": "cluster_name", "AWS::EKS::PodIdentityAssociation": "cluster_name"}
_ADDONS = {"aws_eks_addon": "cluster_name", "AWS::EKS::Addon": "cluster_name"}
_AGENT = "eks-pod-identity-agent"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value and "${" not in value and not value.startswith("(") else None


@dataclass
class EksIdentity(RulesPostAnalyzer):
    """PostAnalyzer `posture.eks_identity`."""

    name: str = "posture.eks_identity"
    rule_ids: ClassVar[tuple[str, ...]] = (RULE,)
    types: frozenset[str] = frozenset({"aws.eks.cluster"})

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        all_res = facts.of(ConfigResource)
        clusters = [r for r in all_res if raw_type(r) in _CLUSTERS and key_of(r) is not None]
        if not clusters:
            return []
        rules = self.rules()
        keys: dict[Key, ConfigResource] = {}
        roles: dict[Key, ConfigResource] = {}
        role_names: set[str] = set()
        by_name: dict[str, list[Key]] = {}
        for res in all_res:
            key = key_of(res)
            if key is None:
                continue
            rtype = raw_type(res)
            keys.setdefault(key, res)
            if rtype in _ROLES:
                roles[key] = res
                name = _str(res.attributes.get("name")) or _str(res.attributes.get("role_name"))
                if name is not None:
                    role_names.add(name)
        for c in clusters:
            name, ckey = _str(c.attributes.get("name")), key_of(c)
            if name is not None and ckey is not None:
                by_name.setdefault(name, []).append(ckey)
        evidence: dict[Key, str] = {}
        open_scopes: dict[tuple[str, str], str] = {}
        for res in all_res:
            rtype = raw_type(res)
            attr = _OIDC.get(rtype) or _ASSOCIATIONS.get(rtype) or _ADDONS.get(rtype)
            if attr is None:
                continue
            if rtype in _ADDONS and res.attributes.get("addon_name") != _AGENT:
                continue
            kind = (
                "IRSA OIDC provider"
                if rtype in _OIDC
                else "Pod Identity " + ("association" if rtype in _ASSOCIATIONS else "agent add-on")
            )
            target = resolve(res.attributes.get(attr), res, attr)
            found: list[Key] = []
            if isinstance(target, Ref):
                found = [target.key] if target.key in keys and raw_type(keys[target.key]) in _CLUSTERS else []
            elif isinstance(target, Literal) and rtype not in _OIDC:
                found = by_name.get(target.value, [])
            for k in found:
                evidence.setdefault(k, f"{kind} {res.name}")
            if not found:
                scope = scope_of(res)
                if scope is not None:
                    open_scopes.setdefault(scope, f"{kind} {res.name} names a cluster that cannot be resolved")
        out: list[Output] = []
        for c in clusters:
            key = key_of(c)
            assert key is not None
            where = f"{c.path}: {c.name}"
            auto = c.attributes.get("compute_config")
            auto_on = isinstance(auto, list) and auto and isinstance(auto[0], dict) and as_bool(auto[0].get("enabled"))
            if isinstance(auto, dict):
                auto_on = as_bool(auto.get("enabled"))
            failed: set[str] = set()
            why: dict[str, str] = {}
            if key in evidence or auto_on:
                pass
            elif key[:2] in open_scopes:
                why[RULE] = open_scopes[key[:2]]
            elif not _role_in_scan(c, roles, role_names):
                why[RULE] = (
                    "the cluster's IAM setup (its cluster role) is not in the scanned files, "
                    "so an IRSA provider or Pod Identity association may be defined elsewhere"
                )
            else:
                failed.add(RULE)
                detail = "no IRSA OIDC provider, Pod Identity association or agent add-on for it in its module"
                out.append(to_finding(Violation(RULE, detail=detail, evidence=detail), posture_of(c), rules, self.name))
            out.extend(
                rule_verdicts(rules, (RULE,), where=where, resource=coverage_key(c), failed=failed, unresolved=why)
            )
        return out


def _role_in_scan(cluster: ConfigResource, roles: dict[Key, ConfigResource], role_names: set[str]) -> bool:
    """The cluster's role (`role_arn`) is an IAM role of the scan: its IAM setup is in the scanned files."""
    role = resolve(cluster.attributes.get("role_arn"), cluster, "role_arn")
    return (isinstance(role, Ref) and role.key in roles) or (
        isinstance(role, Literal) and (arn_name(role.value, "role") or role.value) in role_names
    )
