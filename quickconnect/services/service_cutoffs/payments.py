"""Non-payment: a payment against the method on file or a secure payment link, and
restoring the service once the overdue balance is cleared."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Bill,
    Customer,
    Payment,
    PaymentMethod,
    PaymentPlan,
    utcnow,
)
from quickconnect.identifiers import (
    allocate_identifier,
    mask_email,
    new_token,
)
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.interactions import log_interaction
from quickconnect.services.service_cutoffs.common import (
    CENTS,
    FOLLOW_UP_AFTER_LINK,
    FOLLOW_UP_AFTER_RESTORE,
    PAYMENT_KIND,
    PAYMENT_LINK_BASE,
    PAYMENT_LINK_KIND,
    PAYMENT_LINK_VALID,
    FollowUp,
    InvalidPaymentAmount,
    NothingOverdue,
    PaymentProposal,
    PaymentQuoteStale,
    PaymentReceipt,
)
from quickconnect.services.service_cutoffs.lookups import (
    _active_plan,
    _contact,
    _customer,
    _default_method,
    _follow_up,
    _overdue_bills,
    _status_row,
    _supersede,
    format_time,
    overdue_balance,
    usd,
)

# --- non-payment: payments ----------------------------------------------------------------------


def propose_payment(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> PaymentProposal:
    """Offer to pay the overdue balance (or `amount` of it) with the method on file, or, with
    no method on file, to send a secure payment link (card numbers are never taken in chat).
    Raises NothingOverdue or InvalidPaymentAmount."""
    now = now or utcnow()
    overdue = overdue_balance(session, customer_id, today=now.date())
    if overdue <= 0:
        raise NothingOverdue("There's nothing overdue on your account, so there's nothing to pay.")
    amount = overdue if amount is None else Decimal(amount).quantize(CENTS)
    if amount <= 0:
        raise InvalidPaymentAmount("A payment has to be more than $0.00.")
    if amount > overdue:
        raise InvalidPaymentAmount(
            f"That's more than your overdue balance of {usd(overdue)}; I can take up to "
            f"{usd(overdue)}."
        )
    method = _default_method(session, customer_id)
    customer = _customer(session, customer_id)
    restores = amount == overdue and _status_row(session, customer_id).status == "suspended"
    left = overdue - amount
    if method is not None:
        summary = f"Pay {usd(amount)} now with your {method.label}"
        summary += (
            f", clearing your overdue balance of {usd(overdue)}"
            if left == 0
            else f" towards your overdue balance of {usd(overdue)}, leaving {usd(left)} overdue"
        )
        kind = PAYMENT_KIND
        params: dict[str, Any] = {
            "amount": amount,
            "payment_method_id": method.id,
            "overdue_total": overdue,
        }
    else:
        summary = (
            f"Email a secure payment link for {usd(amount)} (your overdue balance of "
            f"{usd(overdue)}) to {mask_email(customer.email)}"
        )
        kind = PAYMENT_LINK_KIND
        params = {"amount": amount, "purpose": "overdue balance", "overdue_total": overdue}
    if restores:
        summary += (
            "; your service is restored as soon as the payment goes through"
            if method
            else "; once it's paid, your service is restored automatically"
        )
    elif left > 0:
        summary += "; your service stays suspended until the whole overdue balance is paid"
    summary += "."
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=kind,
        params=params,
        summary=summary,
        amount=amount,
    )
    return PaymentProposal(
        kind, amount, overdue, method.label if method else None, restores, summary, proposed
    )


def _plan_paid_installments(session: Session, plan: PaymentPlan) -> int:
    """Mark installments paid, in due order, as far as payments since the plan cover them."""
    paid_since = session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.customer_id == plan.customer_id, Payment.paid_at >= plan.created_at
        )
    ).scalar_one()
    covered = Decimal(str(paid_since)).quantize(CENTS)
    running = Decimal("0.00")
    newly = 0
    for installment in plan.installments:
        running += installment.amount
        if running > covered:
            break
        if installment.paid_at is None:
            installment.paid_at = utcnow()
            newly += 1
    if all(i.paid_at is not None for i in plan.installments):
        plan.status = "completed"
    session.flush()
    return newly


def _restore_if_due(
    session: Session, customer: Customer, *, conversation_id: str | None, now: datetime
) -> bool:
    """Back on from "suspended for non-payment" once the balance is paid or a payment plan's
    first installment is. Only from that state, under the customer's row lock, so a service
    is restored exactly once however many payments arrive."""
    status = _status_row(session, customer.id)
    if status.status != "suspended" or status.cutoff_reason != "non_payment":
        return False
    balance = overdue_balance(session, customer.id, today=now.date())
    plan = _active_plan(session, customer.id)
    plan_started = plan is not None and plan.installments and plan.installments[0].paid_at
    if balance > 0 and not plan_started:
        return False
    status.status = "active"
    status.cutoff_reason = "none"
    status.since = now
    status.note = (
        "Restored after the overdue balance was paid."
        if balance == 0
        else "Restored after the first installment of a payment plan was paid."
    )
    session.flush()
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=conversation_id,
        kind="service_restored",
        summary=f"Service restored at {now.isoformat()}: {status.note}",
        outcome="restored",
    )
    _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_RESTORE,
        "Is your QuickConnect service working again?",
        f"Hi {customer.first_name}, your service was restored at {format_time(now)}. We're "
        "checking in to make sure everything works. If it doesn't, restart your phone, and "
        "if that doesn't help, reply to this message or chat with us.",
    )
    return True


def record_payment(
    session: Session,
    customer_id: int,
    amount: Decimal,
    method_label: str,
    *,
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> PaymentReceipt:
    """Money received against the overdue balance (in chat with the method on file, or from
    the secure payment page): a payment row with a reference, bills settled oldest first,
    a payment plan's installments marked, and the service restored when that is now due.
    Raises InvalidPaymentAmount for zero or more than the overdue balance."""
    now = now or utcnow()
    customer = _customer(session, customer_id, lock=True)
    amount = Decimal(amount).quantize(CENTS)
    bills = _overdue_bills(session, customer_id, now.date())
    overdue = sum((b.amount - b.paid_amount for b in bills), Decimal("0.00"))
    if amount <= 0:
        raise InvalidPaymentAmount("A payment has to be more than $0.00.")
    if amount > overdue:
        raise InvalidPaymentAmount(
            f"{usd(amount)} is more than the overdue balance of {usd(overdue)}."
        )
    left = amount
    touched: list[Bill] = []
    for bill in bills:
        if left <= 0:
            break
        part = min(left, bill.amount - bill.paid_amount)
        bill.paid_amount = (bill.paid_amount + part).quantize(CENTS)
        if bill.paid_amount >= bill.amount:
            bill.status = "paid"
        left -= part
        touched.append(bill)
    payment = Payment(
        customer_id=customer_id,
        bill_id=touched[0].id if len(touched) == 1 else None,
        amount=amount,
        method=method_label,
        paid_at=now,
        reference=allocate_identifier(session, Payment, Payment.reference, "PAY"),
    )
    session.add(payment)
    session.flush()
    plan = _active_plan(session, customer_id)
    newly_paid = _plan_paid_installments(session, plan) if plan is not None else 0
    restored = _restore_if_due(session, customer, conversation_id=conversation_id, now=now)
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="payment",
        summary=f"Payment {payment.reference} of {usd(amount)} by {method_label}; overdue "
        f"balance {usd(overdue)} -> {usd(overdue - amount)}"
        + ("; service restored" if restored else ""),
        outcome="paid",
    )
    return PaymentReceipt(
        reference=payment.reference,
        amount=amount,
        method=method_label,
        paid_at=now,
        remaining_overdue=(overdue - amount).quantize(CENTS),
        restored=restored,
        service_status=_status_row(session, customer_id).status,
        plan_installments_paid=newly_paid,
    )


def _check_balance(session: Session, customer_id: int, params: dict[str, Any]) -> Decimal:
    """The balance the customer was shown must still be the balance (no double payment when
    two offers are accepted, or a payment came in meanwhile)."""
    overdue = overdue_balance(session, customer_id)
    shown = Decimal(str(params["overdue_total"]))
    if overdue != shown:
        if overdue == 0:
            raise PaymentQuoteStale(
                "Your overdue balance has already been paid, so I haven't taken anything."
            )
        raise PaymentQuoteStale(
            f"Your overdue balance is now {usd(overdue)}, not the {usd(shown)} I showed you, "
            "so I haven't taken anything. Please ask again and I'll show the new amount."
        )
    return overdue


@changes.register_handler(PAYMENT_KIND)
def apply_payment(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `cutoff_payment`: charge the method on file, restore service if due."""
    customer = _customer(session, customer_id, lock=True)
    _check_balance(session, customer_id, params)
    method = session.get(PaymentMethod, int(params["payment_method_id"]))
    if method is None or method.customer_id != customer_id:
        raise PaymentQuoteStale(
            "The payment method I offered is no longer on your account, so I haven't taken "
            "anything."
        )
    receipt = record_payment(session, customer_id, Decimal(str(params["amount"])), method.label)
    if receipt.restored:
        service = f"Your service was restored at {format_time(receipt.paid_at)}."
    elif receipt.service_status == "suspended":
        service = (
            f"{usd(receipt.remaining_overdue)} is still overdue, so your service stays "
            "suspended until that is paid (or a payment plan is set up)."
        )
    else:
        service = "Your service is active."
    body = (
        f"Hi {customer.first_name},\n\nThank you for your payment of {usd(receipt.amount)} with "
        f"your {method.label} (reference {receipt.reference}).\n"
        f"Overdue balance remaining: {usd(receipt.remaining_overdue)}.\n{service}\n\n"
        "QuickConnect"
    )
    return ChangeEffect(
        result={
            "reference": receipt.reference,
            "amount": receipt.amount,
            "method": method.label,
            "remaining_overdue": receipt.remaining_overdue,
            "restored": receipt.restored,
            "restored_at": receipt.paid_at if receipt.restored else None,
            "service_status": receipt.service_status,
            "follow_up_at": receipt.paid_at + FOLLOW_UP_AFTER_RESTORE if receipt.restored else None,
            "follow_up_channel": _contact(customer)[0],
            "summary": f"Paid {usd(receipt.amount)} (reference {receipt.reference}).",
        },
        log_summary=f"Took a payment of {usd(receipt.amount)} with {method.label} (reference "
        f"{receipt.reference}); {usd(receipt.remaining_overdue)} still overdue"
        + ("; service restored" if receipt.restored else ""),
        notification=("email", f"Payment received: {usd(receipt.amount)}", body),
    )


def _payment_link(
    session: Session, customer: Customer, amount: Decimal, purpose: str, now: datetime
) -> tuple[str, datetime, FollowUp]:
    """A single-use secure payment page link, and a reminder if it has not been used."""
    link = PAYMENT_LINK_BASE + new_token()
    expires = now + PAYMENT_LINK_VALID
    follow_up = _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_LINK,
        "Your QuickConnect payment link",
        f"Hi {customer.first_name}, a reminder about the secure payment link we emailed you "
        f"for {usd(amount)} ({purpose}); it works until {format_time(expires)}. If you've "
        "already paid, thank you: your service comes back on automatically.",
    )
    return link, expires, follow_up


@changes.register_handler(PAYMENT_LINK_KIND)
def apply_payment_link(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `cutoff_payment_link`: email a secure payment link (no method on file)."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    _check_balance(session, customer_id, params)
    amount = Decimal(str(params["amount"]))
    purpose = str(params.get("purpose") or "overdue balance")
    link, expires, follow_up = _payment_link(session, customer, amount, purpose, now)
    body = (
        f"Hi {customer.first_name},\n\nHere is your secure QuickConnect payment link for "
        f"{usd(amount)} ({purpose}):\n{link}\n\nIt works until {format_time(expires)}. You can "
        "pay by card or bank transfer on that page; we never ask for card numbers by chat or "
        "email. As soon as the payment goes through, your service is restored automatically.\n\n"
        "QuickConnect"
    )
    return ChangeEffect(
        result={
            "amount": amount,
            "purpose": purpose,
            "expires_at": expires,
            "masked_email": mask_email(customer.email),
            "follow_up_at": follow_up.due_at,
            "follow_up_channel": follow_up.channel,
            "summary": f"Sent a secure payment link for {usd(amount)}.",
        },
        log_summary=f"Emailed a secure payment link for {usd(amount)} ({purpose}); valid until "
        f"{expires.isoformat()}; reminder at {follow_up.due_at.isoformat()}",
        notification=("email", f"Your secure payment link for {usd(amount)}", body),
    )
