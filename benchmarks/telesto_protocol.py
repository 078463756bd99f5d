"""TELESTO's Table 3 on a Faultlab recording: per split and mean, next to the paper's own figures.

Run the classifiers first (the paper's 3/1/1 protocol, seed 001 sec. 3.1-3.3; every model at its
default, the paper's configuration)::

    faultlab bench --dataset telesto-catalog --detectors none --classifiers telesto,gcn,gin,random_forest \\
        --protocol telesto --seeds 0,1,2 --out runs/telesto-protocol

then print the table from the bench's ``scores.json``::

    .venv/bin/python benchmarks/telesto_protocol.py runs/telesto-protocol [--markdown]

Rows: accuracy, macro recall, macro precision and macro F1 per split (``split=<i>``) and their mean
over splits (the paper's "∅"), each as mean ± std over the seeds that ran; then epochs run, best
epoch and fit time (all splits) from the training info rows. The paper's rows are Table 3
(cassandra, 10 runs averaged); the paper reports no std. ``random_forest`` (window statistics) is
the board's non-graph reference; the paper has none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.harness.evaluation.protocol import TELESTO_PROTOCOL  # noqa: E402
from faultlab.harness.reports.scores_file import read_scores  # noqa: E402

#: seed 001, Table 3 (cassandra): splits 1-5 and the mean
PAPER = {
    ("gcn", "accuracy"): [0.389, 0.463, 0.360, 0.398, 0.385, 0.399],
    ("gcn", "macro_recall"): [0.389, 0.462, 0.358, 0.396, 0.385, 0.398],
    ("gcn", "macro_precision"): [0.272, 0.428, 0.256, 0.222, 0.288, 0.293],
    ("gcn", "macro_f1"): [0.310, 0.436, 0.295, 0.269, 0.320, 0.326],
    ("gin", "accuracy"): [0.447, 0.455, 0.562, 0.452, 0.400, 0.463],
    ("gin", "macro_recall"): [0.446, 0.455, 0.562, 0.452, 0.399, 0.463],
    ("gin", "macro_precision"): [0.408, 0.422, 0.569, 0.363, 0.289, 0.410],
    ("gin", "macro_f1"): [0.421, 0.436, 0.564, 0.402, 0.335, 0.432],
    ("telesto", "accuracy"): [0.796, 0.804, 0.894, 0.822, 0.939, 0.851],
    ("telesto", "macro_recall"): [0.796, 0.803, 0.894, 0.822, 0.939, 0.851],
    ("telesto", "macro_precision"): [0.825, 0.732, 0.920, 0.870, 0.956, 0.861],
    ("telesto", "macro_f1"): [0.810, 0.764, 0.906, 0.844, 0.948, 0.854],
}
METRICS = ("accuracy", "macro_recall", "macro_precision", "macro_f1")
TRAINING = ("epochs_run", "best_epoch", "fit_time_s")


def _cell(values: np.ndarray) -> str:
    values = values[np.isfinite(values)]
    if not len(values):
        return "n/a"
    return f"{values.mean():.3f}" if len(values) == 1 else f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, metric): split 1..n and the mean over splits, mean ± std over seeds; paper rows beside."""
    part = scores[(scores["kind"] == "classifier") & (scores["protocol"] == TELESTO_PROTOCOL)]
    splits = sorted({b for b in part["breakdown"] if str(b).startswith("split=")}, key=lambda b: int(b.split("=")[1]))
    rows = []
    for model in sorted(set(part["model"])):
        name = str(model).split("(")[0]
        seeds = sorted(set(part.loc[part["model"] == model, "seed"]))
        for metric in METRICS:
            cells = {"model": f"{model} (Faultlab, seeds {','.join(map(str, seeds))})", "metric": metric}
            for where in [*splits, "all"]:
                sel = part[(part["model"] == model) & (part["metric"] == metric) & (part["breakdown"] == where)]
                cells["mean" if where == "all" else where.replace("=", " ")] = _cell(sel["value"].to_numpy(dtype=float))
            rows.append(cells)
            if (name, metric) in PAPER:
                paper = PAPER[(name, metric)]
                rows.append({"model": f"{name} (paper, Table 3)", "metric": metric,
                             **{f"split {i + 1}": f"{v:.3f}" for i, v in enumerate(paper[:-1])}, "mean": f"{paper[-1]:.3f}"})
        info = scores[(scores["model"] == model) & (scores["protocol"] == "training") & (scores["breakdown"] == "all")]
        for metric in TRAINING:
            values = info.loc[info["metric"] == metric, "value"].to_numpy(dtype=float)
            if len(values):
                rows.append({"model": f"{model} (Faultlab)", "metric": metric, "mean": _cell(values)})
    return pd.DataFrame(rows).fillna("")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", nargs="+", type=Path, help="bench output folders (their scores.json) or scores.json files")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table instead of plain text")
    args = ap.parse_args()
    scores = pd.concat([read_scores(p) for p in args.bench], ignore_index=True)
    out = table(scores)
    print(out.to_markdown(index=False) if args.markdown else out.to_string(index=False))


if __name__ == "__main__":
    main()
