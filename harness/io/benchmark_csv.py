"""The two common CSV layouts of anomaly-detection benchmarks.

* **TimeEval canonical** (HPI TimeEval): first column ``timestamp``, one column per series, last
  column ``is_anomaly``. TimeEval keeps a semi-supervised training file next to the test file
  (``X.train.csv`` beside ``X.test.csv``); when it is there it becomes the fault-free part.
* **TSB-AD** (Liu & Paparrizos, NeurIPS 2024): series columns and ``Label``, no timestamps. The
  file name carries the training length (``..._tr_1007_1st_1200.csv``): those rows are the
  fault-free part. Steps are spaced ``interval_s`` apart from the unix epoch.

Every series becomes its own entity in the column table (``service`` = the series name,
``metric`` = ``value``): these datasets have no services, and no root causes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from faultlab.harness.io.parsing import (
    build_dataset,
    infer_interval_s,
    labels_frame,
    on_grid,
    parse_labels,
    parse_numbers,
    parse_timestamps,
    read_csv,
    segment_labels,
    series_columns,
    spread_labels,
)

from faultlab.dataset import Dataset
from faultlab.errors import BadInput

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


def _read_timeeval(file: Path) -> tuple[pd.DatetimeIndex, pd.DataFrame, np.ndarray, list[str]]:
    frame = read_csv(file)
    if TIMEEVAL_LABEL not in frame.columns:
        raise BadInput(f"{file}: no {TIMEEVAL_LABEL!r} column (TimeEval canonical format: timestamp, series..., is_anomaly)")
    time_col = frame.columns[0]
    if time_col == TIMEEVAL_LABEL:
        raise BadInput(f"{file}: the first column must be the timestamp, found {TIMEEVAL_LABEL!r}")
    names = _series(frame, file, (time_col, TIMEEVAL_LABEL))
    index = parse_timestamps(frame[time_col], file, time_col)
    values = parse_numbers(frame, file, names)
    labels = parse_labels(frame[TIMEEVAL_LABEL], file, TIMEEVAL_LABEL)
    return index, values, labels, names


def import_timeeval(path: str | Path, *, name: str | None = None) -> Dataset:
    """A TimeEval canonical CSV (``X.test.csv`` picks up ``X.train.csv`` as the fault-free part)."""
    file = Path(path)
    index, values, labels, names = _read_timeeval(file)
    train_end = None
    stem = file.name.removesuffix(".csv")
    if stem.endswith(".test") and (file.parent / f"{stem[:-5]}.train.csv").is_file():
        train_file = file.parent / f"{stem[:-5]}.train.csv"
        t_index, t_values, t_labels, t_names = _read_timeeval(train_file)
        if t_names != names:
            raise BadInput(f"{train_file}: series columns {t_names} differ from {file}'s {names}")
        if t_index[-1] >= index[0]:
            raise BadInput(f"{train_file}: its last timestamp {t_index[-1]} is not before {file}'s first {index[0]}")
        train_end = index[0]
        index = t_index.append(index).rename("timestamp")
        values = pd.concat([t_values, values], ignore_index=True)
        labels = np.concatenate([t_labels, labels])
        stem = stem[:-5]
    interval_s = infer_interval_s(index, file)
    grid, on, position = on_grid(values, index, interval_s)
    anomaly = spread_labels(grid, position, labels)
    return build_dataset(
        grid, on, labels_frame(grid, anomaly, **segment_labels(anomaly, "te", "anomaly")),
        name=name or stem, interval_s=interval_s, columns=series_columns(names),
        source={"format": "timeeval", "path": str(file)}, train_end=train_end, candidates=names,
    )


def import_tsbad(path: str | Path, *, interval_s: float = 1.0, name: str | None = None) -> Dataset:
    """A TSB-AD CSV; ``_tr_N_`` in the file name marks the first N rows as the fault-free part."""
    file = Path(path)
    frame = read_csv(file)
    if TSBAD_LABEL not in frame.columns:
        raise BadInput(f"{file}: no {TSBAD_LABEL!r} column (TSB-AD format: series columns, then Label)")
    names = _series(frame, file, (TSBAD_LABEL,))
    values = parse_numbers(frame, file, names)
    anomaly = parse_labels(frame[TSBAD_LABEL], file, TSBAD_LABEL)
    if not interval_s > 0:
        raise BadInput(f"interval_s must be > 0, got {interval_s}")
    grid = pd.date_range(pd.Timestamp(0, unit="s", tz="UTC"), periods=len(frame), freq=pd.Timedelta(seconds=interval_s), name="timestamp")
    values.index = grid
    train_end = None
    match = TSBAD_TRAIN.search(file.name)
    if match:
        rows = int(match.group(1))
        if not 0 < rows < len(grid):
            raise BadInput(f"{file}: training length {rows} in the file name is outside 1..{len(grid) - 1}")
        train_end = grid[rows]
    return build_dataset(
        grid, values, labels_frame(grid, anomaly, **segment_labels(anomaly, "tsb", "anomaly")),
        name=name or file.stem, interval_s=interval_s, columns=series_columns(names),
        source={"format": "tsb-ad", "path": str(file)}, train_end=train_end, candidates=names,
    )
