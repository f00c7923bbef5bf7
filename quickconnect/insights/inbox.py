"""The NLU inbox: misread customer messages, the lead's labels, and their export as training
data for data/nlu/ (`python -m qa.inbox export`, or the lead page's export).

Why a guard at export: lines of the NLU test sets (tests/nlu/) and of the external
evaluation sets (../shared/eval/) must never become training data, or the evaluation would
measure memory. Export compares each accepted line with those sets under the same loose key
as the overlap test (tests/unit/test_qa_nlu_eval.py: case, punctuation and spacing do not
make a different sentence); a match is set aside as `held_out` and never written. The test
sets are read only to build that set of keys; nothing of them is shown or exported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quickconnect.config import PROJECT_ROOT
from quickconnect.db.models import NluInboxItem, utcnow
from quickconnect.insights import tracker
from quickconnect.insights.exports import log_export
from quickconnect.insights.privacy import EMAIL, PHONE, mask_text
from quickconnect.insights.summary import Summary, low_confidence_threshold

HELD_OUT_DIRS = (PROJECT_ROOT / "tests" / "nlu", PROJECT_ROOT.parent / "shared" / "eval")
TRAINING_DIR = PROJECT_ROOT / "data"
NOT_LABELS = {"nlu_fallback", "faq"}  # faq is labelled by its key: faq/<key>
_ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
MAX_TEXT = 500


def loose_key(text: str) -> str:
    """Case, punctuation and spacing don't make a different sentence (the overlap test's rule)."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _yaml_examples(path: Path) -> Iterable[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return
    for item in data.get("nlu", []) if isinstance(data, dict) else []:
        if not isinstance(item, dict):
            continue
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield _ANNOTATION.sub(r"\1", line[2:].strip())


def _yaml_examples_text(text: str) -> list[str]:
    """The example lines of a Rasa NLU YAML text (to check an export)."""
    data = yaml.safe_load(text) or {}
    return [
        line.strip()[2:].strip()
        for item in data.get("nlu") or []
        for line in str(item.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def _tsv_examples(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("text"):
                yield row["text"].strip()


def held_out_keys(dirs: Iterable[Path] = HELD_OUT_DIRS) -> set[str]:
    """Loose keys of every line in the test and evaluation sets (YAML and TSV)."""
    keys: set[str] = set()
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".yml", ".yaml"):
                keys.update(loose_key(t) for t in _yaml_examples(path))
            elif path.suffix == ".tsv":
                keys.update(loose_key(t) for t in _tsv_examples(path))
    keys.discard("")
    return keys


def training_keys(folder: Path = TRAINING_DIR) -> set[str]:
    return {loose_key(t) for path in folder.rglob("*.yml") for t in _yaml_examples(path)}


def labels(domain: Path = PROJECT_ROOT / "domain.yml", faq: Path | None = None) -> list[str]:
    """The intents a line may be labelled with: the domain's, and faq/<key> per FAQ answer."""
    data = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in data.get("intents", [])]
    faq_file = faq or TRAINING_DIR / "nlu" / "faq.yml"
    keys: list[str] = []
    if faq_file.exists():
        responses = (yaml.safe_load(faq_file.read_text(encoding="utf-8")) or {}).get("responses")
        keys = [r.removeprefix("utter_") for r in responses or {} if r.startswith("utter_faq/")]
    return sorted(n for n in names if n not in NOT_LABELS) + sorted(keys)


# --- collecting ------------------------------------------------------------------------------


def collect(session: Session, summaries: Iterable[Summary]) -> int:
    """Add the messages that fell back or were understood below the threshold; returns how
    many were new (a message already in the inbox keeps its label)."""
    threshold = low_confidence_threshold()
    found = []
    for s in summaries:
        for m in s.messages:
            if m.intent is None or not m.text.strip():
                continue  # unparsed (written to an agent) or empty
            low = m.confidence is not None and m.confidence < threshold
            if m.fallback or low:
                found.append((s.conversation_id, m, "fallback" if m.fallback else "low_confidence"))
    if not found:
        return 0
    keys = [(cid, m.event_id) for cid, m, _ in found]
    existing = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        rows = session.execute(
            select(NluInboxItem.conversation_id, NluInboxItem.event_id).where(
                tuple_(NluInboxItem.conversation_id, NluInboxItem.event_id).in_(part)
            )
        )
        existing.update((cid, int(eid)) for cid, eid in rows)
    now = utcnow()
    new = [
        NluInboxItem(
            conversation_id=cid,
            event_id=m.event_id,
            text=m.text.strip()[:MAX_TEXT],
            predicted_intent=(m.intent or "")[:80] or None,
            confidence=None if m.confidence is None else round(m.confidence, 3),
            reason=reason,
            message_at=m.at,
            status="new",
            created_at=now,
        )
        for cid, m, reason in found
        if (cid, m.event_id) not in existing
    ]
    session.add_all(new)
    session.flush()
    return len(new)


def mark_misunderstood(
    session: Session,
    conversation_id: str,
    timestamp: float,
    agent_id: int,
    tracker_bind: Engine | Connection | None = None,
) -> NluInboxItem:
    """An agent's "bot misunderstood" on the customer message sent at `timestamp`."""
    with tracker.reading(tracker_bind, beside=session.connection()) as conn:
        rows = tracker.events_of(conn, [conversation_id])[conversation_id]
    matches = [
        (event_id, event)
        for event_id, event in rows
        if event.get("event") == "user"
        and abs(float(event.get("timestamp") or 0) - timestamp) < 1e-3
    ]
    if not matches:
        raise LookupError("no such customer message in this conversation")
    event_id, event = matches[0]
    item = session.execute(
        select(NluInboxItem).where(
            NluInboxItem.conversation_id == conversation_id, NluInboxItem.event_id == event_id
        )
    ).scalar_one_or_none()
    if item is None:
        intent = (event.get("parse_data") or {}).get("intent") or {}
        confidence = intent.get("confidence")
        item = NluInboxItem(
            conversation_id=conversation_id,
            event_id=event_id,
            text=str(event.get("text") or "").strip()[:MAX_TEXT] or "(empty)",
            predicted_intent=intent.get("name"),
            confidence=round(float(confidence), 3) if isinstance(confidence, int | float) else None,
            reason="misunderstood",
            message_at=datetime.fromtimestamp(
                float(event.get("timestamp") or 0), tz=utcnow().tzinfo
            ),
            status="new",
            created_at=utcnow(),
        )
        session.add(item)
    elif item.status == "dismissed":
        item.status = "new"  # an agent saw it go wrong: look again
    item.marked_by = agent_id
    session.flush()
    return item


# --- the lead's review -------------------------------------------------------------------------


def items(session: Session, status: str | None = "new", limit: int = 200) -> dict[str, Any]:
    """Inbox lines (newest first) as the lead page shows them, contact details masked."""
    query = select(NluInboxItem)
    count = select(func.count()).select_from(NluInboxItem)
    if status:
        query = query.where(NluInboxItem.status == status)
        count = count.where(NluInboxItem.status == status)
    rows = session.execute(
        query.order_by(NluInboxItem.message_at.desc(), NluInboxItem.id.desc()).limit(limit)
    ).scalars()
    return {
        "total": int(session.execute(count).scalar_one()),
        "intents": labels(),
        "items": [
            {
                "id": r.id,
                "conversation_id": r.conversation_id,
                "text": mask_text(r.text, show_accounts=True),
                "predicted_intent": r.predicted_intent,
                "confidence": None if r.confidence is None else float(r.confidence),
                "reason": r.reason,
                "status": r.status,
                "label_intent": r.label_intent,
                "message_at": r.message_at.isoformat(),
            }
            for r in rows
        ],
    }


def _item(session: Session, item_id: int) -> NluInboxItem:
    item = session.get(NluInboxItem, item_id)
    if item is None:
        raise LookupError(f"no inbox item {item_id}")
    return item


def label(session: Session, item_id: int, intent: str, agent_id: int | None) -> NluInboxItem:
    """Accept a line as an example of `intent` (or out_of_scope)."""
    if intent not in labels():
        raise ValueError(f"unknown intent {intent!r}")
    item = _item(session, item_id)
    if item.status == "held_out":
        raise ValueError("this line is in a test or evaluation set; it is never exported")
    now = utcnow()
    # the same words from other chats waiting in the inbox get the same label (one decision)
    same = session.execute(
        select(NluInboxItem).where(
            NluInboxItem.status == "new",
            func.lower(NluInboxItem.text) == item.text.lower(),
            NluInboxItem.id != item.id,
        )
    ).scalars()
    for row in [item, *same]:
        row.status, row.label_intent = "accepted", intent
        row.labelled_by, row.labelled_at = agent_id, now
    session.flush()
    return item


def dismiss(session: Session, item_id: int, agent_id: int | None) -> NluInboxItem:
    item = _item(session, item_id)
    item.status, item.labelled_by, item.labelled_at = "dismissed", agent_id, utcnow()
    session.flush()
    return item


# --- export ------------------------------------------------------------------------------------


@dataclass
class Export:
    text: str  # the Rasa NLU YAML file
    exported: int = 0
    held_out: int = 0  # refused: in tests/nlu or ../shared/eval
    already_trained: int = 0  # the same line is in data/ already
    with_contact: int = 0  # left out: an email address or phone number is personal data
    by_intent: dict[str, int] = field(default_factory=dict)


def _clean(text: str) -> str:
    return " ".join(text.split())


def export(
    session: Session,
    *,
    actor: str,
    agent_id: int | None,
    held_out: set[str] | None = None,
    trained: set[str] | None = None,
) -> Export:
    """Every accepted line as one Rasa NLU YAML file (for data/nlu/inbox.yml), and log it."""
    held = held_out_keys() if held_out is None else held_out
    known = training_keys() if trained is None else trained
    result = Export(text="")
    by_intent: dict[str, list[str]] = {}
    seen: set[str] = set()
    now = utcnow()
    rows = session.execute(
        select(NluInboxItem)
        .where(NluInboxItem.status == "accepted", NluInboxItem.label_intent.is_not(None))
        .order_by(NluInboxItem.id)
    ).scalars()
    for item in rows:
        text = _clean(item.text)
        key = loose_key(text)
        if not key or key in seen:
            continue
        if key in held:
            item.status = "held_out"
            result.held_out += 1
            continue
        if key in known:
            result.already_trained += 1
            continue
        if EMAIL.search(text) or PHONE.search(text) or _ANNOTATION.search(text):
            result.with_contact += 1
            continue
        seen.add(key)
        by_intent.setdefault(str(item.label_intent), []).append(text)
        item.exported_at = now
    lines = [
        "# Lines from the NLU inbox, labelled by the support lead (python -m qa.inbox export).",
        "# Checked against tests/nlu and ../shared/eval: none of those lines is here.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    result.text = "\n".join(lines) + "\n"
    result.exported = sum(len(v) for v in by_intent.values())
    result.by_intent = {k: len(v) for k, v in sorted(by_intent.items())}
    log_export(
        session,
        agent_id=agent_id,
        actor=actor,
        what="nlu_inbox_yml",
        filters={
            "held_out": result.held_out,
            "already_trained": result.already_trained,
            "with_contact": result.with_contact,
        },
        rows=result.exported,
    )
    session.flush()
    return result
