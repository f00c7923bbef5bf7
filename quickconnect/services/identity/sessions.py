"""Who a conversation is verified as: the token, bound to one conversation, one account and,
over REST, one client."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quickconnect.client_address import current_client
from quickconnect.db.models import (
    Customer,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    hash_token,
    mask_email,
    mask_phone,
    normalize_account_number,
)
from quickconnect.services.identity.common import VerifiedCustomer


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
