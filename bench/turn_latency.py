"""Turn latency of the SMS assistant, and how long `rasa train` takes.

Run from the project root (it is not a test):

    .venv/bin/python bench/turn_latency.py [--conversations 20] [--turns 10] [--skip-train] [--train-runs 3]
                                           [--json FILE] [--database-url URL] [--flag-probes 40]

It starts the real stack (Rasa server, action server, SMS gateway) as subprocesses on loopback, with a
Twilio-compatible fake (devkit.fake_twilio) in this process, and measures:

1. webhook answer time: signed inbound webhook POST -> the gateway's HTTP response;
2. full turn time: the same POST -> the moment the turn's last reply reaches the fake Twilio;
3. the bare Rasa turn: POST {rasa_url}/webhooks/rest/webhook for the same kind of turns, with the
   same action server and database, but without the gateway, its database work and the sender;
4. the ratio of 2 to 3 against the target "a full turn takes no more than 1.5x the bare Rasa turn",
   and the webhook p99 against "under 50 ms";
5. with --flag-probes (default 40): while the gateway phase runs, red flags from other patients, one
   at a time: webhook POST -> the safety net at the fake Twilio, and -> the flag at the top of a
   signed-in coordinator's inbox queue (bench/flag_probe.py; issue 14's target: p95 at most 2 s);
6. the wall time of `rasa train` as `make model` runs it (cold cache, into a temporary directory),
   median of --train-runs runs, against the target 60 s.

Each conversation is a patient (Ofcom drama numbers +447700900xxx, Alex, born 1961-03-12, diagnosed
30 days ago) whose conversation is started with bot.patients.outreach.start_conversation (not timed). Turn 1
confirms identity ("12/03/1961": 2 replies, timed to the second); every later turn is one that keeps
the conversation at the offer and produces exactly one reply ("maybe later", "who is this?",
"thanks", in rotation). Every reply is checked against the practice script.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.db.engine import session_scope, upgrade  # noqa: E402
from bot.dialogue.rasa_client import RasaClient  # noqa: E402
from bot.db.models import Patient  # noqa: E402
from bot.patients.outreach import add_patient, start_conversation  # noqa: E402
from devkit.stack import MODEL, Stack  # noqa: E402
import flag_probe  # noqa: E402
from flag_probe import FlagProbe  # noqa: E402
from common import (ACCOUNT_SID, AUTH_TOKEN, DOB, FIRST_NAME, FIRST_NUMBER, IDENTITY_TURN,  # noqa: E402
                    NUMBER_PREFIX, OFFER_TURNS, PRACTICE_NUMBER, PRACTICE_ODS, SENDER_POLL_SECONDS,
                    SEND_RATE_PER_SECOND, TimedFakeTwilio, TurnError, fmt, machine, plan, progress, say, summary)

TURN_TIMEOUT = 60.0
# This process runs 20+ client threads and the fake Twilio; a short GIL switch interval keeps the
# time a client thread waits to read its own clock out of the webhook figures (Twilio's client
# is not in our process). The gateway itself uses the same setting (bot.processes.gateway).
sys.setswitchinterval(0.0005)
WARMUP_CONVERSATIONS = 2
WARMUP_TURNS = 4
TARGET_RATIO = 1.5
TARGET_WEBHOOK_P99_MS = 50.0
TARGET_TRAIN_SECONDS = 60.0

# ---------------------------------------------------------------------------------- measurements

@dataclass
class Turn:
    kind: str               # "identity" (2 replies) or "offer" (1 reply)
    webhook_ms: float = 0.0  # gateway path only
    full_ms: float = 0.0     # gateway: POST -> last reply at the fake; bare: POST -> Rasa's answer
    server: dict[str, float] = field(default_factory=dict)  # the gateway's Server-Timing (ms)


@dataclass
class Phase:
    name: str
    turns: list[Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, turn: Turn) -> None:
        with self.lock:
            self.turns.append(turn)

    def fail(self, error: str) -> None:
        with self.lock:
            self.errors.append(error)


def server_timing(headers: dict[str, str]) -> dict[str, float]:
    """The durations (ms) in the gateway's Server-Timing header, by name: queue, store, total."""
    timings = {}
    for part in headers.get("Server-Timing", "").split(","):
        name, _, params = part.strip().partition(";")
        if params.startswith("dur="):
            timings[name] = float(params[4:])
    return timings


# ---------------------------------------------------------------------------------- conversations

@dataclass
class Conversation:
    number: str
    public_id: str = ""
    seen: int = 0  # texts received so far (the opener included)


class Bench:
    def __init__(self, fake: TimedFakeTwilio, stack: Stack, settings: Settings):
        self.fake, self.stack, self.settings = fake, stack, settings
        self._numbers = itertools.count(FIRST_NUMBER)

    @property
    def inbound_url(self) -> str:
        return self.stack.gateway_url + "/sms/inbound"

    def new_conversations(self, count: int) -> list[Conversation]:
        """Add patients and start their conversations (not timed); wait until each opener arrived."""
        conversations = []
        rasa = RasaClient(self.stack.rasa_url, self.stack.rasa_token, timeout=TURN_TIMEOUT)
        for _ in range(count):
            n = next(self._numbers)
            if n > 999:
                raise SystemExit("out of Ofcom drama numbers: use fewer conversations")
            conversation = Conversation(f"{NUMBER_PREFIX}{n:03d}")
            add_patient(self.settings, PRACTICE_ODS, FIRST_NAME, "Smith", DOB, conversation.number,
                        dt.date.today() - dt.timedelta(days=30))
            conversation.public_id = start_conversation(self.settings, rasa, conversation.number)
            conversations.append(conversation)
        for conversation in conversations:
            _, opener = self.fake.wait_arrivals(conversation.number, 1, TURN_TIMEOUT)[0]
            if opener != say("opener"):
                raise TurnError(f"unexpected opener to {conversation.number}: {opener[:60]!r}")
            conversation.seen = 1
        return conversations

    # -- one conversation, through the whole stack ------------------------------------------------

    def gateway_conversation(self, conversation: Conversation, turns: int, phase: Phase) -> None:
        for i in range(turns):
            text, keys = plan(i)
            expected = conversation.seen + len(keys)
            started = time.perf_counter()
            status, answer = self.fake.send_inbound(self.inbound_url, conversation.number, PRACTICE_NUMBER, text)
            answered = time.perf_counter()
            if status != 200 or "<Response></Response>" not in answer:
                raise TurnError(f"webhook answered HTTP {status}: {answer[:80]!r}")
            server = server_timing(self.fake.last_response_headers())
            arrivals = self.fake.wait_arrivals(conversation.number, expected, TURN_TIMEOUT)
            bodies = [body for _, body in arrivals[conversation.seen:expected]]
            if bodies != [say(k) for k in keys]:
                raise TurnError(f"{text!r} to {conversation.number} gave {[b[:40] for b in bodies]}, "
                                f"expected {list(keys)}")
            last_reply_at = arrivals[expected - 1][0]
            conversation.seen = expected
            phase.add(Turn("identity" if i == 0 else "offer", (answered - started) * 1000,
                           (last_reply_at - started) * 1000, server))

    # -- one conversation, straight to Rasa's REST channel ----------------------------------------

    def bare_conversation(self, conversation: Conversation, turns: int, phase: Phase) -> None:
        http = requests.Session()
        url = self.stack.rasa_url + "/webhooks/rest/webhook"
        try:
            for i in range(turns):
                text, keys = plan(i)
                started = time.perf_counter()
                response = http.post(url, json={"sender": conversation.public_id, "message": text},
                                     timeout=TURN_TIMEOUT)
                answer = response.json() if response.status_code == 200 else None
                finished = time.perf_counter()
                if answer is None:
                    raise TurnError(f"Rasa answered HTTP {response.status_code}")
                texts = [m["text"] for m in answer if m.get("text")]
                if texts != [say(k) for k in keys]:
                    raise TurnError(f"{text!r} for {conversation.public_id} gave {[t[:40] for t in texts]}, "
                                    f"expected {list(keys)}")
                phase.add(Turn("identity" if i == 0 else "offer", 0.0, (finished - started) * 1000))
        finally:
            http.close()

    # -- many at once -----------------------------------------------------------------------------

    def run_phase(self, name: str, count: int, turns: int, drive: Callable[[Conversation, int, Phase], None],
                  running: Optional[threading.Event] = None) -> tuple[Phase, list[Conversation]]:
        """Run `count` conversations of `turns` turns at once; `running` is set while they run."""
        conversations = self.new_conversations(count)
        phase = Phase(name)
        barrier = threading.Barrier(count + 1)

        def worker(conversation: Conversation) -> None:
            try:
                barrier.wait()
                drive(conversation, turns, phase)
            except Exception as exc:  # noqa: BLE001 - reported with the figures
                phase.fail(f"{conversation.number}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=worker, args=(c,), name=f"conv-{c.number[-3:]}", daemon=True)
                   for c in conversations]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        if running is not None:
            running.set()
        for thread in threads:
            thread.join()
        if running is not None:
            running.clear()
        phase.wall_seconds = time.perf_counter() - started
        return phase, conversations

    def check_no_extra_texts(self, conversations: list[Conversation], phase: Phase) -> None:
        """No conversation may get more texts than its turns called for (waits up to 1 s for strays)."""
        extra = self.fake.wait_for_any_extra({c.number: c.seen for c in conversations}, timeout=1.0)
        for number, n in extra.items():
            phase.fail(f"{number}: {n} unexpected extra text(s)")


# ---------------------------------------------------------------------------------- training

# The Makefile's training command (`make model`), plus --force and a temporary output folder.
TRAIN_ARGS = ["train", "--data", "data", "stories", "--skip-validation", "--fixed-model-name", "can005", "--quiet"]


def time_training(workdir: Path, run: int) -> dict[str, Any]:
    """Wall time of one cold `rasa train` (its own empty cache folder) into the temporary folder."""
    out = workdir / f"train-out-{run}"
    log_path = workdir / f"train-{run}.log"
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false",
               RASA_CACHE_DIRECTORY=str(workdir / f"train-cache-{run}"))  # cold cache, nothing written to the repo
    command = [str(Path(sys.executable).parent / "rasa"), *TRAIN_ARGS, "--out", str(out), "--force"]
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        seconds = time.perf_counter() - started
    if code != 0 or not (out / "can005.tar.gz").exists():
        tail = log_path.read_text(errors="replace").splitlines()[-20:]
        raise RuntimeError(f"rasa train failed (exit {code}):\n" + "\n".join(tail))
    return {"seconds": seconds, "command": " ".join(command[1:]), "cache": "cold (RASA_CACHE_DIRECTORY in a temp dir)"}


def time_trainings(workdir: Path, runs: int) -> dict[str, Any]:
    """Several cold trainings: one run varies by up to ~15 s here (TensorFlow sometimes waits that
    long tearing down its input pipeline after the last epoch), so the verdict is on the median."""
    times = []
    for run in range(1, runs + 1):
        progress(f"  training run {run}/{runs}...")
        result = time_training(workdir, run)
        times.append(result["seconds"])
        progress(f"  trained in {result['seconds']:.1f} s")
    return {**result, "runs": times, "seconds": statistics.median(times), "max_seconds": max(times)}


# ---------------------------------------------------------------------------------- report

def table_row(label: str, stats: dict[str, float]) -> str:
    return (f"  {label:<44} {stats.get('n', 0):>5} {fmt(stats.get('p50')):>8} {fmt(stats.get('p95')):>8} "
            f"{fmt(stats.get('p99')):>8} {fmt(stats.get('max')):>8}")


def verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def report(result: dict[str, Any]) -> None:
    m, c, s = result["machine"], result["config"], result["stats"]
    print()
    print("=" * 86)
    print("Turn latency of the CAN005 SMS assistant")
    print(f"  machine: {m['nproc']} CPUs ({m['cpu'] or 'unknown CPU'}), Python {m['python']}, Rasa {m['rasa']}, "
          f"load at start {m['load_average']}")
    print(f"  {c['conversations']} conversations at once x {c['turns']} turns = {c['conversations'] * c['turns']} "
          f"turns per path; database {c['database']}; Rasa tracker store: SQLite")
    print(f"  gateway: SEND_RATE_PER_SECOND={c['send_rate_per_second']}, "
          f"SENDER_POLL_SECONDS={c['sender_poll_seconds']} (so the send rate limit does not distort latency)")
    print(f"  turns: 1x {IDENTITY_TURN[0]!r} (2 replies, timed to the 2nd), then "
          f"{', '.join(repr(t) for t, _ in OFFER_TURNS)} in rotation (1 reply each)")
    print()
    print(f"  {'milliseconds':<44} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    print(table_row("1. webhook POST -> gateway HTTP response", s["webhook"]))
    print(table_row("     inside the gateway's handler", s["webhook_total"]))
    print(table_row("       checking signature and fields", s["webhook_check"]))
    print(table_row("       storing the text (its batch's commit)", s["webhook_store"]))
    print(table_row("2. full turn: POST -> last reply at Twilio", s["full"]))
    print(table_row("     identity turn (2 replies)", s["full_identity"]))
    print(table_row("     offer turns (1 reply)", s["full_offer"]))
    print(table_row("3. bare Rasa REST turn", s["bare"]))
    print(table_row("     identity turn (2 replies)", s["bare_identity"]))
    print(table_row("     offer turns (1 reply)", s["bare_offer"]))
    print(f"  throughput: full stack {fmt(result['throughput']['full'])} turns/s, "
          f"bare Rasa {fmt(result['throughput']['bare'])} turns/s")
    print()
    t = result["targets"]
    print("  targets")
    print(f"    full turn / bare Rasa turn, p50: {fmt(t['ratio_p50'], 2)}x   (<= {TARGET_RATIO}x)  "
          f"{verdict(t['ratio_p50_ok'])}")
    print(f"    full turn / bare Rasa turn, p95: {fmt(t['ratio_p95'], 2)}x   (<= {TARGET_RATIO}x)  "
          f"{verdict(t['ratio_p95_ok'])}")
    print(f"    webhook answer p99:            {fmt(s['webhook'].get('p99'))} ms  (< {TARGET_WEBHOOK_P99_MS:.0f} ms)  "
          f"{verdict(t['webhook_p99_ok'])}")
    train = result.get("train")
    if train:
        print(f"    rasa train wall time, median:  {fmt(train['seconds'])} s  (<= {TARGET_TRAIN_SECONDS:.0f} s)  "
              f"{verdict(t['train_ok'])}   [runs: {', '.join(fmt(x) for x in train['runs'])} s; "
              f"{train['cache']}, --force]")
    else:
        print("    rasa train wall time:          skipped (--skip-train)")
    probes = result.get("flag_probes")
    if probes:
        print()
        print(f"  red flags during the gateway phase ({probes['safety_net'].get('n', 0)} of {probes['sent']} sent "
              f"while the load ran; one at a time, each resolved in the inbox before the next)")
        print(f"  {'milliseconds':<44} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
        print(table_row("4. red flag: POST -> safety net at Twilio", probes["safety_net"]))
        print(table_row("5. red flag: POST -> top of the inbox queue", probes["queue_top"]))
        print(f"    safety net p95 <= {flag_probe.TARGET_MS:.0f} ms: {verdict(probes['safety_net_p95_ok'])};  "
              f"top of the queue p95 <= {flag_probe.TARGET_MS:.0f} ms: {verdict(probes['queue_top_p95_ok'])}")
    if result["errors"]:
        print()
        print(f"  ERRORS ({len(result['errors'])}): these turns are missing from the figures")
        for error in result["errors"][:20]:
            print(f"    {error}")
    print("=" * 86)


def build_result(args: argparse.Namespace, database: str, full: Phase, bare: Phase,
                 train: Optional[dict[str, Any]], machine_info: dict[str, Any]) -> dict[str, Any]:
    def ms(phase: Phase, attr: str, kind: Optional[str] = None) -> list[float]:
        return [getattr(t, attr) for t in phase.turns if kind is None or t.kind == kind]

    stats = {
        "webhook": summary(ms(full, "webhook_ms")),
        **{f"webhook_{part}": summary([t.server[part] for t in full.turns if part in t.server])
           for part in ("total", "check", "store")},
        "full": summary(ms(full, "full_ms")),
        "full_identity": summary(ms(full, "full_ms", "identity")),
        "full_offer": summary(ms(full, "full_ms", "offer")),
        "bare": summary(ms(bare, "full_ms")),
        "bare_identity": summary(ms(bare, "full_ms", "identity")),
        "bare_offer": summary(ms(bare, "full_ms", "offer")),
    }

    def ratio(q: str) -> Optional[float]:
        a, b = stats["full"].get(q), stats["bare"].get(q)
        return a / b if a is not None and b else None

    r50, r95 = ratio("p50"), ratio("p95")
    webhook_p99 = stats["webhook"].get("p99")
    return {
        "machine": machine_info,
        "config": {"conversations": args.conversations, "turns": args.turns, "database": database,
                   "send_rate_per_second": float(SEND_RATE_PER_SECOND),
                   "sender_poll_seconds": float(SENDER_POLL_SECONDS),
                   "warmup": {"conversations_per_path": WARMUP_CONVERSATIONS, "turns": WARMUP_TURNS},
                   "turn_texts": [IDENTITY_TURN[0]] + [t for t, _ in OFFER_TURNS]},
        "stats": stats,
        "throughput": {"full": len(full.turns) / full.wall_seconds if full.wall_seconds else None,
                       "bare": len(bare.turns) / bare.wall_seconds if bare.wall_seconds else None},
        "targets": {
            "ratio_p50": r50, "ratio_p95": r95,
            "ratio_p50_ok": None if r50 is None else r50 <= TARGET_RATIO,
            "ratio_p95_ok": None if r95 is None else r95 <= TARGET_RATIO,
            "webhook_p99_ms": webhook_p99,
            "webhook_p99_ok": None if webhook_p99 is None else webhook_p99 < TARGET_WEBHOOK_P99_MS,
            "train_seconds": train["seconds"] if train else None,
            "train_ok": None if not train else train["seconds"] <= TARGET_TRAIN_SECONDS,
        },
        "train": train,
        "errors": [f"[{full.name}] {e}" for e in full.errors] + [f"[{bare.name}] {e}" for e in bare.errors],
        "raw_ms": {"webhook": ms(full, "webhook_ms"), "full": ms(full, "full_ms"), "bare": ms(bare, "full_ms")},
    }


# ---------------------------------------------------------------------------------- main

def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=20, help="conversations at once (default 20)")
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation (default 10)")
    parser.add_argument("--skip-train", action="store_true", help="do not time `rasa train`")
    parser.add_argument("--train-runs", type=int, default=3, help="cold trainings to time (default 3; median judged)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--flag-probes", type=int, default=40,
                        help="red flags sent one at a time during the gateway phase (bench/flag_probe.py; "
                             "default at most 40, as many as the load lasts for; 0: none)")
    parser.add_argument("--database-url", help="use this (empty, e.g. PostgreSQL) database instead of a temporary "
                                               "SQLite one; it is migrated to the newest schema")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.turns < 1 or args.train_runs < 1:
        parser.error("--conversations, --turns and --train-runs must be at least 1")
    if 2 * (args.conversations + WARMUP_CONVERSATIONS) > 1000 - FIRST_NUMBER:
        parser.error("too many conversations for the Ofcom drama number range")
    return args


def prepare_database(url: str) -> None:
    upgrade(url)
    with session_scope(url) as session:
        used = session.scalar(select(func.count(Patient.id)).where(Patient.mobile.like(NUMBER_PREFIX + "%")))
    if used:
        raise SystemExit(f"the database already has {used} patient(s) on {NUMBER_PREFIX}xxx numbers: "
                         "give an empty database (the benchmark adds its own patients)")


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"error: no trained model at {MODEL}: run `make model` first", file=sys.stderr)
        return 2

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally blocks below
    signal.signal(signal.SIGTERM, terminate)

    machine_info = machine()
    progress(f"machine: {machine_info['nproc']} CPUs, Python {machine_info['python']}, "
             f"load average {machine_info['load_average']}")
    workdir = Path(tempfile.mkdtemp(prefix="can005-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'outreach.db'}"
    database = database_url.split(":", 1)[0].split("+", 1)[0]
    fake = TimedFakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    stack = Stack(env={}, workdir=workdir)
    failed = True
    try:
        progress(f"preparing the {database} database...")
        prepare_database(database_url)
        stack.env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                     "TWILIO_FROM_NUMBER": PRACTICE_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
                     "PUBLIC_BASE_URL": stack.gateway_url, "SEND_RATE_PER_SECOND": SEND_RATE_PER_SECOND,
                     "SENDER_POLL_SECONDS": SENDER_POLL_SECONDS, "PRACTICES_DIR": str(PROJECT_ROOT / "practices")}
        settings = Settings(database_url=database_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                            twilio_from_number=PRACTICE_NUMBER, twilio_messaging_service_sid="",
                            twilio_api_base_url=fake.base_url, public_base_url=stack.gateway_url,
                            rasa_url=stack.rasa_url, rasa_token=stack.rasa_token,
                            practices_dir=PROJECT_ROOT / "practices",
                            send_rate_per_second=float(SEND_RATE_PER_SECOND),
                            sender_poll_seconds=float(SENDER_POLL_SECONDS))
        progress("starting stack (Rasa server, action server, gateway)...")
        started = time.perf_counter()
        stack.start()
        progress(f"stack ready in {time.perf_counter() - started:.1f} s")
        bench = Bench(fake, stack, settings)

        progress(f"warming up ({WARMUP_CONVERSATIONS} conversations x {WARMUP_TURNS} turns on each path)...")
        for name, drive in (("warm-up bare", bench.bare_conversation), ("warm-up full", bench.gateway_conversation)):
            warm, _ = bench.run_phase(name, WARMUP_CONVERSATIONS, WARMUP_TURNS, drive)
            if warm.errors:
                raise RuntimeError("warm-up failed:\n  " + "\n  ".join(warm.errors))

        total = args.conversations * args.turns
        # Bare Rasa first: if anything grows slower as the tracker store fills, it counts against the gateway.
        progress(f"running {total} turns straight to Rasa's REST channel ({args.conversations} at once)...")
        bare, _ = bench.run_phase("bare", args.conversations, args.turns, bench.bare_conversation)
        progress(f"  {len(bare.turns)} turns in {bare.wall_seconds:.1f} s, {len(bare.errors)} conversation error(s)")
        probe, probing, load_running = None, None, threading.Event()
        if args.flag_probes:
            probe = FlagProbe(bench, PRACTICE_ODS, args.flag_probes)
            probing = threading.Thread(target=lambda: (load_running.wait(), probe.run(load_running)), daemon=True)
            probing.start()
        progress(f"running {total} turns through the gateway ({args.conversations} at once)"
                 + (", with red-flag probes" if probe else "") + "...")
        full, conversations = bench.run_phase("full", args.conversations, args.turns, bench.gateway_conversation,
                                              running=load_running)
        bench.check_no_extra_texts(conversations, full)
        progress(f"  {len(full.turns)} turns in {full.wall_seconds:.1f} s, {len(full.errors)} error(s)")
        if probing is not None:
            probing.join()
        progress("stopping stack...")
        stack.stop()

        train = None
        if not args.skip_train:
            progress(f"timing `rasa train --force` {args.train_runs} times into a temporary directory (cold cache)...")
            train = time_trainings(workdir, args.train_runs)

        result = build_result(args, database, full, bare, train, machine_info)
        result["flag_probes"] = flag_probe.targets(probe.figures, summary) if probe else None
        if probe and probe.figures.errors:
            result["errors"] += [f"[flag probe] {e}" for e in probe.figures.errors]
        report(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
            progress(f"figures written to {args.json}")
        failed = bool(result["errors"])
        return 1 if failed else 0
    finally:
        stack.stop()
        fake.stop()
        if failed:
            for name in ("rasa", "actions", "gateway"):
                log = workdir / f"{name}.log"
                if log.exists():
                    lines = log.read_text(errors="replace").splitlines()[-15:]
                    print(f"--- last lines of {name}.log", file=sys.stderr)
                    print("\n".join(lines), file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
