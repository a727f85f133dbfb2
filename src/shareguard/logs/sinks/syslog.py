"""Syslog (RFC 5424) over UDP, or TCP with octet-counting framing (RFC 6587)."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime

from shareguard.logs.sinks.base import Message, SinkError

FACILITY_SECURITY = 13  # log audit
SEVERITY_CODE = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6, "unknown": 5}
MAX_UDP = 8192
TIMEOUT = 10.0


def format_5424(message: Message, hostname: str | None = None, when: datetime | None = None) -> bytes:
    """`<PRI>1 TIMESTAMP HOST shareguard PID INCIDENT [sd] MSG` with the incident as structured data."""
    pri = FACILITY_SECURITY * 8 + SEVERITY_CODE.get(message.severity, 5)
    ts = (when or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    host = (hostname or socket.gethostname() or "-")[:255]
    sd = f'[shareguard@32473 incident="{_sd(message.id)}" severity="{_sd(message.severity)}"]'
    msg = f"{message.title} {json.dumps(message.body, sort_keys=True)}"
    return f"<{pri}>1 {ts} {host} shareguard {os.getpid()} INCIDENT {sd} ".encode() + b"\xef\xbb\xbf" + msg.encode()


def _sd(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


class SyslogSink:
    def __init__(self, host: str, port: int, *, tcp: bool = False, timeout: float = TIMEOUT) -> None:
        self.host, self.port, self.tcp, self.timeout = host, port, tcp, timeout
        self.name = f"syslog{'+tcp' if tcp else ''}://{host}:{port}"

    def send(self, message: Message) -> None:
        frame = format_5424(message)
        try:
            if self.tcp:
                with socket.create_connection((self.host, self.port), timeout=self.timeout) as s:
                    s.sendall(str(len(frame)).encode() + b" " + frame)
            else:
                if len(frame) > MAX_UDP:
                    frame = frame[:MAX_UDP]
                with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(self.timeout)
                    s.sendto(frame, (self.host, self.port))
        except OSError as exc:
            raise SinkError(f"{self.name}: {exc}") from None
