"""Load on the production-like stack: several Rasa servers behind the gateway.

Run from the project root (it is not a test; it needs PostgreSQL and Redis):

    .venv/bin/python bench/load.py [--conversations 100] [--turns 4] [--rasa-servers 2] [--json FILE]
                                   [--postgres-url URL] [--redis-url URL]

It starts the stack as `devkit/stack.py` runs it in production shape: N Rasa servers with
endpoints.production.yml (SQL tracker store on PostgreSQL, Redis lock store), one action server,
the gateway and the background process, with our own database on PostgreSQL too; the
Twilio-compatible fake (devkit.fake_twilio) runs in this process. Two fresh PostgreSQL databases are
created on the server of --postgres-url and dropped at the end; Rasa's Redis lock keys get a prefix
unique to the run and are deleted at the end.

Then N conversations at once (default 100): each patient's conversation is started
(bot.patients.outreach.start_conversation, not timed), then the patient answers each reply as it arrives:
"12/03/1961" (2 replies), then "maybe later", "who is this?", "thanks" in rotation (1 reply each).
Every reply is checked against the practice script. It reports:

- turns per second over the whole measured run;
- full-turn latency, p50/p95/p99: signed webhook POST -> the turn's last reply reaching the fake;
- the webhook answer time (POST -> the gateway's HTTP response);
- turns served by each Rasa server (their access logs);
- memory: VmRSS of each process of the stack (and its children), after start-up and the peak under
  load, and the total (a sum of RSS: pages shared between processes are counted in each);
- CPU seconds each process used during the run, against what the machine's cores could give.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import psycopg2  # noqa: E402
import redis  # noqa: E402
from sqlalchemy.engine.url import make_url  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.db.engine import _engines, upgrade  # noqa: E402
from bot.dialogue.rasa_client import RasaClient  # noqa: E402
from bot.patients.outreach import add_patient, start_conversation  # noqa: E402
from devkit.stack import MODEL, Stack  # noqa: E402
from common import (ACCOUNT_SID, AUTH_TOKEN, DOB, FIRST_NAME, FIRST_NUMBER, IDENTITY_TURN,  # noqa: E402
                    NUMBER_PREFIX, OFFER_TURNS, PRACTICE_NUMBER, PRACTICE_ODS, SENDER_POLL_SECONDS,
                    SEND_RATE_PER_SECOND, TimedFakeTwilio, TurnError, machine, plan, progress, say, summary)

TURN_TIMEOUT = 180.0
WARMUP_CONVERSATIONS = 4       # at least one turn of each kind on every Rasa server before timing
PG_DEFAULT = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_DEFAULT = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
SAMPLE_SECONDS = 0.5


# ---------------------------------------------------------------------------------- processes

def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    return children


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


class ProcessWatch:
    """Samples RSS (and CPU time) of every stack process and its children."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.peak_kb: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def sample(self) -> dict[str, dict[str, Any]]:
        children = _proc_children()
        now: dict[str, dict[str, Any]] = {}
        for name, process in self.stack.processes.items():
            pids = _tree(process.pid, children)
            now[name] = {"pids": pids, "rss_kb": sum(_rss_kb(p) for p in pids),
                         "cpu_s": sum(_cpu_seconds(p) for p in pids)}
        for name, values in now.items():
            self.peak_kb[name] = max(self.peak_kb[name], values["rss_kb"])
        return now

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(SAMPLE_SECONDS):
                self.sample()
        self._thread = threading.Thread(target=run, name="rss", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


# ---------------------------------------------------------------------------------- measurements

class Run:
    def __init__(self, fake: TimedFakeTwilio, stack: Stack, settings: Settings):
        self.fake, self.stack, self.settings = fake, stack, settings
        self.numbers = itertools.count(FIRST_NUMBER)
        self.lock = threading.Lock()
        self.full_ms: list[float] = []
        self.webhook_ms: list[float] = []
        self.errors: list[str] = []

    def start_conversations(self, count: int) -> list[str]:
        numbers = []
        for _ in range(count):
            n = next(self.numbers)
            if n > 999:
                raise SystemExit("out of Ofcom drama numbers: use fewer conversations")
            numbers.append(f"{NUMBER_PREFIX}{n:03d}")
            add_patient(self.settings, PRACTICE_ODS, FIRST_NAME, "Smith", DOB, numbers[-1],
                        dt.date.today() - dt.timedelta(days=30))
        rasa = RasaClient(self.stack.rasa_url, self.stack.rasa_token, timeout=TURN_TIMEOUT)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda number: start_conversation(self.settings, rasa, number), numbers))
        for number in numbers:
            _, opener = self.fake.wait_arrivals(number, 1, TURN_TIMEOUT)[0]
            if opener != say("opener"):
                raise TurnError(f"unexpected opener to {number}: {opener[:60]!r}")
        return numbers

    def converse(self, number: str, turns: int, timed: bool) -> None:
        seen = 1
        try:
            for i in range(turns):
                text, keys = plan(i)
                expected = seen + len(keys)
                started = time.perf_counter()
                status, answer = self.fake.send_inbound(self.stack.gateway_url + "/sms/inbound", number,
                                                        PRACTICE_NUMBER, text)
                answered = time.perf_counter()
                if status != 200 or "<Response></Response>" not in answer:
                    raise TurnError(f"webhook answered HTTP {status}: {answer[:80]!r}")
                arrivals = self.fake.wait_arrivals(number, expected, TURN_TIMEOUT)
                bodies = [body for _, body in arrivals[seen:expected]]
                if bodies != [say(k) for k in keys]:
                    raise TurnError(f"{text!r} gave {[b[:40] for b in bodies]}, expected {list(keys)}")
                if timed:
                    with self.lock:
                        self.full_ms.append((arrivals[expected - 1][0] - started) * 1000)
                        self.webhook_ms.append((answered - started) * 1000)
                seen = expected
        except Exception as exc:  # noqa: BLE001 - reported with the figures
            with self.lock:
                self.errors.append(f"{number}: {type(exc).__name__}: {exc}")

    def phase(self, numbers: list[str], turns: int, timed: bool) -> float:
        barrier = threading.Barrier(len(numbers) + 1)

        def worker(number: str) -> None:
            barrier.wait()
            self.converse(number, turns, timed)

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in numbers]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def served_turns(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if "(sanic.access)" in line and "/webhooks/rest/webhook" in line)


# ---------------------------------------------------------------------------------- databases

def create_database(server_url: str, name: str) -> str:
    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    connection.cursor().execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return str(make_url(server_url).set(database=name))


def drop_database(server_url: str, url: str) -> None:
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()
    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    connection.cursor().execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    connection.close()


# ---------------------------------------------------------------------------------- report

def fmt(value: Optional[float], digits: int = 0) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def report(result: dict[str, Any]) -> None:
    m, c, s = result["machine"], result["config"], result["stats"]
    print()
    print("=" * 86)
    print("Load on the production-like stack (bench/load.py)")
    print(f"  {m['date']}: {m['nproc']} CPUs ({m['cpu'] or 'unknown CPU'}), {m['memory_gb']} GB, Python {m['python']}, "
          f"Rasa {m['rasa']}, load at start {m['load_average']}")
    print(f"  {c['rasa_servers']} Rasa server(s) (endpoints.production.yml: PostgreSQL tracker store, Redis locks), "
          f"1 action server, gateway, background process; our database on PostgreSQL")
    print(f"  {c['conversations']} conversations at once x {c['turns']} turns = {s['full'].get('n', 0)} turns "
          f"in {fmt(result['wall_seconds'], 1)} s")
    print()
    print(f"  throughput: {fmt(result['turns_per_second'], 1)} turns/s")
    print(f"  {'milliseconds':<42} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for label, key in (("full turn: POST -> last reply at Twilio", "full"),
                       ("webhook POST -> gateway HTTP response", "webhook")):
        st = s[key]
        print(f"  {label:<42} {st.get('n', 0):>5} {fmt(st.get('p50')):>7} {fmt(st.get('p95')):>7} "
              f"{fmt(st.get('p99')):>7} {fmt(st.get('max')):>7}")
    print(f"  turns per Rasa server (access logs, warm-up included): {result['turns_per_rasa_server']}")
    print()
    print(f"  {'process':<12} {'pids':>5} {'RSS warmed up':>16} {'RSS peak':>10} {'CPU s in run':>13}")
    for name, p in result["processes"].items():
        print(f"  {name:<12} {len(p['pids']):>5} {p['rss_warm_mb']:>13.0f} MB {p['rss_peak_mb']:>7.0f} MB "
              f"{p['cpu_seconds']:>13.1f}")
    t = result["totals"]
    print(f"  {'total':<12} {'':>5} {t['rss_warm_mb']:>13.0f} MB {t['rss_peak_mb']:>7.0f} MB "
          f"{t['cpu_seconds']:>13.1f}")
    print(f"  (this driver and the fake Twilio, not part of the stack: {fmt(t['driver_cpu_seconds'], 1)} CPU s;"
          f" the machine could give {fmt(t['cpu_available_seconds'], 1)} CPU s in the run)")
    if result["errors"]:
        print()
        print(f"  ERRORS ({len(result['errors'])}): these conversations are missing from the figures")
        for error in result["errors"][:20]:
            print(f"    {error}")
    print("=" * 86)


# ---------------------------------------------------------------------------------- main

def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100, help="conversations at once (default 100)")
    parser.add_argument("--turns", type=int, default=4, help="turns per conversation (default 4)")
    parser.add_argument("--rasa-servers", type=int, default=2, help="Rasa servers (default 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--postgres-url", default=PG_DEFAULT,
                        help=f"a PostgreSQL server to create the two databases on (default {PG_DEFAULT})")
    parser.add_argument("--redis-url", default=REDIS_DEFAULT, help=f"Redis for Rasa's locks (default {REDIS_DEFAULT})")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.turns < 1 or args.rasa_servers < 1:
        parser.error("--conversations, --turns and --rasa-servers must be at least 1")
    if args.conversations + WARMUP_CONVERSATIONS > 1000 - FIRST_NUMBER:
        parser.error("too many conversations for the Ofcom drama number range")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"error: no trained model at {MODEL}: run `make model` first", file=sys.stderr)
        return 2

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks below
    signal.signal(signal.SIGTERM, terminate)

    machine_info = machine()
    progress(f"machine: {machine_info['nproc']} CPUs, load average {machine_info['load_average']}")
    lock_redis = redis.Redis.from_url(args.redis_url)
    lock_redis.ping()
    redis_options = lock_redis.connection_pool.connection_kwargs
    server = make_url(args.postgres_url)
    run_id = uuid.uuid4().hex[:12]
    key_prefix = "can005bench" + run_id
    workdir = Path(tempfile.mkdtemp(prefix="can005-load-"))
    database_url = tracker_url = None
    fake = TimedFakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack: Optional[Stack] = None
    failed = True
    try:
        database_url = create_database(args.postgres_url, "can005_load_" + run_id)
        tracker_url = create_database(args.postgres_url, "can005_load_tracker_" + run_id)
        upgrade(database_url)
        stack = Stack(env={}, workdir=workdir, rasa_servers=args.rasa_servers,
                      rasa_endpoints="endpoints.production.yml", rasa_env={
                          "RASA_TRACKER_DB_HOST": server.host or "127.0.0.1",
                          "RASA_TRACKER_DB_PORT": str(server.port or 5432),
                          "RASA_TRACKER_DB_NAME": make_url(tracker_url).database,
                          "RASA_TRACKER_DB_USER": server.username or "postgres",
                          "RASA_TRACKER_DB_PASSWORD": server.password or "",
                          "RASA_TRACKER_DB_SSLMODE": "prefer",
                          "RASA_LOCK_REDIS_HOST": redis_options.get("host", "127.0.0.1"),
                          "RASA_LOCK_REDIS_PORT": str(redis_options.get("port", 6379)),
                          "RASA_LOCK_REDIS_DB": str(redis_options.get("db", 1)),
                          "RASA_LOCK_REDIS_PASSWORD": redis_options.get("password") or "",
                          "RASA_LOCK_REDIS_KEY_PREFIX": key_prefix,
                          "LOG_LEVEL_LIBRARIES": "INFO",  # access logs: turns per server
                      })
        stack.env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                     "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
                     "PUBLIC_BASE_URL": stack.gateway_url, "SEND_RATE_PER_SECOND": SEND_RATE_PER_SECOND,
                     "SENDER_POLL_SECONDS": SENDER_POLL_SECONDS, "PRACTICES_DIR": str(PROJECT_ROOT / "practices"),
                     "INBOUND_SPOOL": str(workdir / "spool.jsonl")}
        settings = Settings(database_url=database_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                            twilio_from_number=PRACTICE_NUMBER, twilio_messaging_service_sid="",
                            twilio_api_base_url=fake.base_url, public_base_url=stack.gateway_url,
                            rasa_url=stack.rasa_url, rasa_token=stack.rasa_token,
                            practices_dir=PROJECT_ROOT / "practices",
                            send_rate_per_second=float(SEND_RATE_PER_SECOND),
                            sender_poll_seconds=float(SENDER_POLL_SECONDS))
        progress(f"starting {args.rasa_servers} Rasa server(s), action server, gateway, background process...")
        started = time.perf_counter()
        stack.start()
        progress(f"stack ready in {time.perf_counter() - started:.1f} s")
        watch = ProcessWatch(stack)
        run = Run(fake, stack, settings)

        progress(f"warming up ({WARMUP_CONVERSATIONS} conversations x 2 turns)...")
        run.phase(run.start_conversations(WARMUP_CONVERSATIONS), 2, timed=False)
        if run.errors:
            raise RuntimeError("warm-up failed:\n  " + "\n  ".join(run.errors))
        at_start = watch.sample()

        progress(f"starting {args.conversations} conversations (not timed)...")
        numbers = run.start_conversations(args.conversations)
        progress(f"running {args.conversations * args.turns} turns, {args.conversations} conversations at once...")
        before = watch.sample()
        driver_before = time.process_time()
        watch.start()
        wall = run.phase(numbers, args.turns, timed=True)
        watch.stop()
        after = watch.sample()
        driver_cpu = time.process_time() - driver_before
        expected = {n: 1 + sum(len(plan(i)[1]) for i in range(args.turns)) for n in numbers}
        counts = fake.counts()
        for number, n in expected.items():
            if counts.get(number, 0) > n:
                run.errors.append(f"{number}: {counts[number] - n} unexpected extra text(s)")
        progress(f"  {len(run.full_ms)} turns in {wall:.1f} s, {len(run.errors)} error(s)")

        processes = {}
        for name in after:
            processes[name] = {"pids": after[name]["pids"], "rss_warm_mb": at_start.get(name, {}).get("rss_kb", 0) / 1024,
                               "rss_peak_mb": watch.peak_kb[name] / 1024,
                               "cpu_seconds": after[name]["cpu_s"] - before.get(name, {}).get("cpu_s", 0.0)}
        result = {
            "machine": machine_info,
            "config": {"conversations": args.conversations, "turns": args.turns, "rasa_servers": args.rasa_servers,
                       "endpoints": "endpoints.production.yml", "send_rate_per_second": float(SEND_RATE_PER_SECOND),
                       "turn_texts": [IDENTITY_TURN[0]] + [t for t, _ in OFFER_TURNS]},
            "wall_seconds": wall,
            "turns_per_second": len(run.full_ms) / wall if wall else None,
            "stats": {"full": summary(run.full_ms), "webhook": summary(run.webhook_ms)},
            "turns_per_rasa_server": {name: served_turns(workdir / f"{name}.log") for name in stack.rasa_names},
            "processes": processes,
            "totals": {"rss_warm_mb": sum(p["rss_warm_mb"] for p in processes.values()),
                       "rss_peak_mb": sum(p["rss_peak_mb"] for p in processes.values()),
                       "cpu_seconds": sum(p["cpu_seconds"] for p in processes.values()),
                       "driver_cpu_seconds": driver_cpu,
                       "cpu_available_seconds": wall * machine_info["nproc"]},
            "errors": run.errors,
            "raw_ms": {"full": run.full_ms, "webhook": run.webhook_ms},
        }
        report(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
            progress(f"figures written to {args.json}")
        failed = bool(run.errors)
        return 1 if failed else 0
    finally:
        if stack is not None:
            stack.stop()
        fake.stop()
        if failed and stack is not None:
            for name in list(stack.rasa_names) + ["actions", "gateway", "processor"]:
                log = workdir / f"{name}.log"
                if log.exists():
                    print(f"--- last lines of {name}.log", file=sys.stderr)
                    print("\n".join(log.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr)
        for url in (database_url, tracker_url):
            if url:
                drop_database(args.postgres_url, url)
        for key in lock_redis.scan_iter(match=key_prefix + ":*"):
            lock_redis.delete(key)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
