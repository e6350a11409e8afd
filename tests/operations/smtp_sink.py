"""A real SMTP server a test starts when it chooses, on a port of its own: until then nothing
listens there, so a worker sending mail meets "connection refused", as with a mail relay that is
down. What it receives is kept, parsed, with the envelope's recipients."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.operations.server import free_port


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd's handler hook: one call per message accepted.
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def env(self) -> dict[str, str]:
        """The worker's settings that send its mail here over plain SMTP (with EMAIL_HOST set, the
        settings choose Django's SMTP backend whatever EMAIL_BACKEND says)."""
        return {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def start(self) -> None:
        # Controller.start returns once the server answers a connection of its own.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
