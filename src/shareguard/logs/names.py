"""Names the light and heavy parts of the capability share (no imports: plugin registration stays cheap)."""

from __future__ import annotations

ANALYZER = "logs.sigma"
MONITORING_DUTY = "LOGGING-C-02"
"""Monitor logs for security incidents and report them: every log rule serves it."""
GZIP_MAGIC = b"\x1f\x8b"


def sniff(head: bytes) -> bool:
    """True when the first bytes of a (decompressed) file look like an audit log `ingest` reads."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"[")):
        first = text.split(b"\n", 1)[0].lower()  # a CSV query result over the CloudTrail table
        return b"eventname" in first and b"eventsource" in first and b"," in first
    return (
        (b'"eventSource"' in head and b'"eventName"' in head)
        or b'"protoPayload"' in head
        or b'"QueryResultRows"' in head
        or b'"audit.k8s.io/' in head
        or (b'"logEvents"' in head and b"audit.k8s.io" in head)
    )
