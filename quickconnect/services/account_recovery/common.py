"""Links, limits, change kinds, errors and results shared by the account recovery steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from quickconnect.config import load_settings
from quickconnect.services.changes import ProposedChange
from quickconnect.services.handoff import CaseOpened

WEBSITE = "https://www.quickconnect.example"
FORGOT_PASSWORD_URL = f"{WEBSITE}/forgot-password"
SIGN_IN_URL = f"{WEBSITE}/sign-in"
# The reset page this project serves beside the widget (rasa_extensions/webchat/). The
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
