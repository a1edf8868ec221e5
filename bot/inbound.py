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
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    insert = dialects[session.get_bind().dialect.name].insert
    new: set[int] = set()
    for i, row in enumerate(rows):
        statement = insert(InboundMessage.__table__).values(**row).on_conflict_do_nothing(
            index_elements=["message_sid"])
        if session.execute(statement).rowcount == 1:
            new.add(i)
    sids = {row["message_sid"] for row in rows}
    stored = {sid: (id_, number) for id_, sid, number in session.execute(
        select(InboundMessage.id, InboundMessage.message_sid, InboundMessage.from_number)
        .where(InboundMessage.message_sid.in_(sids)))}
    return [StoredInbound(*stored[row["message_sid"]], is_new=i in new) for i, row in enumerate(rows)]
