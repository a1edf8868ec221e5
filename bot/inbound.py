"""Storing an inbound Twilio webhook: the first thing that happens to every patient text.
The gateway stores them in batches through bot/intake.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import InboundMessage

REQUIRED_FIELDS = ("MessageSid", "From")


class MalformedWebhook(ValueError):
    """The webhook lacks a field Twilio always sends; the message names it."""


@dataclass(frozen=True)
class StoredInbound:
    id: int
    from_number: str
    is_new: bool


def row_for(form: Mapping[str, str]) -> dict[str, Any]:
    """The inbound_messages row for a webhook's fields, exactly as sent (numbers trimmed).
    Raises MalformedWebhook naming the field that is missing or wrong."""
    for field in REQUIRED_FIELDS:
        if not (form.get(field) or "").strip():
            raise MalformedWebhook(f"missing form field {field}")
    sid = form["MessageSid"].strip()
    if len(sid) > 64:
        raise MalformedWebhook("form field MessageSid is too long")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise MalformedWebhook("form field NumMedia is not a number") from None
    return {"message_sid": sid, "from_number": form["From"].strip()[:32],
            "to_number": (form.get("To") or "").strip()[:32], "body": form.get("Body") or "",
            "num_media": num_media}


def store(session: Session, form: Mapping[str, str]) -> StoredInbound:
    """Store a webhook's message exactly as sent. A repeated MessageSid returns the first copy."""
    return store_many(session, [form])[0]


def store_many(session: Session, forms: Sequence[Mapping[str, str]]) -> list[StoredInbound]:
    """Store several webhooks in the session's transaction, in order. A MessageSid already stored
    (earlier, in this batch, or by another process at the same moment) is kept once: its later
    copies return the first one with is_new False."""
    rows = [row_for(form) for form in forms]
    table = InboundMessage.__table__
    inserted: dict[str, tuple[int, str]] = {}  # MessageSid -> (id, from_number) of rows added now
    if session.get_bind().dialect.name == "postgresql":
        # One round trip for the whole batch; the rows it added come back.
        statement = (postgresql.insert(table).values(rows).on_conflict_do_nothing(index_elements=["message_sid"])
                     .returning(table.c.id, table.c.message_sid, table.c.from_number))
        inserted = {sid: (id_, number) for id_, sid, number in session.execute(statement)}
    else:  # SQLite: in-process, so a statement per row costs no round trip
        for row in rows:
            if row["message_sid"] not in inserted:
                result = session.execute(sqlite.insert(table).values(**row).on_conflict_do_nothing(
                    index_elements=["message_sid"]))
                if result.rowcount == 1:
                    inserted[row["message_sid"]] = (result.inserted_primary_key[0], row["from_number"])
    missing = {row["message_sid"] for row in rows} - inserted.keys()
    earlier = {sid: (id_, number) for id_, sid, number in session.execute(
        select(table.c.id, table.c.message_sid, table.c.from_number).where(table.c.message_sid.in_(missing)))
    } if missing else {}
    stored, seen = [], set()
    for row in rows:
        sid = row["message_sid"]
        stored.append(StoredInbound(*(inserted.get(sid) or earlier[sid]), is_new=sid in inserted and sid not in seen))
        seen.add(sid)
    return stored
