"""`--sink` values → sinks.

webhook+https://host/path   generic JSON webhook (also plain https:// and http://); body signed with
                            HMAC-SHA256 of $SHAREGUARD_WEBHOOK_SECRET in X-Shareguard-Signature
slack+https://hooks…        Slack-compatible incoming webhook
syslog://host:514           RFC 5424 over UDP; syslog+tcp://host:6514 over TCP (octet counting)
smtp://host:25?from=a@x&to=b@y,c@z[&starttls=1]   email
file:///path/alerts.jsonl   JSON lines appended
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from shareguard.core.errors import ConfigError
from shareguard.logs.sinks.base import Sink
from shareguard.logs.sinks.file import FileSink
from shareguard.logs.sinks.smtp import SmtpSink
from shareguard.logs.sinks.syslog import SyslogSink
from shareguard.logs.sinks.webhook import SlackSink, WebhookSink

SECRET_ENV = "SHAREGUARD_WEBHOOK_SECRET"


def make_sink(spec: str) -> Sink:
    scheme, _, rest = spec.partition("://")
    if not rest:
        raise ConfigError(f"--sink {spec!r}: expected SCHEME://TARGET (webhook+https, slack+https, syslog, smtp, file)")
    scheme = scheme.lower()
    if scheme in ("http", "https", "webhook+http", "webhook+https"):
        secret = os.environ.get(SECRET_ENV)
        return WebhookSink(f"{scheme.removeprefix('webhook+')}://{rest}", secret.encode() if secret else None)
    if scheme in ("slack+http", "slack+https"):
        return SlackSink(f"{scheme.removeprefix('slack+')}://{rest}")
    if scheme in ("syslog", "syslog+udp", "syslog+tcp"):
        parts = urlsplit(spec)
        if not parts.hostname:
            raise ConfigError(f"--sink {spec!r}: no host")
        return SyslogSink(parts.hostname, parts.port or 514, tcp=scheme == "syslog+tcp")
    if scheme == "smtp":
        parts = urlsplit(spec)
        query = parse_qs(parts.query)
        to = [a for v in query.get("to", []) for a in v.split(",") if a]
        if not parts.hostname or not to:
            raise ConfigError(f"--sink {spec!r}: smtp needs a host and ?to=ADDRESS")
        sender = (query.get("from") or ["shareguard@localhost"])[0]
        starttls = (query.get("starttls") or ["0"])[0] in ("1", "true", "yes")
        return SmtpSink(parts.hostname, parts.port or 25, sender, to, starttls=starttls)
    if scheme == "file":
        return FileSink(Path(rest))
    raise ConfigError(f"--sink {spec!r}: unknown kind {scheme!r} (webhook+https, slack+https, syslog, smtp, file)")
