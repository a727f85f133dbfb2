"""GKE's Kubernetes audit log, which GKE writes as Cloud Audit Logs, seen as a Kubernetes audit `Event`.

A GKE entry names the call in `protoPayload.methodName` (`io.k8s.core.v1.pods.exec.create`) and the object
in `protoPayload.resourceName` (`core/v1/namespaces/ml/pods/trainer-0/exec`); Kubernetes audit Sigma
rules ask for `verb`, `objectRef.*`, `user.username`, `requestObject`… This maps the one onto the other
(https://cloud.google.com/kubernetes-engine/docs/how-to/audit-logging). Other GCP entries give None.
"""

from __future__ import annotations

from typing import Any

_HTTP_OF_GRPC = {0: 200, 3: 400, 5: 404, 6: 409, 7: 403, 16: 401}
"""google.rpc.Code → the HTTP status the API server answered (Kubernetes audit `responseStatus.code`)."""


def k8s_view(entry: dict[str, Any]) -> dict[str, Any] | None:
    payload = entry.get("protoPayload")
    if type(payload) is not dict:
        return None
    method = payload.get("methodName")
    if type(method) is not str or not method.startswith("io.k8s."):
        return None
    verb = method.rsplit(".", 1)[-1]
    object_ref: dict[str, Any] = {}
    name = payload.get("resourceName")
    if type(name) is str:
        parts = [p for p in name.split("/") if p]
        # group/version/[namespaces/NS/]resource[/name[/subresource]]
        if len(parts) >= 3:
            group, version = parts[0], parts[1]
            object_ref["apiGroup"] = "" if group == "core" else group
            object_ref["apiVersion"] = version
            rest = parts[2:]
            if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) > 2:
                object_ref["namespace"] = rest[1]
                rest = rest[2:]
            if rest:
                object_ref["resource"] = rest[0]
            if len(rest) > 1:
                object_ref["name"] = rest[1]
            if len(rest) > 2:
                object_ref["subresource"] = rest[2]
    auth = payload.get("authenticationInfo")
    meta = payload.get("requestMetadata")
    status = payload.get("status")
    code = status.get("code", 0) if type(status) is dict else 0
    view: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "verb": verb,
        "objectRef": object_ref,
        "user": {"username": auth.get("principalEmail")} if type(auth) is dict else {},
        "sourceIPs": [meta["callerIp"]] if type(meta) is dict and "callerIp" in meta else [],
        "userAgent": meta.get("callerSuppliedUserAgent") if type(meta) is dict else None,
        "requestReceivedTimestamp": entry.get("timestamp"),
        "responseStatus": {"code": _HTTP_OF_GRPC.get(code, 500) if type(code) is int else code},
        "annotations": entry.get("labels") or {},
        "requestURI": payload.get("resourceName"),
    }
    if "request" in payload:
        view["requestObject"] = payload["request"]
    if "response" in payload:
        view["responseObject"] = payload["response"]
    return view
