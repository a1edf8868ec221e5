"""The `outreach` command. Run `outreach --help`, or `outreach COMMAND --help`, for the details."""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from sqlalchemy import select

from bot.booking.slots import HORIZON_DAYS
from bot.common.clock import london_today
from bot.config import ConfigError, load_settings

# spaCy's import pulls in TensorFlow, which prints start-up chatter to stderr; keep errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.db.engine import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_patients_add(args: argparse.Namespace) -> int:
    from bot.patients.outreach import add_patient

    patient_id = add_patient(load_settings(), args.practice, args.first_name, args.last_name or "", args.dob,
                             args.mobile, args.diagnosed, args.nhs_number)
    print(f"patient {patient_id} saved at {args.practice.upper()}")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from bot.dialogue.rasa_client import RasaClient
    from bot.patients.outreach import start_conversation

    settings = load_settings()
    public_id = start_conversation(settings, RasaClient(settings.rasa_url, settings.rasa_token), args.phone,
                                   args.practice)
    print(f"conversation {public_id} started: the opener is in the outbox and the gateway sends it")
    return 0


def cmd_gateway(args: argparse.Namespace) -> int:
    from bot.processes.gateway import GIL_SWITCH_INTERVAL, create_app

    from bot.common import log_privacy

    settings = load_settings()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    app = create_app(settings)
    log_privacy.install()  # again: Sanic has just set up its own loggers
    app.run(host=args.host, port=args.port, access_log=False, workers=1)
    return 0


def cmd_processor(args: argparse.Namespace) -> int:
    import signal
    import threading

    from bot.processes import background

    settings = load_settings()
    settings.require_twilio()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    background.run(settings, stopping)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a patient's conversations, messages, outcomes and tasks (no phone number needed in logs)."""
    from bot.db.engine import session_scope
    from bot.db.models import Conversation, InboundMessage, OutboundMessage, Outcome, Patient, Task
    from bot.patients.phones import normalise_mobile

    settings = load_settings()
    with session_scope(settings.database_url) as session:
        patients = session.scalars(select(Patient).where(Patient.mobile == normalise_mobile(args.phone))).all()
        if not patients:
            print("no patient with that number", file=sys.stderr)
            return 1
        for patient in patients:
            _audit_shown(session, "cli_show", [patient.id])
            print(f"patient {patient.id} {patient.first_name} {patient.last_name} ({patient.practice.ods_code})"
                  + (" OPTED OUT" if patient.opted_out else ""))
            for conv in session.scalars(select(Conversation).where(Conversation.patient_id == patient.id)):
                print(f"  conversation {conv.public_id} {conv.status}"
                      + (f" ({conv.handover_reason})" if conv.handover_reason else ""))
                inbound = session.scalars(select(InboundMessage).where(InboundMessage.conversation_id == conv.id)).all()
                outbound = session.scalars(
                    select(OutboundMessage).where(OutboundMessage.conversation_id == conv.id)
                ).all()
                rows = [(m.received_at, "patient", m.body, m.message_sid) for m in inbound]
                rows += [(m.created_at, "bot", m.body, f"{m.twilio_sid or '-'} {m.status}") for m in outbound]
                for when, who, body, ref in sorted(rows, key=lambda r: r[0]):
                    print(f"    {when:%Y-%m-%d %H:%M:%S} {who:>7}: {body!r} [{ref}]")
            for outcome in session.scalars(select(Outcome).where(Outcome.patient_id == patient.id)):
                print(f"  outcome {outcome.kind} {outcome.cluster or ''} {outcome.code or ''} "
                      f"{outcome.recorded_at:%Y-%m-%d} message {outcome.inbound_message_id}")
            for task in session.scalars(select(Task).where(Task.patient_id == patient.id)):
                print(f"  task {task.id} {task.kind} {task.status}: {task.detail}")
            _show_support(session, patient)
    return 0


def _show_support(session, patient) -> None:
    """The concern check-in, the role chosen and why, and the appointments of one patient."""
    from bot.booking import slots as booking
    from bot.db.models import Appointment, BookingSlot, ConcernAnswer, RoutingDecision

    for answer in session.scalars(select(ConcernAnswer).where(ConcernAnswer.patient_id == patient.id)
                                  .order_by(ConcernAnswer.id)):
        value = answer.areas if answer.question == "areas" else answer.score
        print(f"  concern {answer.question}: {answer.status}"
              + (f" {value if value not in ('', None) else 'none'}" if answer.status == "answered" else "")
              + f" (message {answer.inbound_message_id})")
    for decision in session.scalars(select(RoutingDecision).where(RoutingDecision.patient_id == patient.id)
                                    .order_by(RoutingDecision.id)):
        print(f"  routed to {decision.role} by {decision.rule}: {decision.reason}")
    for appointment in session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)
                                       .order_by(Appointment.id)):
        slot = session.get(BookingSlot, appointment.slot_id)
        print(f"  appointment {appointment.id} {appointment.status}: "
              f"{booking.describe(slot, appointment.role.replace('_', ' '))}"
              + (" (reminder queued)" if appointment.reminder_queued_at else ""))


def cmd_tasks(args: argparse.Namespace) -> int:
    from bot.db.engine import session_scope
    from bot.db.models import Task

    with session_scope(load_settings().database_url) as session:
        tasks = session.scalars(select(Task).where(Task.status == "open").order_by(Task.id)).all()
        _audit_shown(session, "cli_tasks", sorted({t.patient_id for t in tasks if t.patient_id is not None}))
        for task in tasks:
            print(f"{task.id}\t{task.created_at:%Y-%m-%d %H:%M}\t{task.kind}\tpatient {task.patient_id}\t{task.detail}")
    return 0


def _os_user() -> str:
    """The operating-system user running this command, for the audit log (the CLI has no inbox login)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return f"uid {os.getuid()}"


def _audit_shown(session, action: str, patient_ids: list[int]) -> None:
    """Audit a command that prints patients' details: one entry per patient shown, naming the
    operating-system user who ran it. Committed with the reading session, before the command's
    output is complete."""
    from bot.inbox.auth import audit

    who = _os_user()
    for patient_id in patient_ids:
        audit(session, None, action, f"patient:{patient_id}", f"printed by the outreach command, OS user {who}",
              source=f"cli:{who}")


def _new_password(prompt: str = "Password for the new user: ") -> str:
    """OUTREACH_PASSWORD, or typed twice without echo."""
    import getpass
    import os

    password = os.environ.get("OUTREACH_PASSWORD")
    if password:
        return password
    first = getpass.getpass(prompt)
    if getpass.getpass("The same password again: ") != first:
        raise ConfigError("the two passwords differ; nothing was saved")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from bot.db.engine import session_scope
    from bot.inbox.auth import AccountError, create_user, describe_roles, roles_of
    from bot.db.models import Practice
    from bot.patients.outreach import OutreachError, ensure_practice
    from bot.practice_script.loader import ScriptError, script_for

    settings = load_settings()
    password = _new_password()
    with session_scope(settings.database_url) as session:
        practices = []
        for code in dict.fromkeys(c.strip().upper() for c in args.practice):
            practice = session.scalar(select(Practice).where(Practice.ods_code == code))
            if practice is None:
                try:
                    practice = ensure_practice(session, script_for(settings.practices_dir, code))
                except ScriptError:
                    raise OutreachError(f"no practice {code}: it has no practice script in "
                                        f"{settings.practices_dir}") from None
            practices.append(practice)
        try:
            user = create_user(session, args.username, password, practices, roles=args.role or ["coordinator"],
                               admin=args.admin, phone=args.phone)
        except AccountError as exc:
            raise OutreachError(str(exc)) from None
        done = (f"user {user.username} ({describe_roles(roles_of(user), user.is_admin)}) added for "
                f"{', '.join(p.ods_code for p in practices)}")
    print(done)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from bot.db.engine import session_scope
    from bot.inbox.auth import describe_roles, roles_of, throttled_account
    from bot.db.models import Practice, User, UserPractice, utcnow

    with session_scope(load_settings().database_url) as session:
        codes: dict[int, list[str]] = {}
        for user_id, code in session.execute(select(UserPractice.user_id, Practice.ods_code)
                                             .join(Practice, Practice.id == UserPractice.practice_id)):
            codes.setdefault(user_id, []).append(code)
        now = utcnow()
        for user in session.scalars(select(User).order_by(User.username)):
            status = "disabled" if user.disabled_at else \
                "sign-in held back" if throttled_account(session, user.username, now) else \
                "must choose a new password" if user.must_change_password else "active"
            roles = describe_roles(roles_of(user), user.is_admin)
            print(f"{user.username}\t{roles}\t{','.join(sorted(codes.get(user.id, [])))}\t{user.phone or '-'}"
                  f"\t{status}")
    return 0


def cmd_users_change(args: argparse.Namespace) -> int:
    """disable, enable, revoke, unlock, set-password and roles: one account change, audited with the OS user."""
    from bot.db.engine import session_scope
    from bot.inbox import auth
    from bot.patients.outreach import OutreachError

    settings = load_settings()
    password = _new_password(f"Temporary password for {args.username}: ") \
        if args.users_command == "set-password" else ""
    who = _os_user()
    with session_scope(settings.database_url) as session:
        try:
            user = auth.user_named(session, args.username)
            if args.users_command in ("disable", "enable"):
                auth.set_disabled(session, user, args.users_command == "disable")
                done = f"user {user.username} {args.users_command}d"
            elif args.users_command == "revoke":
                done = f"{auth.revoke_sessions(session, user.id)} sessions of {user.username} ended"
            elif args.users_command == "unlock":
                auth.clear_attempts(session, user.username)
                done = f"sign-in attempts against {user.username} cleared"
            elif args.users_command == "roles":
                roles = auth.set_roles(session, user, args.roles)
                done = f"user {user.username} is now {auth.describe_roles(roles, user.is_admin)}"
            else:
                auth.set_password(session, user, password, by_admin=True)
                done = f"temporary password set for {user.username}: they must choose their own at the next sign-in"
        except auth.AccountError as exc:
            raise OutreachError(str(exc)) from None
        action = {"set-password": "reset_password", "revoke": "revoke_sessions", "unlock": "unlock_user",
                  "roles": "set_roles"}.get(args.users_command, f"{args.users_command}_user")
        what = f"roles {auth.describe_roles(auth.roles_of(user))}; " if args.users_command == "roles" else ""
        auth.audit(session, None, action, f"user:{user.id}", f"{what}by the outreach command, OS user {who}",
                   source=f"cli:{who}")
    print(done)
    return 0


def cmd_safety_corpus_export(args: argparse.Namespace) -> int:
    from bot.safety import feedback as safety_feedback
    from bot.db.engine import session_scope

    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"outreach: error: {out.parent} is not a folder", file=sys.stderr)
        return 2
    out.touch(mode=0o600, exist_ok=True)  # patients' words, even without names: owner-only
    os.chmod(out, 0o600)
    with session_scope(load_settings().database_url) as session:
        count, patients = safety_feedback.export(session, out, args.since)
        _audit_shown(session, "safety_corpus_export", patients)
    print(f"{count} marked texts written to {out} (names, numbers and dates replaced; read each before use)")
    return 0


def cmd_safety_check(args: argparse.Namespace) -> int:
    """One JSON line per input line: the same screen every live text passes before the dialogue
    (bot/safety/screen.py: the rules, then the trained model); no Rasa needed."""
    import json

    from bot.safety.screen import ScreenUnavailable, default_model, screen_rules_only, screen_text

    if not args.rules_only:
        try:
            default_model()
        except ScreenUnavailable as exc:
            print(f"outreach: error: {exc} (or pass --rules-only)", file=sys.stderr)
            return 2

    try:
        lines = sys.stdin.read().splitlines() if args.file == "-" else \
            open(args.file, encoding="utf-8").read().splitlines()
    except OSError as exc:
        print(f"outreach: error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"outreach: error: {args.file} is not UTF-8 text (byte {exc.start})", file=sys.stderr)
        return 2
    for text in lines:
        flag = screen_rules_only(text) if args.rules_only else screen_text(text)
        print(json.dumps({"text": text, "flag": flag.kind if flag else None,
                          "severity": flag.severity if flag else None,
                          "category": flag.category if flag else None,
                          "evidence": list(flag.evidence) if flag else None}, ensure_ascii=False))
    return 0


def _worker():
    from bot.dialogue.rasa_client import RasaClient
    from bot.patients.invitations import OutreachWorker

    settings = load_settings()
    return OutreachWorker(settings, RasaClient(settings.rasa_url, settings.rasa_token))


def cmd_send_due(args: argparse.Namespace) -> int:
    report = _worker().run_once(practices=args.practice or None)
    print(f"first invitations {report.first}, second invitations {report.second}, "
          f"no response recorded {report.no_response}, reminders {report.reminders}, "
          f"waiting for the send window {report.outside_window}, held {report.held_summary()}")
    for error in report.errors:
        print(f"outreach: error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def cmd_worker(args: argparse.Namespace) -> int:
    worker = _worker()
    print(f"outreach worker: a pass every {args.interval:.0f} s; Ctrl-C stops it", flush=True)
    try:
        worker.run_forever(args.interval)
    except KeyboardInterrupt:
        worker.stopping.set()
    return 0


def cmd_due(args: argparse.Namespace) -> int:
    """Who is due an invitation (or was missed), fewest days left first. No phone numbers printed."""
    from bot.patients import cohort
    from bot.db.engine import session_scope
    from bot.db.models import Patient, Practice

    with session_scope(load_settings().database_url) as session:
        practice_id = None
        if args.practice:
            practice_id = session.scalar(select(Practice.id).where(Practice.ods_code == args.practice.upper()))
            if practice_id is None:
                print(f"outreach: error: no patients imported for practice {args.practice}", file=sys.stderr)
                return 2
        rows = (cohort.missed if args.missed else cohort.eligible)(session, london_today(), practice_id)
        for row in rows:
            patient = session.get(Patient, row.patient_id)
            print(f"{patient.practice.ods_code}\tpatient {patient.id}\t{patient.first_name} {patient.last_name}\t"
                  f"day {row.days_since_diagnosis}\t" + ("MISSED" if args.missed else f"{row.days_left} days left"))
        print(f"{len(rows)} patient(s) {'missed' if args.missed else 'due'}", file=sys.stderr)
    return 0


def cmd_patients_import(args: argparse.Namespace) -> int:
    from bot.patients.register import run_import_command

    return run_import_command(args)


def cmd_slots_import(args: argparse.Namespace) -> int:
    from bot.booking.slots import run_import_command

    return run_import_command(args)


def cmd_slots_list(args: argparse.Namespace) -> int:
    from bot.booking.slots import run_list_command

    return run_list_command(args)


def cmd_slots_example(args: argparse.Namespace) -> int:
    from bot.booking.slots import run_example_command

    return run_example_command(args)


def cmd_scripts(args: argparse.Namespace) -> int:
    from bot.practice_script.check import run_scripts_command

    return run_scripts_command(args)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.reports.can005 import run_report_command

    return run_report_command(args)


def cmd_export_codes(args: argparse.Namespace) -> int:
    from bot.reports.export import run_export_command

    return run_export_command(args)


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.reports.retention import run_purge_command

    return run_purge_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outreach", description="CAN005 SMS outreach assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail (never message texts)")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the database (Alembic)").set_defaults(func=cmd_db_upgrade)

    patients = sub.add_parser("patients", help="patients on the cancer register").add_subparsers(
        dest="patients_command", required=True)
    add = patients.add_parser("add", help="add one patient (or update them, matched by mobile number)")
    add.add_argument("--practice", required=True, help="the practice's ODS code, e.g. Y00001")
    add.add_argument("--first-name", required=True)
    add.add_argument("--last-name", default="")
    add.add_argument("--dob", required=True, type=_iso_date, help="date of birth, YYYY-MM-DD")
    add.add_argument("--mobile", required=True, help="UK mobile number, e.g. 07700 900123")
    add.add_argument("--diagnosed", required=True, type=_iso_date, help="diagnosis date, YYYY-MM-DD")
    add.add_argument("--nhs-number", default=None)
    add.set_defaults(func=cmd_patients_add)

    imp = patients.add_parser("import", help="import a practice's cancer register (CSV); a bad file is refused "
                                             "as a whole unless --skip-invalid")
    imp.add_argument("file", help="the register export, UTF-8 CSV (columns: see the README)")
    imp.add_argument("--practice", required=True, help="the practice's ODS code, e.g. Y00001")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the good rows and write the bad ones, with an error column, to --rejects")
    imp.add_argument("--rejects", default=None, metavar="CSV",
                     help="where --skip-invalid writes rejected rows (default: FILE.rejects.csv beside FILE)")
    imp.set_defaults(func=cmd_patients_import)

    slots = sub.add_parser("slots", help="bookable review slots with the practice's roles").add_subparsers(
        dest="slots_command", required=True)
    slots_import = slots.add_parser(
        "import", help="import one-off slots (CSV: role,date,time,minutes,type,staff; London time); a bad file "
                       "is refused as a whole unless --skip-invalid; exit code 2 when refused")
    slots_import.add_argument("file", help="UTF-8 CSV with columns role,date,time,minutes,type,staff "
                                           "('outreach slots example' writes one)")
    slots_import.add_argument("--practice", required=True, metavar="ODS", help="the practice's ODS code, e.g. Y00001")
    slots_import.add_argument("--skip-invalid", action="store_true",
                              help="import the good rows and write the bad ones, with an error column, to --rejects")
    slots_import.add_argument("--rejects", default=None, metavar="CSV",
                              help="where --skip-invalid writes rejected rows (default: FILE.rejects.csv beside FILE)")
    slots_import.set_defaults(func=cmd_slots_import)
    slots_list = slots.add_parser(
        "list", help="the practice's free and booked slots in London time (no patient names); creates the "
                     "weekly sessions' slots first")
    slots_list.add_argument("--practice", required=True, metavar="ODS", help="the practice's ODS code, e.g. Y00001")
    slots_list.add_argument("--role", default=None, help="only this role (its key or title)")
    slots_list.add_argument("--days", type=int, default=HORIZON_DAYS, metavar="N",
                            help=f"today and this many days ahead, London time (default {HORIZON_DAYS}, the booking "
                                 "horizon patients are offered times in)")
    slots_list.set_defaults(func=cmd_slots_list)
    slots_example = slots.add_parser(
        "example", help="an example slots file for the example practices, dated from next week (working days)")
    slots_example.add_argument("--out", default=None, metavar="FILE", help="write it here (default: standard output)")
    slots_example.set_defaults(func=cmd_slots_example)

    practice_scripts = sub.add_parser("scripts", help="practice scripts").add_subparsers(
        dest="scripts_command", required=True)
    scripts_check = practice_scripts.add_parser(
        "check", help="check every practice's texts (GSM-7, SMS parts, reading age, not-monitored sentence); "
                      "exit code 1 on any error")
    scripts_check.add_argument("--practice", default=None, metavar="ODS", help="only this practice")
    scripts_check.set_defaults(func=cmd_scripts)
    scripts_preview = practice_scripts.add_parser("preview", help="a whole sample conversation with every text")
    scripts_preview.add_argument("--practice", required=True, metavar="ODS")
    scripts_preview.add_argument("--language", metavar="CODE", default="en",
                                 help="preview the practice's script in this language (ISO 639-1, e.g. pl)")
    scripts_preview.set_defaults(func=cmd_scripts)

    start = sub.add_parser("start", help="begin the CAN005 conversation with a patient")
    start.add_argument("phone", help="the patient's mobile number")
    start.add_argument("--practice", default=None, help="ODS code, when several practices share the number")
    start.set_defaults(func=cmd_start)

    show = sub.add_parser("show", help="a patient's conversation, outcomes and tasks")
    show.add_argument("phone")
    show.set_defaults(func=cmd_show)

    sub.add_parser("tasks", help="open tasks for coordinators").set_defaults(func=cmd_tasks)

    users = sub.add_parser("users", help="coordinator inbox users").add_subparsers(dest="users_command",
                                                                                   required=True)
    users_add = users.add_parser("add", help="add an inbox user; the password comes from OUTREACH_PASSWORD "
                                             "or is asked for twice")
    users_add.add_argument("username")
    users_add.add_argument("--practice", action="append", required=True, metavar="ODS",
                           help="a practice the user may see (repeat for several)")
    users_add.add_argument("--role", action="append", choices=["coordinator", "clinician"],
                           help="what the user works on (repeat for both; default coordinator): a coordinator "
                                "sees flags, reviews, tasks and conversations, a clinician flags and reviews")
    users_add.add_argument("--admin", action="store_true", help="may also manage users")
    users_add.add_argument("--phone", default=None, metavar="E164", help="phone for escalations, e.g. +447700900002")
    users_add.set_defaults(func=cmd_users_add)
    users.add_parser("list", help="list inbox users and their status").set_defaults(func=cmd_users_list)
    for name, text in (("disable", "stop a user signing in and end their sessions (users are never deleted: "
                                   "the audit log points at them)"),
                       ("enable", "let a disabled user sign in again"),
                       ("revoke", "end every session of a user"),
                       ("unlock", "clear the sign-in attempts counted against a user"),
                       ("set-password", "set a temporary password (OUTREACH_PASSWORD or typed twice); "
                                        "the user must choose their own at the next sign-in")):
        change = users.add_parser(name, help=text)
        change.add_argument("username")
        change.set_defaults(func=cmd_users_change)
    roles = users.add_parser("roles", help="make a user a coordinator, a clinician or both (audited)")
    roles.add_argument("username")
    roles.add_argument("roles", nargs="+", choices=["coordinator", "clinician"], metavar="ROLE",
                       help="coordinator and/or clinician")
    roles.set_defaults(func=cmd_users_change)

    send_due = sub.add_parser("send-due", help="one outreach pass: invitations due now (for cron)")
    send_due.add_argument("--practice", action="append", help="only this ODS code (repeatable)")
    send_due.set_defaults(func=cmd_send_due)

    worker = sub.add_parser("worker", help="run outreach passes continuously")
    worker.add_argument("--interval", type=float, default=60.0, help="seconds between passes (default 60)")
    worker.set_defaults(func=cmd_worker)

    due = sub.add_parser("due", help="patients due an invitation, fewest days left first")
    due.add_argument("--practice", default=None)
    due.add_argument("--missed", action="store_true", help="list patients past day 93 who were never reached")
    due.set_defaults(func=cmd_due)

    export = sub.add_parser(
        "export-codes", help="write a practice's outcomes (SNOMED codes), flags and appointments for the clinical "
                             "record: a CSV and a FHIR R4 Bundle, named by practice and dates")
    export.add_argument("--practice", required=True, metavar="ODS", help="the practice's ODS code, e.g. Y00001")
    export.add_argument("--since", required=True, metavar="YYYY-MM-DD", help="first day (London date, included)")
    export.add_argument("--until", default=None, metavar="YYYY-MM-DD",
                        help="last day (London date, included; default today)")
    export.add_argument("--out", required=True, metavar="DIR", help="folder for the two files (created if missing)")
    export.set_defaults(func=cmd_export_codes)

    purge = sub.add_parser("purge", help="redact message texts, notes and flag evidence older than RETENTION_DAYS "
                                         "(also in Rasa's tracker store); rows, outcomes and codes are kept")
    purge.add_argument("--days", default=None, metavar="N", help="redact what is older than N days "
                                                                  "(default RETENTION_DAYS, 365)")
    purge.add_argument("--dry-run", action="store_true", help="print what would be redacted; change nothing")
    purge.set_defaults(func=cmd_purge)

    report = sub.add_parser("report", help="CAN005 figures for one or more practices, or the whole PCN (counts only)")
    report_scope = report.add_mutually_exclusive_group(required=True)
    report_scope.add_argument("--practice", action="append", metavar="ODS", help="a practice's ODS code (repeatable)")
    report_scope.add_argument("--pcn", action="store_true", help="every practice in the database, with a total")
    report.add_argument("--year", type=int, default=None, metavar="YYYY",
                        help="the QOF year starting on 1 April of YYYY (default: the current one)")
    report_format = report.add_mutually_exclusive_group()
    report_format.add_argument("--json", action="store_true", help="machine-readable JSON")
    report_format.add_argument("--csv", action="store_true", help="CSV: one row per practice and a TOTAL row")
    report.set_defaults(func=cmd_report)

    check = sub.add_parser("safety-check", help="screen one message per line for red flags; prints JSON lines "
                                                "(flag: clinical, safeguarding, review or null)")
    check.add_argument("file", help="a UTF-8 text file, one message per line, or - for standard input")
    check.add_argument("--rules-only", action="store_true", help="the rules alone, without the trained model")
    check.set_defaults(func=cmd_safety_check)

    corpus = sub.add_parser("safety-corpus", help="texts coordinators marked for the safety screen's corpus") \
        .add_subparsers(dest="corpus_command", required=True, metavar="COMMAND")
    corpus_export = corpus.add_parser("export", help="write the marked texts, without names or numbers, with their "
                                                     "labels, as CSV for the clinical safety officer; audited")
    corpus_export.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write (owner-only)")
    corpus_export.add_argument("--since", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                               help="only labels given on or after this date")
    corpus_export.set_defaults(func=cmd_safety_corpus_export)

    processor = sub.add_parser("processor", help="run the background process (turns, sender, retries, escalation)")
    processor.set_defaults(func=cmd_processor)
    gateway = sub.add_parser("gateway", help="run the SMS gateway (webhooks and the coordinator inbox)")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8000)
    gateway.set_defaults(func=cmd_gateway)

    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.common import log_privacy

    log_privacy.install(logging.DEBUG if args.verbose else logging.INFO)
    # twilio's client logs every request's URL, query and headers at INFO: keep it to problems.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    from bot.patients.outreach import OutreachError
    from bot.patients.phones import PhoneError
    from bot.practice_script.loader import ScriptError
    from bot.dialogue.rasa_client import DialogueUnavailable

    try:
        return args.func(args)
    except (ConfigError, OutreachError, PhoneError, ScriptError, DialogueUnavailable) as exc:
        print(f"outreach: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
