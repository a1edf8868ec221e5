"""The Alembic migrations build exactly the schema the models describe, and go down and up again."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from bot.config import PROJECT_ROOT
from bot.db import get_engine
from bot.models import Base


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
