"""Shared parsing for importers: strict timestamps, numbers and 0/1 labels, then one regular grid.

Foreign files are checked here once, so every importer reports the same way: a
:class:`BadInput` that names the file, the line (1-based, the header is line 1) and the
column. Accepted timestamps are ISO 8601 / date strings (UTC unless they carry an offset)
or numbers (unix seconds; values above 1e11 are taken as milliseconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from faultlab.harness.collect.transform import fill_gaps

from faultlab.dataset import LABEL_COLUMNS, Dataset, ServiceGraph
from faultlab.errors import BadInput

#: Numbers above this are unix milliseconds, below it unix seconds (1e11 s is year 5138).
MS_THRESHOLD = 1e11


def read_csv(file: Path) -> pd.DataFrame:
    """Every cell as text (so nothing is silently coerced); BadInput when the file cannot be read."""
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadInput(f"{file}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise BadInput(f"{file}: no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def parse_timestamps(
    cells: pd.Series, file: Path, column: str, *, header_lines: int = 1, ordered: bool = True
) -> pd.DatetimeIndex:
    """UTC timestamps (strictly increasing unless ``ordered=False``), or BadInput naming the first bad line."""
    text = cells.astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        unit = "ms" if float(numbers.abs().max()) > MS_THRESHOLD else "s"
        stamps = pd.to_datetime(numbers.astype(np.float64), unit=unit, utc=True)
    else:
        stamps = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
        for i, cell in enumerate(text):
            stamp = _one_stamp(cell)
            if pd.isna(stamp):
                raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: unparseable timestamp {cell!r}")
            stamps.iloc[i] = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    index = pd.DatetimeIndex(stamps, name="timestamp").as_unit("ns")  # asi8 in ns below
    if not ordered:
        return index
    step = np.diff(index.asi8)
    if (step < 0).any():
        i = int(np.flatnonzero(step < 0)[0]) + 1
        raise BadInput(
            f"{file}: line {i + 1 + header_lines}, column {column!r}: timestamp {text.iloc[i]!r} is out of order "
            f"(earlier than {text.iloc[i - 1]!r} on the line before)"
        )
    if (step == 0).any():
        i = int(np.flatnonzero(step == 0)[0]) + 1
        raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: duplicated timestamp {text.iloc[i]!r}")
    return index


def _one_stamp(cell: str) -> pd.Timestamp | Any:
    """One cell as a timestamp (a number is unix seconds or milliseconds); NaT when it is neither."""
    try:
        number = float(cell)
    except ValueError:
        number = None
    try:
        if number is not None:
            return pd.Timestamp(number, unit="ms" if abs(number) > MS_THRESHOLD else "s")
        return pd.Timestamp(cell)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def parse_numbers(frame: pd.DataFrame, file: Path, columns: Sequence[str], *, header_lines: int = 1) -> pd.DataFrame:
    """Float columns; empty cells (and NaN/nan) become NaN gaps, anything else non-numeric is BadInput."""
    out = {}
    for column in columns:
        text = frame[column].astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & ~text.str.lower().isin(["", "nan", "na", "null"])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: {text.iloc[i]!r} is not a number")
        out[column] = values.astype(np.float64).to_numpy()
    return pd.DataFrame(out, index=frame.index)


def parse_labels(cells: pd.Series, file: Path, column: str, *, header_lines: int = 1) -> np.ndarray:
    """0/1 labels (``1.0`` accepted); anything else is BadInput naming the line."""
    text = cells.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = ~values.isin([0, 1])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: label {text.iloc[i]!r} is not 0 or 1")
    return values.to_numpy().astype(np.int8)


def infer_interval_s(index: pd.DatetimeIndex, file: Path) -> float:
    """The scrape interval: the median spacing of the timestamps (gaps do not move a median)."""
    if len(index) < 2:
        raise BadInput(f"{file}: needs at least two time steps to infer the sampling interval")
    return float(np.median(np.diff(index.asi8)) / 1e9)


def on_grid(
    values: pd.DataFrame,
    index: pd.DatetimeIndex,
    interval_s: float,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> tuple[pd.DatetimeIndex, pd.DataFrame, np.ndarray]:
    """``values`` (rows at ``index``) moved onto the regular grid ``start + k * interval`` up to ``end``.

    ``start``/``end`` default to the first/last timestamp. Each row goes to its nearest grid
    point (scrape jitter); grid points no row reached are gaps. Returns the grid, the frame on
    the grid (NaN at gaps) and, per row, its grid position.
    """
    step_ns = round(interval_s * 1e9)
    if step_ns <= 0:
        raise BadInput(f"sampling interval must be > 0 s, got {interval_s}")
    start = index[0] if start is None else start
    end = index[-1] if end is None else end
    position = np.rint((index.asi8 - start.value) / step_ns).astype(np.int64)
    periods = int(np.rint((end.value - start.value) / step_ns)) + 1
    grid = pd.date_range(start, periods=periods, freq=pd.Timedelta(step_ns, unit="ns"), name="timestamp")
    frame = pd.DataFrame(np.nan, index=grid, columns=values.columns, dtype=np.float64)
    # Rows that round onto the same grid point: the later one wins (its value is the newer scrape).
    frame.iloc[position] = values.to_numpy(dtype=np.float64)
    return grid, frame, position


def labels_frame(grid: pd.DatetimeIndex, anomaly: np.ndarray | None = None, **text: Sequence[str]) -> pd.DataFrame:
    """The four label columns on ``grid``; missing ones default to normal / empty."""
    n = len(grid)
    frame = pd.DataFrame(
        {
            "anomaly": np.zeros(n, dtype=np.int8) if anomaly is None else np.asarray(anomaly, dtype=np.int8),
            **{col: list(text.get(col, [""] * n)) for col in LABEL_COLUMNS[1:]},
        },
        index=grid,
    )
    return frame[list(LABEL_COLUMNS)]


def spread_labels(grid: pd.DatetimeIndex, position: np.ndarray, per_row: np.ndarray) -> np.ndarray:
    """Per-row 0/1 labels onto the grid; a gap step takes the label of the row before it."""
    out = np.full(len(grid), -1, dtype=np.int64)
    out[position] = per_row
    return pd.Series(out).replace(-1, np.nan).ffill().fillna(0).to_numpy().astype(np.int8)


def segment_labels(anomaly: np.ndarray, prefix: str, fault_type: str, root_causes: Sequence[str] | None = None) -> dict[str, list[str]]:
    """``fault_id``/``fault_type``/``root_cause`` text for each contiguous anomalous segment."""
    from faultlab.flags import runs_of

    n = len(anomaly)
    fault_id, kind, cause = [""] * n, [""] * n, [""] * n
    for k, (start, end) in enumerate(runs_of(anomaly)):
        for i in range(start, end):
            fault_id[i] = f"{prefix}{k + 1:03d}"
            kind[i] = fault_type
            cause[i] = root_causes[i] if root_causes is not None else ""
    return {"fault_id": fault_id, "fault_type": kind, "root_cause": cause}


def series_columns(names: Sequence[str], services: Sequence[str] | None = None, metric: str = "value") -> list[dict[str, str]]:
    """``meta["columns"]`` for plain series: by default every series is its own entity."""
    services = list(services) if services is not None else list(names)
    return [
        {"name": name, "service": svc, "metric": metric, "group": "application", "kind": "gauge", "unit": ""}
        for name, svc in zip(names, services)
    ]


def build_dataset(
    grid: pd.DatetimeIndex,
    values: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    name: str,
    interval_s: float,
    columns: list[dict[str, str]],
    source: dict[str, Any],
    train_end: pd.Timestamp | None = None,
    candidates: Sequence[str] | None = None,
    graph: ServiceGraph | None = None,
) -> Dataset:
    """The Dataset: gaps filled forward then backward with ``mask`` marking them, meta filled in."""
    filled, mask = fill_gaps(values)
    empty = [c for c in filled.columns if filled[c].isna().all()]
    if empty:
        raise BadInput(f"{source.get('path', name)}: series {empty[0]!r} has no value at all")
    meta: dict[str, Any] = {
        "name": name,
        "scrape_interval_s": float(interval_s),
        "start": grid[0].isoformat(),
        "end": grid[-1].isoformat(),
        "columns": columns,
        "faults": [],
        "import": source,
    }
    if train_end is not None:
        meta["train_end"] = pd.Timestamp(train_end).isoformat()
    if candidates is not None:
        meta["candidates"] = list(candidates)
    return Dataset(metrics=filled, labels=labels, graph=graph or ServiceGraph([], []), meta=meta, mask=mask)
