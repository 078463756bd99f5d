"""How long a bench task will take, before it runs: the plan's estimate and the progress ETA.

Estimates come, in this order, from:

1. ``last run``: this method and seed on this dataset in an earlier run of the same output
   folder, or in this machine's history (``$FAULTLAB_HOME``, default ``~/.cache/faultlab``,
   file ``task_times.jsonl``: every finished task appends its time);
2. ``measured``: the method's measured cost on the shipped recordings (``costs.json`` next to
   this module, seconds per million dataset cells, written by ``faultlab bench
   --record-costs``), scaled by the dataset's size (steps x series);
3. ``guess``: a default per method family (floors, baselines, PyOD, TSB-AD, RCAEval, seed methods).

Times are wall seconds on the machine that measured them (the published ones: 2 cores, quiet).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COSTS_FILE = Path(__file__).with_name("costs.json")
HISTORY_NAME = "task_times.jsonl"
#: seconds per task on a recording of about 0.3 million cells (1,300 steps x 240 series), by family
FAMILY_GUESS_S = {"floor": 1.0, "baseline": 5.0, "pyod": 20.0, "rcaeval": 30.0, "tsbad": 120.0, "seed": 300.0}
REFERENCE_CELLS = 0.3e6


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str  # "last run", "measured" or "guess"


def history_file() -> Path:
    return Path(os.environ.get("FAULTLAB_HOME", Path.home() / ".cache" / "faultlab")) / HISTORY_NAME


def read_history(paths: Iterable[Path]) -> dict[tuple[str, str, str], list[float]]:
    """``(model label, dataset, seed) -> [seconds]`` from task-time files (missing files: none)."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                key = (str(rec["model"]), str(rec["dataset"]), str(rec["seed"]))
                if rec.get("status") == "done":
                    out.setdefault(key, []).append(float(rec["elapsed_s"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from an interrupted write: skip it
    return out


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


class Estimator:
    """Estimates for one bench: history of the output folder and of this machine, measured costs."""

    def __init__(self, history_paths: Iterable[Path] = (), costs: Mapping[str, float] | None = None) -> None:
        self.history = read_history([*history_paths, history_file()])
        self.costs = measured_costs() if costs is None else dict(costs)

    def estimate(self, model: str, name: str, family: str, dataset: str, seed: int, cells: int) -> Estimate:
        if (model, dataset, str(seed)) in self.history:
            return Estimate(statistics.median(self.history[(model, dataset, str(seed))]), "last run")
        same_dataset = [s for (m, d, _), times in self.history.items() if m == model and d == dataset for s in times]
        if same_dataset:
            return Estimate(statistics.median(same_dataset), "last run")
        per_million = self.costs.get(model, self.costs.get(name))
        if per_million is not None:
            return Estimate(max(0.1, per_million * cells / 1e6), "measured")
        return Estimate(FAMILY_GUESS_S.get(family, 30.0) * max(cells, 1) / REFERENCE_CELLS, "guess")
