"""Managing a plan by its plan number: tier, payment method and added devices."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    PaymentMethod,
    ProtectionPlanDevice,
    utcnow,
)
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.device_protection.common import (
    ADD_DEVICE,
    CHANGE_PAYMENT,
    CHANGE_TIER,
    HOW_TO_SEE_IT,
    DeviceProtectionError,
    NewDevice,
    PaymentMethodChoiceNeeded,
    Proposal,
    SameTier,
    _and,
    _usd,
    covers_text,
    format_date,
)
from quickconnect.services.device_protection.enrolment import (
    _device_from_params,
    _device_params,
    _next_bill,
    _resolve_device,
)
from quickconnect.services.device_protection.lookups import (
    _check_fits,
    _customer,
    _plan_row,
    _plan_view,
    _tier_option,
    _tier_row,
    find_protection_plan,
)
from quickconnect.services.device_protection.matching import _FILLER, _WORD

# --- managing a plan ------------------------------------------------------------------------------


def propose_tier_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    tier_code: str,
    today: date | None = None,
) -> Proposal:
    """Upgrade or downgrade: the new price for all devices on the plan, when it applies, and
    any cover that is lost; every device must fit the new tier."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    plan = find_protection_plan(session, customer_id, plan_number)
    tier_row = _tier_row(session, tier_code)
    new = _tier_option(tier_row)
    if new.code == plan.tier.code:
        raise SameTier(f"{plan.plan_number} is already on {new.name}.")
    for device in plan.devices:
        _check_fits(new, tier_row, device.device_type, device.value)
    count = max(len(plan.devices), 1)
    new_total = new.monthly_price * count
    direction = "Upgrade" if new.monthly_price > plan.tier.monthly_price else "Downgrade"
    lost = [kind for kind in plan.tier.covers if kind not in new.covers]
    summary = (
        f"{direction} {plan.plan_number} from {plan.tier.name} ({_usd(plan.monthly_total)}/month)"
        f" to {new.name}: {_usd(new_total)}/month"
        + (f" for {count} devices" if count > 1 else "")
        + f", {_usd(new.deductible)} deductible per claim, covering {new.covers_text}. "
        f"The new cover applies from today and the new price from your bill of "
        f"{format_date(_next_bill(customer, today))}."
    )
    if lost:
        summary += f" {new.name} does not cover {covers_text(lost)}."
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_TIER,
        params={
            "plan_number": plan.plan_number,
            "tier_code": new.code,
            "from_tier_code": plan.tier.code,
        },
        summary=summary,
        amount=new_total,
    )
    return Proposal(summary, change)


@changes.register_handler(CHANGE_TIER)
def apply_tier_change(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    old = _tier_option(plan.tier)
    if params.get("from_tier_code") and old.code != params["from_tier_code"]:
        raise DeviceProtectionError(
            f"{plan.plan_number} has changed since I quoted it; please ask again."
        )
    tier_row = _tier_row(session, str(params["tier_code"]))
    new = _tier_option(tier_row)
    for device in plan.devices:
        _check_fits(new, tier_row, device.device_type, device.value)
    plan.tier_id = tier_row.id
    session.flush()
    session.expire(plan, ["tier"])
    customer = _customer(session, customer_id)
    next_bill = _next_bill(customer, utcnow().date())
    total = new.monthly_price * max(len(plan.devices), 1)
    body = (
        f"Hi {customer.first_name},\n\nYour device protection plan {plan.plan_number} is now "
        f"{new.name} (was {old.name}). It covers {new.covers_text}, with a "
        f"{_usd(new.deductible)} deductible per claim. Your new price of {_usd(total)}/month "
        f"applies from your bill of {format_date(next_bill)}.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "tier_name": new.name,
            "old_tier_name": old.name,
            "monthly_total": total,
            "next_bill_date": next_bill,
        },
        log_summary=f"Changed {plan.plan_number} from {old.name} to {new.name} ({_usd(total)}/mo)",
        notification=("email", f"Your device protection plan {plan.plan_number} changed", body),
    )


def _other_payment_methods(
    session: Session, customer_id: int, current_id: int | None
) -> list[PaymentMethod]:
    return list(
        session.execute(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id, PaymentMethod.id != (current_id or 0))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        ).scalars()
    )


def propose_payment_method_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    method_hint: str | None = None,
) -> Proposal:
    """Charge the plan to another saved payment method ("the mastercard", "ending 8812").
    Card numbers are never taken in chat: a new card is added in the account online."""
    plan_row = _plan_row(session, customer_id, plan_number)
    plan = _plan_view(session, plan_row)
    others = _other_payment_methods(session, customer_id, plan_row.payment_method_id)
    if not others:
        raise PaymentMethodChoiceNeeded(
            f"{plan.plan_number} is paid with {plan.payment_method or 'no payment method'}, and "
            "there's no other payment method saved on your account. For your security I never "
            "take card details in chat: add a new card or bank account in your QuickConnect "
            "account on our website or app, then ask me again to switch the plan to it."
        )
    chosen = others[0] if len(others) == 1 else None
    if method_hint:
        hint_words = set(_WORD.findall(method_hint.lower())) - _FILLER - {"card", "ending", "pay"}
        matches = [m for m in others if hint_words & set(_WORD.findall(m.label.lower()))]
        if len(matches) == 1:
            chosen = matches[0]
    if chosen is None:
        labels = [method.label for method in others]
        raise PaymentMethodChoiceNeeded(
            f"Which saved payment method should {plan.plan_number} use: {_and(labels)}?", labels
        )
    summary = (
        f"Charge {plan.plan_number} ({plan.tier.name}, {_usd(plan.monthly_total)}/month) to "
        f"{chosen.label} instead of {plan.payment_method or 'no payment method'}, from your "
        "next bill."
    )
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_PAYMENT,
        params={"plan_number": plan.plan_number, "payment_method_id": chosen.id},
        summary=summary,
    )
    return Proposal(summary, change)


@changes.register_handler(CHANGE_PAYMENT)
def apply_payment_method_change(
    session: Session, customer_id: int, params: dict[str, Any]
) -> ChangeEffect:
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    method = session.get(PaymentMethod, int(params["payment_method_id"]))
    if method is None or method.customer_id != customer_id:
        raise DeviceProtectionError("That payment method is no longer on your account.")
    old = session.get(PaymentMethod, plan.payment_method_id) if plan.payment_method_id else None
    plan.payment_method_id = method.id
    session.flush()
    customer = _customer(session, customer_id)
    body = (
        f"Hi {customer.first_name},\n\nYour device protection plan {plan.plan_number} is now "
        f"charged to {method.label}"
        + (f" instead of {old.label}" if old else "")
        + f", from your next bill.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={"plan_number": plan.plan_number, "payment_method": method.label},
        log_summary=f"{plan.plan_number} now paid with {method.label}",
        notification=("email", f"Payment method updated for {plan.plan_number}", body),
    )


def propose_add_device(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    device_id: int | None = None,
    new_device: NewDevice | None = None,
    today: date | None = None,
) -> Proposal:
    """Add a device to a plan: it must fit the plan's tier; the plan's price rises by one
    device's tier price from the next bill."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    plan_row = _plan_row(session, customer_id, plan_number)
    plan = _plan_view(session, plan_row)
    device_type, label, value = _resolve_device(session, customer_id, device_id, new_device)
    _check_fits(plan.tier, plan_row.tier, device_type, value)
    new_total = plan.tier.monthly_price * (len(plan.devices) + 1)
    summary = (
        f"Add your {label} to {plan.plan_number} ({plan.tier.name}, covering "
        f"{plan.tier.covers_text}). Cover starts today; the plan's price goes from "
        f"{_usd(plan.monthly_total)} to {_usd(new_total)}/month from your bill of "
        f"{format_date(_next_bill(customer, today))}."
    )
    params: dict[str, Any] = {
        "plan_number": plan.plan_number,
        **_device_params(device_id, new_device),
    }
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ADD_DEVICE,
        params=params,
        summary=summary,
        amount=new_total,
    )
    return Proposal(summary, change)


@changes.register_handler(ADD_DEVICE)
def apply_add_device(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    now = utcnow()
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    tier = _tier_option(plan.tier)
    device = _device_from_params(session, customer_id, params, now)
    _check_fits(tier, plan.tier, device.device_type, device.value)
    session.add(ProtectionPlanDevice(plan_id=plan.id, device_id=device.id, added_at=now))
    session.flush()
    session.expire(plan, ["devices"])
    label = f"{device.make} {device.model}".replace("Unknown make ", "")
    total = tier.monthly_price * len(plan.devices)
    customer = _customer(session, customer_id)
    next_bill = _next_bill(customer, now.date())
    body = (
        f"Hi {customer.first_name},\n\nYour {label} is now covered by {plan.plan_number} "
        f"({tier.name}: {tier.covers_text}). The plan now costs {_usd(total)}/month from your "
        f"bill of {format_date(next_bill)}.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "device": label,
            "monthly_total": total,
            "next_bill_date": next_bill,
        },
        log_summary=f"Added {label} to {plan.plan_number}; now {_usd(total)}/month",
        notification=("email", f"{label} added to {plan.plan_number}", body),
    )
