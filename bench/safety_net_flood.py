"""How long a safety-net text waits when the practice number is flooded by texts from unknown numbers.

Run from the project root (it is not a test):

    .venv/bin/python bench/safety_net_flood.py [--texts 1000] [--rate 1] [--database-url URL] [--json FILE]

It starts the SMS gateway and the background process (processor and sender) as subprocesses on
loopback, with a Twilio-compatible fake in this process; no Rasa server (texts from unknown numbers
and red flags caught by the rules need none: the NLU second net is asked and found unreachable).
The send-rate limit is production's (1 text a second per number), so the queue really builds up.

1. `--texts` signed webhooks from numbers not on the register (800 different numbers, then repeats:
   one reply per number per day, so repeats are stored and not answered), half before the flag;
2. in the middle, a registered patient with no conversation texts "I want to kill myself";
3. measured: from the flag record being written (flags.created_at) to the safety-net text reaching
   the fake Twilio (target under 2 s), and from the patient's webhook to that arrival (this also
   holds the processor's own queue of texts waiting to be screened); how many routine texts went out
   between the flag and the safety net, and how many were still waiting.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from common import (ACCOUNT_SID, AUTH_TOKEN, NUMBER_PREFIX, PRACTICE_NUMBER, PRACTICE_ODS, PROJECT_ROOT,  # noqa: E402
                    TimedFakeTwilio, fmt, machine, progress)

from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.db.engine import session_scope, upgrade  # noqa: E402
from bot.db.models import Flag, OutboundMessage, Patient  # noqa: E402
from bot.patients.outreach import add_patient  # noqa: E402
from devkit.stack import Stack  # noqa: E402

PATIENT = NUMBER_PREFIX + "150"
UNKNOWN_FIRST, UNKNOWN_COUNT = 200, 800   # +447700900200 ... +447700900999
FLAG_TEXT = "I want to kill myself"
TARGET_SECONDS = 2.0


def unknown_numbers(texts: int) -> list[str]:
    return [f"{NUMBER_PREFIX}{UNKNOWN_FIRST + i % UNKNOWN_COUNT:03d}" for i in range(texts)]


def post_all(fake: TimedFakeTwilio, url: str, numbers: list[str], start: int) -> None:
    def post(item: tuple[int, str]) -> None:
        index, number = item
        status, _ = fake.send_inbound(url, number, PRACTICE_NUMBER, f"hello, who is this? ({start + index})")
        if status != 200:
            raise RuntimeError(f"webhook answered {status}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(post, enumerate(numbers)))


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    database_url = args.database_url or f"sqlite:///{workdir / 'outreach.db'}"
    upgrade(database_url)
    with session_scope(database_url) as session:
        if session.scalar(select(func.count(Patient.id))):
            raise SystemExit("give an empty database: the benchmark adds its own patient")
    fake = TimedFakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack = Stack(env={}, workdir=workdir)
    stack.env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                 "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
                 "PUBLIC_BASE_URL": stack.gateway_url, "SEND_RATE_PER_SECOND": str(args.rate),
                 "SENDER_POLL_SECONDS": "0.5", "PRACTICES_DIR": str(PROJECT_ROOT / "practices")}
    settings = Settings(database_url=database_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                        twilio_from_number=PRACTICE_NUMBER, twilio_messaging_service_sid="",
                        twilio_api_base_url=fake.base_url, public_base_url=stack.gateway_url,
                        rasa_url=stack.rasa_url, rasa_token=stack.rasa_token, practices_dir=PROJECT_ROOT / "practices",
                        send_rate_per_second=float(args.rate), sender_poll_seconds=0.5)
    today = dt.date.today()
    add_patient(settings, PRACTICE_ODS, "Robin", "Hill", dt.date(1958, 6, 2), PATIENT, today - dt.timedelta(days=20))
    try:
        stack.start_gateway()
        stack.start_processor()
        stack.wait_ready()
        inbound = stack.gateway_url + "/sms/inbound"
        numbers = unknown_numbers(args.texts)
        half = len(numbers) // 2
        progress(f"{half} texts from unknown numbers...")
        post_all(fake, inbound, numbers[:half], 0)
        routine_before = sum(n for to, n in fake.counts().items() if to != PATIENT)
        progress(f"the flag ({routine_before} routine replies sent so far at {args.rate}/s)...")
        wall0, perf0 = time.time(), time.perf_counter()
        posted = time.perf_counter()
        fake.send_inbound(inbound, PATIENT, PRACTICE_NUMBER, FLAG_TEXT)
        progress(f"{len(numbers) - half} more texts from unknown numbers...")
        post_all(fake, inbound, numbers[half:], half)
        (arrived, body), = fake.wait_arrivals(PATIENT, 1, timeout=600)
        with session_scope(database_url) as session:
            flag = session.scalar(select(Flag).where(Flag.patient_id.isnot(None)))
            pending = session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.status == "pending"))
            queued_replies = session.scalar(select(func.count(OutboundMessage.id)).where(
                OutboundMessage.purpose == "unknown_number"))
        flag_raised = perf0 + (flag.created_at.replace(tzinfo=dt.timezone.utc).timestamp() - wall0)
        sent_to_others = [t for to, arrivals in fake._arrivals.items() if to != PATIENT for t, _ in arrivals]
        return {
            "database": database_url.split(":", 1)[0], "texts": len(numbers), "rate_per_second": args.rate,
            "unknown_replies_queued": queued_replies, "pending_when_measured": pending,
            "flag_to_fake_seconds": arrived - flag_raised, "webhook_to_fake_seconds": arrived - posted,
            "routine_sent_between_flag_and_safety_net": sum(1 for t in sent_to_others if flag_raised < t < arrived),
            "safety_net_says_999": "999" in body, "target_met": arrived - flag_raised < TARGET_SECONDS,
        }
    finally:
        stack.stop()
        fake.stop()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=1000, help="texts from unknown numbers (default 1000)")
    parser.add_argument("--rate", type=float, default=1.0, help="SEND_RATE_PER_SECOND (default 1, production's)")
    parser.add_argument("--database-url", help="an empty database (e.g. PostgreSQL) instead of a temporary SQLite one")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks
    signal.signal(signal.SIGTERM, terminate)
    workdir = Path(tempfile.mkdtemp(prefix="can005-flood-"))
    try:
        figures = {**run(args, workdir), "machine": machine()}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{figures['database']}: {figures['texts']} texts from unknown numbers, "
          f"{figures['unknown_replies_queued']} replies queued at {fmt(figures['rate_per_second'], 0)}/s; "
          f"flag -> safety net at the fake {fmt(figures['flag_to_fake_seconds'], 3)} s "
          f"(target {TARGET_SECONDS:.0f} s: {'met' if figures['target_met'] else 'NOT met'}), "
          f"webhook -> fake {fmt(figures['webhook_to_fake_seconds'], 3)} s, "
          f"{figures['routine_sent_between_flag_and_safety_net']} routine text(s) in between, "
          f"{figures['pending_when_measured']} still waiting")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["safety_net_says_999"] else 1


if __name__ == "__main__":
    sys.exit(main())
