"""Database engine and sessions. One engine per database URL per process."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import PROJECT_ROOT

_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """Return the shared engine for `url`, creating the SQLite folder when needed."""
    if url not in _engines:
        _engines[url] = new_engine(url)
    return _engines[url]


def new_engine(url: str, **pool: int) -> Engine:
    """A new engine for `url` with the project's settings; `pool` may set pool_size, max_overflow."""
    # Up to 30 connections: the background process alone runs 8 turn and 4 sender threads besides
    # its loops, and a waiting thread must never be what slows a patient's turn.
    kwargs: dict = {"future": True, "pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, **pool}
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
    return engine


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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the gateway, action server and CLI read while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextlib.contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back if it raises."""
    session = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)()
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
