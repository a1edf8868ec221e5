"""Weekly hours of a practice, in its own time zone, never on an English bank holiday:

- the send window: when outreach may start a conversation (replies to a patient who has just
  texted are not held to it);
- the opening hours: when a person at the practice can act on a flag, which the safety-net texts
  tell the patient ("someone will contact you today" / "when we open at 8:00am on Monday").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping
from zoneinfo import ZoneInfo

from bot.common.clock import is_bank_holiday

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:30",
           "timezone": "Europe/London"}
OPENING_DEFAULT = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:30",
                   "timezone": "Europe/London"}  # the core hours of an English GP practice


FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class HoursError(ValueError):
    """Hours that cannot be read. `field` is the setting (days, start, end, timezone; "" the whole)."""

    def __init__(self, name: str, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{name}: {field}: {problem}" if field else f"{name}: {problem}")


def _time_of(value: object, name: str, field: str) -> dt.time:
    if isinstance(value, int):  # YAML reads an unquoted 08:00 as a number of minutes
        raise HoursError(name, field, f"write the time in quotes, e.g. \"08:00\" (got {value!r})")
    text = str(value).strip()
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
        raise HoursError(name, field, f"{text!r} is not a time of day as HH:MM (24-hour), e.g. \"08:00\"")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]
    start: dt.time
    end: dt.time
    zone: ZoneInfo

    @classmethod
    def from_config(
        cls, config: Mapping | None, defaults: Mapping = DEFAULT, name: str = "send_window"
    ) -> "SendWindow":
        """Build from a practice script's `send_window` (defaults: Mon-Fri 09:00-17:30 Europe/London)
        or, with OPENING_DEFAULT and name "opening_hours", its opening hours (Mon-Fri 08:00-18:30).
        HoursError (a ValueError) names the setting that cannot be read."""
        if config is not None and not isinstance(config, Mapping):
            raise HoursError(name, "", "must be a mapping with days, start, end (and timezone)")
        for key in config or {}:
            if key not in defaults:
                raise HoursError(name, str(key), f"unknown setting (known: {', '.join(defaults)})")
        merged = {**defaults, **(config or {})}
        if not isinstance(merged["days"], (list, tuple)) or not merged["days"]:
            raise HoursError(name, "days", "days must be a list of day names such as [mon, tue, wed]")
        days = set()
        for day in merged["days"]:
            key = str(day).strip().lower()
            if key[:3] not in DAY_NAMES or key not in (key[:3], FULL_DAY_NAMES[DAY_NAMES.index(key[:3])]):
                raise HoursError(name, "days", f"{day!r} is not a day name (mon, tue, wed, thu, fri, sat, sun)")
            days.add(DAY_NAMES.index(key[:3]))
        start, end = _time_of(merged["start"], name, "start"), _time_of(merged["end"], name, "end")
        try:
            zone = ZoneInfo(str(merged["timezone"]))
        except (ValueError, KeyError, TypeError):
            raise HoursError(
                name, "timezone", f"{merged['timezone']!r} is not a time zone such as Europe/London"
            ) from None
        if not start < end:
            raise HoursError(name, "end", "start must be before end")
        return cls(frozenset(days), start, end, zone)

    def next_open(self, now_utc: dt.datetime) -> dt.datetime:
        """The next moment (local, aware) the hours begin after `now_utc`; `now_utc` itself if open."""
        if self.is_open(now_utc):
            return _aware(now_utc).astimezone(self.zone)
        local = _aware(now_utc).astimezone(self.zone)
        for offset in range(0, 15):  # two weeks always hold a working day, bank holidays included
            day = local.date() + dt.timedelta(days=offset)
            opening = dt.datetime.combine(day, self.start, tzinfo=self.zone)
            if day.weekday() in self.days and not is_bank_holiday(day) and opening > local:
                return opening
        raise ValueError("no opening time within two weeks")

    def when_contact(self, now_utc: dt.datetime) -> str:
        """How a safety-net text says when a person will be in touch: "today" while open, otherwise
        "when we open at 8:00am on Monday" (or "tomorrow")."""
        if self.is_open(now_utc):
            return "today"
        opening = self.next_open(now_utc)
        local_today = _aware(now_utc).astimezone(self.zone).date()
        clock = f"{opening:%I:%M%p}".lstrip("0").lower()
        if opening.date() == local_today:
            return f"when we open at {clock} today"
        if opening.date() == local_today + dt.timedelta(days=1):
            return f"when we open at {clock} tomorrow"
        return f"when we open at {clock} on {opening:%A}"

    def hours_on(self, day: dt.date) -> "tuple[dt.datetime, dt.datetime] | None":
        """(opening, closing) of a local day as naive UTC, or None on a day the hours do not cover."""
        if day.weekday() not in self.days or is_bank_holiday(day):
            return None
        opening = dt.datetime.combine(day, self.start, tzinfo=self.zone)
        closing = dt.datetime.combine(day, self.end, tzinfo=self.zone)
        return _naive_utc(opening), _naive_utc(closing)

    def add_open_time(self, start_utc: dt.datetime, minutes: float) -> dt.datetime:
        """The moment (naive UTC) `minutes` of open time after `start_utc`: only time inside the hours
        counts ("2 working hours" from 17:30 on a Friday in Mon-Fri 08:00-18:30 ends 09:00 on Monday)."""
        start, left = _naive_utc(start_utc), dt.timedelta(minutes=minutes)
        day = _aware(start).astimezone(self.zone).date()
        for offset in range(0, 400):
            hours = self.hours_on(day + dt.timedelta(days=offset))
            if hours is None:
                continue
            begin = max(hours[0], start)
            if begin >= hours[1]:
                continue
            if begin + left <= hours[1]:
                return begin + left
            left -= hours[1] - begin
        raise ValueError("the hours are never open long enough")

    def closing_after(self, start_utc: dt.datetime) -> dt.datetime:
        """When (naive UTC) the working day of `start_utc` ends: today's closing while open or before
        opening, otherwise the next working day's ("the end of the working day")."""
        start = _naive_utc(start_utc)
        day = _aware(start).astimezone(self.zone).date()
        for offset in range(0, 15):
            hours = self.hours_on(day + dt.timedelta(days=offset))
            if hours is not None and start < hours[1]:
                return hours[1]
        raise ValueError("no closing time within two weeks")

    def is_open(self, now_utc: dt.datetime) -> bool:
        """True when `now_utc` (naive UTC or aware) falls inside the window, local clock changes included."""
        if now_utc.tzinfo is None:
            now_utc = now_utc.replace(tzinfo=dt.timezone.utc)
        local = now_utc.astimezone(self.zone)
        return (local.weekday() in self.days and not is_bank_holiday(local.date())
                and self.start <= local.time() < self.end)


def _aware(moment: dt.datetime) -> dt.datetime:
    """Stored times are naive UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """Naive UTC, as the database stores times."""
    return _aware(moment).astimezone(dt.timezone.utc).replace(tzinfo=None)
