"""Time the register import (`bot/patients/register.py`) with 50,000 rows on SQLite and on PostgreSQL.

    .venv/bin/python bench/register_import.py [--rows 50000] [--postgres URL] [--no-postgres]

For each database, in turn: a first import (every row added), the same file again (every row
unchanged), a file in which every tenth patient changed, and one in which every patient changed.
SQLite uses a temporary file; PostgreSQL gets a database of its own, created and dropped here.

The generated NHS numbers are from the 999 test range. 50,000 mobiles do not fit in Ofcom's drama
range (1,000 numbers), so the generated ones are ordinary-looking 07400 numbers: they exist only in
the temporary file and database and are never texted.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.db.engine import _engines, upgrade  # noqa: E402
from bot.patients.nhs_numbers import nhs_number_is_valid  # noqa: E402
from bot.patients.register import COLUMNS, import_register  # noqa: E402


HEADER = ["nhs_number", "first_name", "last_name", "date_of_birth", "mobile", "diagnosis_date", "cancer_site",
          "on_active_treatment", "oncology_helpline", "preferred_language", "deceased_date"]
assert sorted(HEADER) == sorted(COLUMNS)


def nhs_numbers(count: int):
    """Valid NHS numbers from the 999 test range, in order."""
    prefix = 999000000
    while count:
        base = str(prefix)
        total = sum(int(d) * w for d, w in zip(base, range(10, 1, -1)))
        check = (11 - total % 11) % 11
        prefix += 1
        if check != 10:
            number = base + str(check)
            assert nhs_number_is_valid(number)
            yield number
            count -= 1


def write_register(path: Path, rows: int, changed_every: int = 0) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, nhs in enumerate(nhs_numbers(rows)):
            changed = bool(changed_every) and i % changed_every == 0
            dob = dt.date(1930, 1, 1) + dt.timedelta(days=i % 25000)
            writer.writerow([
                f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}", f"Changed{changed_every}" if changed else f"First{i}", f"Last{i}",
                dob.isoformat(), f"07400 {100000 + i:06d}",
                (dt.date(2020, 1, 1) + dt.timedelta(days=i % 1500)).strftime("%d/%m/%Y"),
                "Bowel", "yes" if i % 3 else "no", "0808 157 0192" if i % 2 else "", "en", ""])


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, twilio_account_sid="", twilio_auth_token="", twilio_from_number="",
                    twilio_messaging_service_sid="", twilio_api_base_url="http://127.0.0.1:9",
                    public_base_url="http://127.0.0.1:8000", rasa_url="http://127.0.0.1:9", rasa_token="",
                    practices_dir=PROJECT_ROOT / "practices")


def run(label: str, url: str, files: dict) -> None:
    upgrade(url)
    settings = settings_for(url)
    for name in files:
        started = time.perf_counter()
        report = import_register(settings, files[name], "Y00001")
        seconds = time.perf_counter() - started
        print(f"{label:10} {name:20} {seconds:6.2f} s (checking {report.check_seconds:5.2f} s, writing "
              f"{report.write_seconds:5.2f} s)  added {report.added}, updated {report.updated}, "
              f"unchanged {report.unchanged}", flush=True)
    # The due list on the imported register: what the outreach worker asks on every pass.
    from bot.patients import cohort
    from bot.db.engine import session_scope

    for _ in range(2):  # the first run warms the caches
        started = time.perf_counter()
        with session_scope(url) as session:
            due = cohort.eligible(session, dt.date.today())
            missed = cohort.missed(session, dt.date.today())
        seconds = time.perf_counter() - started
    print(f"{label:10} {'due + missed lists':20} {seconds:6.2f} s  ({len(due)} due, {len(missed)} missed)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {"first import": folder / "register.csv", "same file again": folder / "register.csv",
                 "every tenth changed": folder / "register-tenth.csv",
                 "every row changed": folder / "register-all.csv"}
        write_register(files["first import"], args.rows)
        write_register(files["every tenth changed"], args.rows, changed_every=10)
        write_register(files["every row changed"], args.rows, changed_every=1)
        print(f"{args.rows} rows, {files['first import'].stat().st_size / 1e6:.1f} MB")
        run("SQLite", f"sqlite:///{folder / 'bench.db'}", files)
        if not args.no_postgres:
            import psycopg2

            name = "can005_bench_" + uuid.uuid4().hex[:12]
            connection = psycopg2.connect(args.postgres)
            connection.autocommit = True
            connection.cursor().execute(f'CREATE DATABASE "{name}"')
            url = args.postgres.rsplit("/", 1)[0] + "/" + name
            try:
                run("PostgreSQL", url, files)
            finally:
                engine = _engines.pop(url, None)
                if engine is not None:
                    engine.dispose()
                connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
