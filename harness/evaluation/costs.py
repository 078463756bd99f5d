"""How long a bench task will take, before it runs: the plan's estimate and the progress ETA.

Estimates come, in this order, from:

1. ``last run``: this method (same configuration) on this dataset in an earlier run of the same
   output folder, or in this machine's history (``$FAULTLAB_HOME``, default
   ``~/.cache/faultlab``, file ``task_times.jsonl``: every finished task of ``bench`` and
   ``check`` appends its time and the dataset's size);
2. ``last run, scaled``: the same configuration on other datasets of this machine, as seconds per
   million cells (steps x series), scaled to this dataset's size;
3. ``measured``: the method's measured cost on the shipped recordings (``costs.json`` next to
   this module, seconds per million cells, written by ``benchmarks/costs.py`` from task
   histories), by configuration label, else by method name;
4. ``guess``: a default per method family (floors, baselines, PyOD, TSB-AD, RCAEval, seed methods).

Times are wall seconds on the machine that measured them (the published ones: 2 cores, quiet).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COSTS_FILE = Path(__file__).with_name("costs.json")
HISTORY_NAME = "task_times.jsonl"
#: seconds per task on a recording of about 0.3 million cells (1,300 steps x 240 series), by family.
#: Floors, baselines and PyOD from the ladder's tasks (2 cores, 2026-12-05: 0.05-0.3 s, 0.2-1 s and
#: 0.15-2 s per 0.3 M cells); seed methods from lstm_ae's full training there (12 s per 0.3 M cells),
#: doubled for the graph models; RCAEval and TSB-AD not measured at their defaults: rough.
FAMILY_GUESS_S = {"floor": 0.2, "baseline": 1.0, "pyod": 2.0, "rcaeval": 30.0, "tsbad": 120.0, "seed": 25.0}
REFERENCE_CELLS = 0.3e6


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str  # "last run", "measured" or "guess"


def history_file() -> Path:
    return Path(os.environ.get("FAULTLAB_HOME", Path.home() / ".cache" / "faultlab")) / HISTORY_NAME


def read_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The finished (``done``) task records of task-time files (missing files and torn lines: none).

    Tasks the method refused (``not_applicable``: every row n/a) are left out: their time is not a cost.
    """
    out: list[dict[str, Any]] = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                if (rec.get("status") == "done" and "model" in rec and "dataset" in rec
                        and not rec.get("not_applicable")):
                    rec["elapsed_s"] = float(rec["elapsed_s"])
                    out.append(rec)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a torn line from an interrupted write: skip it
    return out


def per_million_cells(records: Iterable[Mapping[str, Any]],
                      cells_of: Callable[[str], int | None] = lambda _name: None) -> dict[str, float]:
    """Model label -> median seconds per million cells over finished tasks whose dataset size is
    known (the record's ``cells``, else ``cells_of(dataset)``)."""
    rates: dict[str, list[float]] = {}
    for rec in records:
        cells = int(rec.get("cells") or 0) or (cells_of(str(rec["dataset"])) or 0)
        if cells > 0:
            rates.setdefault(str(rec["model"]), []).append(float(rec["elapsed_s"]) * 1e6 / cells)
    return {model: statistics.median(values) for model, values in sorted(rates.items())}


def write_costs(costs: Mapping[str, float], path: Path = COSTS_FILE, note: str = "") -> None:
    """Write ``costs.json`` (what :func:`measured_costs` reads)."""
    doc = {"note": note, "s_per_million_cells": {k: round(float(v), 4) for k, v in sorted(costs.items())}}
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def append_history(record: Mapping[str, Any], path: Path | None = None) -> None:
    """Add one finished task to this machine's history (best effort: a read-only home is fine)."""
    path = path or history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(record), sort_keys=True) + "\n")
    except OSError:
        pass


def measured_costs(path: Path = COSTS_FILE) -> dict[str, float]:
    """Method label -> seconds per million cells, from the shipped file (empty when absent)."""
    if not path.exists():
        return {}
    return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).get("s_per_million_cells", {}).items()}


def from_history(times: Sequence[tuple[float, int]], cells: int) -> Estimate:
    """This method's past times on this dataset: those at its current size first.

    Why: a recording shipped again under the same name (bench-mixed went from 1,305 to 5,829
    steps) kept its old times, and the CI gate's plan said 25 s for a check that took 3:03. Times
    at another known size are scaled by the size ratio; times of unknown size are taken as they are.
    """
    same = [s for s, c in times if c == cells]
    if same:
        return Estimate(statistics.median(same), "last run")
    sized = [s * cells / c for s, c in times if c > 0]
    if sized and cells > 0:
        return Estimate(max(0.1, statistics.median(sized)), "last run, scaled")
    return Estimate(statistics.median(s for s, _ in times), "last run")


class Estimator:
    """Estimates for one bench: history of the output folder and of this machine, measured costs."""

    def __init__(self, history_paths: Iterable[Path] = (), costs: Mapping[str, float] | None = None,
                 machine_history: bool = True) -> None:
        """``machine_history=False``: leave this machine's history out (what a fresh clone sees)."""
        records = read_records([*history_paths, *([history_file()] if machine_history else [])])
        # (label, dataset, seed) -> [(seconds, the dataset's cells then; 0 when the record lacks them)]
        self.history: dict[tuple[str, str, str], list[tuple[float, int]]] = {}
        for rec in records:
            self.history.setdefault((str(rec["model"]), str(rec["dataset"]), str(rec.get("seed"))), []).append(
                (float(rec["elapsed_s"]), int(rec.get("cells") or 0)))
        self.scaled = per_million_cells(records)
        self.costs = measured_costs() if costs is None else dict(costs)

    def estimate(self, model: str, name: str, family: str, dataset: str, seed: int, cells: int) -> Estimate:
        times = self.history.get((model, dataset, str(seed))) or [
            t for (m, d, _), past in self.history.items() if m == model and d == dataset for t in past]
        if times:
            return from_history(times, cells)
        if model in self.scaled:
            return Estimate(max(0.1, self.scaled[model] * cells / 1e6), "last run, scaled")
        per_million = self.costs.get(model, self.costs.get(name))
        if per_million is not None:
            return Estimate(max(0.1, per_million * cells / 1e6), "measured")
        return Estimate(FAMILY_GUESS_S.get(family, 30.0) * max(cells, 1) / REFERENCE_CELLS, "guess")
