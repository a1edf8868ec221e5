"""Red-flag probes for bench/turn_latency.py: while the gateway phase's conversations run, patients
text a red flag one after another, and for each the probe measures

- webhook POST -> the safety-net text reaching the Twilio-compatible fake;
- webhook POST -> the flag at the top of a signed-in coordinator's inbox queue (`/inbox/queue.json`,
  polled every POLL_SECONDS, as the queue page itself polls, only faster).

Each flag is then resolved through the inbox (as a coordinator would), so the next one can reach
the top. Issue 14's targets: both at most 2 s at p95. Not a test.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import requests
from sqlalchemy import select

from bot.db.engine import session_scope
from bot.inbox import auth
from bot.db.models import Practice
from common import PRACTICE_NUMBER

POLL_SECONDS = 0.05
TIMEOUT = 30.0
GAP_SECONDS = 0.2
FLAG_TEXT = "I can't breathe properly and my chest feels really tight"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
TARGET_MS = 2000.0


@dataclass
class ProbeFigures:
    safety_net_ms: list[float] = field(default_factory=list)
    queue_top_ms: list[float] = field(default_factory=list)
    sent: int = 0                 # probes sent in all; only those sent under load are in the figures
    errors: list[str] = field(default_factory=list)


class FlagProbe:
    """Sends red flags from its own conversations, one at a time, while the load runs."""

    def __init__(self, bench: Any, practice_ods: str, count: int):
        self.bench, self.count = bench, count
        self.figures = ProbeFigures()
        self.http = requests.Session()
        self.base = bench.stack.gateway_url + "/inbox"
        self.conversations = bench.new_conversations(count)
        self._sign_in(practice_ods)

    def _sign_in(self, practice_ods: str) -> None:
        username, password = "bench-coordinator", secrets.token_urlsafe(24)
        with session_scope(self.bench.settings.database_url) as session:
            practice = session.scalar(select(Practice).where(Practice.ods_code == practice_ods))
            auth.create_user(session, username, password, [practice])
        page = self.http.get(self.base + "/login", timeout=TIMEOUT)
        answer = self.http.post(self.base + "/login", data={"username": username, "password": password,
                                                            "csrf": CSRF_FIELD.search(page.text).group(1)},
                                allow_redirects=False, timeout=TIMEOUT)
        if answer.status_code != 303:
            raise RuntimeError(f"the probe could not sign in to the inbox (HTTP {answer.status_code})")
        self.csrf = CSRF_FIELD.search(self.http.get(self.base + "/", timeout=TIMEOUT).text).group(1)

    def run(self, load_running: threading.Event) -> None:
        """Probe one conversation at a time while `load_running` is set, at most `count` probes."""
        for conversation in self.conversations:
            if not load_running.is_set():
                return
            try:
                self._probe(conversation, load_running)
            except Exception as exc:  # noqa: BLE001 - reported with the figures
                self.figures.errors.append(f"{conversation.number}: {type(exc).__name__}: {exc}")
            time.sleep(GAP_SECONDS)  # pacing between probes, not synchronisation

    def _probe(self, conversation: Any, load_running: threading.Event) -> None:
        fake, number = self.bench.fake, conversation.number
        on_top: dict[str, Any] = {}

        def watch_queue() -> None:
            deadline = time.perf_counter() + TIMEOUT
            while time.perf_counter() < deadline:
                items = self.http.get(self.base + "/queue.json", timeout=TIMEOUT).json()["items"]
                if items and items[0]["key"].startswith("flag:") and items[0]["url"].endswith(conversation.public_id):
                    on_top["at"], on_top["key"] = time.perf_counter(), items[0]["key"]
                    return
                time.sleep(POLL_SECONDS)  # the poll interval of the measurement

        started = time.perf_counter()
        watcher = threading.Thread(target=watch_queue, daemon=True)
        watcher.start()
        status, _ = fake.send_inbound(self.bench.inbound_url, number, PRACTICE_NUMBER, FLAG_TEXT)
        if status != 200:
            raise RuntimeError(f"webhook answered HTTP {status}")
        arrivals = fake.wait_arrivals(number, conversation.seen + 1, TIMEOUT)
        arrived_at, body = arrivals[conversation.seen]
        conversation.seen += 1
        if "999" not in body or "not monitored" not in body:
            raise RuntimeError(f"the first reply was not the 999 safety net: {body[:60]!r}")
        watcher.join(TIMEOUT)
        if "at" not in on_top:
            raise RuntimeError("the flag never reached the top of the queue")
        self.figures.sent += 1
        if load_running.is_set():  # the load was still running when both were seen
            self.figures.safety_net_ms.append((arrived_at - started) * 1000)
            self.figures.queue_top_ms.append((on_top["at"] - started) * 1000)
        flag_id = on_top["key"].split(":", 1)[1]
        done = self.http.post(f"{self.base}/flag/{flag_id}/resolve", data={"csrf": self.csrf},
                              allow_redirects=False, timeout=TIMEOUT)
        if done.status_code != 303:
            raise RuntimeError(f"resolving the flag answered HTTP {done.status_code}")


def targets(figures: ProbeFigures, summary: Any) -> dict[str, Optional[Any]]:
    net, top = summary(figures.safety_net_ms), summary(figures.queue_top_ms)
    return {"safety_net": net, "queue_top": top, "sent": figures.sent,
            "safety_net_p95_ok": None if net.get("p95") is None else net["p95"] <= TARGET_MS,
            "queue_top_p95_ok": None if top.get("p95") is None else top["p95"] <= TARGET_MS,
            "errors": figures.errors}
