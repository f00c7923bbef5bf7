"""Cancelling an add-on: the fee and the refund or billing adjustment, recorded once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from quickconnect.db.models import Customer, Subscription, utcnow
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.subscriptions.catalog import get_service
from quickconnect.services.subscriptions.common import (
    CANCEL_KIND,
    LIVE_STATUSES,
    ZERO,
    CancelQuote,
    NotSubscribed,
    ServiceView,
    SubscriptionQuoteStale,
    _cents,
    format_date,
    usd,
)
from quickconnect.services.subscriptions.lookups import (
    _customer,
    _cycle,
    _locked_subscription,
    _months_later,
    _require_live,
    _service_of,
    _signed,
    _tier_code,
)

# --- cancelling -------------------------------------------------------------------------------


def quote_cancel(
    session: Session, customer_id: int, service_code: str, *, today: date | None = None
) -> CancelQuote:
    """Cancellation fee, refund or charge, and what happens next, without changing anything.

    Raises UnknownService or NotSubscribed (also for an add-on already cancelled)."""
    today = today or utcnow().date()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    sub = _require_live(session, customer_id, service)
    return _cancel_quote(session, customer, service, sub, today)


def _cancel_quote(
    session: Session, customer: Customer, service: ServiceView, sub: Subscription, today: date
) -> CancelQuote:
    start, next_bill, cycle_days, remaining = _cycle(customer, today)
    price = _cents(sub.monthly_price)
    tier_name = next(t.name for t in service.tiers if t.code == _tier_code(session, sub))
    pending = sub.status == "pending_activation" or sub.activated_at is None
    fee, refund, charge = ZERO, ZERO, ZERO
    if pending:
        fee_reason = "it isn't live yet, so there's no cancellation fee and nothing to pay"
    else:
        live_since = sub.activated_at.date()
        if service.cancellation_fee > 0:
            months = service.cancellation_fee_months
            if months is None or today < _months_later(live_since, months):
                fee = service.cancellation_fee
                fee_reason = f"a {usd(fee)} cancellation fee applies" + (
                    f" (within the first {months} months)" if months else ""
                )
            else:
                fee_reason = f"no cancellation fee (you've had it more than {months} months)"
        else:
            fee_reason = "no cancellation fee"
        if live_since < start:  # this cycle was billed in advance: credit the days left
            refund = _cents(price * remaining / cycle_days)
        else:  # went live this cycle, not billed yet: the days used are charged
            charge = _cents(price * (today - live_since).days / cycle_days)
    net = _cents(fee + charge - refund)
    money = [fee_reason]
    if refund > 0:
        money.append(
            f"a refund of {usd(refund)} for the {remaining} unused days of this billing cycle"
        )
    if charge > 0:
        money.append(f"a prorated charge of {usd(charge)} for the days you had it this cycle")
    if net < 0:
        money.append(f"a credit of {usd(net)} on your bill of {format_date(next_bill)}")
    elif net > 0:
        money.append(f"{usd(net)} to pay on your bill of {format_date(next_bill)}")
    else:
        money.append("no billing adjustment")
    what_next = (
        f"{service.name} stops today and won't be billed again. {service.terms}"
        if not pending
        else f"{service.name} won't be activated and won't be billed."
    )
    summary = (
        f"Cancel {service.name} {tier_name} ({usd(price)}/month), effective today: "
        + "; ".join(money)
        + "."
    )
    return CancelQuote(
        customer_id=int(customer.id),
        subscription_id=int(sub.id),
        service_name=service.name,
        tier_name=tier_name,
        monthly_price=price,
        pending=pending,
        cancellation_fee=fee,
        fee_reason=fee_reason,
        refund=refund,
        usage_charge=charge,
        net_adjustment=net,
        next_bill_date=next_bill,
        what_next=what_next,
        summary=summary,
    )


def propose_cancel(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    today: date | None = None,
) -> tuple[CancelQuote, ProposedChange]:
    quote = quote_cancel(session, customer_id, service_code, today=today)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CANCEL_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.net_adjustment,
    )
    return quote, proposed


@changes.register_handler(CANCEL_KIND)
def apply_cancel(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Cancel once: the row is locked, an already cancelled one is refused (no second refund)."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    sub = _locked_subscription(session, customer_id, int(params["subscription_id"]))
    service = _service_of(session, sub)
    if sub.status not in LIVE_STATUSES:
        when = f" on {format_date(sub.cancelled_at.date())}" if sub.cancelled_at else ""
        raise NotSubscribed(
            f"Your {service.name} was already cancelled{when}, so nothing more was charged "
            "or refunded."
        )
    quote = _cancel_quote(session, customer, service, sub, now.date())
    if (
        quote.cancellation_fee != Decimal(str(params["cancellation_fee"]))
        or quote.refund != Decimal(str(params["refund"]))
        or quote.usage_charge != Decimal(str(params["usage_charge"]))
    ):
        raise SubscriptionQuoteStale(
            f"The amounts for cancelling {service.name} are now different; the cancellation "
            "needs a new quote."
        )
    sub.status = "cancelled"
    sub.cancelled_at = now
    if quote.cancellation_fee > 0:
        sub.fee_charged = _cents(Decimal(sub.fee_charged or 0) + quote.cancellation_fee)
    sub.refund_amount = quote.refund
    session.flush()
    body = (
        f"Hi {customer.first_name},\n\nYour {service.name} subscription has been cancelled "
        f"as of {format_date(now.date())}.\n\n{quote.summary}\n\n{quote.what_next}\n\n"
        "Thank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": service.name,
            "tier_name": quote.tier_name,
            "cancellation_fee": quote.cancellation_fee,
            "refund": quote.refund,
            "usage_charge": quote.usage_charge,
            "net_adjustment": quote.net_adjustment,
            "next_bill_date": quote.next_bill_date,
            "what_next": quote.what_next,
            "summary": quote.summary,
        },
        log_summary=(
            f"Cancelled {service.name} {quote.tier_name}; cancellation fee "
            f"{usd(quote.cancellation_fee)}; refund {usd(quote.refund)}; usage charge "
            f"{usd(quote.usage_charge)}; net adjustment {_signed(quote.net_adjustment)} on the "
            f"bill of {quote.next_bill_date.isoformat()}"
        ),
        notification=("email", f"Your {service.name} has been cancelled", body),
    )
