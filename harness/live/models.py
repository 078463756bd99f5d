"""Fitted detectors saved for live use, with what their stream must look like.

A model folder is what :meth:`~faultlab.detectors.Detector.save` writes (JSON + npz, no
pickle) plus ``stream.json``: the grid step the detector was fitted at (its windows and drift
baselines count steps, so ``faultlab watch`` must poll at that step), the label, the dataset and
the metric groups its columns come from. ``faultlab run`` saves its live detectors this way
(``live/models/``), and ``faultlab bench --save-models`` saves the first seed of each detector.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from faultlab.detectors import Detector
from faultlab.errors import BadInput

STREAM_FILE = "stream.json"


def model_dir_name(label: str) -> str:
    """A folder name for a model label (``lstm_ae(window=5)`` -> ``lstm_ae_window_5``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_.") or "model"


def save_model(detector: Detector, folder: str | Path, *, step_s: float, label: str | None = None,
               dataset: str | None = None) -> Path:
    """Write ``detector`` (fitted) and its ``stream.json`` into ``folder``; returns the folder."""
    path = detector.save(folder)
    groups = sorted({str(row.get("group", "application")) for row in getattr(detector, "column_table_", [])})
    info = {
        "label": label or detector.name, "name": detector.name, "seed": detector.seed,
        "scrape_interval_s": float(step_s), "dataset": dataset, "groups": groups or None,
        "series": len(detector.columns_), "history_steps": detector.history_steps,
        "threshold": float(detector.threshold_),
    }
    (path / STREAM_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return path


def load_model(folder: str | Path) -> tuple[Detector, dict[str, Any]]:
    """A saved detector and its ``stream.json`` (empty for a folder saved without one)."""
    path = Path(folder)
    if not path.is_dir():
        raise BadInput(f"--model {path}: no such model folder")
    detector = Detector.load(path)
    sidecar = path / STREAM_FILE
    info: dict[str, Any] = {}
    if sidecar.exists():
        try:
            info = json.loads(sidecar.read_text())
        except json.JSONDecodeError as exc:
            raise BadInput(f"{sidecar}: not JSON ({exc.msg})") from None
    return detector, info
