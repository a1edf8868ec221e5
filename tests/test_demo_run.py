"""`make run` (devkit/demo.py) is a demo: it adds a patient and resets an admin of every practice, so it
must never touch a database other than its own file."""
from __future__ import annotations

import psycopg2

from devkit import demo
from tests.conftest import PG_SERVER


def _tables(url: str) -> int:
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return cursor.fetchone()[0]
    finally:
        connection.close()


def test_the_demo_refuses_any_database_but_its_own(monkeypatch, capsys, database_url):
    before = _tables(database_url) if database_url.startswith("postgresql") else None
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert demo.main() == 2
    err = capsys.readouterr().err
    assert "make run uses only its own demo database" in err and "unset DATABASE_URL" in err
    other = database_url.split(":///")[-1] if database_url.startswith("sqlite") else database_url.rsplit("/", 1)[-1]
    assert other not in err     # names the demo file, not the other database
    if before is not None:
        assert _tables(database_url) == before
    assert PG_SERVER  # the PostgreSQL case really ran against the service
