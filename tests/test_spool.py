"""The inbound spool keeps texts on disk while the database is down."""
from __future__ import annotations

import json

import pytest

from bot import spool


def test_spooled_forms_are_replayed_in_order_then_removed(tmp_path):
    path = tmp_path / "spool" / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1", "Body": "first <b>"})
    spool.append(path, {"MessageSid": "SM2", "Body": "second \U0001F44D"})
    stored = []
    assert spool.replay(path, stored.append) == 2
    assert [f["Body"] for f in stored] == ["first <b>", "second \U0001F44D"]
    assert not path.exists()
    assert spool.replay(path, stored.append) == 0


def test_a_failed_replay_keeps_the_spool(tmp_path):
    path = tmp_path / "inbound.jsonl"
    spool.append(path, {"MessageSid": "SM1", "Body": "kept"})

    def down(_form):
        raise ConnectionError("database still down")

    with pytest.raises(ConnectionError):
        spool.replay(path, down)
    assert json.loads(path.read_text())["Body"] == "kept"
