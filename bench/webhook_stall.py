"""Webhook answer times around a database stall (issue 12). Not a test.

Run from the project root:

    .venv/bin/python bench/webhook_stall.py [--database sqlite|postgresql|both] [--stall-seconds 20]
                                            [--during-rate 2] [--after 200] [--clients 4] [--json FILE]

It starts the real gateway process (devkit.stack, gateway only) on a fresh database, then:

1. holds the database's write lock from another connection for --stall-seconds (SQLite: BEGIN
   IMMEDIATE; PostgreSQL: LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE), as a migration,
   a long transaction or a failover does;
2. meanwhile sends signed webhooks at --during-rate per second, each client giving up after 15 s
   as Twilio does, and reads /health once a second;
3. as soon as the lock is released, sends --after signed webhooks from --clients threads at once,
   and times each answer: the figure judged (p99) is of these, the webhooks arriving after the
   stall clears, which meet the backlog of the stall (queued texts, the spool replay);
4. checks every text was stored once (including those whose client gave up) and the spool emptied.

PostgreSQL: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) is the
server; a database of its own is created and dropped.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional

from common import ACCOUNT_SID, AUTH_TOKEN, PRACTICE_NUMBER, fmt, machine, progress, summary  # noqa: E402

import psycopg2  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bot.db.engine import forget_engine, session_scope, upgrade  # noqa: E402
from bot.db.models import InboundMessage  # noqa: E402
from devkit.stack import Stack  # noqa: E402

TWILIO_TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 s
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database of `kind`; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'outreach.db'}"
        upgrade(url)
        forget_engine(url)
        yield url
        return
    name = "can005_bench_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(PG_SERVER)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        forget_engine(url)
        yield url
    finally:
        forget_engine(url)
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def stalled(url: str) -> Iterator[None]:
    """Hold the write lock the gateway's writer needs, from another connection."""
    if url.startswith("sqlite"):
        other: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        other.execute("PRAGMA journal_mode=WAL")
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg2.connect(url)
        other.cursor().execute("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        if url.startswith("sqlite"):
            other.execute("ROLLBACK")
        else:
            other.rollback()
        other.close()


class Client:
    """Signed webhooks, as Twilio sends them, to one gateway."""

    def __init__(self, gateway_url: str):
        self.url = gateway_url + "/sms/inbound"
        self.validator = RequestValidator(AUTH_TOKEN)
        self.local = threading.local()

    def post(self, sid: str, body: str, timeout: float = TWILIO_TIMEOUT) -> tuple[Optional[int], float]:
        """(status, seconds); status None when the client gave up, as Twilio does after 15 s."""
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": "+447700900555",
                "To": PRACTICE_NUMBER, "Body": body, "NumMedia": "0", "SmsStatus": "received",
                "ApiVersion": "2010-04-01"}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": self.validator.compute_signature(self.url, form)}
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
        started = time.perf_counter()
        try:
            status = self.local.http.post(self.url, data=urllib.parse.urlencode(form), headers=headers,
                                          timeout=timeout).status_code
        except requests.Timeout:
            self.local.http = requests.Session()  # the connection is gone, as Twilio's would be
            status = None
        return status, time.perf_counter() - started


def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"can005-stall-{kind}-"))
    with database(kind, workdir) as url:
        stack = Stack(env={}, workdir=workdir)
        stack.env = {"DATABASE_URL": url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                     "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "PUBLIC_BASE_URL": stack.gateway_url,
                     "INBOUND_RETRY_SECONDS": "5", "INBOUND_SPOOL": str(workdir / "spool" / "inbound.jsonl")}
        stack.start_gateway()
        try:
            stack.wait_ready()
            return measure(kind, url, stack, workdir, args)
        finally:
            stack.stop()


def measure(kind: str, url: str, stack: Stack, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    client = Client(stack.gateway_url)
    for i in range(20):  # warm-up: connections, the writer's first transaction
        client.post(f"SMwarm{kind}{i:04d}", "warm up")
    during: list[tuple[Optional[int], float]] = []
    health: list[int] = []
    released = threading.Event()

    def send_during(pool: ThreadPoolExecutor) -> list:
        futures, i = [], 0
        while not released.wait(1.0 / args.during_rate):
            futures.append(pool.submit(client.post, f"SMdur{kind}{i:05d}", f"text {i} during the stall"))
            i += 1
        return futures

    def watch_health() -> None:
        while not released.wait(1.0):
            health.append(requests.get(stack.gateway_url + "/health", timeout=10).status_code)

    progress(f"{kind}: holding the write lock for {args.stall_seconds:.0f} s")
    with ThreadPoolExecutor(max_workers=64) as during_pool:
        watcher = threading.Thread(target=watch_health)
        with stalled(url):
            watcher.start()
            sender = ThreadPoolExecutor(max_workers=1).submit(send_during, during_pool)
            released.wait(args.stall_seconds)  # the stall itself: a fixed length is what is measured
            released.set()
        cleared = time.perf_counter()
        progress(f"{kind}: lock released; {args.after} webhooks from {args.clients} clients")
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            after = list(pool.map(lambda i: client.post(f"SMaft{kind}{i:05d}", f"text {i} after the stall"),
                                  range(args.after)))
        after_done = time.perf_counter() - cleared
        during = [f.result() for f in sender.result()]
        watcher.join()
    expected = 20 + len(during) + len(after)
    spool = workdir / "spool" / "inbound.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the writer's backlog and the spool replay, polled
        with session_scope(url) as session:
            stored = session.scalar(select(func.count()).select_from(InboundMessage))
        if stored >= expected and not spool.exists():
            break
        time.sleep(0.2)
    forget_engine(url)
    health_after = requests.get(stack.gateway_url + "/health", timeout=10)
    answered_after = [s for st, s in after if st == 200]
    return {
        "database": kind, "stall_seconds": args.stall_seconds,
        "after": {"sent": len(after), "status_200": len(answered_after),
                  "other": sorted({str(st) for st, _ in after if st != 200}),
                  "ms": {k: (v * 1000 if k != "n" else v) for k, v in summary(answered_after).items()},
                  "all_answered_within_s": after_done},
        "during": {"sent": len(during), "status_200": sum(1 for st, _ in during if st == 200),
                   "gave_up": sum(1 for st, _ in during if st is None),
                   "s": summary([s for st, s in during if st == 200])},
        "health_during": {"200": health.count(200), "503": health.count(503)},
        "health_after": {"status": health_after.status_code, "body": health_after.json()},
        "stored": stored, "expected": expected, "spool_left": spool.exists(),
    }


def report(result: dict[str, Any]) -> None:
    after, during = result["after"], result["during"]
    ms = after["ms"]
    print(f"\n{result['database']}: {result['stall_seconds']:.0f} s write lock")
    print(f"  after it clears: {after['status_200']}/{after['sent']} answered 200 "
          f"(other: {after['other'] or 'none'}), p50 {fmt(ms.get('p50'))} / p95 {fmt(ms.get('p95'))} / "
          f"p99 {fmt(ms.get('p99'))} / max {fmt(ms.get('max'))} ms; all answered {after['all_answered_within_s']:.2f} s "
          "after the release")
    print(f"  during the stall: {during['status_200']}/{during['sent']} answered 200 (gave up: {during['gave_up']}), "
          f"answer p50 {fmt(during['s'].get('p50'), 2)} / max {fmt(during['s'].get('max'), 2)} s")
    print(f"  /health during the stall: {result['health_during']}; after: {result['health_after']['status']}")
    print(f"  stored {result['stored']} of {result['expected']} texts; spool left: {result['spool_left']}")


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--stall-seconds", type=float, default=20.0)
    parser.add_argument("--during-rate", type=float, default=2.0, help="webhooks per second during the stall")
    parser.add_argument("--after", type=int, default=200, help="webhooks sent once the stall clears")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients after the stall")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {"machine": machine(), "runs": [run_one(kind, args) for kind in kinds]}
    for result in results["runs"]:
        report(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    ok = all(r["stored"] == r["expected"] and r["after"]["status_200"] == r["after"]["sent"] for r in results["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
