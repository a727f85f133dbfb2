"""Decoding audit logs: every accepted shape, and bad input with a bounded, located outcome."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.logs.helpers import cloudtrail, gcp, k8s

from shareguard.logs.events import LogKind
from shareguard.logs.ingest import Decoder, sniff


def decode(data: bytes, **kw: int) -> tuple[list[tuple[LogKind, str]], Decoder]:
    d = Decoder("in.json", **kw)
    events = [(e.kind, e.position) for e in d.events(io.BytesIO(data))]
    return events, d


def test_cloudtrail_records_document_pretty_printed_and_gzipped() -> None:
    doc = {
        "Records": [cloudtrail("StopLogging", "cloudtrail.amazonaws.com"), cloudtrail("ListUsers", "iam.amazonaws.com")]
    }
    raw = json.dumps(doc, indent=2).encode()
    for data in (raw, gzip.compress(raw)):
        events, d = decode(data)
        assert events == [(LogKind.CLOUDTRAIL, "record 0"), (LogKind.CLOUDTRAIL, "record 1")]
        assert d.issues == []


def test_json_lines_of_every_kind_and_a_gke_entry_seen_twice() -> None:
    gke = gcp(
        "io.k8s.core.v1.pods.exec.create", "k8s.io", resourceName="core/v1/namespaces/kubeflow/pods/trainer-0/exec"
    )
    lines = [
        cloudtrail("GetObject", "s3.amazonaws.com"),
        gcp("storage.objects.get", "storage.googleapis.com"),
        k8s("get", "secrets"),
        gke,
    ]
    events, d = decode(b"\n".join(json.dumps(x).encode() for x in lines) + b"\n")
    assert [k for k, _ in events] == [
        LogKind.CLOUDTRAIL,
        LogKind.GCP_AUDIT,
        LogKind.K8S_AUDIT,
        LogKind.GCP_AUDIT,
        LogKind.K8S_AUDIT,
    ]
    assert d.issues == []


def test_gke_view_names_the_object_as_kubernetes_audit_does() -> None:
    from shareguard.logs.gke import k8s_view

    view = k8s_view(
        gcp("io.k8s.core.v1.pods.exec.create", "k8s.io", resourceName="core/v1/namespaces/kubeflow/pods/trainer-0/exec")
    )
    assert view is not None
    assert view["verb"] == "create"
    assert view["objectRef"] == {
        "apiGroup": "",
        "apiVersion": "v1",
        "namespace": "kubeflow",
        "resource": "pods",
        "name": "trainer-0",
        "subresource": "exec",
    }
    assert view["user"] == {"username": "eve@example.com"}
    assert k8s_view(gcp("storage.objects.get", "storage.googleapis.com")) is None


def test_gcloud_json_array_and_cloudwatch_envelope() -> None:
    events, _ = decode(json.dumps([gcp("SetIamPolicy", "cloudresourcemanager.googleapis.com")] * 2, indent=1).encode())
    assert events == [(LogKind.GCP_AUDIT, "record 0"), (LogKind.GCP_AUDIT, "record 1")]
    envelope = {
        "logGroup": "/aws/eks/c/cluster",
        "logEvents": [{"id": "1", "message": json.dumps(k8s("list", "secrets"))}, {"id": "2", "message": "{oops"}],
    }
    events, d = decode(json.dumps(envelope).encode())
    assert events == [(LogKind.K8S_AUDIT, "record logEvent 0")]
    assert [i.position for i in d.issues] == ["record logEvent 1"]


def test_malformed_lines_missing_fields_and_giant_events_are_located_and_the_rest_read() -> None:
    good = json.dumps(cloudtrail("StopLogging", "cloudtrail.amazonaws.com")).encode()
    giant = json.dumps(cloudtrail("PutObject", "s3.amazonaws.com", requestParameters={"x": "a" * 5000})).encode()
    data = b"\n".join([good, b'{"eventName": "x", trunc', b'{"foo": 1}', giant, good]) + b"\n"
    events, d = decode(data, max_line_bytes=2000)
    assert events == [(LogKind.CLOUDTRAIL, "line 1"), (LogKind.CLOUDTRAIL, "line 5")]
    messages = {(i.position, i.message.split(":")[0]) for i in d.issues}
    assert ("line 2", "invalid JSON") in messages
    assert ("line 4", "event over the 2000-byte budget") in messages
    assert any("not CloudTrail" in i.message and i.position == "line 3" for i in d.issues)
    assert not any(i.fatal for i in d.issues)


def test_truncated_gzip_keeps_the_events_before_the_cut() -> None:
    lines = b"".join(
        json.dumps(cloudtrail("GetObject", "s3.amazonaws.com", time=f"2025-03-04T09:00:{i % 60:02d}Z")).encode() + b"\n"
        for i in range(2000)
    )
    packed = gzip.compress(lines)
    events, d = decode(packed[: len(packed) // 2])
    assert 0 < len(events) < 2000
    assert len(d.issues) == 1 and d.issues[0].fatal and "gzip" in d.issues[0].message


def test_a_broken_document_is_one_fatal_issue_with_its_line() -> None:
    events, d = decode(b'{\n  "Records": [\n    {"eventName": \n')
    assert events == []
    assert d.issues[0].fatal and d.issues[0].position is not None


def test_sniff_tells_audit_logs_from_other_json() -> None:
    assert sniff(json.dumps({"Records": [cloudtrail("A", "b")]}).encode())
    assert sniff(json.dumps(k8s("get", "pods")).encode())
    assert not sniff(b'{"name": "package", "version": "1.0"}')
    assert not sniff(b"eventSource eventName")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_hostile_bytes_never_crash_the_decoder(data: bytes) -> None:
    for blob in (data, gzip.compress(data)[: max(1, len(data) // 2)], b'{"Records": [' + data):
        d = Decoder("fuzz", max_line_bytes=512, max_document_bytes=4096)
        for _ in d.events(io.BytesIO(blob)):
            pass


def test_lazy_documents_give_the_same_alerts_as_plain_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """simdjson's lazy objects (documents) and orjson's dicts (forced) meet the rules identically."""
    from shareguard.logs import ingest
    from shareguard.logs.detect import Detector, builtin_rules

    events = [
        cloudtrail("StopLogging", "cloudtrail.amazonaws.com"),
        cloudtrail("ListUsers", "iam.amazonaws.com", userIdentity={"type": "Root", "arn": "arn:aws:iam::1:root"}),
        cloudtrail(
            "PutBucketPolicy",
            "s3.amazonaws.com",
            requestParameters={
                "bucketName": "b",
                "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*"}]},
            },
        ),
        cloudtrail(
            "DescribeInstances", "ec2.amazonaws.com", requestParameters={"filterSet": {"items": [{"name": "x"}]}}
        ),
    ]
    data = json.dumps({"Records": events}, indent=1).encode()

    def alerts() -> list[tuple[str, str, dict[str, object]]]:
        d = Detector(builtin_rules())
        d.feed("t.json", io.BytesIO(data))
        return [(a.rule.id, a.event.position, a.event.data) for a in d.finish().alerts]

    lazy = alerts()
    monkeypatch.setattr(ingest, "simdjson", None)
    plain = alerts()
    assert lazy == plain and {r for r, _, _ in lazy} == {"LOGS-AWS-001", "LOGS-AWS-005", "LOGS-AWS-010"}
    assert all(type(d) is dict for _, _, d in lazy)
