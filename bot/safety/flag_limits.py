"""How long a flag or review may wait for a person, by severity, per practice (issue 14).

A practice script's `time_limits` sets each severity's limit in words (bot/practice_script/default_script.yml):

- "15 minutes" (or "1 hour"): clock time, the same at any hour;
- "2 working hours" (or "90 working minutes"): only time inside the practice's `opening_hours` counts;
- "end of working day": until the practice closes on the day the limit starts.

Defaults: urgent 15 minutes (ESCALATION_MINUTES when set), soon 2 working hours, review the end of
the working day. A flag raised while the practice is closed starts its limit at the next opening
(`PracticeLimits.starts`); until then it is "out of hours".
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Optional

from bot.sender.send_window import OPENING_DEFAULT, SendWindow


class Severity(str, Enum):
    """How soon a person must look at a flag (Flag.severity)."""
    URGENT = "urgent"
    SOON = "soon"
    REVIEW = "review"  # the safety screen could not rule a text out: read it the same working day

    @classmethod
    def of(cls, value: str) -> "Severity":
        """The severity of a stored flag; anything unknown is treated as soon, never dropped."""
        try:
            return cls(value)
        except ValueError:
            return cls.SOON


_AMOUNT = re.compile(r"^(\d{1,4})\s+(working\s+)?(minute|minutes|min|hour|hours)$")
_END_OF_DAY = re.compile(r"^end\s+of\s+(the\s+)?working\s+day$")


@dataclass(frozen=True)
class TimeLimit:
    """One severity's limit: `minutes` of clock time, of open time (`working`), or the end of the
    working day (`end_of_day`)."""
    minutes: float = 0.0
    working: bool = False
    end_of_day: bool = False

    @classmethod
    def parse(cls, text: object) -> "TimeLimit":
        """"15 minutes", "2 working hours", "end of working day"; ValueError saying what is accepted."""
        words = " ".join(str(text).lower().split()) if isinstance(text, (str, int)) else ""
        if _END_OF_DAY.match(words):
            return cls(end_of_day=True)
        match = _AMOUNT.match(words)
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"{text!r} is not a time limit: write e.g. \"15 minutes\", \"2 working hours\" "
                             "or \"end of working day\"")
        amount = int(match.group(1)) * (60 if match.group(3).startswith("hour") else 1)
        return cls(minutes=float(amount), working=bool(match.group(2)))

    def describe(self) -> str:
        """"within 15 min", "within 2 working hours", "by the end of the working day"."""
        if self.end_of_day:
            return "by the end of the working day"
        minutes = self.minutes
        if minutes >= 60 and minutes % 60 == 0:
            hours = int(minutes // 60)
            amount = f"{hours} {'working ' if self.working else ''}hour{'s' if hours != 1 else ''}"
        else:
            amount = f"{minutes:g} {'working ' if self.working else ''}min"
        return f"within {amount}"

    def due(self, start: dt.datetime, hours: SendWindow) -> dt.datetime:
        """The deadline (naive UTC) of a limit that starts at `start` (naive UTC)."""
        if self.end_of_day:
            return hours.closing_after(start)
        if self.working:
            return hours.add_open_time(start, self.minutes)
        return start + dt.timedelta(minutes=self.minutes)


DEFAULT_LIMITS: Mapping[Severity, TimeLimit] = {
    Severity.URGENT: TimeLimit(15.0),
    Severity.SOON: TimeLimit(120.0, working=True),
    Severity.REVIEW: TimeLimit(end_of_day=True),
}


@dataclass(frozen=True)
class PracticeLimits:
    """A practice's limits and opening hours: when each flag's limit starts and ends."""
    limits: Mapping[Severity, TimeLimit]
    hours: SendWindow

    @classmethod
    def default(cls, urgent: Optional[TimeLimit] = None) -> "PracticeLimits":
        """For a practice with no script: the default limits and core opening hours."""
        limits = dict(DEFAULT_LIMITS)
        if urgent is not None:
            limits[Severity.URGENT] = urgent
        return cls(limits, SendWindow.from_config(None, OPENING_DEFAULT, "opening_hours"))

    def limit(self, severity: str) -> TimeLimit:
        return self.limits[Severity.of(severity)]

    def out_of_hours(self, raised_at: dt.datetime) -> bool:
        """Raised while the practice was closed (evenings, weekends, bank holidays)."""
        return not self.hours.is_open(raised_at)

    def starts(self, raised_at: dt.datetime) -> dt.datetime:
        """When the limit of a flag raised at `raised_at` (naive UTC) starts: then, or at the next
        opening when the practice was closed."""
        if self.hours.is_open(raised_at):
            return raised_at
        return self.hours.next_open(raised_at).astimezone(dt.timezone.utc).replace(tzinfo=None)

    def due(self, severity: str, raised_at: dt.datetime) -> dt.datetime:
        """The deadline (naive UTC) for a person to pick up a flag raised at `raised_at`."""
        return self.limit(severity).due(self.starts(raised_at), self.hours)


@dataclass(frozen=True)
class EscalationContacts:
    """Who is texted about a flag (never with patient details): past its limit, the duty clinician;
    still unacknowledged `second_after` later, the second contact; raised while the practice is
    closed, the out-of-hours contact at once. Empty: nobody set."""
    duty_clinician: str = ""
    second_contact: str = ""
    second_after: TimeLimit = TimeLimit(15.0)
    out_of_hours: str = ""
