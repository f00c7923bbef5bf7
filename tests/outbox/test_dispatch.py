"""The outbox dispatcher on real databases (SQLite and PostgreSQL, committed transactions)
delivering to real local servers: an SMTP server and an SMS provider-shaped HTTP API."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ops.stack import free_port
from quickconnect.db.models import NotificationOutbox, utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.outbox import (
    Dispatcher,
    FileTransport,
    HttpSmsTransport,
    Message,
    SmtpTransport,
    transports_from_env,
)
from quickconnect.services.notifications import queue_notification
from tests.outbox.servers import SmsApi, sms_server, smtp_server


def _queue(engine: Engine, count: int, channel: str = "email") -> tuple[str, list[int]]:
    """`count` messages to one fresh address; returns it and the row ids."""
    tag = uuid.uuid4().hex[:8]
    address = f"{tag}@example.com" if channel == "email" else f"+1555{int(tag, 16) % 10**7:07d}"
    with unit_of_work(engine) as session:
        ids = [
            queue_notification(
                session,
                customer_id=None,
                channel=channel,
                to_address=address,
                subject=f"Test {tag} #{n}",
                body=f"Hello {tag} #{n}",
            )
            for n in range(count)
        ]
    return address, ids


def _rows(engine: Engine, ids: list[int]) -> list[NotificationOutbox]:
    with unit_of_work(engine, read_only=True) as session:
        rows = session.execute(
            select(NotificationOutbox).where(NotificationOutbox.id.in_(ids))
        ).scalars()
        found = {row.id: row for row in rows}
        for row in found.values():
            session.expunge(row)
    return [found[i] for i in ids]


class Recorder:
    """A transport that records every send (thread-safe), for counting duplicates."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self.lock:
            self.sent.append(message.id)


def test_email_reaches_a_real_smtp_server_once(scratch_engine: Engine) -> None:
    address, ids = _queue(scratch_engine, 2)
    with smtp_server() as (port, inbox):
        smtp = SmtpTransport("127.0.0.1", port, starttls=False)
        dispatcher = Dispatcher({"email": smtp, "sms": smtp}, scratch_engine)
        dispatcher.drain()
        dispatcher.drain()  # nothing left: sent rows are never sent again
    mine = [m for m in inbox.messages if m["To"] == address]
    assert sorted(m["Subject"] for m in mine) == sorted(f"Test {address[:8]} #{n}" for n in (0, 1))
    assert {m["Message-ID"] for m in mine} == {f"<outbox-{i}@quickconnect.example>" for i in ids}
    rows = _rows(scratch_engine, ids)
    assert [(r.status, r.attempts, r.claimed_until) for r in rows] == [("sent", 1, None)] * 2
    assert all(r.sent_at is not None for r in rows)


def test_sms_reaches_the_provider_api_with_credentials(scratch_engine: Engine) -> None:
    phone, ids = _queue(scratch_engine, 1, "sms")
    api = SmsApi()
    with sms_server(api) as url:
        sms = HttpSmsTransport(url, user="AC1", token="secret", sender="QuickConnect")
        Dispatcher({"sms": sms, "email": sms}, scratch_engine).drain()
    [got] = [r for r in api.received if r["to"] == phone]
    assert got["body"].startswith("Hello ") and got["from"] == "QuickConnect"
    assert got["auth"] == "Basic QUMxOnNlY3JldA==" and got["key"] == f"outbox-{ids[0]}"
    assert _rows(scratch_engine, ids)[0].status == "sent"


def test_a_server_that_is_down_is_retried_with_backoff_then_delivered(
    scratch_engine: Engine,
) -> None:
    address, ids = _queue(scratch_engine, 1)
    port = free_port()
    smtp = SmtpTransport("127.0.0.1", port, starttls=False, timeout=2)
    dispatcher = Dispatcher(
        {"email": smtp, "sms": smtp}, scratch_engine, retry_base=timedelta(seconds=60)
    )
    assert dispatcher.run_once()["retry"] >= 1  # nothing listens on the port yet
    [row] = _rows(scratch_engine, ids)
    assert (row.status, row.attempts) == ("queued", 1) and "SMTP" in (row.last_error or "")
    assert row.due_at > utcnow() + timedelta(seconds=50)  # backed off, not hammered
    dispatcher.run_once()  # straight away again: not due yet, so not tried
    assert _rows(scratch_engine, ids)[0].attempts == 1
    with unit_of_work(scratch_engine) as session:  # the backoff has passed
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == ids[0])
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    with smtp_server(port) as (_, inbox):  # the server is back
        dispatcher.drain()
    assert [m["To"] for m in inbox.messages if m["To"] == address] == [address]
    [row] = _rows(scratch_engine, ids)
    assert (row.status, row.attempts) == ("sent", 2)


def test_gives_up_after_max_attempts_and_keeps_the_error(scratch_engine: Engine) -> None:
    phone, ids = _queue(scratch_engine, 1, "sms")
    api = SmsApi(fail_first=10)
    with sms_server(api) as url:
        sms = HttpSmsTransport(url)
        dispatcher = Dispatcher(
            {"sms": sms, "email": sms}, scratch_engine, max_attempts=3, retry_base=timedelta(0)
        )
        for _ in range(5):
            dispatcher.run_once()
    [row] = _rows(scratch_engine, ids)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "503" in (row.last_error or "") and row.sent_at is None
    assert not [r for r in api.received if r["to"] == phone]


def test_two_dispatchers_at_once_send_every_message_exactly_once(scratch_engine: Engine) -> None:
    _, ids = _queue(scratch_engine, 40)
    recorder = Recorder()
    dispatchers = [
        Dispatcher({"email": recorder, "sms": recorder}, scratch_engine, worker=f"w{n}", batch=5)
        for n in range(2)
    ]
    threads = [threading.Thread(target=d.drain) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    mine = [i for i in recorder.sent if i in set(ids)]
    assert sorted(mine) == sorted(ids)  # every one, none twice
    rows = _rows(scratch_engine, ids)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert {r.claimed_by for r in rows} <= {"w0", "w1"}


def test_a_claim_left_by_a_dead_dispatcher_is_taken_after_its_lease(
    scratch_engine: Engine,
) -> None:
    _, ids = _queue(scratch_engine, 1)
    with unit_of_work(scratch_engine) as session:  # claimed by a worker that then died
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == ids[0])
            .values(claimed_by="dead:1", claimed_until=utcnow() + timedelta(minutes=5), attempts=1)
        )
    recorder = Recorder()
    live = Dispatcher({"email": recorder, "sms": recorder}, scratch_engine, worker="live")
    live.drain()
    assert ids[0] not in recorder.sent  # still leased
    with unit_of_work(scratch_engine) as session:
        session.execute(
            update(NotificationOutbox)
            .where(NotificationOutbox.id == ids[0])
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    live.drain()
    assert recorder.sent.count(ids[0]) == 1
    assert _rows(scratch_engine, ids)[0].claimed_by == "live"


def test_nothing_configured_writes_files_a_person_can_open(
    scratch_engine: Engine, tmp_path: Path
) -> None:
    address, ids = _queue(scratch_engine, 1)
    phone, sms_ids = _queue(scratch_engine, 1, "sms")
    transports = transports_from_env({"OUTBOX_DIR": str(tmp_path)})
    assert all(isinstance(t, FileTransport) for t in transports.values())
    Dispatcher(transports, scratch_engine).drain()
    email = (tmp_path / f"{ids[0]}.eml").read_text()
    assert f"To: {address}" in email and "Hello" in email and "Message-ID: <outbox-" in email
    assert f"To: {phone}" in (tmp_path / f"{sms_ids[0]}.sms.txt").read_text()
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SMTP_HOST": "mail.example", "SMTP_PORT": "2525", "SMTP_STARTTLS": "false"}, "smtp"),
        ({"SMS_API_URL": "http://127.0.0.1:9/sms"}, "sms"),
    ],
)
def test_transports_from_env(env: dict[str, str], expected: str) -> None:
    transports = transports_from_env(env)
    if expected == "smtp":
        smtp = transports["email"]
        assert isinstance(smtp, SmtpTransport)
        assert (smtp.host, smtp.port, smtp.starttls) == ("mail.example", 2525, False)
        assert isinstance(transports["sms"], FileTransport)
    else:
        assert isinstance(transports["sms"], HttpSmsTransport)
        assert isinstance(transports["email"], FileTransport)
