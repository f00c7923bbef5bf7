"""Non-payment: an overdue balance split into monthly installments, exact to the cent."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy.orm import Session

from quickconnect.dates import format_day
from quickconnect.db.models import (
    PaymentMethod,
    PaymentPlan,
    PaymentPlanInstallment,
    utcnow,
)
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.service_cutoffs.common import (
    CENTS,
    PAYMENT_PLAN_KIND,
    PLAN_INSTALLMENT_CHOICES,
    REMIND_DAYS_BEFORE_INSTALLMENT,
    CutoffError,
    Installment,
    NothingOverdue,
    PaymentPlanExists,
    PaymentPlanOption,
    PaymentPlanProposal,
    PaymentQuoteStale,
)
from quickconnect.services.service_cutoffs.lookups import (
    _active_plan,
    _customer,
    _default_method,
    _follow_up,
    _supersede,
    format_time,
    overdue_balance,
    usd,
)
from quickconnect.services.service_cutoffs.payments import (
    _check_balance,
    _payment_link,
    record_payment,
)

# --- non-payment: payment plans -----------------------------------------------------------------


def _month_later(day: date, months: int) -> date:
    """Same day `months` later, or the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_installments(total: Decimal, count: int, first_due: date) -> tuple[Installment, ...]:
    """`count` monthly installments from `first_due` that add up to `total` exactly: equal
    amounts rounded down to the cent, the leftover cents on the last installments."""
    if count < 1:
        raise ValueError("a payment plan needs at least one installment")
    total = Decimal(total).quantize(CENTS)
    base = (total / count).quantize(CENTS, rounding=ROUND_DOWN)
    extra_cents = int((total - base * count) / CENTS)
    amounts = [base + (CENTS if i >= count - extra_cents else 0) for i in range(count)]
    return tuple(
        Installment(_month_later(first_due, i), amount) for i, amount in enumerate(amounts)
    )


def payment_plan_options(
    session: Session, customer_id: int, *, today: date | None = None
) -> tuple[Decimal, tuple[PaymentPlanOption, ...]]:
    """The overdue balance and the plans on offer (2, 3 or 4 monthly installments, the first
    today). Raises NothingOverdue or PaymentPlanExists."""
    today = today or utcnow().date()
    overdue = overdue_balance(session, customer_id, today=today)
    if _active_plan(session, customer_id) is not None:
        raise PaymentPlanExists("You already have a payment plan for your overdue balance.")
    if overdue <= 0:
        raise NothingOverdue(
            "There's nothing overdue on your account, so there's no need for a payment plan."
        )
    return overdue, tuple(
        PaymentPlanOption(split_installments(overdue, n, today), overdue)
        for n in PLAN_INSTALLMENT_CHOICES
    )


def _schedule_text(installments: tuple[Installment, ...]) -> str:
    return ", ".join(f"{usd(i.amount)} on {format_day(i.due_date)}" for i in installments)


def propose_payment_plan(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    installments: int,
    today: date | None = None,
) -> PaymentPlanProposal:
    """Offer a plan of `installments` monthly payments for the whole overdue balance."""
    today = today or utcnow().date()
    if installments not in PLAN_INSTALLMENT_CHOICES:
        choices = ", ".join(str(n) for n in PLAN_INSTALLMENT_CHOICES[:-1])
        raise CutoffError(
            f"A payment plan can have {choices} or {PLAN_INSTALLMENT_CHOICES[-1]} installments."
        )
    overdue, options = payment_plan_options(session, customer_id, today=today)
    option = next(o for o in options if o.count == installments)
    method = _default_method(session, customer_id)
    first = option.installments[0]
    summary = (
        f"A payment plan for your overdue balance of {usd(overdue)} in {installments} monthly "
        f"installments: {_schedule_text(option.installments)}"
    )
    if method is not None:
        summary += (
            f". The first installment of {usd(first.amount)} is taken now with your "
            f"{method.label}, and your service is restored as soon as it goes through"
        )
    else:
        summary += (
            f". I'll email you a secure payment link for the first installment of "
            f"{usd(first.amount)}; your service is restored as soon as it's paid"
        )
    summary += (
        f". We'll remind you {REMIND_DAYS_BEFORE_INSTALLMENT} days before each of the other "
        "installments."
    )
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=PAYMENT_PLAN_KIND,
        params={
            "overdue_total": overdue,
            "installments": [[i.due_date, i.amount] for i in option.installments],
            "payment_method_id": method.id if method else None,
        },
        summary=summary,
        amount=first.amount,
    )
    return PaymentPlanProposal(option, method.label if method else None, summary, proposed)


@changes.register_handler(PAYMENT_PLAN_KIND)
def apply_payment_plan(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `payment_plan`: the plan and its schedule; the first installment taken with
    the method on file (service restored) or a payment link sent for it; reminders queued."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    overdue = _check_balance(session, customer_id, params)
    if _active_plan(session, customer_id) is not None:
        raise PaymentPlanExists("You already have a payment plan for your overdue balance.")
    schedule = [
        Installment(date.fromisoformat(str(day)), Decimal(str(amount)))
        for day, amount in params["installments"]
    ]
    if sum((i.amount for i in schedule), Decimal("0.00")) != overdue:
        raise PaymentQuoteStale("The installments no longer add up to your overdue balance.")
    plan = PaymentPlan(customer_id=customer_id, total=overdue, status="active", created_at=now)
    session.add(plan)
    session.flush()
    for item in schedule:
        session.add(
            PaymentPlanInstallment(
                payment_plan_id=plan.id, due_date=item.due_date, amount=item.amount
            )
        )
    session.flush()
    session.refresh(plan)
    first = schedule[0]
    result: dict[str, Any] = {
        "total": overdue,
        "installments": [[i.due_date, i.amount] for i in schedule],
        "restored": False,
        "reference": None,
        "method": None,
    }
    method_id = params.get("payment_method_id")
    method = session.get(PaymentMethod, int(method_id)) if method_id else None
    if method is not None and method.customer_id == customer_id:
        receipt = record_payment(session, customer_id, first.amount, method.label, now=now)
        result |= {
            "reference": receipt.reference,
            "method": method.label,
            "restored": receipt.restored,
            "restored_at": now if receipt.restored else None,
            "service_status": receipt.service_status,
        }
        first_line = f"First installment paid today: {usd(first.amount)} with your {method.label} "
        first_line += f"(reference {receipt.reference})."
    else:
        link, expires, _ = _payment_link(session, customer, first.amount, "first installment", now)
        result |= {"link_sent": True, "link_expires_at": expires, "service_status": "suspended"}
        first_line = (
            f"Pay the first installment of {usd(first.amount)} with this secure link: {link} "
            f"(it works until {format_time(expires)}). Your service is restored as soon as it's "
            "paid."
        )
    for item in schedule[1:]:
        remind_on = item.due_date - timedelta(days=REMIND_DAYS_BEFORE_INSTALLMENT)
        _follow_up(
            session,
            customer,
            datetime.combine(remind_on, time(9, 0), tzinfo=UTC),
            f"Payment plan: {usd(item.amount)} due on {format_day(item.due_date)}",
            f"Hi {customer.first_name}, a reminder that the next installment of your payment "
            f"plan, {usd(item.amount)}, is due on {format_day(item.due_date)}. You can pay it "
            "in our chat or app.",
        )
    result["summary"] = f"Payment plan of {len(schedule)} installments for {usd(overdue)}."
    body = (
        f"Hi {customer.first_name},\n\nYour payment plan for the overdue balance of "
        f"{usd(overdue)} is set up:\n"
        + "\n".join(f"- {format_day(i.due_date)}: {usd(i.amount)}" for i in schedule)
        + f"\n\n{first_line}\n\nWe'll remind you {REMIND_DAYS_BEFORE_INSTALLMENT} days before "
        "each of the other installments.\n\nQuickConnect"
    )
    return ChangeEffect(
        result=result,
        log_summary=f"Payment plan for {usd(overdue)}: {_schedule_text(tuple(schedule))}"
        + ("; first installment paid, service restored" if result["restored"] else ""),
        notification=("email", f"Your payment plan for {usd(overdue)}", body),
    )
