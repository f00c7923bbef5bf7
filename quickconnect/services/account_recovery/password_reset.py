"""Password reset: a single-use link to the contact on file, redeeming it, and the follow-up."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
    PasswordResetToken,
    utcnow,
)
from quickconnect.identifiers import (
    hash_secret,
    hash_token,
    mask_email,
    mask_phone,
    new_token,
)
from quickconnect.services import handoff
from quickconnect.services.account_recovery.common import (
    COMMON_PASSWORDS,
    ESCALATE_AFTER_LINKS,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    RECENT_LINKS,
    RESET_LINK_TTL,
    RecoveryError,
    RedeemedReset,
    ResetDelivery,
    ResetFollowUp,
    ResetLinkInvalid,
    ResetLinkSent,
    WeakPassword,
    reset_url,
)
from quickconnect.services.account_recovery.verification import (
    _customer,
    _log,
    _login_state,
    _refuse_on_hold,
    _unlock,
    recovery_contacts,
    require_verified,
)
from quickconnect.services.notifications import queue_notification

# --- password reset ---------------------------------------------------------------------------


def parse_channel(text: str | None) -> str | None:
    """'by text', 'SMS please', 'to my phone' -> 'sms'; 'email it' -> 'email'; else None."""
    if not text:
        return None
    lowered = text.lower()
    sms = re.search(r"\b(sms|text(ed)?|txt|phone|mobile|cell|message)\b", lowered)
    email = re.search(r"\b(e-?mail(ed)?|mail|inbox)\b", lowered)
    if sms and not email:
        return "sms"
    if email and not sms:
        return "email"
    if sms and email:  # "not by email, by text": the last one mentioned wins
        return "sms" if sms.start() > email.start() else "email"
    return None


def _links_in_conversation(session: Session, conversation_id: str, customer_id: int) -> int:
    query = select(func.count(PasswordResetToken.id)).where(
        PasswordResetToken.conversation_id == conversation_id,
        PasswordResetToken.customer_id == customer_id,
    )
    return int(session.execute(query).scalar_one())


def send_reset_link(
    session: Session, *, conversation_id: str, token: str | None, channel: str
) -> ResetLinkSent:
    """Send a single-use reset link to the email or phone on file (never a typed address).

    Earlier unused links of the customer expire at once, so only the newest one works.
    """
    if channel not in ("email", "sms"):
        raise RecoveryError("I can send the reset link by email or by SMS.")
    verified = require_verified(session, conversation_id, token)
    _refuse_on_hold(session, verified.customer_id)
    customer = _customer(session, verified.customer_id)
    now = utcnow()
    session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.customer_id == customer.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = new_token()
    expires_at = now + RESET_LINK_TTL
    session.add(
        PasswordResetToken(
            customer_id=customer.id,
            token_hash=hash_token(raw),
            channel=channel,
            conversation_id=conversation_id,
            expires_at=expires_at,
            created_at=now,
        )
    )
    url = reset_url(raw)
    minutes = int(RESET_LINK_TTL.total_seconds() // 60)
    if channel == "sms":
        to_address, masked = customer.phone, mask_phone(customer.phone)
        body = (
            f"QuickConnect: reset your password here: {url} . The link works once and expires "
            f"in {minutes} minutes. Didn't ask for it? Ignore this message."
        )
    else:
        to_address, masked = customer.email, mask_email(customer.email)
        body = (
            f"Hi {customer.first_name},\n\nYou asked to reset your QuickConnect password. "
            f"Open this link to choose a new one:\n{url}\n\nThe link works once and expires in "
            f"{minutes} minutes. If you didn't ask for this, you can ignore this email: your "
            "password stays as it is.\n\nQuickConnect"
        )
    outbox_id = queue_notification(
        session,
        customer_id=customer.id,
        channel=channel,
        to_address=to_address,
        subject="Reset your QuickConnect password",
        body=body,
    )
    session.flush()
    links = _links_in_conversation(session, conversation_id, customer.id)
    _log(
        session,
        customer.id,
        conversation_id,
        f"Password reset link sent by {channel} to {masked} (expires {expires_at:%H:%M} UTC)",
        "link_sent",
    )
    return ResetLinkSent(channel, masked or "", expires_at, raw, outbox_id, links)


def redeem_reset_token(
    session: Session, raw_token: str, *, now: datetime | None = None
) -> RedeemedReset:
    """The website's side of the link: valid once, before it expires. A lock after failed
    logins is lifted with the reset (the guide's "steps to unlock via the website")."""
    now = now or utcnow()
    row = _live_reset_token(session, raw_token or "", now, lock=True)
    claimed = session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ResetLinkInvalid("This reset link has already been used. Please ask for a new one.")
    state = _login_state(session, row.customer_id, lock=True)
    unlocked = bool(state.locked and state.lock_reason == "failed_logins")
    if unlocked:
        _unlock(state)
    session.flush()
    _log(
        session,
        row.customer_id,
        row.conversation_id,
        "Password reset through the emailed/texted link"
        + ("; sign-in unlocked and failed-login counter reset" if unlocked else ""),
        "password_reset",
    )
    return RedeemedReset(row.customer_id, row.channel, unlocked)


def _live_reset_token(
    session: Session, raw_token: str, now: datetime, *, lock: bool = False
) -> PasswordResetToken:
    """The unused, unexpired token a link carries; ResetLinkInvalid otherwise (not used up)."""
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(raw_token))
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise ResetLinkInvalid("This reset link isn't valid. Please ask for a new one.")
    if row.used_at is not None:
        raise ResetLinkInvalid("This reset link has already been used. Please ask for a new one.")
    if row.expires_at <= now:
        raise ResetLinkInvalid("This reset link has expired. Please ask for a new one.")
    return row


def check_reset_link(session: Session, raw_token: str) -> str:
    """The reset page opening: is the link still good? Returns the customer's first name."""
    row = _live_reset_token(session, raw_token or "", utcnow())
    return _customer(session, row.customer_id).first_name


def password_problems(password: str, confirm: str, customer: Customer) -> list[str]:
    """What is wrong with a new password (empty: fine), in words for the customer."""
    problems: list[str] = []
    if password != confirm:
        problems.append("The two passwords don't match.")
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    if not re.search(r"[^\W\d_]", password) or not re.search(r"[\d\W_]", password):
        problems.append("Mix letters with at least one number or symbol.")
    lowered = password.casefold()
    personal = [customer.first_name, customer.last_name, (customer.email or "").split("@")[0]]
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        problems.append("That password is too easy to guess.")
    elif any(part and len(part) >= 3 and part.casefold() in lowered for part in personal):
        problems.append("Don't use your name or email address in your password.")
    return problems


def reset_password(
    session: Session, raw_token: str, password: str, confirm: str, *, now: datetime | None = None
) -> RedeemedReset:
    """The reset page's form: check the link and the new password, then store its hash.

    A weak password or a mismatch raises WeakPassword and leaves the link usable; a good one
    uses the link up (`redeem_reset_token`: once only, lifts a failed-login lock) and sets
    the password, in one transaction.
    """
    now = now or utcnow()
    row = _live_reset_token(session, raw_token or "", now)
    problems = password_problems(password or "", confirm or "", _customer(session, row.customer_id))
    if problems:
        raise WeakPassword(" ".join(problems))
    redeemed = redeem_reset_token(session, raw_token, now=now)
    state = _login_state(session, redeemed.customer_id, lock=True)
    state.password_hash = hash_secret(password)
    state.password_changed_at = now
    session.flush()
    return redeemed


def _password_changed_since(
    session: Session, conversation_id: str, customer_id: int
) -> datetime | None:
    """When the password was set on the reset page after this chat's first reset link."""
    first_link = session.execute(
        select(func.min(PasswordResetToken.created_at)).where(
            PasswordResetToken.conversation_id == conversation_id,
            PasswordResetToken.customer_id == customer_id,
        )
    ).scalar_one_or_none()
    changed = _login_state(session, customer_id).password_changed_at
    if first_link is None or changed is None or changed < first_link:
        return None
    return changed


def reset_delivery(session: Session, *, conversation_id: str, token: str | None) -> ResetDelivery:
    """Common issue "cannot receive recovery email": what was sent, where, and is it valid?"""
    verified = require_verified(session, conversation_id, token)
    contacts = recovery_contacts(session, verified.customer_id)
    now = utcnow()
    row = session.execute(
        select(PasswordResetToken)
        .where(
            PasswordResetToken.customer_id == verified.customer_id,
            PasswordResetToken.created_at >= now - RECENT_LINKS,
        )
        .order_by(PasswordResetToken.created_at.desc(), PasswordResetToken.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    _log(
        session,
        verified.customer_id,
        conversation_id,
        "Customer did not receive the reset link; checked where it was sent",
        "reset_link_missing",
    )
    if row is None:
        return ResetDelivery(False, None, None, None, None, None, contacts)
    status = "used" if row.used_at else ("expired" if row.expires_at <= now else "active")
    masked = contacts.masked_phone if row.channel == "sms" else contacts.masked_email
    return ResetDelivery(
        True, row.channel, masked, row.created_at, row.expires_at, status, contacts
    )


def record_reset_outcome(
    session: Session, *, conversation_id: str, token: str | None, worked: bool
) -> ResetFollowUp:
    """The follow-up: log whether the reset worked; if it keeps failing, open a case."""
    verified = require_verified(session, conversation_id, token)
    links = _links_in_conversation(session, conversation_id, verified.customer_id)
    changed = _password_changed_since(session, conversation_id, verified.customer_id)
    if worked:
        _log(
            session,
            verified.customer_id,
            conversation_id,
            "Customer confirmed the password reset worked"
            + ("" if changed else " (no new password set through the link yet)"),
            "resolved",
        )
        return ResetFollowUp(True, links, None, changed)
    _log(
        session,
        verified.customer_id,
        conversation_id,
        f"Customer said the password reset did not work ({links} link(s) sent in this chat"
        + (", though a new password was set through the link)" if changed else ")"),
        "reset_failed",
    )
    case = None
    if links >= ESCALATE_AFTER_LINKS:
        case = handoff.open_case(
            session,
            conversation_id=conversation_id,
            customer_id=verified.customer_id,
            reason="guide_escalation",
            summary=(
                f"Account recovery: password reset still not working after {links} reset "
                "links in this chat. Needs technical support."
            ),
        )
    return ResetFollowUp(False, links, case, changed)
