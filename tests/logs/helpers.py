"""Events and rules the log tests build (shapes from the AWS, Google Cloud and Kubernetes documentation)."""

from __future__ import annotations

from typing import Any


def cloudtrail(
    name: str,
    source: str,
    *,
    actor: str = "arn:aws:iam::123456789012:user/jane.doe",
    time: str = "2025-03-04T09:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": actor,
            "accountId": "123456789012",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.24",
        "eventID": f"{name}-{time}",
        "recipientAccountId": "123456789012",
    }
    event.update(extra)
    return event


def gcp(
    method: str,
    service: str,
    *,
    actor: str = "eve@example.com",
    time: str = "2025-03-04T09:00:00.123456789Z",
    **payload: Any,
) -> dict[str, Any]:
    return {
        "insertId": f"{method}-{time}",
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": service,
            "methodName": method,
            "authenticationInfo": {"principalEmail": actor},
            "requestMetadata": {"callerIp": "198.51.100.7"},
            **payload,
        },
        "resource": {"type": "project", "labels": {"project_id": "p"}},
        "timestamp": time,
        "severity": "NOTICE",
    }


def k8s(
    verb: str,
    resource: str,
    *,
    user: str = "alice@example.com",
    namespace: str = "ml",
    name: str = "trainer-0",
    subresource: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ref: dict[str, Any] = {"resource": resource, "namespace": namespace, "name": name, "apiVersion": "v1"}
    if subresource:
        ref["subresource"] = subresource
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": f"{verb}-{resource}-{name}",
        "stage": "ResponseComplete",
        "verb": verb,
        "user": {"username": user},
        "sourceIPs": ["192.0.2.10"],
        "objectRef": ref,
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2025-03-04T09:00:00.000000Z",
        **extra,
    }
