"""Storing an inbound Twilio webhook: the first thing that happens to every patient text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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


def store(session: Session, form: Mapping[str, str]) -> StoredInbound:
    """Store a webhook's message exactly as sent. A repeated MessageSid returns the first copy."""
    for field in REQUIRED_FIELDS:
        if not (form.get(field) or "").strip():
            raise MalformedWebhook(f"missing form field {field}")
    sid = form["MessageSid"].strip()
    if len(sid) > 64:
        raise MalformedWebhook("form field MessageSid is too long")
    existing = _by_sid(session, sid)
    if existing is not None:
        return StoredInbound(existing.id, existing.from_number, False)
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise MalformedWebhook("form field NumMedia is not a number") from None
    message = InboundMessage(message_sid=sid, from_number=form["From"].strip()[:32],
                             to_number=(form.get("To") or "").strip()[:32], body=form.get("Body") or "",
                             num_media=num_media)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same MessageSid arrived twice at once; the other copy won
        existing = _by_sid(session, sid)
        return StoredInbound(existing.id, existing.from_number, False)
    return StoredInbound(message.id, message.from_number, True)


def _by_sid(session: Session, sid: str) -> Optional[InboundMessage]:
    return session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
