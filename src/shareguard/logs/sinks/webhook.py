"""Generic JSON webhook (HMAC-SHA256-signed body) and Slack-compatible incoming webhook."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from shareguard.core.masking import mask_url
from shareguard.logs.sinks.base import Message, SinkError

SIGNATURE_HEADER = "X-Shareguard-Signature"
TIMEOUT = 10.0


def sign(secret: bytes, body: bytes) -> str:
    """`sha256=<hex>`: what the receiver recomputes over the raw body with the shared secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSink:
    def __init__(self, url: str, secret: bytes | None = None, *, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.name = f"webhook:{mask_url(url)}"

    def payload(self, message: Message) -> bytes:
        return json.dumps({"incident": message.body, "text": message.text}, sort_keys=True).encode()

    def send(self, message: Message) -> None:
        body = self.payload(message)
        headers = {"Content-Type": "application/json", "User-Agent": "shareguard"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        _post(self.url, body, headers, self.timeout)


class SlackSink(WebhookSink):
    """Slack's incoming-webhook message format (`text` with mrkdwn); also what Mattermost and Teams' Slack
    compatibility accept."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        super().__init__(url, None, timeout=timeout)
        self.name = f"slack:{mask_url(url)}"

    def payload(self, message: Message) -> bytes:
        head = f"*{message.severity.upper()}* {message.title}"
        return json.dumps({"text": f"{head}\n```{message.text}```"}).encode()


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SinkError(f"{mask_url(url)}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        raise SinkError(f"{mask_url(url)}: HTTP {response.status_code}")
