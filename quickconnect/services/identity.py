"""Identity verification: the gate before any account-specific answer or change.

Spec, "Identity verification": identify the account (account number, or the phone number on
it), then check one knowledge factor (registered email, last bill amount, or a security
answer). A success yields a random token bound to one conversation and one account; actions
present it on every turn, so verification never carries over to another conversation or account.

Guessing is limited on three levels, all counted in the database so that neither a new
conversation nor another server replica starts from zero (README, "Verification limits"):
- a conversation: MAX_ATTEMPTS failures end verification in it (the spec's three);
- an account: ACCOUNT_MAX_FAILURES failed answers within ACCOUNT_WINDOW, across every
  conversation and channel, lock chat verification of that account for ACCOUNT_LOCKOUT
  (an agent can clear it), and the account holder is told at the contact on file;
- a client (the address the channel saw): CLIENT_MAX_FAILURES failures within CLIENT_WINDOW,
  whatever accounts they named, refuse verification from it for the rest of the window.

A bill amount that anyone could guess from the public price list (a whole-dollar amount, or a
plan price plus up to two add-on or protection prices) does not verify on its own, whether or
not it is the real bill: the customer is asked for the email or the security answer instead,
with the same reply either way, so the answer says nothing about the bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import combinations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.client_address import current_client
from quickconnect.config import load_settings
from quickconnect.db.models import (
    AddonTier,
    Bill,
    Customer,
    ProtectionTier,
    SecurityQuestion,
    ServicePlan,
    VerificationAttempt,
    VerificationLockout,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    ACCOUNT_PREFIX,
    find_identifier,
    hash_answer,
    hash_token,
    mask_email,
    mask_phone,
    needs_rehash,
    new_token,
    normalize_account_number,
    normalize_answer,
    normalize_email,
    normalize_phone,
    parse_amount,
    verify_secret,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

MAX_ATTEMPTS = 3  # failures per conversation (spec)
ACCOUNT_MAX_FAILURES = 5  # failed answers per account within ACCOUNT_WINDOW, all conversations
ACCOUNT_WINDOW = timedelta(hours=24)
ACCOUNT_LOCKOUT = timedelta(hours=24)  # how long chat verification of the account is refused
CLIENT_MAX_FAILURES = 10  # failures per client address within CLIENT_WINDOW, any accounts
CLIENT_WINDOW = timedelta(hours=1)
# How many add-on or protection prices a guessable bill may add to a plan price.
GUESSABLE_EXTRAS = 2

# Why verification was refused before the answer was even looked at.
REFUSED_CONVERSATION = "conversation"
REFUSED_ACCOUNT = "account"
REFUSED_CLIENT = "client"

WEAK_FACTOR = "weak_amount"  # an amount anyone could guess: asks for another factor
_LOG_KIND = "identity_verification"


@dataclass(frozen=True)
class IdentifyResult:
    found: bool
    account_number: str | None
    security_question: str | None
    attempts_left: int
    locked_out: bool
    refusal: str | None = None  # REFUSED_*: which limit ended it, when locked_out


@dataclass(frozen=True)
class VerifyResult:
    status: str  # 'verified' | 'retry' | 'weak_factor' | 'locked_out'
    token: str | None
    attempts_left: int
    first_name: str | None
    masked_email: str | None
    refusal: str | None = None  # REFUSED_*: which limit ended it, when locked_out


@dataclass(frozen=True)
class VerifiedCustomer:
    customer_id: int
    account_number: str
    first_name: str
    masked_email: str | None
    masked_phone: str | None


def failed_attempts(session: Session, conversation_id: str) -> int:
    """Failed identify/verify attempts so far in this conversation."""
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.conversation_id == conversation_id,
        VerificationAttempt.success.is_(False),
    )
    return int(session.execute(query).scalar_one())


def attempts_left(session: Session, conversation_id: str) -> int:
    """How many more failures this conversation may have before it is locked out."""
    return max(0, MAX_ATTEMPTS - failed_attempts(session, conversation_id))


def client_failures(session: Session, client_key: str | None, now: datetime | None = None) -> int:
    """Failed attempts from one client address within CLIENT_WINDOW (0 when unknown)."""
    if not client_key:
        return 0
    since = (now or utcnow()) - CLIENT_WINDOW
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.client_key == client_key,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.created_at >= since,
    )
    return int(session.execute(query).scalar_one())


def active_lockout(
    session: Session, customer_id: int, now: datetime | None = None
) -> VerificationLockout | None:
    """The account's lockout in force (not expired, not cleared), if any."""
    return session.execute(
        select(VerificationLockout)
        .where(
            VerificationLockout.customer_id == customer_id,
            VerificationLockout.cleared_at.is_(None),
            VerificationLockout.locked_until > (now or utcnow()),
        )
        .order_by(VerificationLockout.locked_until.desc())
        .limit(1)
    ).scalar_one_or_none()


def account_failures(session: Session, customer_id: int, now: datetime | None = None) -> int:
    """Failed answers for an account within ACCOUNT_WINDOW, counted from the end of its last
    lockout (expiry or an agent's clearing), so a finished lockout starts the count afresh."""
    now = now or utcnow()
    since = now - ACCOUNT_WINDOW
    last = session.execute(
        select(VerificationLockout)
        .where(VerificationLockout.customer_id == customer_id)
        .order_by(VerificationLockout.locked_at.desc(), VerificationLockout.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is not None:
        ended = last.cleared_at or last.locked_until
        since = max(since, min(ended, now))
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.customer_id == customer_id,
        VerificationAttempt.stage == "verify",
        VerificationAttempt.success.is_(False),
        VerificationAttempt.created_at >= since,
    )
    return int(session.execute(query).scalar_one())


def _refusal(
    session: Session,
    conversation_id: str,
    client_key: str | None,
    customer: Customer | None,
    failures: int,
) -> str | None:
    """Which limit refuses this attempt before its answer is looked at, if any."""
    if failures >= MAX_ATTEMPTS:
        return REFUSED_CONVERSATION
    if client_failures(session, client_key) >= CLIENT_MAX_FAILURES:
        return REFUSED_CLIENT
    if customer is not None and active_lockout(session, customer.id) is not None:
        return REFUSED_ACCOUNT
    return None


def _attempts_left(
    session: Session, failures: int, client_key: str | None, customer: Customer | None
) -> int:
    """The smallest number of failures left under any of the three limits."""
    left = [MAX_ATTEMPTS - failures, CLIENT_MAX_FAILURES - client_failures(session, client_key)]
    if customer is not None:
        left.append(ACCOUNT_MAX_FAILURES - account_failures(session, customer.id))
    return max(0, min(left))


def _find_customer(
    session: Session, identifier: str | None, *, for_update: bool = False
) -> Customer | None:
    """The customer an account number (any loose format) or account phone number names.

    `for_update` locks the customer's row (PostgreSQL), so that concurrent failures for one
    account are counted one after the other and open a single lockout.
    """
    if not identifier:
        return None
    account_number = normalize_account_number(identifier) or find_identifier(
        identifier, ACCOUNT_PREFIX
    )
    if account_number:
        query = select(Customer).where(Customer.account_number == account_number)
    else:
        phone = normalize_phone(identifier)
        if not phone:
            return None
        query = select(Customer).where(Customer.phone == phone)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def identify_account(
    session: Session, conversation_id: str, identifier: str, *, client_key: str | None = None
) -> IdentifyResult:
    """Step 1: find the account. An identifier that matches nothing counts as a failure."""
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, identifier)
    refusal = _refusal(session, conversation_id, client_key, customer, failures)
    if refusal is not None:
        _record_attempt(
            session, conversation_id, customer, "identify", identifier, False, client_key
        )
        return IdentifyResult(False, None, None, 0, True, refusal)
    _record_attempt(
        session, conversation_id, customer, "identify", identifier, customer is not None, client_key
    )
    if customer is None:
        left = _attempts_left(session, failures + 1, client_key, None)
        refused = REFUSED_CONVERSATION if failures + 1 >= MAX_ATTEMPTS else REFUSED_CLIENT
        return IdentifyResult(False, None, None, left, left <= 0, refused if left <= 0 else None)
    question = session.execute(
        select(SecurityQuestion.question)
        .where(SecurityQuestion.customer_id == customer.id)
        .order_by(SecurityQuestion.id)
        .limit(1)
    ).scalar_one_or_none()
    left = _attempts_left(session, failures, client_key, customer)
    return IdentifyResult(True, customer.account_number, question, left, False)


@dataclass(frozen=True)
class FactorCheck:
    """Which factor an answer matched, worked out before the attempt is recorded.

    Comparing a security answer costs a deliberately slow hash (Argon2id, 19 MiB). Done
    inside `verify_factor`'s unit of work it would hold the database's write lock on SQLite
    the whole time, so concurrent chats would queue behind each other's hashing. Callers
    that care read `factor_material` in one short unit of work, run `check_factor` outside
    any, and pass its result to `verify_factor` in a second one.
    """

    account_number: str
    answer: str
    factor: str | None  # 'email' | 'last_bill' | 'security_answer' | WEAK_FACTOR | None
    # (matched hash, its replacement) when the answer matched a hash with old parameters
    rehash: tuple[str, str] | None = None
    # Slow hash comparisons made: the same for every answer to an account with one security
    # question and for an account that does not exist, so timing tells nothing apart.
    hash_checks: int = 0


@dataclass(frozen=True)
class FactorMaterial:
    """What the factors are checked against, read in one short unit of work."""

    email: str | None
    last_bill: Decimal | None
    answer_hashes: tuple[str, ...]
    # Bill amounts anyone could work out from the public price list (see is_guessable_amount).
    catalogue_amounts: frozenset[Decimal] = frozenset()


def catalogue_amounts(session: Session) -> frozenset[Decimal]:
    """Every plan price, alone and plus up to GUESSABLE_EXTRAS add-on or protection prices."""
    plans = set(session.execute(select(ServicePlan.monthly_price)).scalars())
    extras = {
        price
        for price in [
            *session.execute(select(AddonTier.monthly_price)).scalars(),
            *session.execute(select(ProtectionTier.monthly_price)).scalars(),
        ]
        if price
    }
    sums = set(plans)
    for count in range(1, GUESSABLE_EXTRAS + 1):
        for combo in combinations(sorted(extras), count):
            extra = sum(combo, Decimal("0"))
            sums.update(plan + extra for plan in plans)
    return frozenset(Decimal(amount).quantize(Decimal("0.01")) for amount in sums)


def is_guessable_amount(amount: Decimal, catalogue: frozenset[Decimal]) -> bool:
    """A whole-dollar amount, or one the price list adds up to, proves nothing on its own."""
    return amount == amount.to_integral_value() or amount.quantize(Decimal("0.01")) in catalogue


def factor_material(session: Session, account_number: str) -> FactorMaterial | None:
    """The account's email, last bill amount and security-answer hashes (None: no account)."""
    customer = _find_customer(session, account_number)
    if customer is None:
        return None
    hashes = session.execute(
        select(SecurityQuestion.answer_hash)
        .where(SecurityQuestion.customer_id == customer.id)
        .order_by(SecurityQuestion.id)
    ).scalars()
    return FactorMaterial(
        customer.email,
        _last_bill_amount(session, customer.id),
        tuple(hashes),
        catalogue_amounts(session),
    )


@cache
def _decoy_hash() -> str:
    """A hash no answer matches, compared when there is no real one, so that every answer
    costs the same slow comparisons (no account, no security question, an email)."""
    return hash_answer(new_token())


def _match(material: FactorMaterial | None, answer: str) -> tuple[str | None, str | None, int]:
    """Which knowledge factor `answer` matches, the security-answer hash that matched (if that
    was the factor), and how many slow hash comparisons were made.

    No database access: the slow hash comparisons run here, outside any transaction. Every
    answer is compared with every stored hash (or the decoy), whatever it looks like and
    whether or not the account exists, so a wrong answer takes the same time either way.
    """
    hashes = material.answer_hashes if material is not None else ()
    normalized = normalize_answer(answer or "") or "\x00"
    matched: str | None = None
    for stored in hashes or (_decoy_hash(),):
        if verify_secret(normalized, stored) and matched is None and stored in hashes:
            matched = stored
    checks = max(len(hashes), 1)
    if material is None or not answer or not answer.strip():
        return None, None, checks
    email = normalize_email(answer)
    if email is not None:
        return ("email" if email == normalize_email(material.email or "") else None), None, checks
    amount = parse_amount(answer)
    guessable = amount is not None and is_guessable_amount(amount, material.catalogue_amounts)
    if amount is not None and amount == material.last_bill and not guessable:
        return "last_bill", None, checks
    if matched is not None:
        return "security_answer", matched, checks
    if guessable:
        return WEAK_FACTOR, None, checks
    return None, None, checks


def check_factor(material: FactorMaterial | None, account_number: str, answer: str) -> FactorCheck:
    """`verify_factor`'s slow part, run between two units of work (see `FactorCheck`).

    A security answer that matched a hash made with older parameters (PBKDF2 before Argon2)
    also gets its replacement hash here, so `verify_factor` only has to store it.
    """
    factor, matched, checks = _match(material, answer)
    rehash = None
    if matched is not None and needs_rehash(matched):
        rehash = (matched, hash_answer(answer))
    return FactorCheck(account_number, answer, factor, rehash, checks)


def verify_factor(
    session: Session,
    conversation_id: str,
    account_number: str,
    answer: str,
    *,
    ttl_minutes: int | None = None,
    checked: FactorCheck | None = None,
    client_key: str | None = None,
    bind_client: bool = False,
) -> VerifyResult:
    """Step 2: check one knowledge factor; on success, issue a token for this conversation.

    Once a limit is reached (conversation, account or client; see the module docstring) every
    call is refused, even with a correct answer, so guessing cannot go on. `checked` is the
    result of `check_factor` for the same account and answer, computed beforehand (see
    `FactorCheck`). A guessable bill amount (`WEAK_FACTOR`) is neither a success nor a failure.
    `bind_client` (channels where the client names the conversation: REST) makes the
    verification hold only for messages from `client_key` (see `verified_customer`).
    """
    if checked is not None and (checked.account_number, checked.answer) != (
        account_number,
        answer,
    ):
        raise ValueError("`checked` was computed for another account or answer")
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, account_number, for_update=True)
    refusal = _refusal(session, conversation_id, client_key, customer, failures)
    if refusal is not None:
        _record_attempt(
            session, conversation_id, customer, "verify", account_number, False, client_key
        )
        summary = f"Verification refused: the {refusal}'s limit of failed attempts was reached."
        _log(session, customer, conversation_id, summary, "locked_out")
        return VerifyResult("locked_out", None, 0, None, None, refusal)

    if customer is None:
        factor = None
    else:
        if checked is None:
            checked = check_factor(factor_material(session, account_number), account_number, answer)
        factor = checked.factor
    if factor == WEAK_FACTOR:
        left = _attempts_left(session, failures, client_key, customer)
        return VerifyResult("weak_factor", None, left, None, None)
    _record_attempt(
        session,
        conversation_id,
        customer,
        "verify",
        account_number,
        factor is not None,
        client_key,
        factor=factor,
    )
    if customer is None or factor is None:
        return _failed(session, conversation_id, customer, failures + 1, client_key)

    if checked is not None and checked.rehash is not None:
        old_hash, new_hash = checked.rehash
        session.execute(
            update(SecurityQuestion)
            .where(
                SecurityQuestion.customer_id == customer.id,
                SecurityQuestion.answer_hash == old_hash,
            )
            .values(answer_hash=new_hash)
        )
    token = new_token()
    now = utcnow()
    ttl = ttl_minutes if ttl_minutes is not None else load_settings().verification_ttl_minutes
    session.add(
        VerificationSession(
            token_hash=hash_token(token),
            conversation_id=conversation_id,
            customer_id=customer.id,
            verified_at=now,
            expires_at=now + timedelta(minutes=ttl),
            client_key=(client_key or None) and client_key[:80] if bind_client else None,
        )
    )
    _log(session, customer, conversation_id, f"Identity verified in chat ({factor}).", "verified")
    return VerifyResult(
        "verified",
        token,
        MAX_ATTEMPTS - failures,
        customer.first_name,
        mask_email(customer.email),
    )


def _failed(
    session: Session,
    conversation_id: str,
    customer: Customer | None,
    failures: int,
    client_key: str | None,
) -> VerifyResult:
    """After a recorded failure: retry, or which limit it reached (locking the account)."""
    if customer is not None and account_failures(session, customer.id) >= ACCOUNT_MAX_FAILURES:
        lockout = _lock_account(session, customer)
        summary = (
            f"Identity verification failed; chat verification of the account is locked until "
            f"{lockout.locked_until:%Y-%m-%d %H:%M} UTC after {lockout.failures} failed attempts."
        )
        _log(session, customer, conversation_id, summary, "locked_out")
        return VerifyResult("locked_out", None, 0, None, None, REFUSED_ACCOUNT)
    left = _attempts_left(session, failures, client_key, customer)
    refusal = None
    if left == 0:
        refusal = REFUSED_CONVERSATION if failures >= MAX_ATTEMPTS else REFUSED_CLIENT
    summary = f"Identity verification failed ({failures} of {MAX_ATTEMPTS} attempts in the chat)."
    _log(session, customer, conversation_id, summary, "retry" if left else "locked_out")
    return VerifyResult("retry" if left else "locked_out", None, left, None, None, refusal)


LOCKOUT_NOTICE_SUBJECT = "Unsuccessful attempts to verify as you"
LOCKOUT_NOTICE_BODY = (
    "Hello {first_name},\n\n"
    "Someone tried {failures} times to confirm they were you in the QuickConnect chat, for "
    "account {account_number}, and did not give the right details. To keep your account "
    "safe, we have paused identity checks for it in chat until {until} UTC. Nothing on your "
    "account was shown or changed.\n\n"
    "If this was you, our support team can still help you at any time: ask for an agent in "
    "the chat or call us. If it was not you, you do not need to do anything, but you may "
    "want to change your security question and password.\n\nQuickConnect Support"
)


def _lock_account(session: Session, customer: Customer) -> VerificationLockout:
    """Open the account's lockout (once) and tell the account holder at the contact on file."""
    existing = active_lockout(session, customer.id)
    if existing is not None:
        return existing
    now = utcnow()
    failures = account_failures(session, customer.id, now)
    lockout = VerificationLockout(
        customer_id=customer.id,
        locked_at=now,
        locked_until=now + ACCOUNT_LOCKOUT,
        failures=failures,
    )
    session.add(lockout)
    session.flush()
    channel = customer.preferred_contact if customer.preferred_contact in ("email", "sms") else None
    address = customer.phone if channel == "sms" else customer.email
    if not address:
        channel, address = ("sms", customer.phone) if customer.phone else (None, None)
    if channel and address:
        lockout.notification_id = queue_notification(
            session,
            customer_id=customer.id,
            channel=channel,
            to_address=address,
            subject=LOCKOUT_NOTICE_SUBJECT,
            body=LOCKOUT_NOTICE_BODY.format(
                first_name=customer.first_name,
                failures=failures,
                account_number=customer.account_number,
                until=f"{lockout.locked_until:%Y-%m-%d %H:%M}",
            ),
        )
    session.flush()
    return lockout


def account_tried(session: Session, conversation_id: str) -> int | None:
    """The customer id of the account this conversation last tried to verify as, if any."""
    return session.execute(
        select(VerificationAttempt.customer_id)
        .where(
            VerificationAttempt.conversation_id == conversation_id,
            VerificationAttempt.customer_id.is_not(None),
        )
        .order_by(VerificationAttempt.id.desc())
        .limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class LockoutInfo:
    """A lockout as the agent console shows it."""

    id: int
    account_number: str
    customer_name: str
    locked_at: datetime
    locked_until: datetime
    failures: int
    holder_notified: bool

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_number": self.account_number,
            "customer_name": self.customer_name,
            "locked_at": self.locked_at.isoformat(),
            "locked_until": self.locked_until.isoformat(),
            "failures": self.failures,
            "holder_notified": self.holder_notified,
        }


def active_lockouts(session: Session) -> list[LockoutInfo]:
    """Every lockout in force, newest first (agent console)."""
    rows = session.execute(
        select(VerificationLockout, Customer)
        .join(Customer, Customer.id == VerificationLockout.customer_id)
        .where(
            VerificationLockout.cleared_at.is_(None),
            VerificationLockout.locked_until > utcnow(),
        )
        .order_by(VerificationLockout.locked_at.desc(), VerificationLockout.id.desc())
    ).all()
    return [_lockout_info(lockout, customer) for lockout, customer in rows]


def clear_lockout(session: Session, lockout_id: int, agent_id: int, note: str) -> LockoutInfo:
    """An agent ends a lockout (they checked who the customer is); failures before it no
    longer count. LookupError when it is not in force."""
    row = session.execute(
        select(VerificationLockout, Customer)
        .join(Customer, Customer.id == VerificationLockout.customer_id)
        .where(VerificationLockout.id == lockout_id)
        .with_for_update()
    ).first()
    if row is None:
        raise LookupError(f"no lockout {lockout_id}")
    lockout, customer = row
    now = utcnow()
    if lockout.cleared_at is not None or lockout.locked_until <= now:
        raise LookupError(f"lockout {lockout_id} is no longer in force")
    lockout.cleared_at = now
    lockout.cleared_by_agent_id = agent_id
    lockout.clear_note = (note or "").strip()[:1000] or None
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=None,
        kind=_LOG_KIND,
        summary="Chat verification lockout cleared by an agent."
        + (f" Note: {lockout.clear_note}" if lockout.clear_note else ""),
        outcome="lockout_cleared",
    )
    session.flush()
    return _lockout_info(lockout, customer)


def _lockout_info(lockout: VerificationLockout, customer: Customer) -> LockoutInfo:
    return LockoutInfo(
        id=lockout.id,
        account_number=customer.account_number,
        customer_name=f"{customer.first_name} {customer.last_name}",
        locked_at=lockout.locked_at,
        locked_until=lockout.locked_until,
        failures=lockout.failures,
        holder_notified=lockout.notification_id is not None,
    )


def verified_customer(
    session: Session, conversation_id: str, token: str | None
) -> VerifiedCustomer | None:
    """Who this conversation is verified as; None for an unknown, expired or foreign token.

    A verification bound to a client (made over REST, where whoever knows a conversation id
    can write to it) also needs the message being handled to come from that client
    (`client_address.current_client`, set by the action server for each action call).
    """
    if not token or not conversation_id:
        return None
    row = session.execute(
        select(VerificationSession, Customer)
        .join(Customer, Customer.id == VerificationSession.customer_id)
        .where(VerificationSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    verification, customer = row
    if (
        verification.conversation_id != conversation_id
        or verification.revoked_at is not None
        or verification.expires_at <= utcnow()
    ):
        return None
    if verification.client_key is not None:
        current = current_client.get()
        if current is not None and current != verification.client_key:
            return None
    return VerifiedCustomer(
        customer_id=customer.id,
        account_number=customer.account_number,
        first_name=customer.first_name,
        masked_email=mask_email(customer.email),
        masked_phone=mask_phone(customer.phone),
    )


def check_account_access(
    session: Session, conversation_id: str, token: str | None, account_number_mentioned: str | None
) -> bool:
    """May this conversation act on the account it mentions? False for a different account.

    No account mentioned means the verified one. Something that is not an account number at
    all is refused too, rather than guessed at.
    """
    customer = verified_customer(session, conversation_id, token)
    if customer is None:
        return False
    if not account_number_mentioned or not account_number_mentioned.strip():
        return True
    return normalize_account_number(account_number_mentioned) == customer.account_number


def end_verification(session: Session, conversation_id: str) -> int:
    """Revoke every live token of a conversation (restart, sign-out); returns how many."""
    result = session.execute(
        update(VerificationSession)
        .where(
            VerificationSession.conversation_id == conversation_id,
            VerificationSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _last_bill_amount(session: Session, customer_id: int) -> Decimal | None:
    return session.execute(
        select(Bill.amount)
        .where(Bill.customer_id == customer_id)
        .order_by(Bill.period_start.desc(), Bill.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _record_attempt(
    session: Session,
    conversation_id: str,
    customer: Customer | None,
    stage: str,
    identifier: str,
    success: bool,
    client_key: str | None,
    *,
    factor: str | None = None,
) -> None:
    """Every identify/verify attempt is kept; the failures drive the three limits."""
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            customer_id=customer.id if customer else None,
            stage=stage,
            identifier_tried=(identifier or "")[:255],
            factor=factor,
            success=success,
            client_key=(client_key or None) and client_key[:80],
        )
    )
    session.flush()


def _log(
    session: Session, customer: Customer | None, conversation_id: str, summary: str, outcome: str
) -> None:
    if customer is not None:
        log_interaction(
            session,
            customer_id=customer.id,
            conversation_id=conversation_id,
            kind=_LOG_KIND,
            summary=summary,
            outcome=outcome,
        )
