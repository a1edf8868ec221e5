"""The database: engine.py (engines, sessions, SQLite pragmas and pooling, PostgreSQL) and models.py
(the tables, their statuses as str-Enums). Alembic migrations live in migrations/ at the top."""
