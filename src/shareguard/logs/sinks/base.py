"""The sink interface and the message every sink delivers (one per incident)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class SinkError(Exception):
    """A delivery that failed (the receiver is down, refused or answered an error): retried, then spooled."""


@dataclass(frozen=True)
class Message:
    """An incident as delivered: its JSON form (secrets masked) and the hand-off text."""

    id: str
    severity: str
    title: str
    body: dict[str, Any]
    text: str


class Sink(Protocol):
    name: str
    """A stable name (kind and target, no credentials): the spool keys deliveries by it."""

    def send(self, message: Message) -> None:
        """Deliver or raise `SinkError`."""
        ...
