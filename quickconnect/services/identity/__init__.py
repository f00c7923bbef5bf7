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

The package: `steps` (the form's two steps), `factors`, `limits`, `lockouts`, `sessions`
(who a conversation is verified as) and `common`; this module exports what callers use.
"""

from __future__ import annotations

from quickconnect.services.identity.common import (  # noqa: F401
    _LOG_KIND,
    IdentifyResult,
    VerifiedCustomer,
    VerifyResult,
    _find_customer,
    _last_bill_amount,
    _log,
    _record_attempt,
)
from quickconnect.services.identity.factors import (  # noqa: F401
    GUESSABLE_EXTRAS,
    WEAK_FACTOR,
    FactorCheck,
    FactorMaterial,
    _decoy_hash,
    _match,
    catalogue_amounts,
    check_factor,
    factor_material,
    is_guessable_amount,
)
from quickconnect.services.identity.limits import (  # noqa: F401
    ACCOUNT_LOCKOUT,
    ACCOUNT_MAX_FAILURES,
    ACCOUNT_WINDOW,
    CLIENT_MAX_FAILURES,
    CLIENT_WINDOW,
    MAX_ATTEMPTS,
    REFUSED_ACCOUNT,
    REFUSED_CLIENT,
    REFUSED_CONVERSATION,
    _attempts_left,
    _refusal,
    account_failures,
    active_lockout,
    attempts_left,
    client_failures,
    failed_attempts,
)
from quickconnect.services.identity.lockouts import (  # noqa: F401
    LOCKOUT_NOTICE_BODY,
    LOCKOUT_NOTICE_SUBJECT,
    LockoutInfo,
    _lock_account,
    _lockout_info,
    active_lockouts,
    clear_lockout,
)
from quickconnect.services.identity.sessions import (  # noqa: F401
    check_account_access,
    end_verification,
    verified_customer,
)
from quickconnect.services.identity.steps import (  # noqa: F401
    _failed,
    account_tried,
    identify_account,
    verify_factor,
)
