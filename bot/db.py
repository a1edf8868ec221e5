"""Database engine and sessions. One engine per database URL per process."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import PROJECT_ROOT

_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """Return the shared engine for `url`, creating the SQLite folder when needed."""
    if url not in _engines:
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        _ensure_sqlite_folder(url)
        if url.startswith("sqlite"):
            # Threads in the gateway share the engine; SQLite waits up to 30 s for a lock.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
    return _engines[url]


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


def writer_lock(url: str) -> "contextlib.AbstractContextManager":
    """A lock for one process's threads to take turns writing to `url`: a real lock on SQLite (one
    writer at a time anyway), none on PostgreSQL, whose row locks let writers run side by side."""
    return threading.Lock() if url.startswith("sqlite") else contextlib.nullcontext()


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
