"""The NLU inbox on the real database (issue #31): fallbacks and low-confidence lines are
collected by the indexer, an agent's "bot misunderstood" adds a line, the lead labels, and the
export is Rasa NLU YAML that `rasa data validate` accepts, with every line of the test and
evaluation sets refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from qa import inbox as inbox_command
from qa import insights_history as history
from quickconnect.config import PROJECT_ROOT
from quickconnect.db import models as m
from quickconnect.db.session import get_engine
from quickconnect.insights import inbox, indexer, tracker

START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
NEW_LINE = "the little green lamp on my box keeps flashing since the storm"


@pytest.fixture(scope="module", autouse=True)
def _events_table(engine: Engine) -> None:
    with engine.begin() as conn:
        tracker.ensure_events_table(conn)


def _customer(session: Session) -> int:
    query = select(m.Customer.id).where(m.Customer.account_number == "QC-100001")
    return int(session.execute(query).scalar_one())


def _conversation(session: Session, cid: str, *lines: tuple[str, str, float]) -> None:
    """A scripted conversation plus customer lines (text, predicted intent, confidence)."""
    script = history.Script(cid, START)
    history.write(
        session.connection(), session.connection(), [script], customer_id=_customer(session)
    )
    rows = []
    for n, (text, intent, confidence) in enumerate(lines):
        event = history._user(text, intent, confidence, START.timestamp() + 100 + n)
        rows.append(
            dict(
                next(history.tracker_rows(script)), type_name="user", data=history.json.dumps(event)
            )
        )
        if intent == "nlu_fallback":
            action = history._action("action_default_fallback", START.timestamp() + 100.5 + n)
            rows.append(
                dict(
                    next(history.tracker_rows(script)),
                    type_name="action",
                    data=history.json.dumps(action),
                )
            )
    session.connection().execute(tracker.EVENTS.insert(), rows)


def _items(session: Session, cid: str) -> list[m.NluInboxItem]:
    query = (
        select(m.NluInboxItem)
        .where(m.NluInboxItem.conversation_id == cid)
        .order_by(m.NluInboxItem.id)
    )
    return list(session.execute(query).scalars())


def test_indexer_collects_fallbacks_and_low_confidence_lines_once(session: Session) -> None:
    _conversation(
        session,
        "inbox-a",
        (NEW_LINE, "nlu_fallback", 0.18),
        ("can i get the cheaper one", "change_plan", 0.41),
        ("thanks a lot", "thank", 0.98),
    )
    indexer.refresh(session, session.connection())
    got = [(i.text, i.reason, i.predicted_intent) for i in _items(session, "inbox-a")]
    assert got == [
        (NEW_LINE, "fallback", "nlu_fallback"),
        ("can i get the cheaper one", "low_confidence", "change_plan"),
    ]
    _conversation(session, "inbox-a2", (NEW_LINE.upper(), "nlu_fallback", 0.2))
    indexer.refresh(session, session.connection())
    first = _items(session, "inbox-a")[0]
    inbox.label(session, first.id, "report_service_cutoff", None)
    twin = _items(session, "inbox-a2")[0]  # the same words in another chat: the same decision
    assert (twin.status, twin.label_intent) == ("accepted", "report_service_cutoff")
    indexer.rebuild(session, session.connection())  # indexing again keeps the label, adds nothing
    again = _items(session, "inbox-a")
    assert len(again) == 2 and (again[0].status, again[0].label_intent) == (
        "accepted",
        "report_service_cutoff",
    )


def test_an_agent_marks_a_line_the_bot_misunderstood(session: Session) -> None:
    _conversation(
        session, "inbox-b", ("i want the thing from the advert", "add_subscription", 0.93)
    )
    indexer.refresh(session, session.connection())
    assert _items(session, "inbox-b") == []  # confident: not collected
    agent = session.execute(select(m.Agent.id).where(m.Agent.username == "agent.demo")).scalar_one()
    item = inbox.mark_misunderstood(
        session, "inbox-b", START.timestamp() + 100, agent, session.connection()
    )
    assert (item.reason, item.predicted_intent, item.marked_by) == (
        "misunderstood",
        "add_subscription",
        agent,
    )
    with pytest.raises(LookupError):
        inbox.mark_misunderstood(session, "inbox-b", 12.0, agent, session.connection())


def test_labels_are_the_domains_intents(session: Session) -> None:
    names = inbox.labels()
    assert "out_of_scope" in names and "change_plan" in names and "nlu_fallback" not in names
    assert any(n.startswith("faq/") for n in names) and "faq" not in names
    _conversation(session, "inbox-c", ("blorp", "nlu_fallback", 0.1))
    indexer.refresh(session, session.connection())
    item = _items(session, "inbox-c")[0]
    with pytest.raises(ValueError):
        inbox.label(session, item.id, "make_me_rich", None)
    inbox.dismiss(session, item.id, None)
    assert item.status == "dismissed"


def test_loose_key_is_the_overlap_tests_rule() -> None:
    from tests.unit.test_qa_nlu_eval import _loose_key

    for text in ("Hello,  THERE!", "what's my plan?", "  QC-100001 is mine ", "Ça va? déjà"):
        assert inbox.loose_key(text) == _loose_key(text)


def _held_out_line() -> str:
    """A line of the project's NLU test set, picked at run time and never printed."""
    examples = list(inbox._yaml_examples(PROJECT_ROOT / "tests" / "nlu" / "test_set.yml"))
    assert examples
    return examples[len(examples) // 2]


def test_export_refuses_test_and_evaluation_lines(session: Session) -> None:
    secret = _held_out_line()
    variant = "  " + secret.upper() + " !"  # case, spacing and punctuation do not hide it
    _conversation(
        session, "inbox-d", (variant, "nlu_fallback", 0.2), (NEW_LINE, "nlu_fallback", 0.2)
    )
    external = sorted((PROJECT_ROOT.parent / "shared" / "eval").rglob("*.tsv"))
    if external:
        line = next(iter(inbox._tsv_examples(external[0])))
        _conversation(session, "inbox-e", (line, "nlu_fallback", 0.2))
    indexer.refresh(session, session.connection())
    items = _items(session, "inbox-d") + (_items(session, "inbox-e") if external else [])
    for item in items:
        inbox.label(session, item.id, "report_service_cutoff", None)
    result = inbox.export(session, actor="test", agent_id=None)
    held = [i for i in items if i.status == "held_out"]
    assert result.held_out == len(held) == len(items) - 1  # all but NEW_LINE
    assert inbox.loose_key(secret) not in {
        inbox.loose_key(t) for t in inbox._yaml_examples_text(result.text)
    }
    assert NEW_LINE in result.text
    with pytest.raises(ValueError):  # a held-out line cannot be accepted again
        inbox.label(session, held[0].id, "greet", None)
    logged = session.execute(
        select(m.ExportLog).order_by(m.ExportLog.id.desc()).limit(1)
    ).scalar_one()
    assert (logged.what, logged.rows, logged.filters["held_out"]) == ("nlu_inbox_yml", 1, len(held))


def test_fallback_to_label_to_exported_yaml_that_rasa_validates(
    session: Session, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the file is the same on both backends; rasa data validate runs once")
    _conversation(session, "inbox-f", (NEW_LINE, "nlu_fallback", 0.12))
    indexer.refresh(session, session.connection())
    [item] = _items(session, "inbox-f")
    inbox.label(session, item.id, "report_service_cutoff", None)
    result = inbox.export(session, actor="test", agent_id=None)
    parsed = yaml.safe_load(result.text)
    assert parsed["nlu"] == [{"intent": "report_service_cutoff", "examples": f"- {NEW_LINE}\n"}]
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    (data / "nlu" / "inbox.yml").write_text(result.text, encoding="utf-8")
    rasa = Path(sys.executable).with_name("rasa")
    run = subprocess.run(
        [str(rasa), "data", "validate", "--domain", str(PROJECT_ROOT / "domain.yml"),
         "--data", str(data), "--config", str(PROJECT_ROOT / "config.yml"), "--fail-on-warnings"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_the_command_writes_the_same_file(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m qa.inbox export` on a committed database (the command opens its own)."""
    url = db_url
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_STORE_URL", url.replace("postgresql+psycopg2://", "postgresql://"))
    out = tmp_path / "inbox.yml"
    get_engine.cache_clear()  # the process-wide engine is built from DATABASE_URL
    try:
        assert inbox_command.main(["export", "--out", str(out), "--actor", "tester"]) == 0
    finally:
        get_engine.cache_clear()
    text = out.read_text()
    assert yaml.safe_load(text)["version"] == "3.1"
    with engine.connect() as conn:
        actor = conn.execute(
            select(m.ExportLog.actor).order_by(m.ExportLog.id.desc()).limit(1)
        ).scalar_one()
    assert actor == "cli:tester"
