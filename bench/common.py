"""What the benchmark scripts share: the patients and texts they use, a Twilio-compatible fake that
timestamps arrivals, percentiles, and a description of the machine. Not a test."""
from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from devkit.fake_twilio import FakeTwilio  # noqa: E402
from bot.practice_script.loader import script_for  # noqa: E402

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token"
PRACTICE_ODS = "Y00001"
DOB = dt.date(1961, 3, 12)
FIRST_NAME = "Alex"
NUMBER_PREFIX = "+447700900"  # Ofcom's drama range: no real person is ever texted
FIRST_NUMBER = 100            # 000-099 left alone (the example practice texts from +447700900001)
SEND_RATE_PER_SECOND = "1000"  # the send-rate limit must not be what is measured
SENDER_POLL_SECONDS = "0.05"

SCRIPT = script_for(PROJECT_ROOT / "practices", PRACTICE_ODS)
PRACTICE_NUMBER = SCRIPT.sender or "+447700900001"

# Turn 1 confirms identity (support_info + offer_chat); then texts that keep the stage at "offered"
# and produce exactly one reply each (see stories/rules.yml: later, who is this, thanks). Repeated
# "not understood" is avoided on purpose: twice hands the conversation over to a person.
IDENTITY_TURN = ("12/03/1961", ("support_info", "offer_chat"))
OFFER_TURNS = [("maybe later", ("later",)), ("who is this?", ("who_is_this",)), ("thanks", ("welcome",))]


def plan(turn_index: int) -> tuple[str, tuple[str, ...]]:
    """The text for a conversation's n-th turn (0-based) and the script messages it must produce."""
    return IDENTITY_TURN if turn_index == 0 else OFFER_TURNS[(turn_index - 1) % len(OFFER_TURNS)]


def say(message: str) -> str:
    return SCRIPT.render(message, first_name=FIRST_NAME)


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class TurnError(RuntimeError):
    """A turn did not give the replies it must give; the conversation stops there."""


class TimedFakeTwilio(FakeTwilio):
    """FakeTwilio that stamps each accepted outbound message with time.perf_counter() on arrival."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arrived = threading.Condition()
        self._arrivals: dict[str, list[tuple[float, str]]] = defaultdict(list)

    def _create_message(self, form: dict[str, str]) -> dict[str, Any]:
        arrived_at = time.perf_counter()  # the request has reached the fake
        message = super()._create_message(form)  # raises (and records nothing) if refused
        with self._arrived:
            self._arrivals[message["to"]].append((arrived_at, message["body"]))
            self._arrived.notify_all()
        return message

    def wait_arrivals(self, to: str, count: int, timeout: float) -> list[tuple[float, str]]:
        """Block until at least `count` messages to `to` arrived; return (time, body) of all of them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._arrivals[to]) >= count, timeout=timeout):
                got = [body[:50] for _, body in self._arrivals[to]]
                raise TurnError(f"timed out after {timeout:.0f} s waiting for text {count} to {to}; got {got}")
            return list(self._arrivals[to])

    def arrivals_to(self, to: str) -> list[tuple[float, str]]:
        with self._arrived:
            return list(self._arrivals[to])

    def wait_for_any_extra(self, expected: dict[str, int], timeout: float) -> dict[str, int]:
        """Wait up to `timeout` for a text beyond the expected count; return {number: extra texts}."""
        def extra() -> dict[str, int]:
            return {n: len(self._arrivals[n]) - c for n, c in expected.items() if len(self._arrivals[n]) > c}
        with self._arrived:
            self._arrived.wait_for(lambda: bool(extra()), timeout=timeout)
            return extra()

    def counts(self) -> dict[str, int]:
        """How many texts reached each number so far."""
        with self._arrived:
            return {to: len(a) for to, a in self._arrivals.items()}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": sum(values) / len(values), "p50": percentile(values, 50),
            "p95": percentile(values, 95), "p99": percentile(values, 99), "max": max(values)}


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    total_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            total_kb = int(line.split()[1])
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "memory_gb": round(total_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "rasa": version("rasa"),
            "load_average": [round(x, 2) for x in os.getloadavg()], "date": dt.date.today().isoformat()}


def fmt(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"
