"""Enrolment: a device (on the account or new) on a tier, confirmed, as a new `DP-` plan."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import next_cycle_start
from quickconnect.db.models import (
    Customer,
    Device,
    PaymentMethod,
    ProtectionPlan,
    ProtectionPlanDevice,
    utcnow,
)
from quickconnect.identifiers import (
    PROTECTION_PLAN_PREFIX,
    allocate_identifier,
)
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.device_protection.common import (
    ENROL,
    HOW_TO_SEE_IT,
    DeviceNotEligible,
    NewDevice,
    Proposal,
    _usd,
    format_date,
)
from quickconnect.services.device_protection.lookups import (
    _check_fits,
    _covering_plans,
    _customer,
    _tier_option,
    _tier_row,
    contact_on_file,
)

# --- enrolment ----------------------------------------------------------------------------------


def _next_bill(customer: Customer, today: date) -> date:
    return next_cycle_start(today, customer.billing_cycle_day)


def _default_payment(session: Session, customer_id: int) -> PaymentMethod | None:
    return session.execute(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        .limit(1)
    ).scalar_one_or_none()


def _own_device(session: Session, customer_id: int, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id:
        raise DeviceNotEligible("That device isn't on your account.")
    return device


def _check_uncovered(session: Session, device_id: int, label: str) -> None:
    covering = _covering_plans(session, [device_id]).get(device_id)
    if covering:
        raise DeviceNotEligible(f"Your {label} is already protected by {covering}.")


def _device_params(device_id: int | None, new_device: NewDevice | None) -> dict[str, Any]:
    """How a proposal names its device, read back by `_device_from_params` on the yes."""
    if device_id is not None:
        return {"device_id": device_id}
    assert new_device is not None
    return {
        "new_device": {
            "type": new_device.device_type,
            "make_model": new_device.make_model,
            "value": new_device.value,
        }
    }


def _resolve_device(
    session: Session,
    customer_id: int,
    device_id: int | None,
    new_device: NewDevice | None,
) -> tuple[str, str, Decimal]:
    """(type, label, value) of the device being covered; checks it is not covered already."""
    if device_id is not None:
        device = _own_device(session, customer_id, device_id)
        label = f"{device.make} {device.model}"
        _check_uncovered(session, device.id, label)
        return device.device_type, label, Decimal(device.value)
    if new_device is None:
        raise DeviceNotEligible("Please tell me which device to protect.")
    return new_device.device_type, new_device.make_model, Decimal(new_device.value)


def propose_enrolment(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    tier_code: str,
    device_id: int | None = None,
    new_device: NewDevice | None = None,
    today: date | None = None,
) -> Proposal:
    """Quote an enrolment (device, tier, price, deductible, cover, payment method and contact
    details on file) and store it awaiting the customer's yes."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    tier_row = _tier_row(session, tier_code)
    tier = _tier_option(tier_row)
    device_type, label, value = _resolve_device(session, customer_id, device_id, new_device)
    _check_fits(tier, tier_row, device_type, value)
    payment = _default_payment(session, customer_id)
    if payment is None:
        raise DeviceNotEligible(
            "There's no payment method saved on your account yet. Please add one in your "
            "QuickConnect account on our website or app, then I can enrol your device."
        )
    contact = contact_on_file(session, customer_id)
    summary = (
        f"Enrol your {label} in {tier.name}: {_usd(tier.monthly_price)}/month, "
        f"{_usd(tier.deductible)} deductible per claim, covering {tier.covers_text}. "
        f"Cover starts today; the monthly charge goes on {payment.label} from your bill of "
        f"{format_date(_next_bill(customer, today))}. Plan details go to "
        f"{contact.masked_email} and {contact.masked_phone}."
    )
    params: dict[str, Any] = {
        "tier_code": tier.code,
        "payment_method_id": payment.id,
        **_device_params(device_id, new_device),
    }
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ENROL,
        params=params,
        summary=summary,
        amount=tier.monthly_price,
    )
    return Proposal(summary, change)


def _split_make_model(make_model: str) -> tuple[str, str]:
    words = make_model.split()
    if len(words) < 2:
        return "Unknown make", make_model.strip() or "Unknown model"
    return words[0][:80], " ".join(words[1:])[:80]


def _device_from_params(
    session: Session, customer_id: int, params: dict[str, Any], now: datetime
) -> Device:
    """The device a confirmed change names: one on the account and not yet covered, or the new
    one it describes (added to the account now)."""
    if params.get("device_id") is not None:
        device = _own_device(session, customer_id, int(params["device_id"]))
        _check_uncovered(session, device.id, f"{device.make} {device.model}")
        return device
    details = params["new_device"]
    make, model = _split_make_model(str(details["make_model"]))
    device = Device(
        customer_id=customer_id,
        device_type=str(details["type"]),
        make=make,
        model=model,
        value=Decimal(str(details["value"])),
        created_at=now,
    )
    session.add(device)
    session.flush()
    return device


@changes.register_handler(ENROL)
def apply_enrolment(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `device_protection_enrol`: the device (created if new), a new `DP-` plan on
    the chosen tier, charged to the payment method that was shown; summary email queued."""
    now = utcnow()
    customer = _customer(session, customer_id)
    tier_row = _tier_row(session, str(params["tier_code"]))
    tier = _tier_option(tier_row)
    device = _device_from_params(session, customer_id, params, now)
    label = f"{device.make} {device.model}".replace("Unknown make ", "")
    _check_fits(tier, tier_row, device.device_type, device.value)
    payment = session.get(PaymentMethod, int(params["payment_method_id"]))
    if payment is None or payment.customer_id != customer_id:
        raise DeviceNotEligible("The payment method on file has changed; please start again.")
    plan = ProtectionPlan(
        plan_number=allocate_identifier(
            session, ProtectionPlan, ProtectionPlan.plan_number, PROTECTION_PLAN_PREFIX
        ),
        customer_id=customer_id,
        tier_id=tier_row.id,
        status="active",
        enrolled_at=now,
        payment_method_id=payment.id,
    )
    session.add(plan)
    session.flush()
    session.add(ProtectionPlanDevice(plan_id=plan.id, device_id=device.id, added_at=now))
    session.flush()
    first_bill = _next_bill(customer, now.date())
    body = (
        f"Hi {customer.first_name},\n\nWelcome to QuickConnect device protection.\n\n"
        f"Plan number: {plan.plan_number}\nDevice: {label}\nPlan: {tier.name}, "
        f"{_usd(tier.monthly_price)}/month, charged to {payment.label} from your bill of "
        f"{format_date(first_bill)}\nDeductible: {_usd(tier.deductible)} per claim\n"
        f"Covers: {tier.covers_text}. Pre-existing issues are generally not covered.\n"
        f"Cover started: {format_date(now.date())}\n\n{HOW_TO_SEE_IT} Please quote your plan "
        f"number {plan.plan_number} whenever you contact us about it.\n\n"
        "Thank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "tier_name": tier.name,
            "monthly_price": tier.monthly_price,
            "deductible": tier.deductible,
            "covers": tier.covers_text,
            "device": label,
            "payment_method": payment.label,
            "first_bill_date": first_bill,
        },
        log_summary=(
            f"Enrolled {label} in {tier.name} ({_usd(tier.monthly_price)}/month) as "
            f"{plan.plan_number}, paid by {payment.label}"
        ),
        notification=("email", f"Your device protection plan {plan.plan_number}", body),
    )
