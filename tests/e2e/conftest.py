"""Real servers for end-to-end tests: action server + Rasa server over the REST channel.

Two stacks are started per test session:
- `sqlite_stack`: the embedded defaults (SQLite account DB and tracker store, in-memory locks);
- `postgres_stack`: production-like (PostgreSQL account DB and tracker store, Redis locks),
  in a database created for this run and dropped afterwards.
PostgreSQL or Redis being unreachable fails these tests (TEST_POSTGRES_URL= empty skips).

Both stacks run with the reply guard strict (`QC_REPLY_GUARD=strict`: a broken reply is sent
unchanged), and `post_message` checks every bot message it receives with the same guard: an
internal value in a reply (`None`, `nan`, an unfilled `{slot}`, a Python repr) fails the test
that got it. The session's summary says how many replies were checked.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.agent import Agent

from ops.stack import DEFAULT_MODEL, Stack, free_port
from quickconnect import reply_guard
from quickconnect.config import load_settings
from quickconnect.db.migrate import upgrade
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.seed import seed
from tests.e2e.replay import load_agent

DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

pytestmark = pytest.mark.e2e

# Every bot message an end-to-end test received, checked by the reply guard.
REPLIES = reply_guard.Tally()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPLIES.checked:
        terminalreporter.write_line(f"e2e {REPLIES.summary()}")


@pytest.fixture(scope="session")
def agent() -> Agent:
    """The trained model loaded in-process, as the Rasa server loads it (policy and NLU tests)."""
    return load_agent()


# The stacks trust X-Forwarded-For from loopback (TRUSTED_PROXIES), as production trusts its
# load balancer, so each test chat can come from an address of its own: verification counts
# failures per client address, and the tests' chats are not one client.
TEST_PROXIES = "127.0.0.0/8"


def fresh_client_address() -> str:
    """A fresh loopback address for one test client (only ever sent as a header value)."""
    n = uuid.uuid4().int
    return f"127.{n % 250 + 1}.{n // 250 % 250 + 1}.{n // 62500 % 250 + 1}"


@dataclass
class Chat:
    """One customer conversation over the REST channel, from a client address of its own."""

    stack: Stack
    sender: str
    client: str = field(default_factory=fresh_client_address)

    def say(self, message: object, timeout: float = 60) -> list[dict]:
        return post_message(
            self.stack,
            {"sender": self.sender, "message": message},
            timeout,
            headers={"X-Forwarded-For": self.client},
        )

    def text(self, message: object) -> str:
        """All bot texts of one turn joined, for assertions."""
        return "\n".join(m.get("text", "") for m in self.say(message))

    def verify(self, account: str, answer: str) -> str:
        """Go through verification in front of whatever task was asked for."""
        self.text(account)
        return self.text(answer)


def post_message(
    stack: Stack, body: object, timeout: float = 60, headers: dict[str, str] | None = None
) -> list[dict]:
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
        messages = json.loads(resp.read())
    sender = body.get("sender") if isinstance(body, dict) else None
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and (defects := REPLIES.check(message, str(sender))):
            pytest.fail(
                f"reply guard: {'; '.join(defects)} in the bot message {message.get('text')!r} "
                f"(conversation {sender})",
                pytrace=False,
            )
    return messages


def query(stack: Stack, sql: str, **params: object) -> list[tuple]:
    """Read the account database a stack uses (to check what a conversation changed)."""
    engine = make_engine(stack.settings.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _prepare_database(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            seed(session)
    finally:
        engine.dispose()


def _start(settings_overrides: dict, log_dir: Path) -> Stack:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` first")
    os.environ[reply_guard.ENV_VAR] = reply_guard.STRICT  # the servers inherit it
    settings = replace(
        load_settings(),
        rasa_host="127.0.0.1",
        rasa_port=free_port(),
        action_server_port=free_port(),
        trusted_proxies=TEST_PROXIES,
        # the web chat relay's pub/sub channel: its own per stack (shared Redis, other runs)
        live_relay_channel=f"qc-test-{uuid.uuid4().hex[:12]}",
        **settings_overrides,
    )
    stack = Stack(settings, log_dir=log_dir)
    stack.start(timeout=240)
    return stack


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("sqlite_stack")
    db_url = f"sqlite:///{root / 'quickconnect.db'}"
    _prepare_database(db_url)
    stack = _start(
        {
            "database_url": db_url,
            "tracker_store_url": f"sqlite:///{root / 'tracker.db'}",
            "lock_store_url": "",
        },
        root / "log",
    )
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    if not base_url:
        pytest.skip("TEST_POSTGRES_URL is set empty: PostgreSQL tests disabled on purpose")
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    name = f"qc_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {base_url}: {error}")
    db_url = sa.engine.make_url(base_url).set(database=name)
    url_text = db_url.render_as_string(hide_password=False)
    root = tmp_path_factory.mktemp("postgres_stack")
    stack: Stack | None = None
    try:
        _prepare_database(url_text)
        stack = _start(
            {
                "database_url": url_text,
                "tracker_store_url": url_text.replace("+psycopg2", ""),
                "lock_store_url": redis_url,
            },
            root / "log",
        )
        yield stack
    finally:
        if stack:
            stack.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """Each end-to-end conversation runs against both stacks."""
    return request.getfixturevalue(f"{request.param}_stack")


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return Chat(stack, f"test-{uuid.uuid4().hex[:12]}")
