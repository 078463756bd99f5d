"""A classifier under TELESTO's protocol (seed 001, sec. 3.3), one split at a time, each kept as it ends.

``faultlab bench --protocol telesto`` trains every split of a seed in one task, so a run cut
short keeps nothing. TELESTO at its paper configuration needs 33-117 s per epoch on two CPU
cores on ``telesto-catalog`` (one to two hours per seed), so this script runs the same splits as
the board (:func:`faultlab.harness.evaluation.protocol.protocol_windows`, ``split_roles``, the
physical limits of sec. 3.2) and appends one JSON line per finished split to ``--out``: accuracy,
macro-F1, epochs run, best epoch, cap, whether it was still improving, fit seconds and the
per-epoch losses. A split already in ``--out`` is skipped, so a rerun resumes.

Run alone, for example::

    python benchmarks/telesto_splits.py --dataset telesto-catalog --classifier telesto \
        --seeds 0 --out telesto-splits.jsonl

``--summary`` prints the per-split table of a finished file next to the paper's Table 3
(``--plot PNG`` also draws each split's loss curves).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.dataset import Dataset  # noqa: E402
from faultlab.detectors.preprocess import physical_limits  # noqa: E402
from faultlab.harness.datasets.index import resolve_dataset  # noqa: E402
from faultlab.harness.evaluation.protocol import ProtocolOptions, protocol_windows, split_roles  # noqa: E402
from faultlab.harness.evaluation.protocol_rows import PAPER_TABLE3, _macro_precision_recall, fit_split  # noqa: E402
from faultlab.harness.evaluation.table import MethodSpec  # noqa: E402
from faultlab.harness.scoring import METRICS  # noqa: E402


def done_keys(out: Path) -> set[tuple[str, int, int]]:
    if not out.exists():
        return set()
    return {(r["classifier"], r["seed"], r["split"]) for r in map(json.loads, out.read_text().splitlines()) if r}


def run(dataset: Dataset, classifier: str, seeds: list[int], splits: list[int] | None, params: dict[str, Any],
        out: Path, options: ProtocolOptions | None = None) -> None:
    """Train and test ``classifier`` on each split of each seed; one JSON line per split, appended
    to ``out`` as soon as the split ends (splits already in ``out`` are skipped)."""
    options = options or ProtocolOptions()
    data = protocol_windows(dataset, options)
    limits = physical_limits(dataset, data.columns)
    accuracy, macro_f1 = METRICS.get("accuracy"), METRICS.get("macro_f1")
    done = done_keys(out)
    for seed in seeds:
        for split in range(data.n_splits):
            if (splits and split + 1 not in splits) or (classifier, seed, split + 1) in done:
                continue
            train, _, test = split_roles(data.folds, split, data.n_splits)
            model, fit_s = fit_split(dataset, MethodSpec(classifier, params), seed, data, split, limits, options)
            truth = data.labels[test]
            pred = np.asarray(model.predict(data.windows[test])).astype(str)
            record: dict[str, Any] = {
                "dataset": dataset.name, "classifier": classifier, "seed": seed, "split": split + 1,
                "params": params, "train_windows": int(train.sum()), "test_windows": int(test.sum()),
                "accuracy": float(accuracy(truth, pred)), "macro_f1": float(macro_f1(truth, pred)),
                **_macro_precision_recall(truth, pred), "fit_s": round(fit_s, 1),
            }
            for name, h in (getattr(model, "training_", {}) or {}).items():
                record["training"] = {
                    "network": str(name), "epochs": h.epochs, "best_epoch": h.best_epoch, "max_epochs": h.max_epochs,
                    "still_improving": h.still_improving, "stopped_early": h.stopped_early,
                    "train_loss": [round(v, 4) for v in h.train_loss], "val_loss": [round(v, 4) for v in h.val_loss],
                    "val_error": [round(v, 4) for v in h.val_monitor], "epoch_s": [round(v, 1) for v in h.epoch_s],
                }
            with out.open("a") as f:
                f.write(json.dumps(record) + "\n")
            print(f"{classifier} seed {seed} split {split + 1}: accuracy {record['accuracy']:.3f} "
                  f"macro-F1 {record['macro_f1']:.3f} fit {fit_s:.0f} s", flush=True)


def summary(out: Path) -> str:
    """The per-split Markdown table of ``out``: each split's mean over seeds, the mean over splits
    with its spread over seeds, epochs run (best epoch) and, under each model, the paper's Table 3."""
    rows = [json.loads(line) for line in out.read_text().splitlines() if line]
    head = "| model | metric | " + " | ".join(f"split {s}" for s in range(1, 6)) + " | mean ± seed std | seeds | epochs (best) |"
    lines = [head, "|---|---|" + "---|" * 5 + "---|---|---|"]
    for name in sorted({r["classifier"] for r in rows}):
        mine = [r for r in rows if r["classifier"] == name]
        train = [r["training"] for r in mine if "training" in r]
        epochs = f"{np.mean([t['epochs'] for t in train]):.1f} ({np.mean([t['best_epoch'] for t in train]):.1f})" if train else ""
        seeds = sorted({r["seed"] for r in mine})
        for metric in ("accuracy", "macro_f1"):
            cells = []
            for s in range(1, 6):
                vals = [r[metric] for r in mine if r["split"] == s]
                cells.append(f"{np.mean(vals):.3f}" if vals else "not run")
            per_seed = [np.mean([r[metric] for r in mine if r["seed"] == seed]) for seed in seeds]
            spread = f" ± {np.std(per_seed, ddof=1):.3f}" if len(per_seed) > 1 else ""
            lines.append(f"| {name} | {metric} | " + " | ".join(cells) + f" | {np.mean(per_seed):.3f}{spread} | {len(seeds)} | {epochs} |")
            if (name, metric) in PAPER_TABLE3:
                paper = PAPER_TABLE3[(name, metric)]
                lines.append(f"| {name}, paper (Table 3, Cassandra) | {metric} | " + " | ".join(f"{v:.3f}" for v in paper[:5])
                             + f" | {paper[-1]:.3f} | | |")
    return "\n".join(lines)


def plot(out: Path, path: Path) -> Path:
    """Training and validation loss per epoch of every split (first seed of each model in ``out``) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in out.read_text().splitlines() if line]
    names = sorted({r["classifier"] for r in rows if "training" in r})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        mine = [r for r in rows if r["classifier"] == name and "training" in r]
        first = min(r["seed"] for r in mine)
        for r in sorted((r for r in mine if r["seed"] == first), key=lambda r: r["split"]):
            t = r["training"]
            line, = ax.plot(range(1, len(t["val_loss"]) + 1), t["val_loss"], label=f"split {r['split']} validation")
            ax.plot(range(1, len(t["train_loss"]) + 1), t["train_loss"], linestyle=":", color=line.get_color())
            ax.axvline(t["best_epoch"], color=line.get_color(), alpha=0.3)
        ax.set(title=f"{name}, seed {first} (dotted: training; vertical: kept epoch)", xlabel="epoch", ylabel="cross entropy")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="telesto-catalog")
    parser.add_argument("--classifier", default="telesto")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--splits", default="", help="comma-separated splits (1-based); default all")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=JSON", help="a classifier parameter")
    parser.add_argument("--out", type=Path, default=Path("telesto-splits.jsonl"))
    parser.add_argument("--summary", action="store_true", help="print the table of --out and stop")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="with --summary: also draw the loss curves there")
    args = parser.parse_args(argv)
    if args.summary:
        print(summary(args.out))
        if args.plot:
            plot(args.out, args.plot)
        return
    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in args.param)}
    seeds = [int(s) for s in args.seeds.split(",")]
    splits = [int(s) for s in args.splits.split(",") if s]
    run(resolve_dataset(args.dataset), args.classifier, seeds, splits, params, args.out)


if __name__ == "__main__":
    main()
