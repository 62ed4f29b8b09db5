"""Engines, sessions and migrations for the catalog. Nothing connects at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import KhosoError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


READING = "khoso_reading"


def _sqlite_begin(conn: sa.Connection) -> None:
    """SQLite transactions take the write lock at BEGIN: two writers that both read the audit
    log's last hash would otherwise fork the chain (and the second fail at commit). A reading
    transaction (``Catalog.reading``) takes none: in WAL mode it runs beside the writer."""
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READING) else
                         "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class Catalog:
    """The catalog database: one engine and its session factory, passed to whoever needs it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READING: True}),
                                          expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self.sessions() as s, s.begin():
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not queue behind the write lock
        (every ``session`` takes it at BEGIN), so API reads run side by side. Writing in it is
        a bug: the write would wait for the lock with a stale snapshot and fail."""
        with self.read_sessions() as s, s.begin():
            yield s
            if s.new or s.dirty or s.deleted:
                raise RuntimeError("a reading transaction may not write")

    def ping(self) -> str:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                version = conn.execute(
                    sa.text("SELECT version_num FROM alembic_version")
                ).scalar()
        except sa.exc.SQLAlchemyError as exc:
            raise KhosoError("DB001", reason=str(exc.__cause__ or exc).splitlines()[0]) from exc
        return version or ""

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.url, self.engine), revision)

    def downgrade(self, revision: str) -> None:
        command.downgrade(alembic_config(self.url, self.engine), revision)

    def dispose(self) -> None:
        self.engine.dispose()


def head_revision() -> str:
    """The newest migration of this code: what ``Catalog.ping`` answers once upgraded."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg
