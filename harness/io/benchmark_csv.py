"""The two common CSV layouts of anomaly-detection benchmarks.

* **TimeEval canonical** (HPI TimeEval): first column ``timestamp``, one column per series, last
  column ``is_anomaly``. TimeEval keeps a semi-supervised training file next to the test file
  (``X.train.csv`` beside ``X.test.csv``); when it is there it becomes the fault-free part.
  The rows keep their own timestamps (``fill_gaps=false``, the default: TimeEval scores the
  rows as they are, and filling a sparse file onto a grid invents most of its steps);
  ``fill_gaps=true`` puts them on the regular grid of the median interval, gaps filled and
  masked. ``order=sort`` sorts rows that jump back in time and drops repeated timestamps
  (daylight-saving hours), keeping the last; both are counted.
* **TSB-AD** (Liu & Paparrizos, NeurIPS 2024): series columns and ``Label``, no timestamps. The
  file name carries the training length (``..._tr_1007_1st_1200.csv``): those rows are the
  fault-free part. Steps are spaced ``interval_s`` apart (default 1 s) from the unix epoch,
  unless a sidecar gives the real start and step.

Every series becomes its own entity in the column table (``service`` = the series name,
``metric`` = ``value``): these datasets have no services, and no root causes. A Faultlab export
writes ``<name>.faultlab.json`` beside the file (:mod:`faultlab.harness.io.sidecar`); when it is
there, the column table, graph, candidates, timestamps and fault labels come back from it.
``train_end`` (a timestamp, or a row count) overrides the split the file declares.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.io.parsing import (
    arrange_rows,
    build_dataset,
    infer_interval_s,
    labels_frame,
    parse_labels,
    parse_numbers,
    parse_timestamps,
    place_rows,
    read_csv,
    resolve_train_end,
    segment_labels,
    series_columns,
    spread_labels,
)
from faultlab.harness.io.sidecar import (
    check_names,
    check_rows,
    read_sidecar,
    restore_meta,
    sidecar_file,
    sidecar_graph,
    sidecar_labels,
    sidecar_steps,
)
from faultlab.harness.io.summary import FROM_FILE, FROM_OPTION, ImportSummary

TIMEEVAL_LABEL = "is_anomaly"
TSBAD_LABEL = "Label"
TSBAD_TRAIN = re.compile(r"_tr_(\d+)(?:_|\.|$)")


def _series(frame: pd.DataFrame, file: Path, exclude: tuple[str, ...]) -> list[str]:
    names = [c for c in frame.columns if c not in exclude]
    if not names:
        raise BadInput(f"{file}: no series columns (only {', '.join(frame.columns)})")
    if len(set(names)) != len(names):
        raise BadInput(f"{file}: column names repeat")
    return names


def _read_timeeval(
    file: Path, order: str, summary: ImportSummary
) -> tuple[pd.DatetimeIndex, pd.DataFrame, np.ndarray, list[str]]:
    frame = read_csv(file)
    if TIMEEVAL_LABEL not in frame.columns:
        raise BadInput(f"{file}: no {TIMEEVAL_LABEL!r} column (TimeEval canonical format: timestamp, series..., is_anomaly)")
    time_col = frame.columns[0]
    if time_col == TIMEEVAL_LABEL:
        raise BadInput(f"{file}: the first column must be the timestamp, found {TIMEEVAL_LABEL!r}")
    names = _series(frame, file, (time_col, TIMEEVAL_LABEL))
    index = parse_timestamps(frame[time_col], file, time_col, ordered=False)
    keep = arrange_rows(index, file, time_col, order, summary, cells=frame[time_col])
    values = parse_numbers(frame, file, names, summary=summary).iloc[keep].reset_index(drop=True)
    labels = parse_labels(frame[TIMEEVAL_LABEL], file, TIMEEVAL_LABEL)[keep]
    return index[keep], values, labels, names


def _split(option: Any, index: pd.DatetimeIndex, from_file: pd.Timestamp | None) -> tuple[pd.Timestamp | None, str]:
    """``train_end`` and where it came from: the option wins over the file."""
    chosen = resolve_train_end(option, index)
    return (chosen, FROM_OPTION) if chosen is not None else (from_file, FROM_FILE)


def _with_sidecar(
    doc: dict[str, Any] | None, side: Path, file: Path, names: list[str], labels: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Labels and Dataset arguments from the sidecar, or the plain-series defaults without one."""
    if doc is None:
        return labels, {"columns": series_columns(names), "candidates": names, "graph": None}
    table = check_names(doc, names, side, file)
    text = sidecar_labels(doc, labels["anomaly"].to_numpy(), side, file)
    kinds = {k: text[k] for k in ("fault_id", "fault_type", "root_cause")}
    labels = labels_frame(labels.index, labels["anomaly"].to_numpy(), **kinds)
    labels["recovering"] = text["recovering"]
    candidates = doc["meta"].get("candidates")
    return labels, {"columns": table, "candidates": candidates, "graph": sidecar_graph(doc)}


def import_timeeval(
    path: str | Path,
    *,
    name: str | None = None,
    fill_gaps: bool = False,
    order: str = "strict",
    train_end: Any = None,
    sidecar: bool = True,
) -> Dataset:
    """A TimeEval canonical CSV (``X.test.csv`` picks up ``X.train.csv`` as the fault-free part)."""
    file = Path(path)
    summary = ImportSummary()
    index, values, labels, names = _read_timeeval(file, order, summary)
    file_split = None
    stem = file.name.removesuffix(".csv")
    if stem.endswith(".test") and (file.parent / f"{stem[:-5]}.train.csv").is_file():
        train_file = file.parent / f"{stem[:-5]}.train.csv"
        t_index, t_values, t_labels, t_names = _read_timeeval(train_file, order, summary)
        if t_names != names:
            raise BadInput(f"{train_file}: series columns {t_names} differ from {file}'s {names}")
        if t_index[-1] >= index[0]:
            raise BadInput(f"{train_file}: its last timestamp {t_index[-1]} is not before {file}'s first {index[0]}")
        file_split = index[0]
        index = t_index.append(index).rename("timestamp")
        values = pd.concat([t_values, values], ignore_index=True)
        labels = np.concatenate([t_labels, labels])
    stem = stem.removesuffix(".test")
    split, split_source = _split(train_end, index, file_split)
    interval_s = infer_interval_s(index, file)
    steps, on, position = place_rows(values, index, interval_s, fill_gaps=fill_gaps, summary=summary)
    anomaly = spread_labels(steps, position, labels)
    side = sidecar_file(file.parent, stem)
    doc = read_sidecar(side, "timeeval", sidecar)
    if doc is not None:
        check_rows(doc, len(steps), side, file)
    plain = labels_frame(steps, anomaly, **segment_labels(anomaly, "te", "anomaly"))
    frame, extra = _with_sidecar(doc, side, file, names, plain)
    data = build_dataset(
        steps, on, frame, name=name or (doc["meta"].get("name") if doc else None) or stem, interval_s=interval_s,
        source={"format": "timeeval", "path": str(file), "fill_gaps": bool(fill_gaps), "order": order,
                "sidecar": str(side) if doc else None},
        train_end=split, train_source=split_source, summary=summary, **extra,
    )
    if doc is not None:
        restore_meta(data.meta, doc)
    return data


def import_tsbad(
    path: str | Path,
    *,
    interval_s: float | None = None,
    name: str | None = None,
    train_end: Any = None,
    sidecar: bool = True,
) -> Dataset:
    """A TSB-AD CSV; ``_tr_N_`` in the file name marks the first N rows as the fault-free part."""
    file = Path(path)
    frame = read_csv(file)
    if TSBAD_LABEL not in frame.columns:
        raise BadInput(f"{file}: no {TSBAD_LABEL!r} column (TSB-AD format: series columns, then Label)")
    names = _series(frame, file, (TSBAD_LABEL,))
    summary = ImportSummary(rows_read=len(frame))
    values = parse_numbers(frame, file, names, summary=summary)
    anomaly = parse_labels(frame[TSBAD_LABEL], file, TSBAD_LABEL)
    if interval_s is not None and not interval_s > 0:
        raise BadInput(f"interval_s must be > 0, got {interval_s}")
    side = sidecar_file(file.parent, file.stem)
    doc = read_sidecar(side, "tsb-ad", sidecar)
    if doc is not None:
        check_rows(doc, len(frame), side, file)
    if doc is not None and interval_s is None:
        grid = sidecar_steps(doc, len(frame), side)
    else:  # an explicit interval_s wins over the sidecar's step; the start stays the sidecar's (else the epoch)
        start = pd.Timestamp(doc["steps"]["start"]) if doc is not None else pd.Timestamp(0, unit="s", tz="UTC")
        step = pd.Timedelta(seconds=interval_s or 1.0)
        grid = pd.date_range(start.tz_convert("UTC"), periods=len(frame), freq=step, name="timestamp")
    values.index = grid
    file_split = None
    match = TSBAD_TRAIN.search(file.name)
    if match:
        rows = int(match.group(1))
        if not 0 < rows < len(grid):
            raise BadInput(f"{file}: training length {rows} in the file name is outside 1..{len(grid) - 1}")
        file_split = grid[rows]
    split, split_source = _split(train_end, grid, file_split)
    plain = labels_frame(grid, anomaly, **segment_labels(anomaly, "tsb", "anomaly"))
    labels, extra = _with_sidecar(doc, side, file, names, plain)
    data = build_dataset(
        grid, values, labels, name=name or (doc["meta"].get("name") if doc else None) or file.stem,
        interval_s=float(interval_s) if interval_s else infer_interval_s(grid, file) if len(grid) > 1 else 1.0,
        source={"format": "tsb-ad", "path": str(file), "sidecar": str(side) if doc else None},
        train_end=split, train_source=split_source, summary=summary, **extra,
    )
    if doc is not None:
        restore_meta(data.meta, doc)
    return data
