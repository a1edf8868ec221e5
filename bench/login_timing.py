"""Sign-in answer times by outcome (issue 12, item 7): an attacker must not tell a real account from
an unknown, disabled or throttled one by how long the answer takes. Not a test.

Run from the project root:

    .venv/bin/python bench/login_timing.py [--rounds 15] [--json FILE]

On a fresh SQLite database it times `bot.inbox.auth.authenticate` (the whole sign-in check the
inbox runs, with its database work) for each outcome, interleaved round by round so that machine
noise falls on all of them alike, and prints the median and spread of each. Also prints the cost
of one scrypt hash at the configured parameters.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db.engine import session_scope, upgrade  # noqa: E402
from bot.inbox import auth  # noqa: E402
from bot.db.models import Practice  # noqa: E402
from common import machine  # noqa: E402

PASSWORD = "granite puffin ladder 64"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", default=None, metavar="FILE")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-login-")
    url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
    upgrade(url)
    with session_scope(url) as session:
        practice = Practice(ods_code="B00001", name="Bench Practice")
        session.add(practice)
        session.flush()
        auth.create_user(session, "real", PASSWORD, [practice])
        auth.create_user(session, "off", PASSWORD, [practice])
        auth.create_user(session, "held", PASSWORD, [practice])
        auth.set_disabled(session, auth.user_named(session, "off"), True)
    for attempt in range(auth.ACCOUNT_LIMIT + 1):  # "held" is now throttled for new browsers
        auth.authenticate(url, "held", f"guess {attempt}", "192.0.2.1")

    started = time.perf_counter()
    hashlib.scrypt(b"x" * 20, salt=bytes(16), n=auth.SCRYPT_N, r=auth.SCRYPT_R, p=auth.SCRYPT_P, dklen=32,
                   maxmem=auth.SCRYPT_MAXMEM)
    one_hash = time.perf_counter() - started

    cases = {
        "right password": ("real", PASSWORD),
        "wrong password": ("real", "not the password at all"),
        "unknown username": ("nobody", "not the password at all"),
        "disabled account": ("off", PASSWORD),
        "throttled account": ("held", PASSWORD),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(args.rounds):
        for name, (username, password) in cases.items():
            # A fresh address each time: the address limit is not what is measured here.
            address = f"198.51.100.{round_ % 250}"
            started = time.perf_counter()
            result = auth.authenticate(url, username, password, address)
            times[name].append(time.perf_counter() - started)
            assert result.ok == (name == "right password"), (name, result)
        print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr)

    print(f"machine: {machine()}")
    print(f"scrypt N={auth.SCRYPT_N} r={auth.SCRYPT_R} p={auth.SCRYPT_P}: one hash {one_hash * 1000:.0f} ms")
    figures = {}
    for name, values in times.items():
        median = statistics.median(values) * 1000
        spread = (max(values) - min(values)) * 1000
        figures[name] = {"median_ms": round(median, 1), "min_ms": round(min(values) * 1000, 1),
                         "max_ms": round(max(values) * 1000, 1)}
        print(f"{name:18s} median {median:6.0f} ms   min {min(values) * 1000:6.0f}   max {max(values) * 1000:6.0f}"
              f"   spread {spread:5.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"one_hash_ms": round(one_hash * 1000, 1), "cases": figures},
                                              indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
