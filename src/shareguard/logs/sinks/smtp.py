"""Email (SMTP): the hand-off report as the body, the incident JSON attached."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from shareguard.logs.sinks.base import Message, SinkError

TIMEOUT = 10.0


class SmtpSink:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        starttls: bool = False,
        timeout: float = TIMEOUT,
    ) -> None:
        if not recipients:
            raise ValueError("an smtp sink needs at least one recipient (?to=...)")
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.starttls, self.timeout = starttls, timeout
        self.name = f"smtp://{host}:{port}/{','.join(recipients)}"

    def email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = f"[shareguard {message.severity}] {message.title} ({message.id})"
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail.set_content(message.text)
        mail.add_attachment(
            json.dumps(message.body, indent=2).encode(),
            maintype="application",
            subtype="json",
            filename=f"{message.id}.json",
        )
        return mail

    def send(self, message: Message) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                smtp.send_message(self.email(message))
        except (OSError, smtplib.SMTPException) as exc:
            raise SinkError(f"{self.name}: {exc}") from None
