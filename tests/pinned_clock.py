"""The suite's pinned clock: every test runs at a chosen instant, never at the real time.

`pytest --clock=2026-12-25T10:30` (London wall-clock time, or an ISO time with an offset) chooses
the instant; the default is a working Thursday morning inside every send window. `make test`
runs the unit tests again at the instants in the Makefile's CLOCK_INSTANTS.

- A unit test starts at exactly that instant and its clock ticks on from there (time-machine).
- Processes that tests start (the gateway, the background process, the action server, the CLI)
  get OUTREACH_CLOCK_SHIFT_SECONDS (bot/common/clock.py), so they read the same time as the test
  that started them. Tests that share a whole running deployment (marked e2e) share one timeline
  with it, which starts at the instant when the test session starts.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from typing import Optional

import time_machine

from bot.common.clock import LONDON, SHIFT_VARIABLE

DEFAULT_INSTANT = "2026-12-03T10:30"   # a Thursday, 10:30 in London: a working day, inside the send window


def parse_instant(text: str) -> dt.datetime:
    """An aware instant from ISO text; a time without an offset is London wall-clock time."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--clock: {text!r} is not an ISO date and time such as 2026-12-25T10:30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment


class PinnedClock:
    """One instant for the whole run; the session timeline starts there, each unit test too."""

    def __init__(self, instant: dt.datetime):
        self.instant = instant
        self._session: Optional[time_machine.travel] = None
        self._session_shift = ""

    def _shift_from_now(self) -> str:
        # Seconds from the real clock to the pinned one, for child processes (bot/common/clock.py).
        return repr(self.instant.timestamp() - time.time())

    def start_session(self) -> None:
        self._session_shift = self._shift_from_now()
        self._session = time_machine.travel(self.instant, tick=True)
        self._session.start()
        os.environ[SHIFT_VARIABLE] = self._session_shift

    def stop_session(self) -> None:
        if self._session is not None:
            self._session.stop()
        os.environ.pop(SHIFT_VARIABLE, None)

    def start_test(self) -> time_machine.travel:
        """Put the clock back at the instant for one test (and for the processes it starts)."""
        traveller = time_machine.travel(self.instant, tick=True)
        os.environ[SHIFT_VARIABLE] = self._shift_from_now()
        traveller.start()
        return traveller

    def end_test(self, traveller: time_machine.travel) -> None:
        traveller.stop()
        os.environ[SHIFT_VARIABLE] = self._session_shift
