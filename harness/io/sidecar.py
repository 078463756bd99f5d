"""``<name>.faultlab.json``: what a foreign layout has no place for, written beside an export.

TimeEval, TSB-AD and RCAEval files hold values and (at most) 0/1 labels or one root cause per
case. The sidecar keeps the rest, so that export then import gives back the same dataset: the
column table (services, metrics, groups, units), the service graph, the root-cause candidates,
the timestamps (start and step, or every step when they are irregular), the fault ids, types
and root causes of the labels, the recovering steps and the rest of ``meta.json``. Other tools
ignore the file and the foreign files stay valid on their own; the importers read it when it
is there (``--option sidecar=false`` ignores it), and refuse it when it does not match the
file it sits beside (an edited file would otherwise get someone else's labels).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.documents import read_document
from faultlab.errors import BadInput
from faultlab.flags import runs_of

SUFFIX = ".faultlab.json"
VERSION = 1
IGNORE_HINT = "ignore it with --option sidecar=false"
#: meta fields an import sets from the file itself; the sidecar gives the rest back.
OWN_KEYS = ("import", "start", "end", "train_end", "scrape_interval_s", "name", "columns", "candidates", "format_version")


def sidecar_file(folder: Path, stem: str) -> Path:
    """Where the sidecar of the export named ``stem`` lives."""
    return folder / f"{stem}{SUFFIX}"


def _steps(index: pd.DatetimeIndex) -> dict[str, Any]:
    ns = index.as_unit("ns").asi8
    steps = np.unique(np.diff(ns))
    out: dict[str, Any] = {"start": index[0].isoformat(), "step_s": float(steps[0] / 1e9) if len(steps) else 0.0}
    if len(steps) > 1:  # irregular: every step, so that they come back exactly
        out["every"] = [t.isoformat() for t in index]
    return out


def label_runs(labels: pd.DataFrame) -> list[dict[str, Any]]:
    """Runs of anomalous steps with one fault id, type and root cause (``end`` exclusive)."""
    keys = labels[["fault_id", "fault_type", "root_cause"]].astype(str).agg("\x1f".join, axis=1).to_numpy()
    anomaly = labels["anomaly"].to_numpy() > 0
    runs = []
    for start, end in runs_of(anomaly):
        i = start
        for j in range(start + 1, end + 1):
            if j == end or keys[j] != keys[i]:
                row = labels.iloc[i]
                runs.append({"start": i, "end": j, "fault_id": str(row["fault_id"]), "fault_type": str(row["fault_type"]),
                             "root_cause": str(row["root_cause"])})
                i = j
    return runs


def write_sidecar(data: Dataset, file: Path, fmt: str, files: list[str], **extra: Any) -> Path:
    """Write ``file``: the dataset's structure, for the export ``files`` (names relative to its folder)."""
    recovering = labels_recovering(data.labels)
    doc = {
        "faultlab_sidecar": VERSION,
        "format": fmt,
        "files": files,
        "rows": len(data.metrics),
        "steps": _steps(data.timestamps),
        "meta": {k: v for k, v in data.meta.items() if k != "import"},
        "graph": data.graph.to_json(),
        "labels": label_runs(data.labels),
        "recovering": [list(r) for r in runs_of(recovering)],
        **extra,
    }
    file.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return file


def labels_recovering(labels: pd.DataFrame) -> np.ndarray:
    return labels["recovering"].to_numpy() if "recovering" in labels else np.zeros(len(labels), dtype=np.int8)


def read_sidecar(file: Path, fmt: str, use: bool = True) -> dict[str, Any] | None:
    """The sidecar at ``file`` for format ``fmt``, or None when there is none (or ``use`` is false)."""
    if not use or not file.is_file():
        return None
    doc = read_document(file)
    if not isinstance(doc, dict) or not isinstance(doc.get("faultlab_sidecar"), int):
        raise BadInput(f"{file}: not a Faultlab sidecar (no 'faultlab_sidecar' version); {IGNORE_HINT}")
    if doc["faultlab_sidecar"] > VERSION:
        raise BadInput(f"{file}: sidecar version {doc['faultlab_sidecar']} is newer than {VERSION}; {IGNORE_HINT}")
    if doc.get("format") != fmt:
        raise BadInput(f"{file}: written for format {doc.get('format')!r}, not {fmt!r}; {IGNORE_HINT}")
    for key in ("meta", "graph", "labels", "steps"):
        if key not in doc:
            raise BadInput(f"{file}: field {key!r} is missing; {IGNORE_HINT}")
    return doc


def check_names(doc: dict[str, Any], names: list[str], file: Path, data_file: Path) -> list[dict[str, Any]]:
    """The sidecar's column table, when it describes exactly the series ``names`` of ``data_file``."""
    table = doc["meta"].get("columns") or []
    if [str(row.get("name")) for row in table] != list(names):
        raise BadInput(f"{file}: its column table does not describe the series of {data_file} "
                       f"(edited, or written for another file); {IGNORE_HINT}")
    return table


def check_rows(doc: dict[str, Any], rows: int, file: Path, data_file: Path) -> None:
    if doc.get("rows") != rows:
        raise BadInput(f"{file}: describes {doc.get('rows')} rows, {data_file} has {rows}; {IGNORE_HINT}")


def sidecar_steps(doc: dict[str, Any], rows: int, file: Path) -> pd.DatetimeIndex:
    """The timestamps the sidecar records (TSB-AD files have none of their own)."""
    steps = doc["steps"]
    try:
        if "every" in steps:
            index = pd.DatetimeIndex(pd.to_datetime(steps["every"], utc=True), name="timestamp")
        else:
            index = pd.date_range(pd.Timestamp(steps["start"]), periods=rows,
                                  freq=pd.Timedelta(seconds=float(steps["step_s"])), name="timestamp")
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"{file}: field 'steps' is not a start and step_s or a list of times ({exc}); {IGNORE_HINT}") from None
    if len(index) != rows:
        raise BadInput(f"{file}: lists {len(index)} timestamps for {rows} rows; {IGNORE_HINT}")
    return index.tz_convert("UTC").as_unit("ns")


def sidecar_labels(doc: dict[str, Any], anomaly: np.ndarray, file: Path, data_file: Path) -> dict[str, Any]:
    """``fault_id``/``fault_type``/``root_cause`` text and ``recovering`` per step, checked against ``anomaly``."""
    n = len(anomaly)
    text = {key: [""] * n for key in ("fault_id", "fault_type", "root_cause")}
    for run in doc["labels"]:
        start, end = int(run["start"]), int(run["end"])
        if not 0 <= start < end <= n or not (anomaly[start:end] > 0).all():
            raise BadInput(f"{file}: labelled steps {start}..{end - 1} are not anomalous in {data_file} (edited?); "
                           f"{IGNORE_HINT}")
        for key in text:
            text[key][start:end] = [str(run.get(key, ""))] * (end - start)
    recovering = np.zeros(n, dtype=np.int8)
    for start, end in doc.get("recovering", []):
        recovering[int(start):int(end)] = 1
    return {**text, "recovering": recovering}


def sidecar_graph(doc: dict[str, Any]) -> ServiceGraph:
    return ServiceGraph.from_json(doc["graph"])


def restore_meta(meta: dict[str, Any], doc: dict[str, Any]) -> None:
    """Copy the sidecar's meta fields that the import did not set itself (faults, provenance, ...)."""
    for key, value in doc["meta"].items():
        if key not in OWN_KEYS:
            meta[key] = value
