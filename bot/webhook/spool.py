"""A local file that keeps inbound webhooks the database could not take in time.

The gateway acknowledges a text only once it is stored somewhere durable. With the database down
or stalled, that somewhere is this append-only file; the replay moves its records into the
database once it answers again. MessageSid de-duplication makes the replay safe to repeat after a
crash, and a text spooled and also stored by the writer is kept once.

Crash safety (hazard H17 in docs/hazard-log.md):

- one record per line, `{"crc32": N, "form": {...}}`, appended and fsynced under a lock. A crash
  or a full disk during an append leaves at most a torn last line; the next append starts on a
  fresh line, so the tear never swallows a good record;
- a line that is torn, corrupt (bad JSON or checksum) or refused by the database for a reason that
  is not an outage (bad data: retrying would fail for ever) is moved to the quarantine file beside
  the spool (`<spool>.quarantine`) with a log line naming its line number and the reason, never
  its content (texts are personal data); a person reads it from there. Nothing in a record is fatal;
- records are stored one at a time, so one bad record never holds back those after it; an outage
  stops the replay and keeps the rest, in order, for the next try;
- the files are created owner-only (0600) in a folder created 0700: they hold patients' texts.

Lines written before the checksum was added (a bare JSON form) are still replayed.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

log = logging.getLogger(__name__)

_lock = threading.Lock()        # appends and the replay's rewrite of the file
_replaying = threading.Lock()   # one replay at a time (the rewrite assumes nobody else rewrites)
FILE_MODE = 0o600
FOLDER_MODE = 0o700


@dataclass(frozen=True)
class ReplayResult:
    """What one replay did: records stored, moved to quarantine, and still waiting (an outage)."""
    stored: int
    quarantined: int
    pending: int


@dataclass(frozen=True)
class SpoolStatus:
    """For /health: records waiting to be stored, and records in quarantine for a person."""
    pending: int
    quarantined: int


def quarantine_path(path: Path) -> Path:
    """The quarantine file beside the spool."""
    return path.with_name(path.name + ".quarantine")


def append(path: Path, form: Mapping[str, str]) -> None:
    """Durably add one webhook form to the spool (written and fsynced before this returns)."""
    record = {"crc32": _checksum(form), "form": dict(form)}
    line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
    with _lock:
        _append_bytes(path, line)


def quarantine(path: Path, form: Mapping[str, str], reason: str) -> None:
    """Keep a webhook the database refused (not an outage) in the quarantine file, for a person."""
    with _lock:
        _quarantine_line(path, json.dumps(dict(form), ensure_ascii=False).encode("utf-8"), reason, None)


def replay(path: Path, store: Callable[[Mapping[str, str]], Any],
           retry_later: Optional[Callable[[BaseException], bool]] = None) -> ReplayResult:
    """Store every spooled form, oldest first, each on its own. A record `store` refuses with an
    error that `retry_later` does not accept (default: bot.db.engine.is_outage) is quarantined, as is a
    torn or corrupt line. The first error `retry_later` accepts stops the replay: the records not
    yet stored stay in the spool, in order, and that error is raised once the file is rewritten."""
    if retry_later is None:
        from bot.db.engine import is_outage
        retry_later = is_outage
    with _replaying:
        with _lock:
            if not path.exists():
                return ReplayResult(0, 0, 0)
            data = path.read_bytes()
        *lines, tail = data.split(b"\n")
        keep: list[bytes] = []
        stored = quarantined = 0
        outage: Optional[BaseException] = None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if outage is not None:
                keep.append(line)
                continue
            form, problem = _decode(line)
            if form is not None:
                try:
                    store(form)
                    stored += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - classified just below
                    if retry_later(exc):
                        outage = exc
                        keep.append(line)
                        continue
                    problem = f"refused by the database ({type(exc).__name__})"
            with _lock:
                _quarantine_line(path, line, problem, number)
            quarantined += 1
        with _lock:
            if tail.strip():
                # Appends hold the lock until their line is complete, so an unterminated last line
                # is what a crash or a full disk left behind.
                _quarantine_line(path, tail, "torn last record (no end of line)", len(lines) + 1)
                quarantined += 1
            # Records appended while we were storing (the file only grows meanwhile).
            appended = path.read_bytes()[len(data):] if path.exists() else b""
            _rewrite(path, b"".join(line + b"\n" for line in keep) + appended)
        if outage is not None:
            raise outage
        return ReplayResult(stored, quarantined, len(keep) + _count_records(appended))


def status(path: Path) -> SpoolStatus:
    """How many records wait in the spool and in its quarantine file."""
    with _lock:
        return SpoolStatus(_count_records(_read(path)), _count_records(_read(quarantine_path(path))))


# --- internals --------------------------------------------------------------------------------------

def _checksum(form: Mapping[str, str]) -> int:
    canonical = json.dumps(dict(form), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(canonical.encode("utf-8"))


def _decode(line: bytes) -> tuple[Optional[dict[str, str]], str]:
    """The form a spool line holds, or None and why it cannot be used."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "unreadable record (torn or corrupt)"
    if isinstance(record, dict) and set(record) == {"crc32", "form"}:
        form = record["form"]
        if not _is_form(form):
            return None, "not a webhook form"
        if record["crc32"] != _checksum(form):
            return None, "checksum mismatch (corrupt record)"
        return form, ""
    if _is_form(record):  # a line written before records had a checksum
        return record, ""
    return None, "not a webhook form"


def _is_form(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _count_records(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.strip())


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _append_bytes(path: Path, data: bytes) -> None:
    """Append and fsync, starting on a fresh line if a torn record was left at the end."""
    created = not path.exists()
    if created:
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a file an older version created readable by everyone
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_folder(path.parent)  # the new file's name must survive a crash too


def _quarantine_line(path: Path, line: bytes, reason: str, number: Optional[int]) -> None:
    """Move one raw record to the quarantine file, with its reason; log without its content."""
    record = {"reason": reason, "record": line.decode("utf-8", errors="surrogateescape")}
    # ensure_ascii keeps undecodable bytes (as \\udcXX escapes) rather than failing on them.
    _append_bytes(quarantine_path(path), json.dumps(record, ensure_ascii=True).encode("ascii") + b"\n")
    where = f"line {number}" if number is not None else "a webhook"
    log.error("inbound spool: %s quarantined to %s: %s", where, quarantine_path(path).name, reason)


def _rewrite(path: Path, data: bytes) -> None:
    """Replace the spool with `data` atomically (or remove it when empty)."""
    if not data.strip():
        path.unlink(missing_ok=True)
        _fsync_folder(path.parent)
        return
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
