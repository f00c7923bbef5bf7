"""Live conversation tests: YAML conversations run against the real servers, database checked.

`rasa test` checks the dialogue model's predictions but never runs the custom actions. This
runner drives each conversation through the REST channel of a running Rasa server and action
server, reads what ran (actions, responses, intent, slots) from the SQL tracker store, and
checks the account database after the turns that say so.

    python -m qa.conversations                       # every tests/conversations/*.yml, SQLite
    python -m qa.conversations tests/conversations/plan_change.yml -k retried
    python -m qa.conversations --backend postgres    # PostgreSQL account DB + tracker store
    python -m qa.conversations --check               # validate the files only, start nothing

The format (README, "Conversation tests"):

    conversations:
      - name: plan change, happy path         # required, unique in the file
        description: optional free text
        turns:
          - user: "I want to switch to Unlimited Plus"      # required
            intent: change_plan                # optional: NLU intent (or faq/<key>)
            bot:                               # optional; every item must hold for this turn
              - action: verification_form      # an action, form or response that ran
              - not_action: action_handoff     # ... that did not run
              - text: "account number"         # some bot message contains it (any case)
              - not_text: "Done"               # no bot message contains it
              - regex: "CS-\\d{6}"             # some bot message matches (Python re, any case)
            slots: {verification_status: verified}    # optional: slot values after the turn
            active_loop: verification_form     # optional: the form active after it (or null)
            db:                                # optional, checked after the turn
              - sql: "SELECT ..."
                rows: [["Unlimited Plus"]]     # exact rows in order, or:
              - sql: "SELECT ... WHERE conversation_id = :conversation_id"
                count: 1                       # the number of rows

`:conversation_id` in a check's SQL is bound to the id of the conversation being run.

Every bot message of every turn also passes the reply guard (`quickconnect.reply_guard`): a
message with an internal value in it (`None`, `nan`, an unfilled `{slot}`, a Python repr)
fails the turn, whatever the conversation expects, and the servers this runner starts run
with `QC_REPLY_GUARD=strict` so they send such a message unchanged instead of cleaning it.
The summary says how many replies the guard checked.

Each conversation starts from a freshly seeded account database and a new conversation id.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from quickconnect import reply_guard
from quickconnect.config import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "tests" / "conversations"
DOMAIN_PATH = PROJECT_ROOT / "domain.yml"

BOT_KEYS = ("action", "not_action", "text", "not_text", "regex")
TURN_KEYS = ("user", "intent", "bot", "slots", "active_loop", "db")
CONVERSATION_KEYS = ("name", "description", "turns")
DB_KEYS = ("sql", "rows", "count")
# Actions every turn shows but that say nothing about what the bot did.
QUIET_ACTIONS = frozenset({"action_listen", "action_session_start"})
_UNSET: Any = object()


class SpecError(ValueError):
    """A conversation file that does not follow the format (file and conversation named)."""


# --------------------------------------------------------------------------------------------
# The format
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotCheck:
    """One expectation on what the bot did in a turn."""

    kind: str  # one of BOT_KEYS
    value: str

    def describe(self) -> str:
        return f"{self.kind}: {self.value!r}"


@dataclass(frozen=True)
class DbCheck:
    """A query on the account database and its expected rows or row count."""

    sql: str
    rows: list[list[Any]] | None = None
    count: int | None = None


@dataclass(frozen=True)
class Turn:
    """One customer message and what must hold after it."""

    user: str
    bot: tuple[BotCheck, ...] = ()
    db: tuple[DbCheck, ...] = ()
    slots: dict[str, Any] = field(default_factory=dict)
    intent: str | None = None
    active_loop: Any = _UNSET  # a form name, None (no form), or _UNSET (not checked)


@dataclass(frozen=True)
class Conversation:
    """A named list of turns from one file."""

    name: str
    file: Path
    turns: tuple[Turn, ...]
    description: str = ""

    @property
    def label(self) -> str:
        return f"{_short(self.file)} :: {self.name}"


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _unknown_key(key: object, allowed: Sequence[str], where: str) -> SpecError:
    hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return SpecError(f"{where}: unknown key {key!r}{suggestion}; allowed: {', '.join(allowed)}")


def _check_keys(data: dict[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise _unknown_key(key, allowed, where)


def _text(value: object, where: str, *, allow_empty: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SpecError(f"{where}: expected a text, got {type(value).__name__} {value!r}")
    text = str(value)
    if not allow_empty and not text.strip():
        raise SpecError(f"{where}: must not be empty")
    return text


def parse_conversations(data: object, file: Path) -> list[Conversation]:
    """Validate the parsed YAML of one file strictly and build its conversations."""
    where = _short(file)
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the file must be a mapping with a `conversations:` list")
    _check_keys(data, ("conversations",), where)
    items = data.get("conversations")
    if not isinstance(items, list) or not items:
        raise SpecError(f"{where}: `conversations:` must be a non-empty list")
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        conversation = _parse_conversation(item, file, f"{where}: conversation #{index}")
        if conversation.name in seen:
            raise SpecError(f"{where}: conversation name {conversation.name!r} is used twice")
        seen.add(conversation.name)
        conversations.append(conversation)
    return conversations


def _parse_conversation(item: object, file: Path, where: str) -> Conversation:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: expected a mapping with `name:` and `turns:`")
    if "name" in item and isinstance(item["name"], str) and item["name"].strip():
        where = f"{_short(file)}: conversation {item['name']!r}"
    _check_keys(item, CONVERSATION_KEYS, where)
    if "name" not in item:
        raise SpecError(f"{where}: `name:` is missing")
    name = _text(item["name"], f"{where}: name").strip()
    description = _text(item.get("description", ""), f"{where}: description", allow_empty=True)
    turns_data = item.get("turns")
    if not isinstance(turns_data, list) or not turns_data:
        raise SpecError(f"{where}: `turns:` must be a non-empty list")
    turns = tuple(
        _parse_turn(turn, f"{where}: turn {number}")
        for number, turn in enumerate(turns_data, start=1)
    )
    return Conversation(name=name, file=file, turns=turns, description=description)


def _parse_turn(item: object, where: str) -> Turn:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: expected a mapping starting with `user:`")
    _check_keys(item, TURN_KEYS, where)
    if "user" not in item:
        raise SpecError(f"{where}: `user:` is missing")
    user = _text(item["user"], f"{where}: user")
    bot = tuple(_parse_bot(item.get("bot"), where))
    db = tuple(_parse_db(item.get("db"), where))
    slots = item.get("slots", {})
    if not isinstance(slots, dict) or not all(isinstance(k, str) for k in slots):
        raise SpecError(f"{where}: `slots:` must be a mapping of slot name to value")
    intent = item.get("intent")
    if intent is not None:
        intent = _text(intent, f"{where}: intent").strip()
    active_loop = item.get("active_loop", _UNSET)
    if active_loop is not _UNSET and active_loop is not None:
        active_loop = _text(active_loop, f"{where}: active_loop").strip()
    return Turn(user, bot, db, dict(slots), intent, active_loop)


def _parse_bot(items: object, where: str) -> Iterable[BotCheck]:
    if items is None:
        return
    if not isinstance(items, list):
        raise SpecError(f"{where}: `bot:` must be a list like `- action: utter_greet`")
    for number, item in enumerate(items, start=1):
        here = f"{where}: bot item {number}"
        if not isinstance(item, dict) or len(item) != 1:
            raise SpecError(
                f"{here}: each item is one `key: value` ({', '.join(BOT_KEYS)}), got {item!r}"
            )
        ((key, value),) = item.items()
        if key not in BOT_KEYS:
            raise _unknown_key(key, BOT_KEYS, here)
        text = _text(value, f"{here}: {key}")
        if key in ("action", "not_action"):
            text = text.strip()  # names; texts keep their spaces ("Done: " vs "Done")
        if key == "regex":
            try:
                re.compile(text)
            except re.error as error:
                raise SpecError(f"{here}: invalid regex {text!r}: {error}") from None
        yield BotCheck(key, text)


def _parse_db(items: object, where: str) -> Iterable[DbCheck]:
    if items is None:
        return
    if not isinstance(items, list):
        raise SpecError(f"{where}: `db:` must be a list of `- sql: ...` checks")
    for number, item in enumerate(items, start=1):
        here = f"{where}: db check {number}"
        if not isinstance(item, dict):
            raise SpecError(f"{here}: expected a mapping with `sql:` and `rows:` or `count:`")
        _check_keys(item, DB_KEYS, here)
        if "sql" not in item:
            raise SpecError(f"{here}: `sql:` is missing")
        sql = _text(item["sql"], f"{here}: sql")
        if ("rows" in item) == ("count" in item):
            raise SpecError(f"{here}: give exactly one of `rows:` and `count:`")
        if not re.match(r"\s*(select|with)\b", sql, re.IGNORECASE):
            raise SpecError(f"{here}: only SELECT queries are allowed in checks")
        if "count" in item:
            count = item["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise SpecError(f"{here}: `count:` must be a whole number >= 0")
            yield DbCheck(sql, count=count)
            continue
        rows = item["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise SpecError(f'{here}: `rows:` must be a list of rows, e.g. [["Basic 5GB"]]')
        yield DbCheck(sql, rows=rows)


def load_file(path: Path) -> list[Conversation]:
    """Read and validate one conversation file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SpecError(f"{_short(path)}: not valid YAML: {error}") from None
    return parse_conversations(data, path)


def find_files(paths: Sequence[Path]) -> list[Path]:
    """The .yml/.yaml files named, or found in the folders named, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yml"), *path.glob("*.yaml")]))
        elif path.exists():
            files.append(path)
        else:
            raise SpecError(f"{path}: no such file or folder")
    return files


# --------------------------------------------------------------------------------------------
# Names checked against the domain, so a typo fails before any server starts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Names a conversation may refer to: actions/responses/forms, intents, slots."""

    actions: frozenset[str]
    intents: frozenset[str]
    slots: frozenset[str]
    forms: frozenset[str]
    retrieval_intents: frozenset[str]

    @classmethod
    def from_domain(cls, path: Path = DOMAIN_PATH) -> Vocabulary:
        from rasa.shared.core.constants import DEFAULT_ACTION_NAMES
        from rasa.shared.core.domain import Domain

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            domain = Domain.load(str(path))
        forms = frozenset(domain.form_names)
        actions = frozenset(
            {*domain.action_names_or_texts, *DEFAULT_ACTION_NAMES, *forms, *domain.responses}
        )
        retrieval = {"faq"} | set(domain.retrieval_intents)
        return cls(
            actions=actions,
            intents=frozenset({*domain.intents, "nlu_fallback"}),
            slots=frozenset({*(slot.name for slot in domain.slots), "requested_slot"}),
            forms=forms,
            retrieval_intents=frozenset(retrieval),
        )

    def problems(self, conversation: Conversation) -> list[str]:
        """Names in `conversation` that the domain does not know."""
        found: list[str] = []
        for number, turn in enumerate(conversation.turns, start=1):
            where = f"{conversation.label}: turn {number}"
            for check in turn.bot:
                if check.kind in ("action", "not_action") and not self._is_action(check.value):
                    found.append(
                        f"{where}: unknown action or response {check.value!r}"
                        + _hint(check.value, self.actions)
                    )
            if turn.intent and not self._is_intent(turn.intent):
                found.append(
                    f"{where}: unknown intent {turn.intent!r}" + _hint(turn.intent, self.intents)
                )
            for slot in turn.slots:
                if slot not in self.slots:
                    found.append(f"{where}: unknown slot {slot!r}" + _hint(slot, self.slots))
            loop = turn.active_loop
            if loop is not _UNSET and loop is not None and loop not in self.forms:
                found.append(f"{where}: unknown form {loop!r}" + _hint(loop, self.forms))
        return found

    def _is_action(self, name: str) -> bool:
        if name in self.actions:
            return True
        # Retrieval actions (utter_faq) and responses (utter_faq/<key>) live with their NLU
        # data, not in domain.yml.
        match = re.fullmatch(r"utter_(\w+)(/\w+)?", name)
        return bool(match and match.group(1) in self.retrieval_intents)

    def _is_intent(self, name: str) -> bool:
        if name in self.intents:
            return True
        base, _, key = name.partition("/")
        return bool(key) and base in self.retrieval_intents


def _hint(value: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_all(paths: Sequence[Path], vocabulary: Vocabulary | None = None) -> list[Conversation]:
    """Load and validate every file; all problems are reported together in one SpecError."""
    conversations: list[Conversation] = []
    problems: list[str] = []
    for file in find_files(paths):
        try:
            conversations.extend(load_file(file))
        except SpecError as error:
            problems.append(str(error))
    if vocabulary is not None:
        for conversation in conversations:
            problems.extend(vocabulary.problems(conversation))
    if problems:
        raise SpecError("\n".join(problems))
    if not conversations:
        raise SpecError(f"No conversations found in {', '.join(map(str, paths))}")
    return conversations


# --------------------------------------------------------------------------------------------
# What happened in a turn, and the checks
# --------------------------------------------------------------------------------------------


@dataclass
class TurnResult:
    """What one customer message led to."""

    user: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # actions run, in order
    responses: list[str] = field(default_factory=list)  # responses sent (utter_action)
    intent: str | None = None
    full_intent: str | None = None  # faq/<key> for retrieval intents
    confidence: float | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: str | None = None
    seconds: float = 0.0
    error: str | None = None

    def ran(self) -> list[str]:
        """Actions and responses of the turn, without the quiet bookkeeping actions."""
        names = [a for a in self.actions if a not in QUIET_ACTIONS]
        return names + [r for r in self.responses if r not in names]

    def texts(self) -> list[str]:
        """What the customer saw, one string per message (button titles included)."""
        return [message_text(m) for m in self.messages]


def message_text(message: dict[str, Any]) -> str:
    """The visible text of one REST message: its text, then its button titles."""
    parts = [str(message.get("text") or "")]
    for button in message.get("buttons") or []:
        if isinstance(button, dict) and button.get("title"):
            parts.append(f"[{button['title']}]")
    return " ".join(p for p in parts if p)


def apply_events(result: TurnResult, events: Iterable[dict[str, Any]]) -> None:
    """Fill `result` with the actions, responses and intent found in this turn's events."""
    for event in events:
        kind = event.get("event")
        if kind == "action" and event.get("name"):
            result.actions.append(str(event["name"]))
        elif kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                result.responses.append(str(utter))
        elif kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            result.intent = intent.get("name")
            result.full_intent = intent.get("full_retrieval_intent_name") or result.intent
            result.confidence = intent.get("confidence")


def _contains(haystack: str, needle: str) -> bool:
    return needle.casefold() in haystack.casefold()


def check_bot(check: BotCheck, result: TurnResult) -> str | None:
    """None when `check` holds for the turn, else why not."""
    texts = result.texts()
    ran = result.actions + result.responses
    shown = ", ".join(result.ran()) or "(nothing)"
    if check.kind == "action":
        if check.value in ran:
            return None
        return f"expected {check.value!r} to run in this turn; ran: {shown}"
    if check.kind == "not_action":
        if check.value not in ran:
            return None
        return f"expected {check.value!r} NOT to run in this turn; ran: {shown}"
    if check.kind == "text":
        if any(_contains(t, check.value) for t in texts):
            return None
        return f"expected a bot message containing {check.value!r}"
    if check.kind == "not_text":
        hits = [t for t in texts if _contains(t, check.value)]
        if not hits:
            return None
        return f"expected no bot message containing {check.value!r}; found: {hits[0]!r}"
    if check.kind == "regex":
        pattern = re.compile(check.value, re.IGNORECASE)
        if any(pattern.search(t) for t in texts):
            return None
        return f"expected a bot message matching /{check.value}/"
    raise ValueError(f"unknown check kind {check.kind!r}")


def values_equal(expected: Any, actual: Any) -> bool:
    """Compare a value written in YAML with one read from a database or a slot.

    Numbers compare by value (1, 1.0, "1.00" and Decimal("1.00") are equal, so money works on
    SQLite and PostgreSQL alike); dates compare by their ISO text; booleans match 1/0.
    """
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return _as_bool(expected) is not None and _as_bool(expected) == _as_bool(actual)
    expected_number, actual_number = _as_number(expected), _as_number(actual)
    if expected_number is not None and actual_number is not None:
        return expected_number == actual_number
    if isinstance(actual, datetime | date):
        text = str(expected)
        forms = {actual.isoformat(), str(actual)}
        if isinstance(actual, datetime):
            forms.add(actual.isoformat(sep=" "))
        return text in forms
    if isinstance(expected, datetime | date):
        return values_equal(actual, expected)
    return str(expected) == str(actual)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def rows_equal(expected: list[list[Any]], actual: list[tuple[Any, ...]]) -> bool:
    """Exact rows, in order, each value compared with `values_equal`."""
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual, strict=True):
        if len(want) != len(got):
            return False
        if not all(values_equal(w, g) for w, g in zip(want, got, strict=True)):
            return False
    return True


def check_db(check: DbCheck, query: Callable[[str], list[tuple[Any, ...]]]) -> str | None:
    """None when the query gives the expected rows (or row count), else why not."""
    try:
        rows = query(check.sql)
    except Exception as error:  # a broken query is a failed expectation, with the reason
        return f"db check failed to run: {error.__class__.__name__}: {error}\n    sql: {check.sql}"
    if check.count is not None:
        if len(rows) == check.count:
            return None
        return (
            f"db check expected {check.count} row(s), got {len(rows)}: {_rows(rows)}\n"
            f"    sql: {check.sql}"
        )
    assert check.rows is not None
    if rows_equal(check.rows, rows):
        return None
    return f"db check expected rows {check.rows}, got {_rows(rows)}\n    sql: {check.sql}"


def _rows(rows: list[tuple[Any, ...]], limit: int = 10) -> str:
    shown = [list(_plain(v) for v in row) for row in rows[:limit]]
    more = f" ... ({len(rows)} rows)" if len(rows) > limit else ""
    return f"{shown}{more}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_replies(result: TurnResult, tally: reply_guard.Tally | None = None) -> list[str]:
    """The reply guard on every bot message of the turn: one failure per broken message."""
    tally = tally if tally is not None else reply_guard.Tally()
    failures = []
    for message in result.messages:
        defects = tally.check(message)
        if defects:
            failures.append(
                f"reply guard: {'; '.join(defects)} in the bot message {message_text(message)!r}"
            )
    return failures


def check_turn(
    turn: Turn,
    result: TurnResult,
    query: Callable[[str], list[tuple[Any, ...]]],
    tally: reply_guard.Tally | None = None,
) -> list[str]:
    """Every failed expectation of one turn (empty when the turn passed); the reply guard's
    findings come first, as they hold for every turn of every conversation."""
    if result.error:
        return [f"the turn failed: {result.error}"]
    failures = check_replies(result, tally)
    if turn.intent is not None and turn.intent not in (result.intent, result.full_intent):
        failures.append(
            f"expected intent {turn.intent!r}, NLU gave {result.full_intent!r}"
            f" ({_confidence(result.confidence)})"
        )
    for bot_check in turn.bot:
        problem = check_bot(bot_check, result)
        if problem:
            failures.append(problem)
    for slot, expected in turn.slots.items():
        actual = result.slots.get(slot)
        if not values_equal(expected, actual):
            failures.append(f"expected slot {slot} = {expected!r}, it is {actual!r}")
    if turn.active_loop is not _UNSET and turn.active_loop != result.active_loop:
        failures.append(f"expected active form {turn.active_loop!r}, it is {result.active_loop!r}")
    for db_check in turn.db:
        problem = check_db(db_check, query)
        if problem:
            failures.append(problem)
    return failures


def _confidence(value: float | None) -> str:
    return "no confidence" if value is None else f"confidence {value:.2f}"


def format_transcript(results: Sequence[TurnResult]) -> str:
    """The conversation so far: what the customer said, what ran, what the bot said."""
    lines: list[str] = []
    for number, result in enumerate(results, start=1):
        lines.append(f"  [{number}] user: {result.user}")
        if result.intent:
            lines.append(f"      intent: {result.full_intent} ({_confidence(result.confidence)})")
        lines.append(f"      ran: {', '.join(result.ran()) or '(nothing)'}")
        for text in result.texts():
            first, *rest = text.splitlines() or [""]
            lines.append(f"      bot: {first}")
            lines.extend(f"           {line}" for line in rest)
        if result.error:
            lines.append(f"      error: {result.error}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Running conversations against live servers
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """The result of one conversation."""

    conversation: Conversation
    passed: bool
    seconds: float
    transcript: list[TurnResult]
    failed_turn: int | None = None  # 1-based
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        if self.passed:
            return f"PASS  {self.conversation.label}  ({self.seconds:.1f}s)"
        turn = self.conversation.turns[(self.failed_turn or 1) - 1]
        lines = [
            f"FAIL  {self.conversation.label}",
            f"  at turn {self.failed_turn}: user: {turn.user!r}",
            *(f"  - {failure}" for failure in self.failures),
            "  transcript so far:",
            format_transcript(self.transcript),
        ]
        return "\n".join(lines)


class ConversationRunner:
    """Runs conversations one by one against live servers, each from a fresh seed."""

    def __init__(self, rasa_url: str, database_url: str, tracker_store_url: str) -> None:
        from qa.live import AccountDatabase, TrackerEvents

        self.rasa_url = rasa_url
        self.database = AccountDatabase(database_url)
        self.events = TrackerEvents(tracker_store_url)
        self._slot_domain: Any = None
        self.guard = reply_guard.Tally()  # every bot message of every conversation run

    def close(self) -> None:
        self.database.close()
        self.events.close()

    def run(self, conversation: Conversation) -> Outcome:
        """Reset the account database, then play the turns, stopping at the first failure."""
        from qa.live import post_message

        started = time.monotonic()
        self.database.reset()
        sender = f"qa-{_slug(conversation.name)}-{uuid.uuid4().hex[:8]}"
        history: list[dict[str, Any]] = []
        last_id = 0
        transcript: list[TurnResult] = []
        for number, turn in enumerate(conversation.turns, start=1):
            result = TurnResult(user=turn.user)
            turn_started = time.monotonic()
            try:
                result.messages = post_message(self.rasa_url, sender, turn.user)
            except Exception as error:  # HTTP errors, timeouts: the turn failed, say how
                result.error = f"{error.__class__.__name__}: {error}"
            result.seconds = time.monotonic() - turn_started
            new_events = self.events.since(sender, last_id)
            if new_events:
                last_id = new_events[-1][0]
            events = [event for _, event in new_events]
            apply_events(result, events)
            history.extend(events)
            result.slots, result.active_loop = self._state(sender, history)
            transcript.append(result)
            failures = check_turn(turn, result, lambda sql: self._query(sql, sender), self.guard)
            if failures:
                return Outcome(
                    conversation,
                    False,
                    time.monotonic() - started,
                    transcript,
                    failed_turn=number,
                    failures=failures,
                )
        return Outcome(conversation, True, time.monotonic() - started, transcript)

    def _query(self, sql: str, sender: str) -> list[tuple[Any, ...]]:
        """Run a check's SQL; `:conversation_id` is bound to this conversation's id."""
        params = {"conversation_id": sender} if ":conversation_id" in sql else None
        return self.database.query(sql, params)

    def _state(self, sender: str, events: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
        """Slots and active form after `events`, replayed with Rasa's own tracker."""
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.trackers import DialogueStateTracker

        if self._slot_domain is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._slot_domain = Domain.load(str(DOMAIN_PATH))
        tracker = DialogueStateTracker.from_dict(sender, events, self._slot_domain.slots)
        return tracker.current_slot_values(), tracker.active_loop_name


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "conversation"


def run_all(
    conversations: Sequence[Conversation],
    runner: ConversationRunner,
    *,
    fail_fast: bool = False,
    verbose: bool = False,
    out: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run every conversation, print PASS/FAIL (with transcripts on failure), return outcomes."""
    outcomes: list[Outcome] = []
    for conversation in conversations:
        outcome = runner.run(conversation)
        outcomes.append(outcome)
        out(outcome.report())
        if verbose and outcome.passed:
            out(format_transcript(outcome.transcript))
        if fail_fast and not outcome.passed:
            break
    return outcomes


def summary(
    outcomes: Sequence[Outcome],
    total: int,
    seconds: float,
    guard: reply_guard.Tally | None = None,
) -> str:
    passed = sum(o.passed for o in outcomes)
    failed = [o for o in outcomes if not o.passed]
    lines = [f"\n{passed} passed, {len(failed)} failed, {total} conversations in {seconds:.0f}s"]
    if guard is not None:
        lines.append(guard.summary())
    if len(outcomes) < total:
        lines.append(f"({total - len(outcomes)} not run: --fail-fast)")
    lines.extend(f"  failed: {o.conversation.label} (turn {o.failed_turn})" for o in failed)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.conversations",
        description="Run the YAML conversation tests against the real servers.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[DEFAULT_DIR],
        help="conversation files or folders (default: tests/conversations)",
    )  # fmt: skip
    parser.add_argument("-k", dest="select", help="only conversations whose label contains this")
    parser.add_argument("--check", action="store_true", help="validate the files, start nothing")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--model", type=Path, help="model to serve (default: the project model)")
    parser.add_argument(
        "--credentials", type=Path,
        help="credentials file for the Rasa server (default: the project's credentials.yml)",
    )  # fmt: skip
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    parser.add_argument("-v", "--verbose", action="store_true", help="transcripts of passes too")
    parser.add_argument(
        "--rasa-url",
        help="use servers already running (REST channel here) instead of starting them; "
        "needs --database-url and --tracker-store-url, and RESETS that account database",
    )
    parser.add_argument("--database-url", help="account database of --rasa-url")
    parser.add_argument("--tracker-store-url", help="tracker store of --rasa-url")
    args = parser.parse_args(argv)

    try:
        conversations = load_all(args.paths, Vocabulary.from_domain())
    except SpecError as error:
        print(f"Invalid conversation file(s):\n{error}", file=sys.stderr)
        return 2
    if args.select:
        conversations = [c for c in conversations if args.select.lower() in c.label.lower()]
        if not conversations:
            print(f"No conversation matches -k {args.select!r}", file=sys.stderr)
            return 2
    files = len({c.file for c in conversations})
    print(f"{len(conversations)} conversations in {files} file(s)")
    if args.check:
        return 0

    started = time.monotonic()
    if args.rasa_url:
        if not (args.database_url and args.tracker_store_url):
            parser.error("--rasa-url needs --database-url and --tracker-store-url")
        runner = ConversationRunner(args.rasa_url, args.database_url, args.tracker_store_url)
        try:
            outcomes = run_all(
                conversations, runner, fail_fast=args.fail_fast, verbose=args.verbose
            )
        finally:
            runner.close()
        guard = runner.guard
    else:
        from qa.live import scratch_stack

        # The servers started here send a broken reply unchanged (and log it) instead of
        # cleaning it, so the guard's check on each reply above sees what went wrong.
        os.environ[reply_guard.ENV_VAR] = reply_guard.STRICT
        print(f"Starting the action server and the Rasa server ({args.backend})...")
        with scratch_stack(args.backend, model=args.model, credentials=args.credentials) as (
            endpoints,
            _stack,
        ):
            print(f"Servers up in {time.monotonic() - started:.0f}s")
            runner = ConversationRunner(
                endpoints.rasa_url, endpoints.database_url, endpoints.tracker_store_url
            )
            try:
                outcomes = run_all(
                    conversations, runner, fail_fast=args.fail_fast, verbose=args.verbose
                )
            finally:
                runner.close()
            guard = runner.guard
    print(summary(outcomes, len(conversations), time.monotonic() - started, guard))
    return 0 if all(o.passed for o in outcomes) and len(outcomes) == len(conversations) else 1


if __name__ == "__main__":
    sys.exit(main())
