"""Tests for bot.patients.dates.parse_date_of_birth, all relative to a fixed today of 22 November 2026."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.patients.dates import parse_date_of_birth

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "text, expected",
    [
        # Numeric, UK order: day before month.
        ("12/03/1961", date(1961, 3, 12)),
        ("12.3.61", date(1961, 3, 12)),
        ("12-03-1961", date(1961, 3, 12)),
        ("12 03 1961", date(1961, 3, 12)),
        ("12  3  61", date(1961, 3, 12)),
        ("4/7/1958", date(1958, 7, 4)),
        ("12031961", date(1961, 3, 12)),
        ("29/02/1960", date(1960, 2, 29)),
        # ISO: a four-digit year first means year-month-day.
        ("1961-03-12", date(1961, 3, 12)),
        ("1961/03/12", date(1961, 3, 12)),
        # Month names, full or abbreviated, any case, ordinals, commas and "of".
        ("12 March 1961", date(1961, 3, 12)),
        ("12th march 61", date(1961, 3, 12)),
        ("12 mar 1961", date(1961, 3, 12)),
        ("12 MAR 1961", date(1961, 3, 12)),
        ("12-Mar-1961", date(1961, 3, 12)),
        ("12 March, 1961", date(1961, 3, 12)),
        ("March 12 1961", date(1961, 3, 12)),
        ("march 12th, 1961", date(1961, 3, 12)),
        ("1st of Jan 1949", date(1949, 1, 1)),
        ("22nd of February 1950", date(1950, 2, 22)),
        ("3rd June 1970", date(1970, 6, 3)),
        ("30 sept 1955", date(1955, 9, 30)),
        ("Sept 30th 1955", date(1955, 9, 30)),
        ("Sep. 30, 1955", date(1955, 9, 30)),
        ("1 September 1955", date(1955, 9, 1)),
        # Text around the date.
        ("my dob is 4/7/1958", date(1958, 7, 4)),
        ("born on 1 jan 1949 thanks", date(1949, 1, 1)),
        ("its 03/11/1972", date(1972, 11, 3)),
        ("Hi, it's 12.3.61.", date(1961, 3, 12)),
        ("DOB:12/03/1961", date(1961, 3, 12)),
        ("\U0001F382 12/03/1961", date(1961, 3, 12)),
        # The same date written twice is still one date.
        ("12/03/1961 i.e. 12 March 1961", date(1961, 3, 12)),
        # Two-digit years: this century unless that is in the future.
        ("12/03/05", date(2005, 3, 12)),
        ("22/11/26", date(2026, 11, 22)),
        ("23/11/26", date(1926, 11, 23)),
        ("1/12/26", date(1926, 12, 1)),
        ("12/03/27", date(1927, 3, 12)),
        ("1 Jan 00", date(2000, 1, 1)),
        # Boundaries: today, and exactly 120 years ago, are allowed.
        ("22/11/2026", date(2026, 11, 22)),
        ("22/11/1906", date(1906, 11, 22)),
    ],
)
def test_accepts(text, expected):
    assert parse_date_of_birth(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Impossible dates.
        "31/02/1961",
        "00/01/1960",
        "13/13/1960",
        "29/02/1961",
        "12/00/1961",
        "31 April 1961",
        "29/02/25",
        # In the future, or more than 120 years ago.
        "23/11/2026",
        "01/01/2027",
        "1 Jan 2030",
        "21/11/1906",
        "01/01/1900",
        # Missing parts.
        "March 1961",
        "12/03",
        "1961",
        "12 March",
        "March 12",
        # Forms we do not accept.
        "120361",
        "121961",
        "12/03/961",
        "12/03-1961",
        "112/03/1961",
        "1/12/03/1961",
        "12 Mar 10:30",
        "12 Marc 1961",
        # Two or more different dates.
        "12/03/1961 or 13/03/1961",
        "born 12 March 1961, moved 1 jan 1970",
        "3 March 12 1961",
        "12/03/1961 31/02/1961",
        # Nothing like a date.
        "",
        "   ",
        "yes",
        "\U0001F382\U0001F389\U0001F60A",
        "x" * 1600,
        "9/" * 800,
        "12/" * 533,
        "1234567890" * 160,
        "call me on 07700 900123",
        "call me on 07700 12 03 61",
        "12 12 12 12 12",
        "<html><body><p class='a'>Hello</p><script>alert(1)</script></body></html>",
    ],
)
def test_rejects(text):
    assert parse_date_of_birth(text, TODAY) is None


@given(st.dates(min_value=date(1906, 11, 23), max_value=TODAY))
def test_common_formats_round_trip(d):
    texts = [f"{d.day}/{d.month}/{d.year}", f"{d:%d %B %Y}", f"{d:%Y-%m-%d}"]
    if d.year >= 1927:
        texts.append(f"{d.day} {d:%b} {d:%y}")
    for text in texts:
        assert parse_date_of_birth(text, TODAY) == d, text


@given(st.text())
def test_never_raises(text):
    result = parse_date_of_birth(text, TODAY)
    assert result is None or isinstance(result, date)
