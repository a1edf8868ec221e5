"""When outreach may start a conversation: the practice's send window, in its own time zone, never
on an English bank holiday. Replies to a patient who has just texted are not held to it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping
from zoneinfo import ZoneInfo

from bot.clock import is_bank_holiday

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:30",
           "timezone": "Europe/London"}


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]
    start: dt.time
    end: dt.time
    zone: ZoneInfo

    @classmethod
    def from_config(cls, config: Mapping | None) -> "SendWindow":
        """Build from a practice script's `send_window` (defaults: Mon-Fri 09:00-17:30 Europe/London)."""
        merged = {**DEFAULT, **(config or {})}
        try:
            days = frozenset(DAY_NAMES.index(str(d).lower()[:3]) for d in merged["days"])
            start, end = dt.time.fromisoformat(str(merged["start"])), dt.time.fromisoformat(str(merged["end"]))
            zone = ZoneInfo(str(merged["timezone"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"send_window: {exc}") from None
        if not start < end:
            raise ValueError("send_window: start must be before end")
        return cls(days, start, end, zone)

    def is_open(self, now_utc: dt.datetime) -> bool:
        """True when `now_utc` (naive UTC or aware) falls inside the window, local clock changes included."""
        if now_utc.tzinfo is None:
            now_utc = now_utc.replace(tzinfo=dt.timezone.utc)
        local = now_utc.astimezone(self.zone)
        return (local.weekday() in self.days and not is_bank_holiday(local.date())
                and self.start <= local.time() < self.end)
