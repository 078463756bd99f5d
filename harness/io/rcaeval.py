"""RCAEval's case layout (RE1/RE2, Pham et al., WWW 2025 companion), both ways.

::

    ROOT/<service>_<fault>/<n>/data.csv          ``time`` (unix seconds), then one column per series
                                                 named ``<service>_<metric>``
    ROOT/<service>_<fault>/<n>/inject_time.txt   the injection time, unix seconds, on line 1

RCAEval's evaluation (``main.py``) finds cases by ``**/data.csv`` (or ``simple_metrics.csv``),
takes the root-cause service and the fault from the case folder's parent
(``service, fault = name.split("_")``), reads ``inject_time.txt`` as ``int`` and gives a method
the rows with ``time < inject_time`` as the normal period and the rest as the anomalous one;
a column's service is the text before its first ``_``.

**Export** (``faultlab export DATASET --format rcaeval --out DIR``): one case per labelled fault
with a root cause. A case holds the fault-free steps directly before the fault (at most
``NORMAL_S`` = 600 s of them, stopping at an earlier fault or its recovery; a fault with fewer
than 2 is skipped and listed in the sidecar) and the fault's own steps, nothing after it.
``inject_time`` is the first labelled step of the fault, so RCAEval's normal/anomalous split is
exactly the one Faultlab's localizers use (:func:`faultlab.detectors.localizers.normal_steps`
with ``normal_steps`` = the case's normal rows). Names are made splittable as RCAEval splits
them: ``_`` (and ``/``) in service names and fault types become ``-`` (``packet_loss`` ->
``shipping_packet-loss/1``). ``<name>.faultlab.json`` at ``DIR`` keeps the rest (column table,
graph, candidates, exact fault ids, types and root causes). Steps must be at least 1 s apart,
since ``inject_time`` is whole seconds.

**Import** (``faultlab import rcaeval PATH``): ``PATH`` is one case folder (or its data file)
or a folder holding cases at any depth (``data.csv``, else ``simple_metrics.csv``, else
``metrics.csv``). Cases become one dataset in time order (cases that overlap in time are
refused); gaps between cases stay gaps (``fill_gaps`` only fills inside a case). A column
``<service>_<metric>`` splits at its first ``_``; groups and units follow the table of
:mod:`faultlab.harness.io.metric_table` (``columns=FILE`` overrides it). Each case's fault is
labelled from ``inject_time`` to the end of the case, or for ``duration_s`` seconds when that
option is given; the training part is the rows before the first case's ``inject_time``
unless ``train_end`` says otherwise. Non-finite values are masked and counted, as RCAEval's
own loader replaces them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.io.metric_table import apply_columns_file, guessed_table
from faultlab.harness.io.parsing import (
    MS_THRESHOLD,
    arrange_rows,
    build_dataset,
    infer_interval_s,
    labels_frame,
    parse_numbers,
    parse_timestamps,
    place_rows,
    read_csv,
    resolve_train_end,
)
from faultlab.harness.io.sidecar import IGNORE_HINT, SUFFIX, read_sidecar, restore_meta, sidecar_graph, write_sidecar
from faultlab.harness.io.summary import FROM_FILE, FROM_OPTION, ImportSummary

NORMAL_S = 600.0
DATA_FILES = ("data.csv", "simple_metrics.csv", "metrics.csv")
INJECT_FILE = "inject_time.txt"
TIME = "time"


def _token(text: str, what: str) -> str:
    """``text`` with the characters RCAEval splits at (``_``) or that leave a folder turned into ``-``."""
    token = re.sub(r"[_/\\\s]+", "-", text.strip()).strip("-")
    if not token:
        raise BadInput(f"rcaeval export: {what} {text!r} leaves no name once '_' and '/' are replaced")
    return token


def _export_names(data: Dataset) -> list[str]:
    cols = data.columns
    names = [f"{_token(str(s), 'service')}_{m}" for s, m in zip(cols["service"], cols["metric"])]
    seen: dict[str, str] = {}
    for name, original in zip(names, cols["name"]):
        if name in seen:
            raise BadInput(f"rcaeval export of {data.name!r}: columns {seen[name]!r} and {original!r} both become {name!r}")
        seen[name] = original
    return names


def _unix(ns: np.ndarray) -> np.ndarray:
    """Unix seconds: integers when every step is on a whole second, else milliseconds as decimals."""
    if (ns % 1_000_000_000 == 0).all():
        return ns // 1_000_000_000
    return np.round(ns / 1e9, 3)


def export_rcaeval(data: Dataset, out: Path) -> list[Path]:
    """One RCAEval case per labelled fault: ``<service>_<fault>/<n>/data.csv`` and ``inject_time.txt``."""
    from faultlab.detectors import fault_segments  # the one definition of a fault segment

    segments = [s for s in fault_segments(data) if s.root_cause]
    if not segments:
        raise BadInput(f"rcaeval export: dataset {data.name!r} has no labelled fault with a root cause")
    ns = data.timestamps.as_unit("ns").asi8
    if len(ns) > 1 and np.diff(ns).min() < 1_000_000_000:
        raise BadInput(f"rcaeval export: dataset {data.name!r} has steps under 1 s apart; inject_time.txt holds whole seconds")
    names = _export_names(data)
    values = data.metrics.to_numpy(dtype=np.float64)
    quiet = data.y == 0
    if "recovering" in data.labels:
        quiet &= data.labels["recovering"].to_numpy() == 0
    written: list[Path] = []
    cases, skipped, numbers = [], [], {}
    for seg in segments:
        first = seg.start
        while first > 0 and quiet[first - 1] and ns[seg.start] - ns[first - 1] <= NORMAL_S * 1e9:
            first -= 1
        if seg.start - first < 2:
            skipped.append({"fault_id": seg.fault_id, "reason": f"{seg.start - first} fault-free step(s) directly before it"})
            continue
        folder = f"{_token(seg.root_cause[0], 'service')}_{_token(seg.fault_type or 'unknown', 'fault type')}"
        numbers[folder] = numbers.get(folder, 0) + 1
        case = out / folder / str(numbers[folder])
        case.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(values[first:seg.end], columns=names)
        frame.insert(0, TIME, _unix(ns[first:seg.end]))
        frame.to_csv(case / "data.csv", index=False)
        inject = int(ns[seg.start] // 1_000_000_000)
        (case / INJECT_FILE).write_text(f"{inject}\n")
        written += [case / "data.csv", case / INJECT_FILE]
        cases.append({"path": f"{folder}/{numbers[folder]}", "fault_id": seg.fault_id, "fault_type": seg.fault_type,
                      "root_cause": list(seg.root_cause), "inject_time": inject, "normal_rows": seg.start - first,
                      "fault_rows": seg.end - seg.start})
    if not cases:
        raise BadInput(f"rcaeval export: no fault of {data.name!r} has 2 fault-free steps directly before it")
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in data.name) or "dataset"
    side = write_sidecar(data, out / f"{stem}{SUFFIX}", "rcaeval", [c["path"] for c in cases], cases=cases, skipped=skipped,
                         names=dict(zip(names, map(str, data.metrics.columns))), normal_s=NORMAL_S)
    return [*written, side]


# ---- import ------------------------------------------------------------------------------------
def _cases(path: Path) -> list[Path]:
    root = path.parent if path.is_file() else path
    if (root / INJECT_FILE).is_file():
        return [root]
    found = sorted({p.parent for p in root.rglob(INJECT_FILE)})
    if not found:
        raise BadInput(f"{path}: no RCAEval case ({INJECT_FILE} beside data.csv) in it or below it")
    return found


def _sidecar(path: Path, cases: list[Path], use: bool) -> tuple[dict[str, Any] | None, Path | None]:
    """The export's sidecar: in ``path``, else where the layout puts it, two levels above the cases."""
    if not use:
        return None, None
    top = path.parent if path.is_file() else path
    found: list[Path] = []
    for place in dict.fromkeys([top, *(case.parent.parent for case in cases)]):
        found = sorted(place.glob(f"*{SUFFIX}"))
        if found:
            break
    if not found:
        return None, None
    if len(found) > 1:
        raise BadInput(f"{top}: {len(found)} sidecars ({', '.join(f.name for f in found)}); keep one, or {IGNORE_HINT}")
    return read_sidecar(found[0], "rcaeval"), found[0]


def _inject_time(file: Path) -> pd.Timestamp:
    if not file.is_file():
        raise BadInput(f"{file}: no such file (an RCAEval case needs its injection time)")
    text = (file.read_text().splitlines() or [""])[0].strip()
    number = pd.to_numeric(text, errors="coerce")
    if pd.isna(number) or not np.isfinite(number):
        raise BadInput(f"{file}: line 1: {text!r} is not a unix time in seconds")
    return pd.Timestamp(float(number), unit="ms" if abs(number) > MS_THRESHOLD else "s", tz="UTC")


def _read_case(case: Path, order: str, summary: ImportSummary) -> tuple[Path, pd.DatetimeIndex, pd.DataFrame]:
    file = next((case / n for n in DATA_FILES if (case / n).is_file()), None)
    if file is None:
        raise BadInput(f"{case}: no {', '.join(DATA_FILES)} (RCAEval's metric file of a case)")
    frame = read_csv(file)
    if TIME not in frame.columns:
        raise BadInput(f"{file}: no {TIME!r} column (RCAEval: unix seconds, then one column per <service>_<metric>)")
    repeated = [c for c in frame.columns if re.fullmatch(rf"{TIME}\.\d+", c)]  # a repeated header, as RCAEval drops it
    names = [c for c in frame.columns if c != TIME and c not in repeated]
    if not names:
        raise BadInput(f"{file}: no series columns besides {TIME!r}")
    index = parse_timestamps(frame[TIME], file, TIME, ordered=False)
    keep = arrange_rows(index, file, TIME, order, summary, cells=frame[TIME])
    values = parse_numbers(frame, file, names, summary=summary).iloc[keep].reset_index(drop=True)
    return file, index[keep], values


def _case_fault(case: Path, root: Path, doc: dict[str, Any] | None, side: Path | None) -> dict[str, Any]:
    """Fault id, type and root causes of a case: from the sidecar, else from the folder name."""
    if doc is not None:
        rel = case.relative_to(side.parent).as_posix() if side is not None else case.name
        entry = next((c for c in doc.get("cases", []) if c.get("path") == rel), None)
        if entry is None:
            raise BadInput(f"{side}: lists no case {rel!r} (edited, or written for another export); {IGNORE_HINT}")
        return {"fault_id": str(entry["fault_id"]), "type": str(entry["fault_type"]), "targets": list(entry["root_cause"])}
    service, sep, fault = case.parent.name.rpartition("_")
    if not sep or not service or not fault:
        raise BadInput(f"{case}: RCAEval names a case's folder <service>_<fault> (e.g. cartservice_cpu/1), "
                       f"and {case.parent.name!r} is not of that form")
    rel = case.relative_to(root).as_posix() if case.is_relative_to(root) else ""
    fault_id = rel if rel.count("/") >= 1 else f"{case.parent.name}/{case.name}"  # at least <service>_<fault>/<n>
    return {"fault_id": fault_id, "type": fault, "targets": [service]}


def import_rcaeval(
    path: str | Path,
    *,
    name: str | None = None,
    fill_gaps: bool = False,
    order: str = "strict",
    train_end: Any = None,
    columns: str | None = None,
    duration_s: float | None = None,
    sidecar: bool = True,
) -> Dataset:
    """One dataset from RCAEval cases: each case's fault labelled from its inject time, in time order."""
    path = Path(path)
    root = path.parent if path.is_file() else path
    if duration_s is not None and not duration_s > 0:
        raise BadInput(f"import option duration_s must be > 0, got {duration_s}")
    cases = _cases(path)
    doc, side = _sidecar(path, cases, sidecar)
    summary = ImportSummary()
    read = sorted(((case, *_read_case(case, order, summary)) for case in cases), key=lambda c: c[2][0])
    parts, labels, faults = [], [], []
    for k, (case, file, index, values) in enumerate(read):
        if k and index[0] <= read[k - 1][2][-1]:
            raise BadInput(f"{case} and {read[k - 1][0]} overlap in time; import them one at a time")
        interval = infer_interval_s(index, file)
        steps, on, _ = place_rows(values, index, interval, fill_gaps=fill_gaps, summary=summary)
        inject = _inject_time(case / INJECT_FILE)
        if inject > steps[-1]:
            last = steps[-1].isoformat()
            raise BadInput(f"{case / INJECT_FILE}: {inject.isoformat()} is after the case's last row ({last})")
        fault = _case_fault(case, root, doc, side)
        end = steps[-1] + pd.Timedelta(1, unit="ns") if duration_s is None else inject + pd.Timedelta(seconds=duration_s)
        inside = (steps >= inject) & (steps < end)
        text = {"fault_id": fault["fault_id"], "fault_type": fault["type"], "root_cause": ",".join(fault["targets"])}
        per_step = {k: np.where(inside, v, "").tolist() for k, v in text.items()}
        labels.append(labels_frame(steps, inside.astype(np.int8), **per_step))
        parts.append(on)
        faults.append({**fault, "params": {}, "applied_at": inject.isoformat(), "reverted_at": min(end, steps[-1]).isoformat(),
                       "outcome": "applied", "case": str(case)})
    if len(read) > 1:
        summary.warnings.append(f"{len(read)} cases joined in time order: the time between cases is not in the dataset, "
                                "and each case's rows before its inject_time are its normal period")
    frame = pd.concat(parts, axis=0, sort=False)
    label = pd.concat(labels, axis=0)
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        summary.columns_dropped = len(empty)
        frame = frame.drop(columns=empty)
    missing = sum(1 for c in frame.columns if any(c not in p.columns for p in parts))
    if missing:
        summary.warnings.append(f"{missing} series are missing from some cases: filled across cases and masked")
    names = [str(c) for c in frame.columns]
    if doc is not None:
        mapping = doc.get("names", {})
        unknown = [n for n in names if n not in mapping]
        if unknown:
            raise BadInput(f"{side}: does not name the series {unknown[0]!r} of the cases; {IGNORE_HINT}")
        frame.columns = [mapping[n] for n in names]
        rows = {r["name"]: r for r in doc["meta"].get("columns", [])}
        table = [rows[mapping[n]] for n in names]
    else:
        split = [(n, *_service_metric(n)) for n in names]
        table = guessed_table(split)
    if columns:
        table = apply_columns_file(table, columns)
    steps = pd.DatetimeIndex(frame.index, name="timestamp")
    chosen = resolve_train_end(train_end, steps)
    first_inject = pd.Timestamp(faults[0]["applied_at"])
    data = build_dataset(
        steps, frame, label, name=name or (doc["meta"].get("name") if doc else None) or root.name,
        interval_s=infer_interval_s(steps, root) if len(steps) > 1 else 1.0, columns=table,
        source={"format": "rcaeval", "path": str(path), "cases": len(read), "fill_gaps": bool(fill_gaps), "order": order,
                "duration_s": duration_s, "columns": str(columns) if columns else None, "sidecar": str(side) if doc else None},
        train_end=chosen if chosen is not None else first_inject,
        train_source=FROM_OPTION if chosen is not None else FROM_FILE,
        candidates=doc["meta"].get("candidates") if doc else None, graph=sidecar_graph(doc) if doc else None, summary=summary,
    )
    if doc is not None:
        restore_meta(data.meta, doc)
        ids = {f["fault_id"] for f in faults}
        data.meta["faults"] = [f for f in data.meta.get("faults", []) if f.get("fault_id") in ids] or faults
    else:
        data.meta["faults"] = faults
    return data


def _service_metric(name: str) -> tuple[str, str]:
    """RCAEval's convention: the service is the text before the first ``_``, the metric the rest."""
    service, sep, metric = name.partition("_")
    return (service, metric) if sep and service and metric else (name, "value")
