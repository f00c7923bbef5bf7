"""What the cut-off steps' messages share: dates, how we will contact the customer, and the
two sentences that both the report and a payment request say."""

from __future__ import annotations

from datetime import date, datetime

from quickconnect.dates import format_day
from quickconnect.services.identity import VerifiedCustomer

PLAN_HINT = (
    'If paying it all at once is difficult, say "payment plan" and I\'ll spread it over '
    "monthly installments instead."
)
# Said whenever a secure payment link stands in for a payment method on file.
NO_METHOD_ON_FILE = (
    "There's no payment method on your account, and for your security I never take card "
    "details in chat."
)


def day(value: datetime | date) -> str:
    return format_day(value.date() if isinstance(value, datetime) else value)


def contact_text(customer: VerifiedCustomer, channel: str | None) -> str:
    if channel == "sms":
        return f"by text to {customer.masked_phone}"
    return f"by email to {customer.masked_email}"
