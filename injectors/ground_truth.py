"""The ground-truth journal: JSON Lines, one record per event, appended and fsynced, never rewritten.

Every record carries the contract's fields (README, "Faults": ``fault_id``, ``type``, ``targets``, ``params``,
``mechanism``, ``scheduled_start``, ``scheduled_end``, ``applied_at``, ``reverted_at``,
``effect_onset``, ``effect_offset``, ``outcome``, ``effect``, ``error``) plus ``event``
(``intent``, ``applied``, ``failed``, ``reverted``) and ``recorded_at``. A fault's state is the
fold of its records; the intent is written before anything is applied, so a fault that a
SIGKILL interrupted still shows up (with ``outcome: null``).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REQUIRED_FIELDS = (
    "fault_id", "type", "targets", "params", "mechanism", "scheduled_start", "scheduled_end",
    "applied_at", "reverted_at", "effect_onset", "effect_offset", "outcome", "effect", "error",
)
OUTCOMES = ("applied", "partial", "failed", "reverted")
EVENTS = ("intent", "applied", "failed", "reverted")


def iso_ms(t: float | datetime | None) -> str | None:
    """Epoch seconds or an aware datetime (pandas Timestamps too) -> UTC ISO 8601 with
    milliseconds and a ``Z``, the one time format of every record Faultlab writes (``None`` stays ``None``)."""
    if t is None:
        return None
    when = t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_record(event: str, **fields: Any) -> dict[str, Any]:
    """A complete record: every required field present (``None`` when not known yet)."""
    if event not in EVENTS:
        raise ValueError(f"event {event!r} not in {EVENTS}")
    outcome = fields.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} not in {OUTCOMES}")
    unknown = set(fields) - set(REQUIRED_FIELDS) - {"group", "host", "detail"}
    if unknown:
        raise ValueError(f"unknown ground-truth fields {sorted(unknown)}")
    record: dict[str, Any] = {"event": event}
    for name in REQUIRED_FIELDS:
        record[name] = fields.get(name)
    for name in ("group", "detail"):
        if name in fields:
            record[name] = fields[name]
    return record


class GroundTruthLog:
    """Append-only JSON Lines file; each append is flushed and fsynced before returning."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        record = {**record, "recorded_at": iso_ms(datetime.now(UTC).timestamp())}
        line = json.dumps(record, sort_keys=False, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every record in order; a torn last line (writer killed mid-write) is skipped.

    A broken line anywhere else means the journal was damaged, not interrupted: BadInput
    naming the file and line, rather than labels silently built from part of it.
    """
    from faultlab.errors import BadInput

    records: list[dict[str, Any]] = []
    path = Path(path)
    if not path.exists():
        return records
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break
            raise BadInput(f"{path}:{number}: not a JSON object ({exc.msg})") from None
    return records


def fold(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest state of each fault: later records' non-null fields win."""
    state: dict[str, dict[str, Any]] = {}
    for record in records:
        current = state.setdefault(record["fault_id"], {})
        for key, value in record.items():
            if value is not None or key not in current:
                current[key] = value
    return state
