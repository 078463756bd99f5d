"""A Faultlab dataset written in the layouts other benchmarks read (TimeEval, TSB-AD, RCAEval).

TimeEval and TSB-AD files keep values and the 0/1 labels only; the fault-free part survives in
their own conventions: TimeEval's semi-supervised ``<name>.train.csv`` beside ``<name>.test.csv``,
TSB-AD's length in the file name (``<name>_tr_<rows>_1st_<first anomaly>.csv``). What the
formats have no place for (the column table with services, metrics, groups and units, the
graph, the candidates, the timestamps TSB-AD lacks, fault ids, types and root causes) goes
into a sidecar, ``<file stem>.faultlab.json`` (:mod:`faultlab.harness.io.sidecar`), which the
importers read back; the CSV files stay valid for other tools. The mask is not exported.
``rcaeval`` writes one case per fault (:mod:`faultlab.harness.io.rcaeval`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.io.benchmark_csv import TIMEEVAL_LABEL, TSBAD_LABEL
from faultlab.harness.io.rcaeval import export_rcaeval
from faultlab.harness.io.sidecar import sidecar_file, write_sidecar
from faultlab.registry import Registry

EXPORTERS: Registry[Callable[[Dataset, Path], list[Path]]] = Registry("export format")


def _train_rows(data: Dataset) -> int:
    """Rows before the fault-free period ends (what ``Dataset.train()`` draws from)."""
    return int(np.sum(data.timestamps < data.train_end))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "dataset"


def _frame(data: Dataset, label: str, with_time: bool) -> pd.DataFrame:
    frame = data.metrics.reset_index(drop=True).copy()
    if with_time:
        stamps = data.timestamps.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        frame.insert(0, "timestamp", list(stamps))
    frame[label] = data.labels["anomaly"].to_numpy(dtype=np.int64)
    return frame


@EXPORTERS.register("timeeval")
def export_timeeval(data: Dataset, out: Path) -> list[Path]:
    """``<name>.train.csv`` (before ``train_end``), ``<name>.test.csv`` (the rest), ``datasets.csv`` index, sidecar."""
    name = _safe(data.name)
    rows = _train_rows(data)
    frame = _frame(data, TIMEEVAL_LABEL, with_time=True)
    written = []
    if rows:
        frame.iloc[:rows].to_csv(out / f"{name}.train.csv", index=False)
        written.append(out / f"{name}.train.csv")
    frame.iloc[rows:].to_csv(out / f"{name}.test.csv", index=False)
    written.append(out / f"{name}.test.csv")
    test_labels = frame[TIMEEVAL_LABEL].to_numpy()[rows:]
    index = pd.DataFrame([{
        "collection_name": "faultlab", "dataset_name": name,
        "train_path": f"{name}.train.csv" if rows else "", "test_path": f"{name}.test.csv",
        "dataset_type": "real", "datetime_index": True, "split_at": rows or "",
        "train_type": "semi-supervised" if rows else "unsupervised", "train_is_normal": bool(rows),
        "input_type": "multivariate" if data.metrics.shape[1] > 1 else "univariate",
        "length": len(test_labels), "dimensions": data.metrics.shape[1],
        "contamination": float(test_labels.mean()) if len(test_labels) else 0.0,
        "num_anomalies": len(data.labels["fault_id"].iloc[rows:].replace("", np.nan).dropna().unique()),
    }])
    index.to_csv(out / "datasets.csv", index=False)
    side = write_sidecar(data, sidecar_file(out, name), "timeeval", [f.name for f in written])
    return [*written, out / "datasets.csv", side]


@EXPORTERS.register("tsb-ad")
def export_tsbad(data: Dataset, out: Path) -> list[Path]:
    """One ``<name>_tr_<train rows>_1st_<first anomaly row>.csv`` (series columns, then ``Label``) and its sidecar."""
    rows = _train_rows(data)
    anomalous = np.flatnonzero(data.y > 0)
    first = int(anomalous[0]) if len(anomalous) else len(data.y)
    file = out / f"{_safe(data.name)}_tr_{rows}_1st_{first}.csv"
    _frame(data, TSBAD_LABEL, with_time=False).to_csv(file, index=False)
    return [file, write_sidecar(data, sidecar_file(out, file.stem), "tsb-ad", [file.name])]


EXPORTERS.add("rcaeval", export_rcaeval)


def export_dataset(data: Dataset, fmt: str, out: str | Path) -> list[Path]:
    """Write ``data`` in format ``fmt`` into folder ``out``; returns the files written."""
    exporter = EXPORTERS.get(fmt)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a folder")
    if len(data.metrics) == 0:
        raise BadInput(f"dataset {data.name!r} has no rows to export")
    out.mkdir(parents=True, exist_ok=True)
    return exporter(data, out)
