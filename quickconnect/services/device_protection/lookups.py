"""Devices, plans, tiers and contact details on file that several device protection steps read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
    Device,
    PaymentMethod,
    ProtectionPlan,
    ProtectionPlanDevice,
    ProtectionTier,
)
from quickconnect.identifiers import (
    PROTECTION_PLAN_PREFIX,
    find_identifier,
    mask_email,
    mask_phone,
    normalize_protection_plan_number,
)
from quickconnect.nlp.patterns import catalog_code_for
from quickconnect.services.device_protection.common import (
    CONTACT_LOG_KIND,
    ContactOnFile,
    DeviceNotEligible,
    DeviceProtectionError,
    DeviceView,
    PlanView,
    TierOption,
    UnknownProtectionPlan,
    UnknownTier,
    _usd,
)
from quickconnect.services.interactions import log_interaction

# --- lookups ----------------------------------------------------------------------------------


def _tier_option(tier: ProtectionTier) -> TierOption:
    return TierOption(
        code=tier.code,
        name=tier.name,
        monthly_price=Decimal(tier.monthly_price),
        deductible=Decimal(tier.deductible),
        covers=tuple(tier.covers or ()),
        max_device_value=Decimal(tier.max_device_value),
    )


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise DeviceProtectionError(f"customer {customer_id} does not exist")
    return customer


def _covering_plans(session: Session, device_ids: Sequence[int]) -> dict[int, str]:
    """device id -> number of the active plan covering it."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(ProtectionPlanDevice.device_id, ProtectionPlan.plan_number)
        .join(ProtectionPlan, ProtectionPlan.id == ProtectionPlanDevice.plan_id)
        .where(
            ProtectionPlanDevice.device_id.in_(device_ids),
            ProtectionPlan.status == "active",
        )
    ).all()
    return {device_id: plan_number for device_id, plan_number in rows}


def _device_views(session: Session, devices: Sequence[Device]) -> list[DeviceView]:
    covered = _covering_plans(session, [device.id for device in devices])
    return [
        DeviceView(
            device_id=device.id,
            device_type=device.device_type,
            make=device.make,
            model=device.model,
            value=Decimal(device.value),
            protection_plan_number=covered.get(device.id),
        )
        for device in devices
    ]


def customer_devices(session: Session, customer_id: int) -> list[DeviceView]:
    """The customer's devices, each with the active plan covering it (if any)."""
    devices = session.execute(
        select(Device).where(Device.customer_id == customer_id).order_by(Device.id)
    ).scalars()
    return _device_views(session, list(devices))


def _plan_view(session: Session, plan: ProtectionPlan) -> PlanView:
    payment = session.get(PaymentMethod, plan.payment_method_id) if plan.payment_method_id else None
    return PlanView(
        plan_number=plan.plan_number,
        tier=_tier_option(plan.tier),
        enrolled_on=plan.enrolled_at.date(),
        devices=tuple(_device_views(session, list(plan.devices))),
        payment_method=payment.label if payment else None,
    )


def customer_plans(session: Session, customer_id: int) -> list[PlanView]:
    """The customer's active protection plans, oldest first."""
    plans = session.execute(
        select(ProtectionPlan)
        .where(ProtectionPlan.customer_id == customer_id, ProtectionPlan.status == "active")
        .order_by(ProtectionPlan.enrolled_at, ProtectionPlan.id)
    ).scalars()
    return [_plan_view(session, plan) for plan in plans]


def _plan_row(
    session: Session, customer_id: int, plan_number: str | None, *, lock: bool = False
) -> ProtectionPlan:
    number = normalize_protection_plan_number(plan_number) or find_identifier(
        plan_number, PROTECTION_PLAN_PREFIX
    )
    if number is None and plan_number and re.fullmatch(r"\s*\d{6}\s*", plan_number):
        number = f"{PROTECTION_PLAN_PREFIX}-{plan_number.strip()}"
    plan = None
    if number is not None:
        query = select(ProtectionPlan).where(
            ProtectionPlan.plan_number == number,
            ProtectionPlan.customer_id == customer_id,  # another account's plan is "unknown"
            ProtectionPlan.status == "active",
        )
        if lock:
            query = query.with_for_update()
        plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        # Only a plan number is repeated back; anything else (nothing, a word) is "that plan".
        raise UnknownProtectionPlan(
            f"I can't find an active device protection plan {number} on your account."
            if number
            else "I can't find that device protection plan on your account."
        )
    return plan


def find_protection_plan(session: Session, customer_id: int, plan_number: str | None) -> PlanView:
    """The customer's active plan with this number ('dp300101', '300101' also work)."""
    return _plan_view(session, _plan_row(session, customer_id, plan_number))


def find_tier(session: Session, name_or_code: str | None) -> TierOption | None:
    """'protect plus', 'Plus', 'PROTECT_PREMIUM', 'the premium one' -> the tier; None if none."""
    if not name_or_code or not name_or_code.strip():
        return None
    tiers = list(session.execute(select(ProtectionTier).order_by(ProtectionTier.id)).scalars())
    text = " ".join(name_or_code.lower().replace("_", " ").split())
    code = catalog_code_for("plan_name", text)
    for tier in tiers:
        if code == tier.code or text in (tier.code.lower().replace("_", " "), tier.name.lower()):
            return _tier_option(tier)
    found = [
        tier
        for tier in tiers
        if re.search(rf"\b{re.escape(tier.name.split()[-1].lower())}\b", text)
    ]
    return _tier_option(found[0]) if len(found) == 1 else None


def all_tiers(session: Session) -> list[TierOption]:
    """Every protection tier, cheapest first (a question asked before the device is known)."""
    tiers = session.execute(
        select(ProtectionTier).order_by(ProtectionTier.monthly_price, ProtectionTier.id)
    ).scalars()
    return [_tier_option(tier) for tier in tiers]


def tiers_for(session: Session, device_type: str, value: Decimal | None) -> list[TierOption]:
    """Tiers that fit a device (its type, and its value up to the tier's maximum), cheapest
    first; empty when none does (routers, computers, very expensive devices)."""
    tiers = session.execute(
        select(ProtectionTier).order_by(ProtectionTier.monthly_price, ProtectionTier.id)
    ).scalars()
    return [
        _tier_option(tier)
        for tier in tiers
        if device_type in (tier.device_types or ())
        and (value is None or Decimal(value) <= Decimal(tier.max_device_value))
    ]


def _check_fits(tier: TierOption, tier_row: ProtectionTier, device_type: str, value: Any) -> None:
    label = device_type.replace("_", " ")
    if device_type not in (tier_row.device_types or ()):
        raise DeviceNotEligible(f"{tier.name} doesn't cover a {label}.")
    if Decimal(value) > tier.max_device_value:
        raise DeviceNotEligible(
            f"{tier.name} covers devices worth up to {_usd(tier.max_device_value)}, and this "
            f"one is worth {_usd(Decimal(value))}."
        )


def _tier_row(session: Session, code: str) -> ProtectionTier:
    tier = session.execute(
        select(ProtectionTier).where(ProtectionTier.code == code)
    ).scalar_one_or_none()
    if tier is None:
        raise UnknownTier(f"There is no protection plan called {code!r}.")
    return tier


def contact_on_file(session: Session, customer_id: int) -> ContactOnFile:
    """Masked contact details and the default payment method, for confirming them in chat."""
    customer = _customer(session, customer_id)
    default = session.execute(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        .limit(1)
    ).scalar_one_or_none()
    return ContactOnFile(
        masked_email=mask_email(customer.email),
        masked_phone=mask_phone(customer.phone),
        payment_method=default.label if default else None,
    )


def plan_contact_details(
    session: Session, *, conversation_id: str, customer_id: int, plan_number: str
) -> tuple[PlanView, ContactOnFile]:
    """The contact details a plan's messages go to (masked), logged as checked."""
    plan = find_protection_plan(session, customer_id, plan_number)
    contact = contact_on_file(session, customer_id)
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=CONTACT_LOG_KIND,
        summary=f"Showed the contact details on file for {plan.plan_number}",
        outcome="answered",
    )
    return plan, contact
