"""Account recovery guide (guides/account-recovery.txt): reset, unlock, security questions,
contact details and the guide's four common issues. One module a step of the guide:

- verify identity (`verification`): every flow starts with `verification_form`; the customer
  can verify with the account or phone plus ANY one factor, so a forgotten email or security
  answer is no obstacle (`action_offer_alternative_factors` says so);
- password reset (`password_reset`): reset_password -> Forgot Password page + a single-use link
  by email or SMS to the contact on file (`password_reset_form` asks which) -> "did it work?"
  -> yes: done; no: resend, SMS instead or a person (after two links that still fail, a `CS-`
  case straight away); recovery_email_missing -> where and when the link went (masked),
  spam/junk, resend or SMS;
- unlocked account (`unlock`): unlock_account -> why is it locked? failed logins: unlock
  proposed, applied on "yes" (actions/changes.py); anything else (security hold): a `CS-` case
  for the security team;
- update account information: update_security_questions (also "I don't remember my security
  answer") -> pick a question, give an answer -> proposed -> "yes" (`security_questions`);
  update_contact_info / forgot_recovery_contact -> the contacts on file (masked) -> the new
  email or phone -> proposed -> "yes", notice to the old contact too (`contacts`).
`common` holds what they share: a security hold stops every recovery step with a case (only
the security team can act), and the case text.

`rasa run actions --actions actions` imports every module of this package and registers their
actions; importing the package also registers each change's confirmation text.
"""

from __future__ import annotations

from actions.account_recovery.contacts import (
    KEEP_CONTACTS,
    ActionProposeContactChange,
    ActionStartContactUpdate,
    ValidateContactUpdateForm,
)
from actions.account_recovery.password_reset import (
    ActionAskResetChannel,
    ActionCheckResetDelivery,
    ActionResetNotWorked,
    ActionResetWorked,
    ActionSendResetLink,
    ActionStartPasswordReset,
    ValidatePasswordResetForm,
)
from actions.account_recovery.security_questions import (
    ActionProposeSecurityQuestion,
    ActionStartSecurityQuestions,
    ValidateSecurityQuestionsForm,
)
from actions.account_recovery.unlock import ActionCheckAccountLock
from actions.account_recovery.verification import ActionOfferAlternativeFactors

__all__ = [
    "KEEP_CONTACTS",
    "ActionAskResetChannel",
    "ActionCheckAccountLock",
    "ActionCheckResetDelivery",
    "ActionOfferAlternativeFactors",
    "ActionProposeContactChange",
    "ActionProposeSecurityQuestion",
    "ActionResetNotWorked",
    "ActionResetWorked",
    "ActionSendResetLink",
    "ActionStartContactUpdate",
    "ActionStartPasswordReset",
    "ActionStartSecurityQuestions",
    "ValidateContactUpdateForm",
    "ValidatePasswordResetForm",
    "ValidateSecurityQuestionsForm",
]
