"""The outbox worker as a real process (`python -m quickconnect.outbox run`), as `make run`
starts it: it sends what is queued while it runs, runs the scheduled jobs, and stops cleanly
on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from quickconnect.config import PROJECT_ROOT
from quickconnect.db.models import AccountPlan, Customer, NotificationOutbox, ServicePlan, utcnow
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.services.notifications import queue_notification
from tests.conftest import build_database


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    build_database(url)
    return url


def _env(url: str, outbox: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "SMS_API"))}
    env.update(
        DATABASE_URL=url,
        OUTBOX_DIR=str(outbox),
        PYTHONPATH=str(PROJECT_ROOT),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def _status(url: str, message_id: int) -> str:
    engine = make_engine(url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            return session.get(NotificationOutbox, message_id).status
    finally:
        engine.dispose()


def test_the_running_worker_sends_new_messages_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = _database(tmp_path)
    outbox = tmp_path / "outbox"
    worker = subprocess.Popen(
        [sys.executable, "-m", "quickconnect.outbox", "run", "--poll", "0.5", "--jobs-every", "0"],
        cwd=PROJECT_ROOT,
        env=_env(url, outbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(1.0)
        engine = make_engine(url)
        try:
            with unit_of_work(engine) as session:
                message_id = queue_notification(
                    session,
                    customer_id=None,
                    channel="sms",
                    to_address="+15550100099",
                    subject="Case update",
                    body="Your case CS-123456 was resolved.",
                )
        finally:
            engine.dispose()
        deadline = time.monotonic() + 30
        while _status(url, message_id) != "sent" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _status(url, message_id) == "sent"
        assert "CS-123456" in (outbox / f"{message_id}.sms.txt").read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0].decode()
    assert worker.returncode == 0 and "Outbox worker stopped" in output


def test_the_worker_runs_the_scheduled_jobs(tmp_path: Path) -> None:
    """A plan change booked for today is applied by the worker, no cron involved."""
    url = _database(tmp_path)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            customer = session.execute(
                select(Customer).where(Customer.account_number == "QC-100001")
            ).scalar_one()
            basic = session.execute(
                select(ServicePlan).where(ServicePlan.name == "Basic 5GB")
            ).scalar_one()
            session.add(
                AccountPlan(
                    customer_id=customer.id,
                    plan_id=basic.id,
                    status="scheduled",
                    scheduled_for=utcnow() - timedelta(minutes=1),
                )
            )
    finally:
        engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "quickconnect.outbox", "run", "--once"],
        cwd=PROJECT_ROOT,
        env=_env(url, tmp_path / "outbox"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "switched 1 plan(s): QC-100001" in done.stdout
