"""What the lead pages may show: contact details masked, account numbers only to a lead.

Why: reviewing conversations is about the bot, not the customer; an email address or phone
number typed into a chat is masked wherever the insights show text (transcripts, the inbox,
exports), and account numbers are shown only to an account with the lead role.
"""

from __future__ import annotations

import re

EMAIL = re.compile(
    r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*\.([A-Za-z]{2,})\b"
)
PHONE = re.compile(r"(?<![\w-])\+?\d[\d ().-]{6,}\d(?![\w-])")
ACCOUNT = re.compile(r"\bQC-?\d{6}\b", re.IGNORECASE)


def mask_email(value: str) -> str:
    return EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***.{m.group(3)}", value)


def mask_phone(value: str) -> str:
    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "*** *** " + digits[-2:] if len(digits) >= 9 else match.group(0)

    return PHONE.sub(hide, value)


def mask_account(value: str) -> str:
    return ACCOUNT.sub("QC-******", value)


def mask_text(text: str, *, show_accounts: bool) -> str:
    """A chat line as the lead pages show it."""
    masked = mask_phone(mask_email(text or ""))
    return masked if show_accounts else mask_account(masked)
