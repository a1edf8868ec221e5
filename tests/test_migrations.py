"""The Alembic migrations build exactly the schema the models describe, and go down and up again."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from bot.config import PROJECT_ROOT
from bot.db.engine import get_engine
from bot.db.models import Base


def _config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def test_migrations_match_the_models(database_url):
    with get_engine(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(database_url):
    get_engine(database_url).dispose()
    command.downgrade(_config(database_url), "base")
    command.upgrade(_config(database_url), "head")
    with get_engine(database_url).connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None


def test_existing_users_stay_coordinators_and_administrators_stay_administrators(database_url):
    """0009 turns users.role (coordinator | admin) into is_coordinator, is_clinician and is_admin."""
    from sqlalchemy import text

    get_engine(database_url).dispose()
    command.downgrade(_config(database_url), "0008")
    with get_engine(database_url).begin() as connection:
        for name, role in (("cora", "coordinator"), ("ada", "admin")):
            connection.execute(text("INSERT INTO users (username, password_hash, role, must_change_password, "
                                    "created_at) VALUES (:name, 'x', :role, false, CURRENT_TIMESTAMP)"),
                               {"name": name, "role": role})
    get_engine(database_url).dispose()
    command.upgrade(_config(database_url), "head")
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(text("SELECT username, is_coordinator, is_clinician, is_admin FROM users "
                                       "ORDER BY username")).all()
    assert [tuple(row) for row in rows] == [("ada", True, False, True), ("cora", True, False, False)]
    get_engine(database_url).dispose()
    command.downgrade(_config(database_url), "0008")  # and back: the administrator is one again
    with get_engine(database_url).connect() as connection:
        assert dict(connection.execute(text("SELECT username, role FROM users")).all()) == \
            {"ada": "admin", "cora": "coordinator"}
    get_engine(database_url).dispose()
    command.upgrade(_config(database_url), "head")
