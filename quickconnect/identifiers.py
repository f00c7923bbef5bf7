"""Identifiers, contact details, amounts and secrets as customers type them.

Pure functions (no database), except `allocate_identifier`, which needs a Session to find a
free number. Normalisers return None for input they cannot make sense of, so callers can ask
again instead of guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from argon2 import PasswordHasher
from argon2 import Type as Argon2Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

ACCOUNT_PREFIX = "QC"
PROTECTION_PLAN_PREFIX = "DP"
CLAIM_PREFIX = "CL"
CASE_PREFIX = "CS"
TICKET_PREFIX = "TK"

_DIGITS = 6


# --- QC- / DP- / CL- / CS- / TK- numbers ------------------------------------------------------


def ascii_digits(text: str) -> str:
    """Other scripts' decimal digits ('١٠٠', '१००', full-width '１００') as 0-9.

    Python's `\\d` matches every script's digits, so without this 'QC-١٠٠٠٠١' came out as an
    "account number" no row matches, and '+٠0000000' as an E.164 "phone number" (found by
    tests/faults/test_bad_input_parsers.py). A customer on such a keyboard means the number.
    """
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )


def normalize_identifier(value: str | None, prefix: str) -> str | None:
    """'qc482913', 'QC 482913', 'qc-482913' -> 'QC-482913'; None if it is not one.

    Case-insensitive, and the dash is optional (spaces, dots, underscores or '#' also pass).
    """
    if not value:
        return None
    pattern = rf"{re.escape(prefix)}\s*[-_.#:\s]?\s*(\d{{{_DIGITS}}})"
    match = re.fullmatch(pattern, ascii_digits(value).strip(), flags=re.IGNORECASE)
    return f"{prefix.upper()}-{match.group(1)}" if match else None


def find_identifier(text: str | None, prefix: str) -> str | None:
    """The first identifier with `prefix` inside free text ("my account is qc 482913")."""
    if not text:
        return None
    pattern = rf"(?<![A-Za-z0-9]){re.escape(prefix)}\s*[-_.#:\s]?\s*(\d{{{_DIGITS}}})(?!\d)"
    match = re.search(pattern, ascii_digits(text), flags=re.IGNORECASE)
    return f"{prefix.upper()}-{match.group(1)}" if match else None


def normalize_account_number(value: str | None) -> str | None:
    """Account number, QC-######."""
    return normalize_identifier(value, ACCOUNT_PREFIX)


def normalize_protection_plan_number(value: str | None) -> str | None:
    """Device protection plan number, DP-######."""
    return normalize_identifier(value, PROTECTION_PLAN_PREFIX)


def normalize_claim_number(value: str | None) -> str | None:
    """Claim number, CL-######."""
    return normalize_identifier(value, CLAIM_PREFIX)


def normalize_case_number(value: str | None) -> str | None:
    """Escalation case number, CS-######."""
    return normalize_identifier(value, CASE_PREFIX)


def normalize_ticket_number(value: str | None) -> str | None:
    """Technical support ticket number, TK-######."""
    return normalize_identifier(value, TICKET_PREFIX)


def new_identifier(prefix: str) -> str:
    """A random candidate like 'CS-204981'; use `allocate_identifier` to get a free one."""
    return f"{prefix.upper()}-{secrets.randbelow(10**_DIGITS):0{_DIGITS}d}"


def allocate_identifier(
    session: Session, model: type[Any], column: Any, prefix: str, *, max_tries: int = 25
) -> str:
    """A random identifier not yet used in `column` (the unique constraint stays the backstop)."""
    for _ in range(max_tries):
        candidate = new_identifier(prefix)
        taken = session.execute(select(model).where(column == candidate).limit(1)).first()
        if taken is None:
            return candidate
    raise RuntimeError(f"no free {prefix}- identifier after {max_tries} tries")


# --- contact details ---------------------------------------------------------------------------


def normalize_phone(value: str | None, default_country_code: str = "1") -> str | None:
    """'555-010-0001', '(555) 010 0001', '+1 555 010 0001' -> '+15550100001' (E.164).

    Ten digits without a country code are taken as North American numbers.
    """
    if not value:
        return None
    text = ascii_digits(value).strip()
    if re.search(r"[^\d\s+().\-/]", text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        national = digits
    elif digits.startswith("00"):
        national = digits[2:]
    elif len(digits) == 10:
        national = default_country_code + digits
    elif len(digits) == 11 and digits.startswith(default_country_code):
        national = digits
    else:
        return None
    if not 8 <= len(national) <= 15 or national.startswith("0"):
        return None
    return f"+{national}"


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_email(value: str | None) -> str | None:
    """Stripped and lower-cased; None unless it looks like an email address."""
    if not value:
        return None
    email = value.strip().strip("<>").lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:") :]
    return email if _EMAIL.fullmatch(email) else None


def mask_email(email: str | None) -> str | None:
    """'alice.martin@example.com' -> 'a***@example.com' (contact details are shown masked)."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    """'+15550100001' -> '•••-•••-0001'."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 4:
        return None
    return f"•••-•••-{digits[-4:]}"


# --- amounts ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d[\d.,\s]*\d|\d")
_CENTS = Decimal("0.01")


def parse_amount(value: str | None) -> Decimal | None:
    """'$84.2', '84.20', '84,20 dollars', 'USD 84.20', '1,234.5' -> Decimal with cents.

    The first number in the text wins. A lone comma or dot followed by one or two digits is
    the decimal mark; with three digits it is a thousands separator.
    """
    if not value:
        return None
    match = _NUMBER.search(value)
    if not match:
        return None
    raw = re.sub(r"\s+", "", match.group(0)).rstrip(".,")
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    decimal_mark = max(last_dot, last_comma)
    if decimal_mark == -1:
        number = raw
    else:
        decimals = raw[decimal_mark + 1 :]
        mark = raw[decimal_mark]
        is_decimal = len(decimals) in (1, 2) or (
            last_dot != -1 and last_comma != -1  # both used: the last one is the decimal mark
        )
        if is_decimal and raw.count(mark) == 1:
            number = re.sub(r"[.,]", "", raw[:decimal_mark]) + "." + decimals
        else:
            number = re.sub(r"[.,]", "", raw)
    try:
        return Decimal(number).quantize(_CENTS, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


# --- secrets -----------------------------------------------------------------------------------

# Argon2id with OWASP's first-choice minimum (19 MiB of memory, 2 passes, 1 lane). It is
# memory-hard, so it resists GPU guessing at least as well as PBKDF2-SHA256 at 600,000 rounds,
# for about a fifth of the CPU per check (24 ms against 116 ms on the CI machine): that CPU is
# spent on every verification turn and every agent sign-in, on the same two cores as Rasa.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
_ARGON2 = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    type=Argon2Type.ID,
)

# Hashes written before Argon2 ('pbkdf2_sha256$rounds$salt$hash') still verify, and are
# replaced by an Argon2 hash the next time the right secret is given (`needs_rehash`).
PBKDF2_ALGORITHM = "pbkdf2_sha256"


def hash_secret(secret: str) -> str:
    """Salted Argon2id hash in the standard PHC string form ('$argon2id$v=19$m=...')."""
    return _ARGON2.hash(secret)


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check of `secret` against a `hash_secret` (or legacy PBKDF2) value."""
    if not stored:
        return False
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False
    return _verify_pbkdf2(secret, stored)


def needs_rehash(stored: str) -> bool:
    """True for a hash made with older parameters or algorithm: store a new one on success."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_pbkdf2(secret: str, stored: str) -> bool:
    try:
        algorithm, rounds, salt, digest = stored.split("$")
        iterations = int(rounds)
    except ValueError:
        return False
    if algorithm != PBKDF2_ALGORITHM or iterations < 1:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), iterations).hex()
    return hmac.compare_digest(candidate, digest)


_EDGE_PUNCTUATION = string.punctuation + "¿¡“”‘’«»…"


def normalize_answer(answer: str) -> str:
    """Security answers match loosely: case, inner spacing and end punctuation don't count."""
    text = unicodedata.normalize("NFKC", answer).casefold()
    text = " ".join(text.split())
    return text.strip(_EDGE_PUNCTUATION + " ")


def hash_answer(answer: str) -> str:
    """Hash of a security answer after `normalize_answer`."""
    return hash_secret(normalize_answer(answer))


def verify_answer(answer: str, stored: str | None) -> bool:
    """Does `answer` match a `hash_answer` value (loosely, see `normalize_answer`)?"""
    normalized = normalize_answer(answer)
    return bool(normalized) and verify_secret(normalized, stored)


def new_token() -> str:
    """A random URL-safe token (verification sessions, password reset links)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a random token; tokens are long and random, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
