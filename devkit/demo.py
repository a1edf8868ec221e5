"""`make run`: the whole stack on SQLite with the simulated SMS network. No Twilio account needed.

Starts the Rasa server, the action server and the gateway, points the real twilio client at the
simulator, adds a demo patient, and serves the simulator page. Ctrl-C stops everything.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from bot.booking.slots import example_slots_csv, import_slots
from bot.common.clock import london_today, utcnow
from bot.config import PROJECT_ROOT, load_settings
from bot.db.engine import upgrade
from bot.dialogue.rasa_client import RasaClient
from devkit.fake_twilio import FakeTwilio
from bot.patients.outreach import add_patient, start_conversation
from devkit.simulator import Simulator
from devkit.stack import Stack

# The demo patient was diagnosed 21 days before the demo starts (so inside the 93-day cohort).
DEMO_PATIENT = dict(ods_code="Y00001", first_name="Alex", last_name="Example", date_of_birth=dt.date(1961, 3, 12),
                    mobile="07700 900123")
DEMO_DIAGNOSED_DAYS_AGO = 21
# Local stand-ins for Twilio credentials: the simulator accepts only these.
LOCAL_ACCOUNT_SID = "AC" + "0" * 32
LOCAL_AUTH_TOKEN = "local-simulator-token"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _demo_coordinator(database_url: str) -> str:
    """A coordinator and clinician (and administrator) of both example practices for the local inbox,
    with a fresh password each run."""
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.inbox.auth import clear_attempts, create_user, set_disabled, set_password
    from bot.db.models import User
    from bot.patients.outreach import ensure_practice
    from bot.practice_script.loader import load_all

    password = "demo-" + secrets.token_urlsafe(9)
    with session_scope(database_url) as session:
        practices = [ensure_practice(session, s) for s in load_all(PROJECT_ROOT / "practices").values()]
        user = session.scalar(select(User).where(User.username == "demo"))
        if user is None:
            create_user(session, "demo", password, practices, roles=("coordinator", "clinician"), admin=True)
        else:
            set_password(session, user, password, by_admin=False)
            set_disabled(session, user, False)
            clear_attempts(session, "demo")
    return password


def demo_database_url(var: Path) -> str:
    """The demo's own SQLite file: the only database `make run` will touch."""
    return f"sqlite:///{var / 'outreach.db'}"


def main() -> int:
    var = PROJECT_ROOT / "var"
    gateway_port, simulator_port = _port("GATEWAY_PORT", 8000), _port("SIMULATOR_PORT", 8010)
    database_url = demo_database_url(var)
    # The demo adds a patient and resets an admin of every practice: never on a real database.
    if os.environ.get("DATABASE_URL", database_url) != database_url:
        print(f"error: make run uses only its own demo database ({database_url.split(':///')[-1]}); unset "
              "DATABASE_URL to run the demo. Real deployments start their processes as docs/deploy.md says.",
              file=sys.stderr)
        return 2
    print(f"== database {database_url.split('@')[-1]}: migrating")
    upgrade(database_url)

    fake = FakeTwilio(LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN, port=_port("FAKE_TWILIO_PORT", 8011)).start()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = {"DATABASE_URL": database_url, "TWILIO_ACCOUNT_SID": LOCAL_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": LOCAL_AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": "+447700900001", "TWILIO_API_BASE_URL": fake.base_url,
           "PUBLIC_BASE_URL": gateway_url}
    os.environ.update(env)
    stack = Stack(env=env, workdir=var, gateway_port=gateway_port, rasa_port=_port("RASA_PORT", 5005),
                  actions_port=_port("ACTIONS_PORT", 5055), log_dir=var / "logs")
    os.environ.update({"RASA_URL": stack.rasa_url, "RASA_TOKEN": stack.rasa_token})
    settings = load_settings()
    add_patient(settings, **DEMO_PATIENT,
                diagnosis_date=london_today() - dt.timedelta(days=DEMO_DIAGNOSED_DAYS_AGO))

    # One-off slots dated from next week, beside the weekly pattern (`outreach slots example`).
    slots_file = var / "example-slots.csv"
    slots_file.write_text(example_slots_csv(utcnow()), encoding="utf-8")
    print(import_slots(settings, slots_file, DEMO_PATIENT["ods_code"]).summary())

    demo_password = _demo_coordinator(database_url)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        print("== starting the Rasa server, action server, gateway and background process "
              "(about 20 s; logs in var/logs/)")
        stack.start()
        rasa = RasaClient(stack.rasa_url, stack.rasa_token)
        simulator = Simulator(fake, database_url, gateway_url + "/sms/inbound", "+447700900001",
                              start=lambda number: start_conversation(settings, rasa, number), port=simulator_port)
        simulator.serve_in_background()
        print(f"""
The assistant is running.
  Simulated phones:  http://127.0.0.1:{simulator_port}   (click "Start outreach", then reply as the patient;
                     the demo patient's date of birth is 12/03/1961)
  SMS gateway:       {gateway_url}   (POST /sms/inbound, /sms/status; GET /health)
  Coordinator inbox: {gateway_url}/inbox   (user "demo", password "{demo_password}" - new each run)
  Rasa server:       {stack.rasa_url}
  From a shell:      .venv/bin/outreach show 07700900123   |   .venv/bin/outreach tasks
Press Ctrl-C to stop.""", flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"error: {exc} (see var/logs/)", file=sys.stderr)
        return 1
    finally:
        print("\n== stopping")
        stack.stop()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
