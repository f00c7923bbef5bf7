"""A new security question and answer, hashed as identity checks it."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    SecurityQuestion,
)
from quickconnect.identifiers import (
    hash_answer,
    normalize_answer,
    verify_answer,
)
from quickconnect.services import changes
from quickconnect.services.account_recovery.common import (
    _ORDINALS,
    _QUESTION_WORDS,
    MAX_ANSWER_LENGTH,
    MIN_ANSWER_LENGTH,
    SECURITY_QUESTION_KIND,
    SECURITY_QUESTIONS,
    RecoveryError,
)
from quickconnect.services.account_recovery.verification import (
    _customer,
    _refuse_on_hold,
    _require_live_verification,
    require_verified,
)
from quickconnect.services.changes import ChangeEffect, ProposedChange

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
