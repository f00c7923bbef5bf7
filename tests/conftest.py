"""Database fixtures: every DB test runs on SQLite AND PostgreSQL, real databases, no mocks.

- SQLite: a temporary file.
- PostgreSQL: TEST_POSTGRES_URL (default postgresql+psycopg2://postgres@127.0.0.1:5432/test),
  isolated in a fresh schema (`qc_test_<random>`, via libpq `options=-csearch_path=...`) that
  is dropped afterwards. PostgreSQL being unreachable FAILS the tests; only an explicitly
  empty `TEST_POSTGRES_URL=` leaves the PostgreSQL half out.

Databases are built with the Alembic migration (so the migration is what is tested) and then
seeded, once per backend. Each test gets a connection inside a transaction that is rolled
back afterwards, so every test starts from the freshly seeded data; `unit_of_work(connection)`
inside a test runs in a SAVEPOINT, so commit and rollback behave as they do in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

# Before anything imports TensorFlow: the kernels the model is trained with (Makefile), also
# when pytest is run directly rather than through `make`.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quickconnect.db.migrate import upgrade
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.seed import seed

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    # Same reasoning as make_engine: money is read back quantized to cents, so SQLite's
    # generic "Decimal via float" warning is noise (pytest resets make_engine's filter).
    config.addinivalue_line(
        "filterwarnings", r"ignore:Dialect sqlite\+pysqlite does \*not\* support Decimal"
    )


def postgres_base_url() -> str | None:
    """The PostgreSQL server for tests; None only when TEST_POSTGRES_URL is set empty."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    return url.strip() or None


BACKENDS = ["sqlite", "postgresql"] if postgres_base_url() else ["sqlite"]


def _with_search_path(base_url: str, schema: str) -> str:
    url = sa.engine.make_url(base_url)
    options = f"{url.query.get('options', '')} -csearch_path={schema}".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


@contextmanager
def scratch_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a new, empty database (SQLite file or PostgreSQL schema), removed afterwards."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "quickconnect.db"
        yield f"sqlite:///{path}"
        return
    base_url = postgres_base_url()
    assert base_url is not None
    schema = f"qc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        base_url, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {base_url}: {error}\n"
            "Start PostgreSQL, point TEST_POSTGRES_URL at one, or set TEST_POSTGRES_URL= "
            "(empty) to leave the PostgreSQL tests out on purpose.",
            pytrace=False,
        )
    try:
        yield _with_search_path(base_url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def build_database(url: str) -> None:
    """Migrate with Alembic, then seed: the same steps as `python -m quickconnect.seed`."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            seed(session)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated and seeded database shared by the whole run (tests roll back their work)."""
    with scratch_database(backend, tmp_path_factory) as url:
        build_database(url)
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            if outer.is_active:
                outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A Session inside the test's transaction, for calling services directly."""
    with Session(bind=connection, future=True) as session:
        yield session


@pytest.fixture
def scratch_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], AbstractContextManager[str]]:
    """`with scratch_db() as url:` gives an empty database of this test's backend."""
    return lambda: scratch_database(backend, tmp_path_factory)


@pytest.fixture(scope="module")
def scratch_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on a private migrated + seeded database, for tests that really commit."""
    with scratch_database(backend, tmp_path_factory) as url:
        build_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def conversation_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
