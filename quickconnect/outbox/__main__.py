"""The worker: `python -m quickconnect.outbox run [--once] [--poll S] [--jobs-every S]`.

Sends every due outbox message (see `dispatch`) every `--poll` seconds and runs the scheduled
jobs (`python -m quickconnect.jobs run-due`: booked plan changes, add-on activation, booked
disconnections) every `--jobs-every` seconds, so nothing depends on a cron entry. `make run`
starts it beside the two servers. Any number may run at once (replicas): a message is
claimed by one of them, and the jobs are safe to run twice. `--once` sends what is due now,
runs the jobs once, and exits (cron, tests).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from quickconnect import jobs
from quickconnect.config import load_settings
from quickconnect.outbox.dispatch import MAX_ATTEMPTS, RETRY_BASE, Dispatcher
from quickconnect.outbox.transports import transports_from_env

logger = logging.getLogger("quickconnect.outbox")


def _parser() -> argparse.ArgumentParser:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m quickconnect.outbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="send due messages and run scheduled jobs")
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument(
        "--poll",
        type=float,
        default=float(env.get("OUTBOX_POLL_SECONDS") or 5),
        help="seconds between outbox passes (default 5, OUTBOX_POLL_SECONDS)",
    )
    run.add_argument(
        "--jobs-every",
        type=float,
        default=float(env.get("JOBS_INTERVAL_SECONDS") or 300),
        help="seconds between scheduled-job runs; 0 turns them off "
        "(default 300, JOBS_INTERVAL_SECONDS)",
    )
    return parser


def _dispatcher() -> Dispatcher:
    env = os.environ
    return Dispatcher(
        transports_from_env(),
        max_attempts=int(env.get("OUTBOX_MAX_ATTEMPTS") or MAX_ATTEMPTS),
        retry_base=timedelta(
            seconds=float(env.get("OUTBOX_RETRY_BASE_SECONDS") or RETRY_BASE.total_seconds())
        ),
    )


def _run_jobs() -> None:
    try:
        jobs.main(["run-due"])
    except SQLAlchemyError as error:
        logger.error("Scheduled jobs failed (will run again): %r", error)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    dispatcher = _dispatcher()
    if args.once:
        counts = dispatcher.drain()
        if args.jobs_every:
            _run_jobs()
        print(f"outbox: {counts}")
        return 0

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("Outbox worker %s started (poll %.1fs)", dispatcher.worker, args.poll)
    next_jobs = time.monotonic()
    while not stop.is_set():
        try:
            counts = dispatcher.run_once()
            if any(counts.values()):
                logger.info("Outbox pass: %s", counts)
        except SQLAlchemyError as error:  # database away: try again at the next pass
            logger.error("Outbox pass failed (will retry): %r", error)
        if args.jobs_every and time.monotonic() >= next_jobs:
            _run_jobs()
            next_jobs = time.monotonic() + args.jobs_every
        stop.wait(args.poll)
    logger.info("Outbox worker stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
