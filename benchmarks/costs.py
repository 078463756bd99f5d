"""Measured task costs for the bench's plan: ``harness/evaluation/costs.json`` from task histories.

``faultlab bench`` and ``faultlab check`` print an estimate per task before they run. Without a
history on the user's machine the estimate comes from this file: per method configuration (the
board's ``model`` label, parameters included) the median seconds per million dataset cells
(steps x series) over the finished tasks of the given histories, on the shipped recordings only
(synthetic and home-made test data are left out: their sizes say little about a real dataset).

    .venv/bin/python benchmarks/costs.py                                  # this machine's history
    .venv/bin/python benchmarks/costs.py runs/bench-x/tasks.jsonl --check  # estimate vs actual
    .venv/bin/python benchmarks/costs.py --datasets ladder,bench-mixed      # leave telesto-catalog out ...
    .venv/bin/python benchmarks/costs.py --datasets telesto-catalog --check # ... to test on it

``--check`` writes nothing: it prints, per task of the given histories, what a fresh clone (the
shipped file, no history) would have estimated against what the task took, and the median ratio.
Times are wall seconds on the machine that ran the tasks (the shipped file: 2 cores, quiet).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.harness.datasets.index import DATASETS, RECORDED_DIR, resolve_dataset  # noqa: E402
from faultlab.harness.evaluation.bench import family_of  # noqa: E402
from faultlab.harness.evaluation.costs import (  # noqa: E402
    COSTS_FILE,
    Estimator,
    history_file,
    per_million_cells,
    read_records,
    write_costs,
)


@cache
def cells_of(name: str) -> int | None:
    """Steps x series of a shipped recording (None for anything else)."""
    if name not in DATASETS.names() or not (RECORDED_DIR / name).is_dir():
        return None
    data = resolve_dataset(name)
    return int(data.metrics.shape[0] * data.metrics.shape[1])


def check(records: list[dict]) -> None:
    """Per task: a fresh clone's estimate against the time it took."""
    fresh = Estimator(machine_history=False)
    ratios = []
    for r in records:
        name = str(r.get("name", r["model"]))
        family = family_of(str(r.get("kind", "detector")), name)
        est = fresh.estimate(str(r["model"]), name, family, str(r["dataset"]), int(r.get("seed", 0)), cells_of(str(r["dataset"])) or 0)
        ratio = est.seconds / max(float(r["elapsed_s"]), 0.05)
        ratios.append(ratio)
        print(f"{r['dataset']:<16} {str(r['model'])[:60]:<60} took {float(r['elapsed_s']):8.1f} s, "
              f"estimated {est.seconds:8.1f} s ({est.source}): x{ratio:.2f}")
    print(f"{len(ratios)} tasks: median estimate/actual x{statistics.median(ratios):.2f}, "
          f"within a factor 2: {sum(0.5 <= x <= 2 for x in ratios)}/{len(ratios)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("history", nargs="*", type=Path, help=f"task-time files (default: {history_file()})")
    ap.add_argument("--check", action="store_true", help="compare a fresh clone's estimates with the tasks' times")
    ap.add_argument("--datasets", metavar="A,B", help="only the tasks on these recordings (default: every shipped one)")
    args = ap.parse_args()
    only = set(args.datasets.split(",")) if args.datasets else None
    records = [r for r in read_records(args.history or [history_file()])
               if cells_of(str(r["dataset"])) and (only is None or str(r["dataset"]) in only)]
    if not records:
        raise SystemExit("no finished task on a shipped recording in the given histories")
    if args.check:
        check(records)
        return
    costs = per_million_cells(records, cells_of)
    datasets = sorted({str(r["dataset"]) for r in records})
    write_costs(costs, COSTS_FILE, note=f"median s per million cells over {len(records)} finished tasks on "
                                        f"{', '.join(datasets)}, 2-core host (benchmarks/costs.py)")
    print(f"{COSTS_FILE}: {len(costs)} method configurations from {len(records)} tasks on {', '.join(datasets)}")


if __name__ == "__main__":
    main()
