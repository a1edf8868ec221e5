"""Logs without personal data: a formatter that hides the values PostgreSQL quotes back in its
error details.

`hide_parameters` (bot/db/engine.py) keeps the SQL parameters out of a logged database error, but the
server's own message can still quote a row: `DETAIL:  Key (phone)=(+447700900123) already exists.`
Every log line the outreach processes write goes through `PrivateFormatter`, which keeps the column
names (what a developer needs) and hides the values.
"""
from __future__ import annotations

import logging
import re

# "Key (phone)=(+44...)", "Key (a, b)=(x, y)"; "Failing row contains (...)" quotes a whole row.
_KEY_VALUES = re.compile(r"(Key \([^()]*\))=\((?:[^()]|\([^()]*\))*\)")
_FAILING_ROW = re.compile(r"(Failing row contains )\((?:[^()]|\([^()]*\))*\)")


def redact(text: str) -> str:
    """`text` with the values in database error details replaced by "(hidden)"."""
    text = _KEY_VALUES.sub(r"\1=(hidden)", text)
    return _FAILING_ROW.sub(r"\1(hidden)", text)


class PrivateFormatter(logging.Formatter):
    """A logging.Formatter whose whole output, tracebacks included, passes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def install(level: int = logging.INFO, fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s") -> None:
    """Configure the root logger with PrivateFormatter, and put it on every handler already there
    (Sanic's own loggers included), so no process logs a database detail's values."""
    logging.basicConfig(level=level, format=fmt)
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            current = handler.formatter
            handler.setFormatter(PrivateFormatter(current._fmt if current else fmt,  # type: ignore[attr-defined]
                                                  current.datefmt if current else None))
