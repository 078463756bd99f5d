"""The ground-truth journal: fields, append-only, fsynced, torn lines, folding."""

from __future__ import annotations

import json
import os

import pytest

from faultlab.injectors.ground_truth import (
    REQUIRED_FIELDS,
    GroundTruthLog,
    fold,
    iso_ms,
    make_record,
    read_records,
)


def test_iso_ms_is_utc_with_milliseconds():
    assert iso_ms(0.0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(1700000000.1234) == "2023-11-14T22:13:20.123Z"
    assert iso_ms(None) is None


def test_record_has_every_design_field():
    record = make_record("intent", fault_id="f1", type="cpu", targets=["cart"])
    assert set(REQUIRED_FIELDS) <= set(record)
    assert record["event"] == "intent" and record["outcome"] is None and record["effect"] is None
    with pytest.raises(ValueError):
        make_record("intent", fault_id="f1", outcome="done")
    with pytest.raises(ValueError):
        make_record("intent", fault_id="f1", colour="red")


def test_append_only_and_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    log = GroundTruthLog(tmp_path / "run" / "ground_truth.jsonl")
    log.append(make_record("intent", fault_id="f1", type="cpu"))
    first = log.path.read_bytes()
    log.append(make_record("applied", fault_id="f1", type="cpu", outcome="applied",
                           applied_at="2026-01-01T00:00:00.000Z"))
    assert log.path.read_bytes().startswith(first)  # never rewritten
    assert len(synced) == 2
    lines = log.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["intent", "applied"]
    assert all(json.loads(line)["recorded_at"].endswith("Z") for line in lines)


def test_torn_last_line_skipped_and_fold_keeps_latest(tmp_path):
    path = tmp_path / "gt.jsonl"
    log = GroundTruthLog(path)
    log.append(make_record("intent", fault_id="f1", type="cpu"))
    log.append(make_record("applied", fault_id="f1", type="cpu", outcome="applied",
                           applied_at="2026-01-01T00:00:01.000Z"))
    log.append(make_record("reverted", fault_id="f1", type="cpu", outcome="reverted",
                           reverted_at="2026-01-01T00:00:31.000Z"))
    with path.open("a") as fh:
        fh.write('{"fault_id": "f2", "ev')
    records = read_records(path)
    assert len(records) == 3
    state = fold(records)["f1"]
    assert state["outcome"] == "reverted"
    assert state["applied_at"] == "2026-01-01T00:00:01.000Z"  # not erased by the later null
    assert state["reverted_at"] == "2026-01-01T00:00:31.000Z"
