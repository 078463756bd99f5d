"""Shared parsing for importers: strict timestamps, numbers and 0/1 labels, then the rows' steps.

Foreign files are checked here once, so every importer reports the same way: a
:class:`BadInput` that names the file, the line (1-based, the header is line 1) and the
column. Accepted timestamps are ISO 8601 / date strings (UTC unless they carry an offset)
or numbers (unix seconds; values above 1e11 are taken as milliseconds).

What an importer may change, and how each change is counted in the
:class:`~faultlab.harness.io.summary.ImportSummary` that ``faultlab import`` prints:

* **non-finite numbers** (``inf``, ``-inf``, and numbers beyond float range such as ``1e400``,
  which parse to infinity) are *masked*, never stored: they become missing values, are filled
  like any gap and marked in ``mask.parquet``; their count and the place of the first one
  (file, line, column) are printed. Masking rather than refusing, because real benchmark files
  carry them (RCAEval's own loader replaces them the same way) and one bad cell should not
  refuse a whole series; the count keeps it visible.
* **order** (``order=strict``, the default): a timestamp earlier than the one before it, or a
  repeated one, is BadInput naming the line and suggesting ``order=sort``; ``order=sort``
  sorts the rows by time (stable) and drops repeated timestamps keeping the last row, counted.
* **gaps** (``fill_gaps``): ``true`` moves rows onto the regular grid of the median interval
  and fills the steps no row reached (counted, masked); ``false`` keeps the rows' own
  timestamps (irregular steps; the dataset format allows them, see :mod:`faultlab.dataset`),
  and the missing grid steps are still counted.
* **the split** (``train_end``): a timestamp (ISO 8601) or a row count (a plain integer: the
  first N rows, in time order, are the fault-free part). Without one from the file or the
  option, the rows before the first anomaly are the training part, and a warning says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import LABEL_COLUMNS, Dataset, ServiceGraph
from faultlab.errors import BadInput
from faultlab.harness.collect.transform import fill_gaps
from faultlab.harness.io.summary import BEFORE_FIRST_ANOMALY, FROM_FILE, NO_SPLIT, ImportSummary

#: Numbers above this are unix milliseconds, below it unix seconds (1e11 s is year 5138).
MS_THRESHOLD = 1e11
ORDERS = ("strict", "sort")
SORT_HINT = "--option order=sort sorts the rows by time and keeps the last of repeated timestamps"


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
    if numbers.notna().all() and np.isfinite(numbers.to_numpy(dtype=np.float64)).all():
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
    if ordered:
        check_order(index, file, column, header_lines=header_lines, text=text)
    return index


def check_order(
    index: pd.DatetimeIndex, file: Path, column: str, *, header_lines: int = 1, text: pd.Series | None = None
) -> None:
    """BadInput at the first timestamp that is earlier than, or equal to, the one before it."""
    step = np.diff(index.asi8)
    shown = (lambda i: repr(text.iloc[i])) if text is not None else (lambda i: repr(index[i].isoformat()))
    if (step < 0).any():
        i = int(np.flatnonzero(step < 0)[0]) + 1
        raise BadInput(
            f"{file}: line {i + 1 + header_lines}, column {column!r}: timestamp {shown(i)} is out of order "
            f"(earlier than {shown(i - 1)} on the line before); {SORT_HINT}"
        )
    if (step == 0).any():
        i = int(np.flatnonzero(step == 0)[0]) + 1
        raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: duplicated timestamp {shown(i)}; {SORT_HINT}")


def arrange_rows(
    index: pd.DatetimeIndex,
    file: Path,
    column: str,
    order: str,
    summary: ImportSummary,
    *,
    header_lines: int = 1,
    cells: pd.Series | None = None,
) -> np.ndarray:
    """Row positions to keep, in time order: all of them (``strict``, else BadInput), or sorted and de-duplicated.

    ``sort`` is stable and keeps the last row of each repeated timestamp (a later line in a
    file is the newer write); the rows moved and the rows dropped are counted in ``summary``.
    ``cells`` (the column's text) lets an error quote the file as written.
    """
    if order not in ORDERS:
        raise BadInput(f"import option order {order!r} is not one of {', '.join(ORDERS)}")
    summary.rows_read += len(index)
    if order == "strict":
        text = None if cells is None else cells.astype(str).str.strip()
        check_order(index, file, column, header_lines=header_lines, text=text)
        return np.arange(len(index))
    ns = index.asi8
    running = np.maximum.accumulate(ns)
    summary.rows_reordered += int(np.sum(ns[1:] < running[:-1]))
    by_time = np.argsort(ns, kind="stable")
    stamps = ns[by_time]
    last = np.append(stamps[1:] != stamps[:-1], True)  # the last row of each run of equal timestamps
    summary.duplicates_dropped += int(np.sum(~last))
    return by_time[last]


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


def parse_numbers(
    frame: pd.DataFrame, file: Path, columns: Sequence[str], *, header_lines: int = 1, summary: ImportSummary | None = None
) -> pd.DataFrame:
    """Float columns; empty cells (and NaN/nan) become NaN gaps, anything else non-numeric is BadInput.

    Non-finite numbers (``inf``, ``-inf``, ``1e400``) become NaN too: they are masked and filled
    like gaps, and counted in ``summary`` with the place of the first one.
    """
    out = {}
    first: tuple[int, str] | None = None
    fast = _all_numbers(frame, columns)
    for j, column in enumerate(columns):
        if fast is not None:
            array = fast[:, j]
        else:
            text = frame[column].astype(str).str.strip()
            values = pd.to_numeric(text, errors="coerce")
            bad = values.isna() & ~text.str.lower().isin(["", "nan", "na", "null"])
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise BadInput(f"{file}: line {i + 1 + header_lines}, column {column!r}: {text.iloc[i]!r} is not a number")
            array = values.astype(np.float64).to_numpy()
        infinite = np.isinf(array)
        if infinite.any():
            i = int(np.flatnonzero(infinite)[0])
            if first is None or i < first[0]:
                first = (i, column)
            if summary is not None:
                summary.non_finite += int(infinite.sum())
            array = np.where(infinite, np.nan, array)
        out[column] = array
    if first is not None and summary is not None and not summary.first_non_finite:
        summary.first_non_finite = f"{file}: line {first[0] + 1 + header_lines}, column {first[1]!r}"
    return pd.DataFrame(out, index=frame.index)


def _all_numbers(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray | None:
    """The cells as floats in one step when every one is a plain number (wide files), else None (checked per cell)."""
    block = frame[list(columns)].to_numpy(dtype=str)
    if np.char.count(block, "_").any():  # NumPy reads "1_000", pandas does not: leave it to the strict path
        return None
    try:
        return block.astype(np.float64)
    except ValueError:
        return None


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


def missing_steps(index: pd.DatetimeIndex, interval_s: float) -> int:
    """Steps of the regular ``interval_s`` grid that fall between the rows (a spacing of 3 intervals misses 2)."""
    if len(index) < 2 or not interval_s > 0:
        return 0
    spans = np.rint(np.diff(index.asi8) / (interval_s * 1e9)).astype(np.int64)
    return int(np.clip(spans - 1, 0, None).sum())


def place_rows(
    values: pd.DataFrame, index: pd.DatetimeIndex, interval_s: float, *, fill_gaps: bool, summary: ImportSummary
) -> tuple[pd.DatetimeIndex, pd.DataFrame, np.ndarray]:
    """The dataset's steps for rows at ``index``: the regular grid (``fill_gaps``) or the rows' own timestamps.

    Returns the steps, the frame on them (NaN where a grid step had no row) and each row's
    step position; the gap steps, and rows that rounded onto one grid step, go into ``summary``.
    """
    summary.gaps_filled = bool(fill_gaps)
    if not fill_gaps:
        summary.gap_steps += missing_steps(index, interval_s)
        frame = values.copy()
        frame.index = index.rename("timestamp")
        return frame.index, frame, np.arange(len(index))
    grid, frame, position = on_grid(values, index, interval_s)
    summary.gap_steps += len(grid) - len(np.unique(position))
    summary.rows_merged += len(position) - len(np.unique(position))
    return grid, frame, position


def resolve_train_end(option: Any, index: pd.DatetimeIndex, where: str = "import option train_end") -> pd.Timestamp | None:
    """``train_end`` as a timestamp: a plain integer N is a row count (row N, 0-based, starts the test part).

    ``index`` holds the rows' timestamps in time order. BadInput when the split leaves no
    training row or no test row.
    """
    if option is None or (isinstance(option, str) and not option.strip()):
        return None
    text = str(option).strip()
    if isinstance(option, (int, np.integer)) or text.isdigit():
        rows = int(text)
        if not 0 < rows < len(index):
            raise BadInput(f"{where} {text}: a row count must be within 1..{len(index) - 1} (the file has {len(index)} rows)")
        return index[rows]
    stamp = option if isinstance(option, pd.Timestamp) else _one_stamp(text)
    if pd.isna(stamp) or text.lstrip("-").replace(".", "", 1).isdigit():
        raise BadInput(f"{where} {text!r}: expected an ISO 8601 time (e.g. 2025-01-01T00:10:00Z) or a row count")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if not index[0] < stamp <= index[-1]:
        raise BadInput(f"{where} {text!r} is outside the data ({index[0].isoformat()} .. {index[-1].isoformat()}): "
                       "it leaves no training or no test row")
    return stamp


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


def segment_labels(
    anomaly: np.ndarray, prefix: str, fault_type: str, root_causes: Sequence[str] | None = None
) -> dict[str, list[str]]:
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
    summary: ImportSummary | None = None,
    train_source: str = FROM_FILE,
) -> Dataset:
    """The Dataset: gaps filled forward then backward with ``mask`` marking them, meta filled in.

    Without ``train_end`` the rows before the first anomaly are the training part (declared in
    meta, with a warning). The completed ``summary`` goes into ``meta["import"]["summary"]``.
    """
    summary = summary or ImportSummary(rows_read=len(grid))
    filled, mask = fill_gaps(values)
    empty = [c for c in filled.columns if filled[c].isna().all()]
    if empty:
        raise BadInput(f"{source.get('path', name)}: series {empty[0]!r} has no value at all")
    summary.values_filled = int(mask.to_numpy().sum())
    anomaly = labels["anomaly"].to_numpy() > 0
    if train_end is None and anomaly.any():
        train_end, train_source = grid[int(np.argmax(anomaly))], BEFORE_FIRST_ANOMALY
        summary.warnings.append(
            f"no fault-free part declared: training on the {int(np.argmax(anomaly))} row(s) before the first anomaly "
            f"({train_end.isoformat()}); set --option train_end=TIME|ROWS to choose"
        )
    elif train_end is None:
        train_source = NO_SPLIT
        summary.warnings.append("no anomaly labelled and no fault-free part declared: every row is training, none is test")
    train = grid < train_end if train_end is not None else np.ones(len(grid), dtype=bool)
    summary.train_rows, summary.test_rows = int(train.sum()), int((~train).sum())
    summary.train_end = None if train_end is None else pd.Timestamp(train_end).isoformat()
    summary.train_source = train_source
    if train_end is not None and not train.any():
        summary.warnings.append(f"the training part is empty (train_end {summary.train_end} is the first row)")
    if train_end is not None and anomaly[train].any():
        inside = int(anomaly[train].sum())
        summary.warnings.append(f"{inside} anomalous step(s) lie in the training part; Dataset.train() leaves them out")
    meta: dict[str, Any] = {
        "name": name,
        "scrape_interval_s": float(interval_s),
        "start": grid[0].isoformat(),
        "end": grid[-1].isoformat(),
        "columns": columns,
        "faults": [],
        "import": {**source, "summary": summary.to_json()},
    }
    if train_end is not None:
        meta["train_end"] = pd.Timestamp(train_end).isoformat()
    if candidates is not None:
        meta["candidates"] = list(candidates)
    return Dataset(metrics=filled, labels=labels, graph=graph or ServiceGraph([], []), meta=meta, mask=mask)
