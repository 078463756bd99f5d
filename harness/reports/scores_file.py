"""``scores.json``: the tidy results table on disk, per seed and summarised over seeds.

Layout (``format_version`` 1)::

    {"format_version": 1, "created": ISO-8601, "datasets": [names], "columns": [...],
     "settings": {dataset: {"vus": {"window_steps", "window_s", "rule", ...}, "candidates": [...],
                            "recovering": policy, "floors": bool, ...}},
     "rows":    [{"kind", "model", "dataset", "seed", "metric", "protocol", "breakdown", "value"[, "reason"]}],
     "summary": [{"kind", "model", "dataset", "metric", "protocol", "breakdown", "mean", "std", "n"[, "reason"]}],
     ...free-form provenance (command, methods)}

``rows`` hold every metric per detector/classifier, per breakdown (all, fault type, target) and
per seed; ``summary`` their mean and sample standard deviation over seeds (NaN -> ``null``).
A ``null`` value carries ``reason``: why the data cannot answer that question (n/a, never 0).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.documents import read_document
from faultlab.errors import BadInput
from faultlab.harness.evaluation import COLUMNS, REASON
from faultlab.injectors.ground_truth import iso_ms

FORMAT_VERSION = 1
KEY_COLUMNS = ["kind", "model", "dataset", "metric", "protocol", "breakdown"]


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=1) and count of finite values over seeds, one row per key.

    ``reason`` is the first reason given for a key whose mean is undefined (else empty).
    """
    from faultlab.harness.scoring import aggregate_table

    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise BadInput(f"results table lacks column(s) {missing}")
    if table.empty:
        return pd.DataFrame(columns=[*KEY_COLUMNS, "mean", "std", "n", REASON])
    out = aggregate_table(table[COLUMNS], value="value", seed="seed")
    reasons = reasons_of(table)
    given = table.assign(**{REASON: reasons})[reasons != ""]
    if given.empty:
        out[REASON] = ""
        return out
    first = given.groupby(KEY_COLUMNS, sort=False)[REASON].first().reset_index()
    out = out.merge(first, on=KEY_COLUMNS, how="left")
    out[REASON] = out[REASON].fillna("").where(~np.isfinite(out["mean"].astype(np.float64)), "")
    return out


def reasons_of(table: pd.DataFrame) -> pd.Series:
    """The ``reason`` column as strings ("" where absent): tables from older files have none."""
    if REASON not in table.columns:
        return pd.Series("", index=table.index, dtype=object).astype(str)
    return table[REASON].fillna("").astype(str)


def _clean(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-able rows; an empty ``reason`` is left out to keep the file small."""
    return [{k: _clean(v) for k, v in row.items() if not (k == REASON and not v)}
            for row in frame.to_dict(orient="records")]


def write_scores(table: pd.DataFrame, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``scores.json`` (rows per seed + summary over seeds); returns the path.

    ``extra`` (provenance, ``settings``) is written as given, NaN becoming ``null``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format_version": FORMAT_VERSION,
        "created": iso_ms(datetime.now(UTC)),
        "datasets": sorted(table["dataset"].unique().tolist()) if len(table) else [],
        "columns": COLUMNS,
        **{k: _json_safe(v) for k, v in dict(extra or {}).items()},
        "rows": _records(table.assign(**{REASON: reasons_of(table)})[[*COLUMNS, REASON]]),
        "summary": _records(summarize(table)),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps_rows(doc))
    tmp.replace(path)
    return path


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return _clean(value)


def scores_path(source: str | Path) -> Path:
    """``scores.json`` itself, or the one inside a run/bench folder; BadInput otherwise."""
    path = Path(source)
    if path.is_dir():
        path = path / "scores.json"
    if not path.is_file():
        raise BadInput(f"{source}: no scores.json there (give a run folder, a bench --out folder or a scores.json)")
    return path


def read_scores(source: str | Path) -> pd.DataFrame:
    """The tidy table (per-seed rows) from a ``scores.json`` or a folder holding one."""
    path = scores_path(source)
    doc = read_document(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise BadInput(f"{path}: field 'rows' is missing or not a list")
    version = doc.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BadInput(f"{path}: format_version {version!r} is not supported (newest: {FORMAT_VERSION})")
    table = pd.DataFrame(doc["rows"])
    if table.empty:
        return pd.DataFrame(columns=[*COLUMNS, REASON])
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise BadInput(f"{path}: rows lack field(s) {missing}")
    table = table.assign(**{REASON: reasons_of(table)})[[*COLUMNS, REASON]].copy()
    table["seed"] = table["seed"].astype(np.int64)
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype(np.float64)
    return table


def dumps_rows(doc: Mapping[str, Any]) -> str:
    """Indented JSON with one line per row: readable in a diff, a few hundred kB, not MBs."""
    lines = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            body = ",\n".join("  " + json.dumps(v, allow_nan=False, separators=(",", ":")) for v in value)
            lines.append(f" {json.dumps(key)}: [\n{body}\n ]{end}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, allow_nan=False)}{end}")
    return "\n".join(lines) + "\n}\n"
