"""Storing an inbound Twilio webhook: the first thing that happens to every patient text.
The gateway stores them in batches through bot/webhook/intake.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db.models import InboundMessage

REQUIRED_FIELDS = ("MessageSid", "From")
# Twilio's own limits, so a webhook that passes is one the database always takes: a Body is at
# most 1,600 characters, a message carries at most 10 media, numbers and SIDs fit their columns.
MAX_BODY_CHARS = 1600
MAX_NUM_MEDIA = 10
MAX_SID_CHARS = 64      # inbound_messages.message_sid
MAX_NUMBER_CHARS = 32   # inbound_messages.from_number / to_number


class MalformedWebhook(ValueError):
    """The webhook lacks a field Twilio always sends, or a field is out of Twilio's limits; the
    message names the field (never its value, which may be personal data)."""


@dataclass(frozen=True)
class StoredInbound:
    id: int
    from_number: str
    is_new: bool


def row_for(form: Mapping[str, str]) -> dict[str, Any]:
    """The inbound_messages row for a webhook's fields, exactly as sent (numbers trimmed).
    Raises MalformedWebhook naming the field that is missing or wrong. Every field is checked here,
    before the webhook joins a batch, so that one bad webhook never fails its neighbours' commit."""
    for name, value in form.items():
        # PostgreSQL refuses NUL in text, SQLite would store it and cut it off in C code later.
        if "\x00" in name or "\x00" in value:
            raise MalformedWebhook(f"form field {name.replace(chr(0), '?')[:40]} contains a NUL character")
    for field in REQUIRED_FIELDS:
        if not (form.get(field) or "").strip():
            raise MalformedWebhook(f"missing form field {field}")
    sid = form["MessageSid"].strip()
    if len(sid) > MAX_SID_CHARS:
        raise MalformedWebhook(f"form field MessageSid is too long (at most {MAX_SID_CHARS} characters)")
    from_number, to_number = form["From"].strip(), (form.get("To") or "").strip()
    for field, number in (("From", from_number), ("To", to_number)):
        if len(number) > MAX_NUMBER_CHARS:
            raise MalformedWebhook(f"form field {field} is too long (at most {MAX_NUMBER_CHARS} characters)")
    body = form.get("Body") or ""
    if len(body) > MAX_BODY_CHARS:
        raise MalformedWebhook(f"form field Body is too long (at most {MAX_BODY_CHARS} characters)")
    raw_media = (form.get("NumMedia") or "0").strip()
    # ASCII digits only: int() would also take "+3", "1_0" and other scripts' digits.
    if not (raw_media.isascii() and raw_media.isdigit()):
        raise MalformedWebhook("form field NumMedia is not a number")
    significant = raw_media.lstrip("0") or "0"  # length first: no int() of a 10,000-digit string
    if len(significant) > 2 or int(significant) > MAX_NUM_MEDIA:
        raise MalformedWebhook(f"form field NumMedia is out of range (0 to {MAX_NUM_MEDIA})")
    return {"message_sid": sid, "from_number": from_number, "to_number": to_number, "body": body,
            "num_media": int(significant)}


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
        id_, number = inserted.get(sid) or earlier[sid]
        stored.append(StoredInbound(id_, number, is_new=sid in inserted and sid not in seen))
        seen.add(sid)
    return stored
