"""Database engine and sessions. One engine per database URL per process."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator, Union

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import PROJECT_ROOT

_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """Return the shared engine for `url`, creating the SQLite folder when needed."""
    if url not in _engines:
        _engines[url] = new_engine(url)
    return _engines[url]


def new_engine(url: str, sqlite_writer: bool = False, **options: Any) -> Engine:
    """A new engine for `url` with the project's settings; `options` override create_engine's
    (pool_size, max_overflow, pool_pre_ping). `sqlite_writer`: see _begin_immediate."""
    # Up to 30 connections: the background process alone runs 8 turn and 4 sender threads besides
    # its loops, and a waiting thread must never be what slows a patient's turn.
    # hide_parameters: a logged database error must not carry the row's phone number or text.
    kwargs: dict = {"future": True, "pool_pre_ping": True, "pool_size": 10, "max_overflow": 20,
                    "hide_parameters": True, **options}
    _ensure_sqlite_folder(url)
    if url.startswith("sqlite"):
        # Threads in the gateway share the engine; SQLite waits up to 30 s for a lock.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if ":memory:" in url:
            kwargs = {k: v for k, v in kwargs.items() if k not in ("pool_size", "max_overflow")}
        else:
            # SQLAlchemy 1.4 opens a new SQLite connection for every session by default (NullPool);
            # reusing them saves the connect and its PRAGMAs on every transaction (gateway
            # profile under load: a tenth of the writer thread's time).
            kwargs["poolclass"] = QueuePool
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        if sqlite_writer:
            event.listen(engine, "connect", _no_implicit_begin)
            event.listen(engine, "begin", _begin_immediate)
    return engine


def is_outage(exc: BaseException) -> bool:
    """Whether an error from storing means the database is unreachable or too busy (try again later:
    spool the text) rather than a refusal of this data (IntegrityError, DataError, a value the
    driver cannot send: trying again would fail for ever, so it must never be spooled as an outage).
    OSError covers a network failure raised outside the driver."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, OSError))


def forget_engine(url: str) -> None:
    """Close the pooled connections to `url` and drop its engine (a database that is going away)."""
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # The database holds patients' details: created readable by its owner only (SQLite
            # would create it with the process's umask, usually readable by everyone).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the gateway, action server and CLI read while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    # Only when not yet in WAL (it is kept in the file): even a no-op change fails at once, without
    # waiting, while another process holds the write lock.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextlib.contextmanager
def session_scope(database: Union[str, Engine]) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back if it raises. `database` is a URL
    (its shared engine) or an engine of its own (the gateway's writer has one)."""
    engine = database if isinstance(database, Engine) else get_engine(database)
    session = sessionmaker(bind=engine, future=True, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(url: str) -> None:
    """Bring the database to the newest Alembic migration (creates it when empty)."""
    from alembic import command
    from alembic.config import Config

    _ensure_sqlite_folder(url)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def _no_implicit_begin(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions begin in _begin_immediate instead


def _begin_immediate(connection) -> None:
    """Begin every transaction holding SQLite's write lock, asking for it every 0.5 ms.

    For a latency-critical writer (the gateway's, bot/webhook/intake.py): SQLite's own busy handler sleeps
    1, 2, 5, 10, 15, 20, 25... ms between tries, so a writer that finds the lock taken for 3 ms
    waits 8 ms, and one taken for 20 ms waits up to 53. Once the lock is held nothing in the
    transaction waits again. Gives up, as the shared engines do, after 30 s."""
    raw = connection.connection.dbapi_connection
    deadline = time.monotonic() + 30
    while True:
        try:
            raw.execute("PRAGMA busy_timeout=0")
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("PRAGMA busy_timeout=30000")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc  # as SQLAlchemy raises
            time.sleep(0.0005)

