"""The database layer keeps patients' details out of other users' reach and out of error logs."""
from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from sqlalchemy.exc import IntegrityError

from bot.db import new_engine, session_scope
from bot.models import Patient
from tests.conftest import add_conversation


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "new" / "outreach.db"
    engine = new_engine(f"sqlite:///{path}")
    with engine.connect():
        pass
    engine.dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_database_error_does_not_carry_the_rows_personal_data(database_url):
    add_conversation(database_url)   # a practice and a patient
    with session_scope(database_url) as session:
        practice_id = session.query(Patient).one().practice_id
    with pytest.raises(IntegrityError) as raised:
        with session_scope(database_url) as session:
            # The same mobile twice in one practice: refused by the unique key.
            session.add(Patient(practice_id=practice_id, first_name="Wilhelmina", last_name="Secret",
                                date_of_birth=dt.date(1950, 1, 1), mobile="+447700900123",
                                diagnosis_date=dt.date(2026, 11, 1)))
    text = str(raised.value)
    # The SQL parameters (every column of the row) are hidden. PostgreSQL's own DETAIL line still
    # names the duplicated key's values: a known limit (README, issue 12 note).
    assert "Wilhelmina" not in text and "Secret" not in text and "1950-01-01" not in text
    assert "hidden due to hide_parameters" in text
