"""Scheduled jobs, run from cron or by hand: `python -m quickconnect.jobs <job> [options]`.

    python -m quickconnect.jobs apply-due [--today YYYY-MM-DD]
    python -m quickconnect.jobs activate-due [--today YYYY-MM-DD]
    python -m quickconnect.jobs disconnect-due [--today YYYY-MM-DD]
    python -m quickconnect.jobs run-due [--today YYYY-MM-DD]

`apply-due` switches plan changes booked for a future date once that date has come (the
plan-change guide: "activated immediately unless the customer requests a future date").
`activate-due` makes add-on subscriptions live once their activation time has come and
queues the "your service is live" message (subscriptions guide: "most additional services
are activated within 24 hours"); activation times are hours, so run it at least hourly.
`disconnect-due` carries out disconnections booked in chat once their date has come (the
service-cutoffs guide: booked for a date, with the final bill and the equipment return).
`run-due` runs all three, in that order (the one command for cron).
Each job runs in one unit of work against the configured DATABASE_URL; running it twice is
harmless. Add a job by writing a `_job(args, bind) -> int` and registering it in `JOBS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Connection, Engine

from quickconnect.db.models import utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.services.plan_change import apply_due_plan_changes
from quickconnect.services.service_cutoffs import apply_due_disconnections
from quickconnect.services.subscriptions import activate_due_subscriptions

Bind = Engine | Connection | None
Job = Callable[[argparse.Namespace, Bind], int]


def _apply_due(args: argparse.Namespace, bind: Bind) -> int:
    """Activate booked plan changes that are due."""
    today: date = args.today or utcnow().date()
    with unit_of_work(bind) as session:
        switched = apply_due_plan_changes(session, today=today)
    day = today.isoformat()
    if switched:
        print(f"apply-due ({day}): switched {len(switched)} plan(s): {', '.join(switched)}")
    else:
        print(f"apply-due ({day}): no plan changes due")
    return 0


def _activate_due(args: argparse.Namespace, bind: Bind) -> int:
    """Make pending add-on subscriptions live once their activation time has come.

    Without --today (or with today's date) "due" means now; with another day it means by the
    end of that day (a dry run of the calendar, or catching up)."""
    now = utcnow()
    day: date | None = args.today
    if day is None or day == now.date():
        cutoff = now
    else:
        cutoff = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(
            microseconds=1
        )
    with unit_of_work(bind) as session:
        activated = activate_due_subscriptions(session, now=cutoff)
    label = cutoff.isoformat(timespec="minutes")
    if activated:
        print(f"activate-due ({label}): activated {len(activated)}: {', '.join(activated)}")
    else:
        print(f"activate-due ({label}): no subscriptions due")
    return 0


def _disconnect_due(args: argparse.Namespace, bind: Bind) -> int:
    """Carry out booked disconnections whose date has come."""
    today: date = args.today or utcnow().date()
    with unit_of_work(bind) as session:
        done = apply_due_disconnections(session, today=today)
    day = today.isoformat()
    if done:
        accounts = ", ".join(d.account_number for d in done)
        print(f"disconnect-due ({day}): disconnected {len(done)} account(s): {accounts}")
    else:
        print(f"disconnect-due ({day}): no disconnections due")
    return 0


def _run_due(args: argparse.Namespace, bind: Bind) -> int:
    """Every due job, in order; the first failure stops the run."""
    for job in (_apply_due, _activate_due, _disconnect_due):
        status = job(args, bind)
        if status:
            return status
    return 0


JOBS: dict[str, tuple[Job, str]] = {
    "apply-due": (_apply_due, "activate booked plan changes whose date has come"),
    "activate-due": (_activate_due, "make add-on subscriptions live when their time has come"),
    "disconnect-due": (_disconnect_due, "carry out booked disconnections whose date has come"),
    "run-due": (_run_due, "run every due job (apply-due, activate-due, then disconnect-due)"),
}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m quickconnect.jobs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="job", required=True)
    for name, (_, help_text) in JOBS.items():
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--today",
            type=_day,
            default=None,
            help="run as if it were this day (YYYY-MM-DD); default: today (UTC)",
        )
    return parser


def main(argv: Sequence[str] | None = None, *, bind: Bind = None) -> int:
    """Run one job; `bind` (an engine or connection) is for tests, else the configured DB."""
    args = _parser().parse_args(argv)
    job, _ = JOBS[args.job]
    return job(args, bind)


if __name__ == "__main__":
    raise SystemExit(main())
