"""CSV exports of the overview and the conversation list; every export is logged."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from quickconnect.db.models import ExportLog, utcnow

LIST_COLUMNS = (
    "conversation_id",
    "started_at",
    "channel",
    "user_messages",
    "fallbacks",
    "low_confidence",
    "min_confidence",
    "verified",
    "handed_off",
    "case_number",
    "handoff_reason",
    "outcome",
    "flows",
    "tags",
)


def log_export(
    session: Session,
    *,
    agent_id: int | None,
    actor: str,
    what: str,
    filters: dict[str, Any],
    rows: int,
) -> ExportLog:
    """Record who exported what (and with which filters) before the file is handed out."""
    entry = ExportLog(
        agent_id=agent_id,
        actor=actor[:80],
        what=what,
        filters=filters,
        rows=rows,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def _safe(value: Any) -> Any:
    """Spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def overview_csv(figures: dict[str, Any]) -> tuple[str, int]:
    """metric,value rows of an overview; returns the text and the number of data rows."""
    rows: list[tuple[str, Any]] = [
        ("period_from", figures["period"]["from"]),
        ("period_to", figures["period"]["to"]),
    ]
    for key in (
        "conversations",
        "contained",
        "containment_rate",
        "completed",
        "handed_off",
        "handoff_rate",
        "with_fallback",
        "verified_conversations",
        "cases_resolved",
        "median_handling_seconds",
    ):
        rows.append((key, figures[key]))
    for name, value in figures["verification"].items():
        rows.append((f"verification_{name}", value))
    for reason in figures["handoff_reasons"]:
        rows.append((f"handoff_reason_{reason['reason']}", reason["count"]))
    for flow, count in figures["changes_applied"].items():
        rows.append((f"changes_applied_{flow}", count))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("metric", "value"))
    writer.writerows((k, "" if v is None else v) for k, v in rows)
    return out.getvalue(), len(rows)


def conversations_csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LIST_COLUMNS)
    for item in items:
        writer.writerow([_safe(item.get(c)) for c in LIST_COLUMNS])
    return out.getvalue()
