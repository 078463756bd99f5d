"""The Server Machine Dataset layout (Su et al., OmniAnomaly, KDD 2019).

::

    ROOT/train/<machine>.txt                 comma-separated floats, no header, one row per minute
    ROOT/test/<machine>.txt                  the same, continuing after train
    ROOT/test_label/<machine>.txt            one 0/1 per test row
    ROOT/interpretation_label/<machine>.txt  "start-end:d1,d2,..." per anomaly (optional)

Train then test become one series at ``interval_s`` (SMD samples once a minute) from the unix
epoch; train is the fault-free part (``train_end``, a timestamp or a row count, overrides it).
Each dimension is its own entity (``dim_1`` .. ``dim_38``),
and the interpretation label names the dimensions an anomaly shows in: they are the segment's
root causes (1-based dimensions, 0-based inclusive test rows, as OmniAnomaly's files use them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.io.parsing import (
    build_dataset,
    labels_frame,
    parse_labels,
    parse_numbers,
    resolve_train_end,
    segment_labels,
    series_columns,
)
from faultlab.harness.io.summary import FROM_FILE, FROM_OPTION, ImportSummary

SMD_INTERVAL_S = 60.0


def _entity(path: Path, machine: str | None) -> tuple[Path, str]:
    """``(root, machine)`` from a root folder (plus a machine name) or a ``test/<machine>.txt`` file."""
    if path.is_file():
        return path.parent.parent, path.stem
    if not (path / "test").is_dir():
        raise BadInput(f"{path}: not a Server Machine Dataset folder (no test/ folder)")
    if machine:
        return path, machine
    found = sorted(p.stem for p in (path / "test").glob("*.txt"))
    if len(found) != 1:
        raise BadInput(f"{path}: holds {len(found)} machines ({', '.join(found[:5])}...); choose one with machine=NAME")
    return path, found[0]


def _matrix(file: Path, summary: ImportSummary) -> pd.DataFrame:
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    frame = pd.read_csv(file, header=None, dtype=str, keep_default_na=False)
    frame.columns = [f"dim_{i + 1}" for i in range(frame.shape[1])]
    summary.rows_read += len(frame)
    return parse_numbers(frame, file, list(frame.columns), header_lines=0, summary=summary)


def _interpretation(file: Path, n_test: int, n_dims: int) -> list[tuple[int, int, list[str]]]:
    spans = []
    if not file.is_file():
        return spans
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows, dims = line.split(":", 1)
            first, last = (int(x) for x in rows.split("-", 1))
            names = [int(d) for d in dims.split(",") if d.strip()]
        except ValueError:
            raise BadInput(f"{file}: line {number}: expected 'start-end:d1,d2,...', got {line.strip()!r}") from None
        if not 0 <= first <= last < n_test:
            raise BadInput(f"{file}: line {number}: rows {first}-{last} are outside the {n_test} test rows")
        if any(not 1 <= d <= n_dims for d in names):
            raise BadInput(f"{file}: line {number}: a dimension is outside 1..{n_dims}")
        spans.append((first, last, [f"dim_{d}" for d in names]))
    return spans


def import_smd(
    path: str | Path,
    *,
    machine: str | None = None,
    interval_s: float = SMD_INTERVAL_S,
    name: str | None = None,
    train_end: Any = None,
) -> Dataset:
    """One SMD machine as a Dataset with root-cause dimensions from ``interpretation_label/``."""
    root, machine = _entity(Path(path), machine)
    summary = ImportSummary()
    train = _matrix(root / "train" / f"{machine}.txt", summary)
    test = _matrix(root / "test" / f"{machine}.txt", summary)
    if train.shape[1] != test.shape[1]:
        raise BadInput(f"{root / 'test' / f'{machine}.txt'}: {test.shape[1]} columns, train has {train.shape[1]}")
    label_file = root / "test_label" / f"{machine}.txt"
    if not label_file.is_file():
        raise BadInput(f"{label_file}: no such file")
    label_cells = pd.read_csv(label_file, header=None, dtype=str, keep_default_na=False)[0]
    test_anomaly = parse_labels(label_cells, label_file, "label", header_lines=0)
    if len(test_anomaly) != len(test):
        raise BadInput(f"{label_file}: {len(test_anomaly)} labels for {len(test)} test rows")
    names = list(train.columns)
    causes = [""] * len(test)
    for first, last, dims in _interpretation(root / "interpretation_label" / f"{machine}.txt", len(test), len(names)):
        for i in range(first, last + 1):
            causes[i] = ",".join(dims)
    n = len(train) + len(test)
    step = pd.Timedelta(seconds=interval_s)
    grid = pd.date_range(pd.Timestamp(0, unit="s", tz="UTC"), periods=n, freq=step, name="timestamp")
    chosen = resolve_train_end(train_end, grid)
    values = pd.concat([train, test], ignore_index=True)
    values.index = grid
    anomaly = np.concatenate([np.zeros(len(train), dtype=np.int8), test_anomaly])
    text = segment_labels(anomaly, "smd", "anomaly", [""] * len(train) + causes)
    return build_dataset(
        grid, values, labels_frame(grid, anomaly, **text),
        name=name or machine, interval_s=interval_s, columns=series_columns(names),
        source={"format": "smd", "path": str(root), "machine": machine}, candidates=names, summary=summary,
        train_end=chosen if chosen is not None else grid[len(train)],
        train_source=FROM_OPTION if chosen is not None else FROM_FILE,
    )
