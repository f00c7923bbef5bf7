"""Real delivery endpoints on loopback for the outbox tests: an SMTP server (aiosmtpd) and
an HTTP server in the shape of an SMS provider's REST API. Both record what they receive."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from ops.stack import free_port


@dataclass
class SmtpInbox:
    """What the SMTP server accepted: one parsed email per message."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, SmtpInbox]]:
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@dataclass
class SmsApi:
    """Requests the fake provider received; answers 503 to the first `fail_first`."""

    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def sms_server(api: SmsApi) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            with api.lock:
                if api.refused < api.fail_first:
                    api.refused += 1
                    status = 503
                else:
                    api.received.append(
                        {
                            "to": form.get("To", [""])[0],
                            "from": form.get("From", [""])[0],
                            "body": form.get("Body", [""])[0],
                            "auth": self.headers.get("Authorization"),
                            "key": self.headers.get("Idempotency-Key"),
                        }
                    )
                    status = 201
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "queued"}' if status == 201 else b'{"error": "busy"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/2010-04-01/Accounts/AC1/Messages"
    finally:
        server.shutdown()
        server.server_close()
