"""The database layer keeps patients' details out of other users' reach and out of error logs."""
from __future__ import annotations

import datetime as dt
import os
import stat

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from bot.db.engine import new_engine, session_scope
from bot.common.log_privacy import PrivateFormatter, redact
from bot.db.models import Patient
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
    # The SQL parameters (every column of the row) are hidden.
    assert "Wilhelmina" not in text and "Secret" not in text and "1950-01-01" not in text
    assert "hidden due to hide_parameters" in text
    # PostgreSQL's own DETAIL line quotes the duplicated key's values; the log formatter every
    # outreach process uses hides them, and the traceback with them.
    record = logging.LogRecord("bot.webhook.intake", logging.ERROR, __file__, 1, "store failed", None,
                               (type(raised.value), raised.value, raised.tb))
    logged = PrivateFormatter("%(levelname)s %(message)s").format(record)
    assert "+447700900123" not in logged and "Wilhelmina" not in logged
    assert "IntegrityError" in logged
    if database_url.startswith("postgresql"):
        assert "Key (practice_id, mobile)=(hidden)" in logged


def test_the_log_formatter_hides_values_in_database_details_but_keeps_column_names():
    assert redact('DETAIL:  Key (phone)=(+447700900123) already exists.') == \
        "DETAIL:  Key (phone)=(hidden) already exists."
    assert redact("Failing row contains (12, +447700900123, Ann (Annie) Smith, null).") == \
        "Failing row contains (hidden)."
    assert redact("nothing to hide here") == "nothing to hide here"
