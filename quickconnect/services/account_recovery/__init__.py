"""Account recovery (guides/account-recovery.txt), minus the chat.

One module a step of the guide:
- verify identity: `identity.verify_factor` does it; every function here that shows or changes
  account details first calls `require_verified` (`verification`: a live verification of THIS
  conversation), and every change handler checks it again when the customer says yes;
- password reset (`password_reset`): `send_reset_link` (single-use link with a random token,
  only its SHA-256 stored, expiring after `RESET_LINK_TTL`, sent to the email or phone ON FILE
  through the outbox), `redeem_reset_token` (what the website does when the link is opened),
  and the follow-up `record_reset_outcome` (worked / did not: offer the next step, escalate
  after repeated failures);
- unlock (`unlock`): `check_lock` finds out why sign-in is locked; after failed logins the
  unlock is proposed (`propose_unlock`, change kind `account_unlock`), any other reason (a
  security hold) is escalated with a `CS-` case;
- update account information: a new security question and answer (`security_questions`:
  `propose_security_question`, answer hashed as `identity` checks it) and a new email or phone
  for recovery (`contacts`: `propose_contact_change`, with a notice to the OLD contact as well);
- common issues: reset email not received (`reset_delivery`), forgotten recovery contact
  (`recovery_contacts`, then a contact change).
`common` holds the links, limits, kinds, errors and results the steps share.

Account changes go through `quickconnect.services.changes` (explicit yes, consent record, one
transaction, logged, summary in the outbox). An account on a security hold gets no reset link
and no change in chat: the security team handles it, through a case (`escalate_hold`).

Importing this package imports every handler, so import it wherever `changes.confirm_change`
may see one of its change kinds (the action server does), otherwise they are not registered.
"""

from __future__ import annotations

from quickconnect.services.account_recovery.common import (
    COMMON_PASSWORDS,
    CONTACT_KIND,
    ESCALATE_AFTER_LINKS,
    FORGOT_PASSWORD_URL,
    LOG_KIND,
    MAX_ANSWER_LENGTH,
    MIN_ANSWER_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    RECENT_LINKS,
    RESET_LINK_TTL,
    RESET_PATH,
    SECURITY_QUESTION_KIND,
    SECURITY_QUESTIONS,
    SIGN_IN_URL,
    UNLOCK_KIND,
    WEBSITE,
    AccountOnHold,
    InvalidContact,
    LockStatus,
    NewContact,
    NotVerified,
    RecoveryContacts,
    RecoveryError,
    RedeemedReset,
    ResetDelivery,
    ResetFollowUp,
    ResetLinkInvalid,
    ResetLinkSent,
    UnlockCheck,
    WeakPassword,
    reset_url,
)
from quickconnect.services.account_recovery.contacts import (
    apply_contact_change,
    log_contacts_kept,
    parse_new_contact,
    propose_contact_change,
    wants_to_keep_contacts,
)
from quickconnect.services.account_recovery.password_reset import (
    check_reset_link,
    parse_channel,
    password_problems,
    record_reset_outcome,
    redeem_reset_token,
    reset_delivery,
    reset_password,
    send_reset_link,
)
from quickconnect.services.account_recovery.security_questions import (
    apply_security_question,
    check_new_answer,
    find_security_question,
    propose_security_question,
    security_answer_matches,
)
from quickconnect.services.account_recovery.unlock import apply_unlock, check_lock, propose_unlock
from quickconnect.services.account_recovery.verification import (
    check_hold,
    escalate_hold,
    lock_status,
    recovery_contacts,
    require_verified,
)

__all__ = [
    "AccountOnHold",
    "COMMON_PASSWORDS",
    "CONTACT_KIND",
    "ESCALATE_AFTER_LINKS",
    "FORGOT_PASSWORD_URL",
    "InvalidContact",
    "LOG_KIND",
    "LockStatus",
    "MAX_ANSWER_LENGTH",
    "MIN_ANSWER_LENGTH",
    "NewContact",
    "NotVerified",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "RECENT_LINKS",
    "RESET_LINK_TTL",
    "RESET_PATH",
    "RecoveryContacts",
    "RecoveryError",
    "RedeemedReset",
    "ResetDelivery",
    "ResetFollowUp",
    "ResetLinkInvalid",
    "ResetLinkSent",
    "SECURITY_QUESTIONS",
    "SECURITY_QUESTION_KIND",
    "SIGN_IN_URL",
    "UNLOCK_KIND",
    "UnlockCheck",
    "WEBSITE",
    "WeakPassword",
    "apply_contact_change",
    "apply_security_question",
    "apply_unlock",
    "check_hold",
    "check_lock",
    "check_new_answer",
    "check_reset_link",
    "escalate_hold",
    "find_security_question",
    "lock_status",
    "log_contacts_kept",
    "parse_channel",
    "parse_new_contact",
    "password_problems",
    "propose_contact_change",
    "propose_security_question",
    "propose_unlock",
    "record_reset_outcome",
    "recovery_contacts",
    "redeem_reset_token",
    "require_verified",
    "reset_delivery",
    "reset_password",
    "reset_url",
    "security_answer_matches",
    "send_reset_link",
    "wants_to_keep_contacts",
]
