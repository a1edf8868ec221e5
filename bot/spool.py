"""A local file that keeps inbound webhooks while the database is unreachable.

The gateway acknowledges a text only once it is stored somewhere durable. With the database
down, that somewhere is this append-only file (one JSON form per line, fsynced); the retry
sweep moves its lines into the database when it is back. MessageSid de-duplication makes the
replay safe to repeat after a crash.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Callable, Mapping

_lock = threading.Lock()


def append(path: Path, form: Mapping[str, str]) -> None:
    """Durably add one webhook form to the spool."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(dict(form), ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as spool:
        spool.write(line)
        spool.flush()
        os.fsync(spool.fileno())


def replay(path: Path, store: Callable[[Mapping[str, str]], None]) -> int:
    """Store every spooled form (oldest first); the spool is emptied only when all are stored.
    Returns how many were replayed. `store` raising leaves the spool as it was."""
    with _lock:
        if not path.exists() or path.stat().st_size == 0:
            return 0
        forms = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for form in forms:
            store(form)
        path.unlink()
        return len(forms)
