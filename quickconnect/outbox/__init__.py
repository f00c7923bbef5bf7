"""Outbox delivery: the worker that sends what the bot promised (email, SMS) and runs the
scheduled jobs. `python -m quickconnect.outbox run` (started by `make run`)."""

from quickconnect.outbox.dispatch import Dispatcher, claim_due, mark_failed, mark_sent
from quickconnect.outbox.transports import (
    DeliveryError,
    FileTransport,
    HttpSmsTransport,
    Message,
    SmtpTransport,
    transports_from_env,
)

__all__ = [
    "DeliveryError",
    "Dispatcher",
    "FileTransport",
    "HttpSmsTransport",
    "Message",
    "SmtpTransport",
    "claim_due",
    "mark_failed",
    "mark_sent",
    "transports_from_env",
]
