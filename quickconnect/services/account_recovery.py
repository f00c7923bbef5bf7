"""Account recovery (guides/account-recovery.txt), minus the chat.

The guide's steps map onto this module:
- verify identity: `identity.verify_factor` does it; every function here that shows or changes
  account details first calls `require_verified` (a live verification of THIS conversation),
  and every change handler checks it again when the customer says yes;
- password reset: `send_reset_link` (single-use link with a random token, only its SHA-256
  stored, expiring after `RESET_LINK_TTL`, sent to the email or phone ON FILE through the
  outbox), `redeem_reset_token` (what the website does when the link is opened), and the
  follow-up `record_reset_outcome` (worked / did not: offer the next step, escalate after
  repeated failures);
- unlock: `check_lock` finds out why sign-in is locked; after failed logins the unlock is
  proposed (`propose_unlock`, change kind `account_unlock`), any other reason (a security
  hold) is escalated with a `CS-` case;
- update account information: a new security question and answer (`propose_security_question`,
  answer hashed as `identity` checks it) and a new email or phone for recovery
  (`propose_contact_change`, with a notice to the OLD contact as well);
- common issues: reset email not received (`reset_delivery`), forgotten recovery contact
  (`recovery_contacts`, then a contact change).

Account changes go through `quickconnect.services.changes` (explicit yes, consent record, one
transaction, logged, summary in the outbox). An account on a security hold gets no reset link
and no change in chat: the security team handles it, through a case (`escalate_hold`).

Import this module wherever `changes.confirm_change` may see one of its change kinds (the
action server does), otherwise the handlers are not registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.config import load_settings
from quickconnect.db.models import (
    Customer,
    LoginState,
    PasswordResetToken,
    SecurityQuestion,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    hash_answer,
    hash_secret,
    hash_token,
    mask_email,
    mask_phone,
    new_token,
    normalize_answer,
    normalize_email,
    normalize_phone,
    verify_answer,
)
from quickconnect.services import changes, handoff, identity
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.handoff import CaseOpened
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

WEBSITE = "https://www.quickconnect.example"
FORGOT_PASSWORD_URL = f"{WEBSITE}/forgot-password"
SIGN_IN_URL = f"{WEBSITE}/sign-in"
# The reset page this project serves beside the widget (rasa_extensions/webchat.py). The
# token is in the fragment, which browsers never send to a server or put in a Referer.
RESET_PATH = "/webhooks/webchat/reset#token={token}"
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
COMMON_PASSWORDS = frozenset(
    {"password", "password1", "password123", "1234567890", "qwertyuiop", "iloveyou12",
     "quickconnect", "quickconnect1", "letmein123", "welcome123", "abc1234567"}
)  # fmt: skip


def reset_url(token: str) -> str:
    """The link a customer opens: PUBLIC_BASE_URL (this server by default) + the page."""
    return load_settings().public_url + RESET_PATH.format(token=token)


RESET_LINK_TTL = timedelta(minutes=30)
RECENT_LINKS = timedelta(hours=24)  # "did you get the link?" looks this far back
ESCALATE_AFTER_LINKS = 2  # a reset still failing after this many links goes to a person

UNLOCK_KIND = "account_unlock"
SECURITY_QUESTION_KIND = "security_question_reset"
CONTACT_KIND = "contact_update"
LOG_KIND = "account_recovery"

# The questions a customer can choose from (the first two are the demo accounts' questions).
SECURITY_QUESTIONS: tuple[str, ...] = (
    "What was the name of your first pet?",
    "In what city were you born?",
    "What was the name of your first school?",
    "What is the name of the street you grew up on?",
    "What was the make of your first car?",
)
_QUESTION_WORDS: tuple[tuple[str, ...], ...] = (
    ("pet", "dog", "cat", "animal"),
    ("city", "born", "birth", "town"),
    ("school",),
    ("street", "road", "grew up"),
    ("car", "vehicle"),
)
_ORDINALS = ("first", "second", "third", "fourth", "fifth")
MIN_ANSWER_LENGTH = 2
MAX_ANSWER_LENGTH = 80


# --- errors -----------------------------------------------------------------------------------


class RecoveryError(ValueError):
    """A recovery step that cannot be done; the message can be shown to the customer as is."""


class NotVerified(RecoveryError):
    """No live verification for this conversation: nothing is shown or changed."""


class ResetLinkInvalid(RecoveryError):
    """A reset token that is unknown, already used or expired."""


class InvalidContact(RecoveryError):
    """Not an email address or phone number we can use."""


class AccountOnHold(RecoveryError):
    """The account has a security hold: only the security team can act on it."""


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryContacts:
    """The contact details on file, masked: the only way they are ever shown."""

    masked_email: str | None
    masked_phone: str | None
    preferred_contact: str


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    reason: str  # 'none' | 'failed_logins' | 'security_hold'
    failed_attempts: int
    locked_at: datetime | None

    @property
    def on_hold(self) -> bool:
        return self.locked and self.reason != "failed_logins"


@dataclass(frozen=True)
class ResetLinkSent:
    channel: str  # 'email' | 'sms'
    masked_to: str
    expires_at: datetime
    token: str  # raw; it only ever leaves in the outbox message (tests redeem it)
    outbox_id: int
    links_in_conversation: int


@dataclass(frozen=True)
class ResetDelivery:
    """The latest reset link sent to this customer recently, for "I didn't get it"."""

    sent: bool
    channel: str | None
    masked_to: str | None
    sent_at: datetime | None
    expires_at: datetime | None
    status: str | None  # 'active' | 'used' | 'expired'
    contacts: RecoveryContacts


@dataclass(frozen=True)
class ResetFollowUp:
    worked: bool
    links_in_conversation: int
    case: CaseOpened | None  # escalated: the reset kept failing
    # When the password was really changed on the reset page since this chat's first link
    # (None: not changed), so the bot can say what the account shows, not just what was said.
    password_changed_at: datetime | None = None


class WeakPassword(RecoveryError):
    """The new password breaks the rules; the link stays valid for another try."""


@dataclass(frozen=True)
class UnlockCheck:
    """What to do about a locked account: nothing, a proposed unlock, or an escalation."""

    status: str  # 'not_locked' | 'proposed' | 'escalated'
    lock: LockStatus
    proposal: ProposedChange | None
    case: CaseOpened | None


@dataclass(frozen=True)
class RedeemedReset:
    customer_id: int
    channel: str
    unlocked: bool  # a lock after failed logins is lifted by a successful reset


@dataclass(frozen=True)
class NewContact:
    field: str  # 'email' | 'phone'
    value: str  # normalised
    masked: str
    old_masked: str


# --- shared lookups ---------------------------------------------------------------------------


def require_verified(session: Session, conversation_id: str, token: str | None) -> VerifiedCustomer:
    """The customer this conversation is verified as; raises NotVerified otherwise."""
    customer = identity.verified_customer(session, conversation_id, token)
    if customer is None:
        raise NotVerified(
            "For your security I need to verify your identity before I can help with that."
        )
    return customer


def _has_live_verification(session: Session, conversation_id: str, customer_id: int) -> bool:
    """At confirmation time: is this conversation still verified for this customer?"""
    query = select(func.count(VerificationSession.id)).where(
        VerificationSession.conversation_id == conversation_id,
        VerificationSession.customer_id == customer_id,
        VerificationSession.revoked_at.is_(None),
        VerificationSession.expires_at > utcnow(),
    )
    return int(session.execute(query).scalar_one()) > 0


def _require_live_verification(session: Session, params: dict[str, Any], customer_id: int) -> None:
    conversation_id = str(params.get("conversation_id") or "")
    if not conversation_id or not _has_live_verification(session, conversation_id, customer_id):
        raise NotVerified(
            "your verification in this chat has ended, so I can't change the account. "
            "Please verify again and ask me once more."
        )


def _customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one()


def _login_state(session: Session, customer_id: int, *, lock: bool = False) -> LoginState:
    query = select(LoginState).where(LoginState.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    state = session.execute(query).scalar_one_or_none()
    if state is None:  # every seeded account has one; a new account may not yet
        state = LoginState(customer_id=customer_id, locked=False, lock_reason="none")
        session.add(state)
        session.flush()
    return state


def recovery_contacts(session: Session, customer_id: int) -> RecoveryContacts:
    customer = _customer(session, customer_id)
    return RecoveryContacts(
        mask_email(customer.email), mask_phone(customer.phone), customer.preferred_contact
    )


def lock_status(session: Session, customer_id: int) -> LockStatus:
    state = _login_state(session, customer_id)
    return LockStatus(
        bool(state.locked), state.lock_reason, int(state.failed_attempts or 0), state.locked_at
    )


def _log(
    session: Session, customer_id: int, conversation_id: str | None, summary: str, outcome: str
) -> None:
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=LOG_KIND,
        summary=summary,
        outcome=outcome,
    )


def escalate_hold(
    session: Session, *, conversation_id: str, customer_id: int, asked_for: str
) -> CaseOpened:
    """A security hold (or any lock not caused by failed logins): a case for a person."""
    state = _login_state(session, customer_id)
    note = f" Note on the account: {state.note}" if state.note else ""
    return handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason="guide_escalation",
        summary=(
            f"Account recovery: customer asked to {asked_for}, but sign-in is locked "
            f"({state.lock_reason.replace('_', ' ')}), which the assistant cannot lift.{note}"
        ),
    )


def check_hold(
    session: Session, *, conversation_id: str, token: str | None, asked_for: str
) -> CaseOpened | None:
    """Before any recovery step: a case for the security team if the account is on hold."""
    customer = require_verified(session, conversation_id, token)
    if not lock_status(session, customer.customer_id).on_hold:
        return None
    return escalate_hold(
        session,
        conversation_id=conversation_id,
        customer_id=customer.customer_id,
        asked_for=asked_for,
    )


def _refuse_on_hold(session: Session, customer_id: int) -> None:
    if lock_status(session, customer_id).on_hold:
        raise AccountOnHold(
            "your account has a security hold, so our security team needs to handle this."
        )


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


# --- unlock -----------------------------------------------------------------------------------


def _unlock(state: LoginState) -> None:
    state.locked = False
    state.lock_reason = "none"
    state.failed_attempts = 0
    state.locked_at = None
    state.note = None


def check_lock(session: Session, *, conversation_id: str, token: str | None) -> UnlockCheck:
    """Why is sign-in locked? Failed logins: propose the unlock. Anything else: escalate."""
    verified = require_verified(session, conversation_id, token)
    lock = lock_status(session, verified.customer_id)
    if not lock.locked:
        _log(
            session,
            verified.customer_id,
            conversation_id,
            "Checked sign-in: the account is not locked",
            "not_locked",
        )
        return UnlockCheck("not_locked", lock, None, None)
    if lock.on_hold:
        case = escalate_hold(
            session,
            conversation_id=conversation_id,
            customer_id=verified.customer_id,
            asked_for="unlock the account",
        )
        return UnlockCheck("escalated", lock, None, case)
    proposal = propose_unlock(session, conversation_id=conversation_id, token=token)
    return UnlockCheck("proposed", lock, proposal, None)


def propose_unlock(session: Session, *, conversation_id: str, token: str | None) -> ProposedChange:
    """Propose lifting a lock caused by failed logins (the customer must say yes)."""
    verified = require_verified(session, conversation_id, token)
    lock = lock_status(session, verified.customer_id)
    if not lock.locked:
        raise RecoveryError("your account isn't locked, so there's nothing to unlock.")
    _refuse_on_hold(session, verified.customer_id)
    summary = (
        f"Unlock online sign-in for account {verified.account_number} (locked after "
        f"{lock.failed_attempts} failed sign-in attempts) and reset the failed-attempt counter "
        "to 0. There's no fee."
    )
    return changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=verified.customer_id,
        kind=UNLOCK_KIND,
        params={"conversation_id": conversation_id},
        summary=summary,
    )


@changes.register_handler(UNLOCK_KIND)
def apply_unlock(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `account_unlock`: still verified, still locked after failed logins ->
    unlocked with the counter reset, then read back to confirm it is accessible."""
    _require_live_verification(session, params, customer_id)
    customer = _customer(session, customer_id, lock=True)
    state = _login_state(session, customer_id, lock=True)
    if not state.locked:
        raise RecoveryError("your account is already unlocked.")
    if state.lock_reason != "failed_logins":
        raise AccountOnHold(
            "your account now has a security hold, so our security team needs to handle this."
        )
    attempts = int(state.failed_attempts or 0)
    _unlock(state)
    session.flush()
    session.expire(state)
    check = lock_status(session, customer_id)
    if check.locked or check.failed_attempts:
        raise RuntimeError(f"unlock of customer {customer_id} did not show on the account")
    body = (
        f"Hi {customer.first_name},\n\nAs you asked in chat, we've unlocked online sign-in for "
        f"your QuickConnect account {customer.account_number}. It had been locked after "
        f"{attempts} failed sign-in attempts; the counter is back to 0.\n\nYou can sign in at "
        f"{SIGN_IN_URL}. If you've forgotten your password, use {FORGOT_PASSWORD_URL}.\n\n"
        "If you didn't ask for this, please contact us straight away.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={
            "account_number": customer.account_number,
            "failed_attempts_before": attempts,
            "locked": False,
        },
        log_summary=f"Unlocked sign-in after {attempts} failed logins; counter reset to 0",
        notification=("email", "Your QuickConnect account is unlocked", body),
    )


# --- security questions -----------------------------------------------------------------------


def find_security_question(text: str | None) -> str | None:
    """The offered question a customer picked: '2', 'the second one', 'school', or its text."""
    if not text or not text.strip():
        return None
    lowered = " ".join(text.lower().split())
    for question in SECURITY_QUESTIONS:
        if lowered.rstrip("?") == question.lower().rstrip("?"):
            return question
    number = re.fullmatch(r"\D*?(\d)\D*", lowered)
    if number and 1 <= int(number.group(1)) <= len(SECURITY_QUESTIONS):
        return SECURITY_QUESTIONS[int(number.group(1)) - 1]
    found = {
        index
        for index, words in enumerate(_QUESTION_WORDS)
        if any(re.search(rf"\b{re.escape(word)}", lowered) for word in words)
    }
    if len(found) == 1:
        return SECURITY_QUESTIONS[found.pop()]
    ordinal = [i for i, word in enumerate(_ORDINALS) if re.search(rf"\b{word}\b", lowered)]
    if not found and len(ordinal) == 1:
        return SECURITY_QUESTIONS[ordinal[0]]
    return None


def check_new_answer(question: str, answer: str | None) -> str | None:
    """Why a new security answer can't be used (customer-facing), or None when it can."""
    normalized = normalize_answer(answer or "")
    if len(normalized) < MIN_ANSWER_LENGTH:
        return "That answer is too short. Please give an answer of at least 2 characters."
    if len(normalized) > MAX_ANSWER_LENGTH:
        return f"Please keep the answer under {MAX_ANSWER_LENGTH} characters."
    if normalized == normalize_answer(question):
        return "The answer can't be the question itself. Please give your answer."
    return None


def propose_security_question(
    session: Session, *, conversation_id: str, token: str | None, question: str, answer: str
) -> ProposedChange:
    """Propose replacing the security question(s) with one new question and answer.

    The answer is hashed here, so the pending change (and everything after it) only ever
    holds the hash.
    """
    verified = require_verified(session, conversation_id, token)
    _refuse_on_hold(session, verified.customer_id)
    if question not in SECURITY_QUESTIONS:
        raise RecoveryError("Please pick one of the security questions I listed.")
    problem = check_new_answer(question, answer)
    if problem:
        raise RecoveryError(problem)
    summary = (
        f'Replace the security question on account {verified.account_number} with "{question}" '
        "and the answer you just gave. Your old security question and answer will stop "
        "working. There's no fee."
    )
    return changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=verified.customer_id,
        kind=SECURITY_QUESTION_KIND,
        params={
            "conversation_id": conversation_id,
            "question": question,
            "answer_hash": hash_answer(answer),
        },
        summary=summary,
    )


@changes.register_handler(SECURITY_QUESTION_KIND)
def apply_security_question(
    session: Session, customer_id: int, params: dict[str, Any]
) -> ChangeEffect:
    """Handler for `security_question_reset`: the old questions go, the new one (hashed
    answer) is the only one left."""
    _require_live_verification(session, params, customer_id)
    _refuse_on_hold(session, customer_id)
    customer = _customer(session, customer_id, lock=True)
    question = str(params["question"])
    answer_hash = str(params["answer_hash"])
    old = (
        session.execute(select(SecurityQuestion).where(SecurityQuestion.customer_id == customer_id))
        .scalars()
        .all()
    )
    for row in old:
        session.delete(row)
    session.flush()
    session.add(
        SecurityQuestion(customer_id=customer_id, question=question, answer_hash=answer_hash)
    )
    session.flush()
    stored = session.execute(
        select(SecurityQuestion.question, SecurityQuestion.answer_hash).where(
            SecurityQuestion.customer_id == customer_id
        )
    ).all()
    if [(q, h) for q, h in stored] != [(question, answer_hash)]:
        raise RuntimeError(f"security question of customer {customer_id} not stored")
    body = (
        f"Hi {customer.first_name},\n\nThe security question on your QuickConnect account "
        f'{customer.account_number} was changed in chat to: "{question}". Your previous '
        "security question no longer works.\n\nIf you didn't make this change, please contact "
        "us straight away.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={"question": question, "replaced": len(old)},
        log_summary=f'Security question replaced ({len(old)} old) with "{question}"; answer '
        "stored hashed",
        notification=("email", "Your QuickConnect security question was changed", body),
    )


def security_answer_matches(session: Session, customer_id: int, answer: str) -> bool:
    """Does `answer` match one of the customer's security answers? (Checked like identity.)"""
    hashes = session.execute(
        select(SecurityQuestion.answer_hash).where(SecurityQuestion.customer_id == customer_id)
    ).scalars()
    return any(verify_answer(answer, stored) for stored in hashes)


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
