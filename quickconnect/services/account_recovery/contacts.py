"""A new email or phone for recovery, or keeping the ones on file."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
)
from quickconnect.identifiers import (
    mask_email,
    mask_phone,
    normalize_email,
    normalize_phone,
)
from quickconnect.services import changes
from quickconnect.services.account_recovery.common import (
    CONTACT_KIND,
    InvalidContact,
    NewContact,
    RecoveryError,
)
from quickconnect.services.account_recovery.verification import (
    _customer,
    _log,
    _refuse_on_hold,
    _require_live_verification,
    require_verified,
)
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.notifications import queue_notification

# --- contact details for recovery -------------------------------------------------------------

_KEEP = re.compile(
    r"^\W*(no|nope|nah|no thanks|no thank you|keep( them| it| both)?( as (they are|it is))?|"
    r"(they'?re|they are|it'?s|it is|both are|those are|that'?s) (fine|right|correct|ok|okay|"
    r"good|up to date)|no changes?|leave (them|it)( as (they are|it is))?|all good|nothing)\b",
    re.IGNORECASE,
)


def wants_to_keep_contacts(text: str | None) -> bool:
    """'no', 'keep them', 'they're correct', 'no changes': the customer changes nothing."""
    return bool(text and _KEEP.search(text.strip()))


def parse_new_contact(
    session: Session, *, conversation_id: str, token: str | None, text: str | None
) -> NewContact:
    """A new email or phone for recovery, checked against the account (raises when unusable)."""
    verified = require_verified(session, conversation_id, token)
    customer = _customer(session, verified.customer_id)
    candidate = (text or "").strip()
    email = normalize_email(candidate)
    if email is None:
        found = re.search(r"[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[A-Za-z]{2,}", candidate)
        email = normalize_email(found.group(0)) if found else None
    if email is not None:
        if email == normalize_email(customer.email):
            raise RecoveryError(
                f"{mask_email(email)} is already the email on your account, so nothing would "
                "change. Please give the new one."
            )
        return NewContact("email", email, mask_email(email) or "", mask_email(customer.email) or "")
    phone = normalize_phone(candidate)
    if phone is None:
        found = re.search(r"\+?\d[\d\s().\-/]{6,}\d", candidate)
        phone = normalize_phone(found.group(0)) if found else None
    if phone is None:
        raise InvalidContact(
            "That doesn't look like an email address or a phone number. Please type the new "
            "email (like name@example.com) or phone number (like +1 555 010 0199)."
        )
    if phone == customer.phone:
        raise RecoveryError(
            f"{mask_phone(phone)} is already the phone number on your account, so nothing would "
            "change. Please give the new one."
        )
    taken = session.execute(
        select(func.count(Customer.id)).where(Customer.phone == phone, Customer.id != customer.id)
    ).scalar_one()
    if taken:
        raise RecoveryError(
            "I can't use that phone number for this account. Please give a different one, or "
            'type "agent" and a person will help.'
        )
    return NewContact("phone", phone, mask_phone(phone) or "", mask_phone(customer.phone) or "")


def propose_contact_change(
    session: Session, *, conversation_id: str, token: str | None, new_contact: str
) -> tuple[NewContact, ProposedChange]:
    """Propose a new recovery email or phone; the old one gets a notice when it is applied."""
    verified = require_verified(session, conversation_id, token)
    _refuse_on_hold(session, verified.customer_id)
    contact = parse_new_contact(
        session, conversation_id=conversation_id, token=token, text=new_contact
    )
    customer = _customer(session, verified.customer_id)
    what = "email address" if contact.field == "email" else "phone number"
    old_value = customer.email if contact.field == "email" else customer.phone
    summary = (
        f"Change the {what} on account {verified.account_number} (used for account recovery "
        f"and notices) from {contact.old_masked} to {contact.masked}. We'll confirm to the new "
        f"{what} and send a notice to the old one. There's no fee."
    )
    proposal = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=verified.customer_id,
        kind=CONTACT_KIND,
        params={
            "conversation_id": conversation_id,
            "field": contact.field,
            "new_value": contact.value,
            "old_value": old_value,
        },
        summary=summary,
    )
    return contact, proposal


@changes.register_handler(CONTACT_KIND)
def apply_contact_change(
    session: Session, customer_id: int, params: dict[str, Any]
) -> ChangeEffect:
    """Handler for `contact_update`: change the email or phone, notify the OLD contact (so a
    takeover cannot go unnoticed) and confirm to the new one."""
    _require_live_verification(session, params, customer_id)
    _refuse_on_hold(session, customer_id)
    customer = _customer(session, customer_id, lock=True)
    field = str(params["field"])
    new_value, old_value = str(params["new_value"]), str(params["old_value"])
    if field not in ("email", "phone"):
        raise RecoveryError("I can only change the email address or the phone number.")
    current = customer.email if field == "email" else customer.phone
    if current != old_value:
        raise RecoveryError(
            "the contact details on your account changed since I asked, so please tell me the "
            "new one again."
        )
    if field == "phone":
        taken = session.execute(
            select(func.count(Customer.id)).where(
                Customer.phone == new_value, Customer.id != customer_id
            )
        ).scalar_one()
        if taken:
            raise RecoveryError("that phone number can't be used for this account.")
        customer.phone = new_value
    else:
        customer.email = new_value
    session.flush()
    session.expire(customer)
    stored = customer.email if field == "email" else customer.phone
    if stored != new_value:
        raise RuntimeError(f"contact change of customer {customer_id} did not show")

    what = "email address" if field == "email" else "phone number"
    old_masked = mask_email(old_value) if field == "email" else mask_phone(old_value)
    new_masked = mask_email(new_value) if field == "email" else mask_phone(new_value)
    old_channel = "email" if field == "email" else "sms"
    notice = (
        f"QuickConnect: the {what} on account {customer.account_number} was changed in chat "
        f"from this one to {new_masked}. If you didn't make this change, contact us right away."
    )
    queue_notification(
        session,
        customer_id=customer_id,
        channel=old_channel,
        to_address=old_value,
        subject=f"Your QuickConnect {what} was changed",
        body=notice,
    )
    if field == "phone":  # the summary below goes by email; the new phone gets a text too
        queue_notification(
            session,
            customer_id=customer_id,
            channel="sms",
            to_address=new_value,
            subject=f"Your QuickConnect {what} was changed",
            body=f"QuickConnect: this number is now the phone number on account "
            f"{customer.account_number}.",
        )
    body = (
        f"Hi {customer.first_name},\n\nThe {what} on your QuickConnect account "
        f"{customer.account_number} is now {new_masked} (it was {old_masked}). We use it for "
        "account recovery and notices. We've also let the old one know.\n\nIf you didn't make "
        "this change, please contact us straight away.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={"field": field, "new_masked": new_masked, "old_masked": old_masked},
        log_summary=f"Changed the {what} from {old_masked} to {new_masked}; notice sent to the "
        "old one",
        notification=("email", f"Your QuickConnect {what} was changed", body),
    )


def log_contacts_kept(session: Session, *, conversation_id: str, token: str | None) -> None:
    """The customer checked the contacts on file and kept them."""
    verified = require_verified(session, conversation_id, token)
    _log(
        session,
        verified.customer_id,
        conversation_id,
        "Customer reviewed the recovery contacts on file and kept them",
        "unchanged",
    )
