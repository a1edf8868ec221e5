"""The one clock, English time and the English bank holidays.

Every rule that depends on "now" (the send window, the 93-day cohort, the booking horizon, the QOF
year, session expiry...) reads it here, or takes it as an argument from a caller that did. That
gives the product one place where time can be pinned:

- in-process tests pin it with `time-machine` (tests/conftest.py), which moves what `utcnow()`
  reads;
- processes started by tests (the gateway, the background process, the action server) cannot be
  reached by `time-machine`, so they are given `OUTREACH_CLOCK_SHIFT_SECONDS`: every reading of
  this clock is moved by that many seconds. All processes started with the same value agree to the
  microsecond with the test that started them, because the shift is relative to the real clock,
  not to each process's start.

Stored times are naive UTC (the database columns carry no zone). Practices think in Europe/London
wall-clock time, so local times are converted with zoneinfo on their own date.
"""
from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
SHIFT_VARIABLE = "OUTREACH_CLOCK_SHIFT_SECONDS"


def _shift_from_environment() -> dt.timedelta:
    raw = os.environ.get(SHIFT_VARIABLE, "").strip()
    if not raw:
        return dt.timedelta(0)
    try:
        return dt.timedelta(seconds=float(raw))
    except (ValueError, OverflowError):
        raise ValueError(f"{SHIFT_VARIABLE}: {raw!r} is not a number of seconds") from None


_SHIFT = _shift_from_environment()


def utcnow() -> dt.datetime:
    """Now, as the naive UTC time the database stores."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + _SHIFT


def london_now(now_utc: Optional[dt.datetime] = None) -> dt.datetime:
    """Now (or `now_utc`, naive UTC) as an aware Europe/London time."""
    return to_london(now_utc if now_utc is not None else utcnow())


def london_today(now_utc: Optional[dt.datetime] = None) -> dt.date:
    """Today's date in England (not the machine's date: they differ near midnight in summer)."""
    return london_now(now_utc).date()


def to_london(utc_naive: dt.datetime) -> dt.datetime:
    """A naive UTC time (or an aware one) as an aware Europe/London time."""
    if utc_naive.tzinfo is None:
        utc_naive = utc_naive.replace(tzinfo=dt.timezone.utc)
    return utc_naive.astimezone(LONDON)


def london_to_utc(day: dt.date, clock: dt.time) -> Optional[dt.datetime]:
    """The naive UTC time of a London wall-clock time on a day. None when that time does not exist
    (it falls in the hour skipped when the clocks go forward). A time that happens twice (the hour
    repeated when the clocks go back) is taken the first time, in BST."""
    local = dt.datetime.combine(day, clock, tzinfo=LONDON)
    utc = local.astimezone(dt.timezone.utc)
    if utc.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # zoneinfo moved it: the wall clock never shows this time on this day
    return utc.replace(tzinfo=None)


def happens_twice(day: dt.date, clock: dt.time) -> bool:
    """True when London's wall clock shows `clock` twice on `day` (the night the clocks go back)."""
    first = dt.datetime.combine(day, clock, tzinfo=LONDON)
    return first.utcoffset() != first.replace(fold=1).utcoffset()


def london_day_start_utc(day: dt.date) -> dt.datetime:
    """Midnight at the start of a London day, as naive UTC (midnight always exists in London)."""
    return london_to_utc(day, dt.time(0, 0))  # type: ignore[return-value]


def is_bank_holiday(day: dt.date) -> bool:
    """An English bank holiday (from the `holidays` package: England's calendar, substitute days included)."""
    return day in _bank_holidays(day.year)


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)
