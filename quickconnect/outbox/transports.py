"""How a message leaves: SMTP for email, an SMS provider's HTTP API, or files on disk.

Configured from the environment (`.env.example`, "Outbox delivery"). With nothing set, both
channels are written as files a person can open (`var/outbox/<id>.eml`, `<id>.sms.txt`), so
a newcomer sees the email the bot promised. Every transport raises `DeliveryError` on a
failure worth retrying, and sets a stable id (Message-ID, Idempotency-Key) from the outbox
row, so a receiver can drop the rare copy sent again after a crash between send and commit.
"""

from __future__ import annotations

import base64
import os
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from quickconnect.config import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "var" / "outbox"
DEFAULT_TIMEOUT = 10.0  # seconds for one SMTP session or HTTP call


class DeliveryError(Exception):
    """The message could not be handed over this time; the dispatcher retries it later."""


@dataclass(frozen=True)
class Message:
    """One claimed outbox row, as a transport needs it."""

    id: int
    channel: str  # 'email' | 'sms'
    to_address: str
    subject: str
    body: str


class Transport(Protocol):
    def send(self, message: Message) -> None: ...


def email_message(message: Message, sender: str) -> EmailMessage:
    """The RFC 5322 email for an outbox row, with a Message-ID derived from the row."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "quickconnect.example"
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    email.set_content(message.body)
    return email


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    sender: str = "QuickConnect Support <support@quickconnect.example>"
    timeout: float = DEFAULT_TIMEOUT

    def send(self, message: Message) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email_message(message, self.sender))
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error


@dataclass(frozen=True)
class HttpSmsTransport:
    """The common SMS providers' REST shape: a form POST of To, From and Body with HTTP basic
    auth (account id and token), answered 2xx when accepted."""

    url: str
    user: str = ""
    token: str = ""
    sender: str = "QuickConnect"
    timeout: float = DEFAULT_TIMEOUT

    def send(self, message: Message) -> None:
        data = urllib.parse.urlencode(
            {"To": message.to_address, "From": self.sender, "Body": message.body}
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": f"outbox-{message.id}",
        }
        if self.user or self.token:
            pair = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"SMS API answered {response.status}")
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"SMS API answered {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"SMS API {self.url}: {error}") from error


@dataclass(frozen=True)
class FileTransport:
    """The embedded default: each message as a file a person can open."""

    directory: Path = DEFAULT_DIR
    sender: str = "QuickConnect Support <support@quickconnect.example>"

    def send(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if message.channel == "email":
            path = self.directory / f"{message.id}.eml"
            content = bytes(email_message(message, self.sender))
        else:
            path = self.directory / f"{message.id}.sms.txt"
            content = f"To: {message.to_address}\n\n{message.body}\n".encode()
        temporary = path.with_suffix(path.suffix + ".part")
        temporary.write_bytes(content)
        temporary.replace(path)  # a reader never sees half a message


def transports_from_env(env: dict[str, str] | None = None) -> dict[str, Transport]:
    """The transport for each channel, from SMTP_* and SMS_API_* (files when unset)."""
    env = dict(os.environ if env is None else env)
    sender = env.get("MAIL_FROM") or "QuickConnect Support <support@quickconnect.example>"
    timeout = float(env.get("OUTBOX_SEND_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)
    files = FileTransport(Path(env.get("OUTBOX_DIR") or DEFAULT_DIR), sender)
    email: Transport = files
    if env.get("SMTP_HOST"):
        email = SmtpTransport(
            host=env["SMTP_HOST"],
            port=int(env.get("SMTP_PORT") or 587),
            starttls=(env.get("SMTP_STARTTLS") or "true").lower() in ("1", "true", "yes"),
            user=env.get("SMTP_USER", ""),
            password=env.get("SMTP_PASSWORD", ""),
            sender=sender,
            timeout=timeout,
        )
    sms: Transport = files
    if env.get("SMS_API_URL"):
        sms = HttpSmsTransport(
            url=env["SMS_API_URL"],
            user=env.get("SMS_API_USER", ""),
            token=env.get("SMS_API_TOKEN", ""),
            sender=env.get("SMS_FROM") or "QuickConnect",
            timeout=timeout,
        )
    return {"email": email, "sms": sms}
