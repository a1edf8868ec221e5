"""The inbound spool keeps texts on disk while the database is down or stalled (bot/webhook/spool.py):
crash-safe records, each stored on its own, torn or refused records quarantined, owner-only files."""
from __future__ import annotations

import json
import logging
import os
import stat

import pytest
from sqlalchemy.exc import DataError, OperationalError

from bot.webhook import spool


def test_spooled_forms_are_replayed_in_order_then_removed(tmp_path):
    path = tmp_path / "spool" / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1", "Body": "first <b>"})
    spool.append(path, {"MessageSid": "SM2", "Body": "second \U0001F44D"})
    assert spool.status(path) == spool.SpoolStatus(pending=2, quarantined=0)
    stored = []
    assert spool.replay(path, stored.append) == spool.ReplayResult(stored=2, quarantined=0, pending=0)
    assert [f["Body"] for f in stored] == ["first <b>", "second \U0001F44D"]
    assert not path.exists()
    assert spool.replay(path, stored.append) == spool.ReplayResult(0, 0, 0)


def test_an_outage_stops_the_replay_and_keeps_the_rest_in_order(tmp_path):
    path = tmp_path / "inbound.jsonl"
    for sid in ("SM1", "SM2", "SM3"):
        spool.append(path, {"MessageSid": sid, "Body": "kept"})
    stored = []

    def down_after_one(form):
        if stored:
            raise ConnectionError("database still down")
        stored.append(form["MessageSid"])

    with pytest.raises(ConnectionError):
        spool.replay(path, down_after_one)
    assert stored == ["SM1"]
    assert [json.loads(line)["form"]["MessageSid"] for line in path.read_text().splitlines()] == ["SM2", "SM3"]


def test_a_torn_last_record_is_quarantined_and_the_good_ones_are_stored(tmp_path, caplog):
    path = tmp_path / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1", "Body": "private text one"})
    spool.append(path, {"MessageSid": "SM2", "Body": "private text two"})
    with open(path, "ab") as file:  # a crash or a full disk in the middle of an append
        file.write(b'{"crc32": 1, "form": {"MessageSid": "SM3", "Bo')
    stored = []
    with caplog.at_level(logging.ERROR, logger="bot.webhook.spool"):
        result = spool.replay(path, lambda form: stored.append(form["MessageSid"]))
    assert result == spool.ReplayResult(stored=2, quarantined=1, pending=0)
    assert stored == ["SM1", "SM2"]
    quarantined = [json.loads(line) for line in spool.quarantine_path(path).read_text().splitlines()]
    assert [q["reason"] for q in quarantined] == ["torn last record (no end of line)"]
    assert quarantined[0]["record"].startswith('{"crc32": 1, "form": {"MessageSid": "SM3"')
    assert "quarantined" in caplog.text and "private" not in caplog.text  # said, without the text
    assert spool.status(path) == spool.SpoolStatus(pending=0, quarantined=1)


def test_an_append_after_a_torn_record_starts_a_new_line(tmp_path):
    path = tmp_path / "inbound.jsonl"
    path.write_bytes(b'{"crc32": 1, "form": {"MessageS')
    spool.append(path, {"MessageSid": "SM2", "Body": "after the tear"})
    stored = []
    result = spool.replay(path, lambda form: stored.append(form["MessageSid"]))
    assert stored == ["SM2"] and result.quarantined == 1


def test_corrupt_and_refused_records_are_quarantined_without_holding_back_the_rest(tmp_path):
    path = tmp_path / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1", "NumMedia": "99999999999999999999999"})
    spool.append(path, {"MessageSid": "SM2", "Body": "good"})
    with open(path, "ab") as file:
        file.write(b"\x00\x00\x00\x00\n")                                          # zeroed block
        file.write(b'{"crc32": 12345, "form": {"MessageSid": "SM3"}}\n')          # checksum wrong
        file.write(b'["not", "a", "form"]\n')
        file.write(json.dumps({"MessageSid": "SM4", "Body": "old format"}).encode() + b"\n")  # before checksums
    spool.append(path, {"MessageSid": "SM5", "Body": "good too"})
    stored = []

    def store(form):
        if form["MessageSid"] == "SM1":
            raise DataError("INSERT", {}, Exception("integer out of range"))  # refused: not an outage
        stored.append(form["MessageSid"])

    assert spool.replay(path, store) == spool.ReplayResult(stored=3, quarantined=4, pending=0)
    assert stored == ["SM2", "SM4", "SM5"]
    reasons = [json.loads(line)["reason"] for line in spool.quarantine_path(path).read_text().splitlines()]
    assert reasons == ["refused by the database (DataError)", "unreadable record (torn or corrupt)",
                       "checksum mismatch (corrupt record)", "not a webhook form"]
    assert not path.exists()


def test_a_database_outage_is_not_a_refusal(tmp_path):
    path = tmp_path / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1"})

    def down(_form):
        raise OperationalError("INSERT", {}, Exception("could not connect to server"))

    with pytest.raises(OperationalError):
        spool.replay(path, down)
    assert spool.status(path) == spool.SpoolStatus(pending=1, quarantined=0)


def test_spool_files_are_owner_only(tmp_path):
    folder = tmp_path / "var" / "spool"
    path = folder / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1"})
    spool.quarantine(path, {"MessageSid": "SM2"}, "refused by the database (DataError)")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(spool.quarantine_path(path)).st_mode) == 0o600
    spool.append(path, {"MessageSid": "SM3"})

    def down_at_sm3(form):
        if form["MessageSid"] == "SM3":
            raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        spool.replay(path, down_at_sm3)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600   # rewritten, still owner-only


def test_an_old_world_readable_spool_is_made_owner_only(tmp_path):
    path = tmp_path / "inbound.jsonl"
    path.write_text(json.dumps({"MessageSid": "SM1"}) + "\n")
    os.chmod(path, 0o644)
    spool.append(path, {"MessageSid": "SM2"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
