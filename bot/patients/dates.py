"""Understand a date of birth that a UK patient has texted to us.

Patients write their date of birth in many ways: "12/03/1961", "12.3.61", "12031961",
"1961-03-12", "12th March 61", "march 12th, 1961", "1st of Jan 1949", often with other words
around it. Numeric dates are read in UK order, day before month, unless they start with a
four-digit year (ISO order, year-month-day).

The parser is deliberately cautious, because a wrong date of birth could match the wrong
patient record: it answers None rather than guess. So it rejects impossible dates, dates in the
future, dates more than 120 years ago, dates missing a part, and messages in which it sees more
than one date. Anything shaped like a date counts as "a date" for that last rule, even an
impossible one such as 31/02/1961, since the patient may have meant either.
"""
from __future__ import annotations

import calendar
import datetime
import re
from typing import Dict, Optional

# How far back a date of birth may plausibly be.
MAX_AGE_YEARS = 120

# English month names, written out rather than taken from `calendar.month_name`, which follows
# the process locale and would stop matching English texts under, say, a French LC_TIME.
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)


def _month_words() -> Dict[str, int]:
    """Every spelling of a month we accept: the full name, its first three letters, and "sept"."""
    words = {}
    for number, name in enumerate(_MONTH_NAMES, start=1):
        words[name] = number
        words[name[:3]] = number
    words["sept"] = 9
    return words


_MONTH_WORDS = _month_words()

# Longest spelling first, so that "september" is not cut short to "sep".
_MONTH = "|".join(sorted(_MONTH_WORDS, key=len, reverse=True))

# All patterns use re.ASCII: without it, IGNORECASE lets characters such as the long s ("ſ")
# match "s", and [0-9]/\s stay ASCII so that int() only ever sees plain digits.
_FLAGS = re.VERBOSE | re.IGNORECASE | re.ASCII

# A numeric date must stand on its own: not glued to more digits ("112/03/1961") nor be one part
# of a longer chain of numbers ("1/12/03/1961", "12 March 10:30").
_LEFT = r"(?<![0-9])(?<![0-9][/.:\-])"
_RIGHT = r"(?![0-9])(?![/.:\-][0-9])"

# A two- or four-digit year; never three, and never a bare run of digits cut in two.
_YEAR = r"(?P<year>[0-9]{4}|[0-9]{2})"

# A month name must be a whole word ("mar" but not the "mar" in "summary"), maybe with a full stop.
_MONTH_WORD = rf"(?<![a-z])(?P<month>{_MONTH})(?![a-z])\.?"

# "12th", "1st", "22nd", "3rd": the suffix is not checked against the number.
_DAY_NUMBER = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"

# Optional space with at most one comma, dash, slash or dot: "12 March", "12-Mar", "March, 1961".
# Written as space, then optionally punctuation and more space, so that it cannot backtrack badly.
_GAP = r"\s*(?:[,/.\-]\s*)?"

# 12/03/1961, 12.3.61, 12-03-1961: day, month, year with the same separator twice, so that
# mixtures such as "12/03-1961" (more likely two numbers) are not read as a date.
_NUMERIC_DMY = re.compile(
    rf"""
    {_LEFT}
    (?P<day>[0-9]{{1,2}})
    (?P<sep>[/.\-])
    (?P<month>[0-9]{{1,2}})
    (?P=sep)
    {_YEAR}
    {_RIGHT}
    """,
    _FLAGS,
)

# 12 03 1961, 12 3 61: spaces only, and not part of a longer chain of spaced numbers, which is
# more likely a phone number ("07700 12 03 61") than a date.
_SPACED_DMY = re.compile(
    rf"""
    {_LEFT}(?<![0-9][ ])
    (?P<day>[0-9]{{1,2}})
    [ ]+
    (?P<month>[0-9]{{1,2}})
    [ ]+
    {_YEAR}
    {_RIGHT}(?![ ]+[0-9])
    """,
    _FLAGS,
)

# 1961-03-12, 1961/03/12: a four-digit year first means ISO order, year-month-day.
_NUMERIC_YMD = re.compile(
    rf"""
    {_LEFT}
    (?P<year>[0-9]{{4}})
    (?P<sep>[/.\-])
    (?P<month>[0-9]{{1,2}})
    (?P=sep)
    (?P<day>[0-9]{{1,2}})
    {_RIGHT}
    """,
    _FLAGS,
)

# 12031961: the only run of digits we accept, since DDMMYYYY is the one form that cannot be
# mistaken for something else; six digits ("120361") could as well be a reference number.
_DIGITS_DDMMYYYY = re.compile(
    rf"""
    {_LEFT}
    (?P<day>[0-9]{{2}})
    (?P<month>[0-9]{{2}})
    (?P<year>[0-9]{{4}})
    {_RIGHT}
    """,
    _FLAGS,
)

# 12 March 1961, 12th march 61, 1st of Jan 1949, 12-Mar-1961, 30 sept, 1955.
_NAMED_DMY = re.compile(
    rf"""
    {_LEFT}
    {_DAY_NUMBER}
    (?:\s+of\s+|{_GAP})
    {_MONTH_WORD}
    {_GAP}
    {_YEAR}
    {_RIGHT}
    """,
    _FLAGS,
)

# March 12 1961, march 12th, 1961, Sept 30th 1955. Day and year must be kept apart by a space or
# comma, or "Mar 121961" could be read either as 12 March 1961 or as 1 March 21961.
_NAMED_MDY = re.compile(
    rf"""
    {_MONTH_WORD}
    \s*,?\s*
    {_DAY_NUMBER}
    (?:\s*,\s*|\s+)
    {_YEAR}
    {_RIGHT}
    """,
    _FLAGS,
)

_PATTERNS = (_NUMERIC_DMY, _SPACED_DMY, _NUMERIC_YMD, _DIGITS_DDMMYYYY, _NAMED_DMY, _NAMED_MDY)


def parse_date_of_birth(text: str, today: datetime.date) -> Optional[datetime.date]:
    """Return the date of birth written in `text`, or None when there is no single unambiguous full date."""
    if not isinstance(text, str):
        return None
    # None stands for a date-shaped match that is not a real date (31/02/1961).
    found = {_date_from_match(match, today) for pattern in _PATTERNS for match in pattern.finditer(text)}
    if len(found) != 1:
        return None
    (date,) = found
    if date is None or not _earliest_birth_date(today) <= date <= today:
        return None
    return date


def _date_from_match(match: re.Match, today: datetime.date) -> Optional[datetime.date]:
    """Turn a matched day, month and year into a date, or None if there is no such day."""
    day = int(match["day"])
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else _MONTH_WORDS[month_text.lower()]
    year_text = match["year"]
    if len(year_text) == 4:
        return _safe_date(int(year_text), month, day)
    return _date_with_two_digit_year(int(year_text), month, day, today)


def _date_with_two_digit_year(yy: int, month: int, day: int, today: datetime.date) -> Optional[datetime.date]:
    """Put a two-digit year in this century if that gives a date not in the future, else the last.

    With today in 2026: "61" is 1961, "05" is 2005, and "26" is 2026 up to today, 1926 after it.
    """
    century = today.year - today.year % 100
    if century + yy <= today.year:
        this_century = _safe_date(century + yy, month, day)
        if this_century is not None and this_century <= today:
            return this_century
    return _safe_date(century - 100 + yy, month, day)


def _safe_date(year: int, month: int, day: int) -> Optional[datetime.date]:
    """The date, or None when it does not exist (31 February, month 13, year 0)."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _earliest_birth_date(today: datetime.date) -> datetime.date:
    """The date exactly MAX_AGE_YEARS before today; a 29 February with no match becomes 1 March."""
    year = today.year - MAX_AGE_YEARS
    if year < datetime.MINYEAR:
        return datetime.date.min
    if (today.month, today.day) == (2, 29) and not calendar.isleap(year):
        return datetime.date(year, 3, 1)
    return today.replace(year=year)
