"""What ATTAE's adaptive threshold can reach on recorded data, with the test labels' help (issue 23).

ATTAE (seed 004, sec. 3.2) flags a step when its reconstruction error exceeds
``theta_t = mu_t + beta * sigma_t`` over the previous ``w`` errors. The paper gives neither
``beta`` nor ``w``; the detector chooses them on fault-free training data (``detectors/attae.py``).
On the recordings that choice alarms on well under 1 % of fault-free steps and finds few faults.
This script asks whether any choice would do better: it fits ATTAE once per dataset (its paper
configuration, one seed), then sweeps ``beta`` x ``w`` x history (``all``: the paper's formula;
``normal``: flagged steps kept out, not in the paper) over the *same* reconstruction errors and
scores every pair on the test labels: point F1 and the fault-free alarm rate on the board's steps
(:func:`faultlab.harness.evaluation.detector_rows.scored_steps`: recovering steps left out). It
also scores fixed thresholds on the same errors (training quantiles, and the best fixed threshold
found with the labels). The best pair is an oracle, not a method: it bounds what the adaptive
rule can reach on this network's errors.

Run alone: ``python benchmarks/attae_threshold.py [--datasets bench-mixed,ladder] [--seed 0]
[--budget 0.1] [--param KEY=JSON ...]``. Prints one Markdown table per dataset next to the
floors and the acceptance line of issue 23 (F1 at least 0.1 above the better floor at a
fault-free alarm rate of at most ``--budget``).
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
from faultlab.detectors import make_detector  # noqa: E402
from faultlab.detectors.attae import _mu_sigma, pick  # noqa: E402
from faultlab.harness.datasets.index import resolve_dataset  # noqa: E402
from faultlab.harness.evaluation.detector_rows import scored_steps  # noqa: E402
from faultlab.harness.scoring.detection import alarm_rate, point_f1  # noqa: E402

BETAS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
WINDOWS = (10, 20, 40, 80, 160, 320, 640)
QUANTILES = (0.95, 0.99, 0.995, 0.999)
BUDGETS = (0.01, 0.02, 0.05, 0.1)


def sweep(dataset: Dataset, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """Fit ATTAE on ``dataset``'s training part; every threshold rule's F1 and alarm rate on its test part."""
    steps = scored_steps(dataset)
    train = dataset.train()
    model = make_detector("attae", params, seed).fit(train)
    before = model.reconstruction_errors(train)
    errors = model.reconstruction_errors(steps.test)
    y = steps.y

    def judge(alarms: np.ndarray) -> tuple[float, float]:
        pred = alarms[steps.keep]
        return float(point_f1(y, pred)), float(alarm_rate(y, pred))

    own = model.score(steps.test) > model.threshold_
    rows: list[dict[str, Any]] = [{"rule": f"chosen at fit (beta {model.beta_:g}, w {model.adaptive_window_})",
                                   "kind": "chosen", **dict(zip(("f1", "alarm_rate"), judge(own), strict=True))}]
    for mode in ("all", "normal"):
        for beta in BETAS:
            for window in WINDOWS:
                mu, sigma = _mu_sigma(before, errors, window, beta, model.sigma_min_, mode)
                f1, rate = judge(errors > mu + beta * sigma)
                rows.append({"rule": f"adaptive, history {mode}", "kind": f"adaptive-{mode}", "beta": beta,
                             "window": window, "f1": f1, "alarm_rate": rate})
    for q in QUANTILES:
        f1, rate = judge(errors > np.quantile(before, q))
        rows.append({"rule": f"fixed, training quantile {q:g}", "kind": "fixed-quantile", "f1": f1, "alarm_rate": rate})
    kept = errors[steps.keep]
    for t in np.unique(np.quantile(kept, np.linspace(0.5, 0.999, 200))):
        f1, rate = judge(errors > t)
        rows.append({"rule": "fixed, best of 200 levels (labels)", "kind": "fixed-any", "threshold": float(t),
                     "f1": f1, "alarm_rate": rate})
    candidates = model.selection_.get("candidates", [])
    for budget in BUDGETS:  # what the label-free rule would take under other clean-tail budgets
        if not candidates:
            break
        choice, _ = pick(candidates, budget, 0)
        mu, sigma = _mu_sigma(before, errors, choice["adaptive_window"], choice["beta"], model.sigma_min_, model.params.history)
        f1, rate = judge(errors > mu + choice["beta"] * sigma)
        rows.append({"rule": f"the fit's rule at a clean-tail budget of {budget:g} (no labels)", "kind": "rule-budget",
                     "beta": choice["beta"], "window": choice["adaptive_window"], "f1": f1, "alarm_rate": rate,
                     "clean_alarm_rate": choice["clean_alarm_rate"], "event_recall": choice["event_recall"]})
    floor = float(point_f1(y, np.ones_like(y)))
    return {"dataset": dataset.name, "seed": seed, "rows": rows, "always_alarm_f1": floor,
            "anomalous_share": float(y.mean()), "epochs": model.history_.epochs if model.history_ else None}


def best(rows: list[dict[str, Any]], kind: str, budget: float) -> dict[str, Any] | None:
    """The row of ``kind`` with the highest F1 among those alarming on at most ``budget`` of fault-free steps."""
    within = [r for r in rows if r["kind"] == kind and r["alarm_rate"] <= budget]
    return max(within, key=lambda r: r["f1"]) if within else None


def table(result: dict[str, Any], budget: float) -> str:
    """One dataset's Markdown table: the chosen rule, the best of each family within the budget, the floors."""
    rows = result["rows"]
    floor = result["always_alarm_f1"]
    lines = [f"**{result['dataset']}** (seed {result['seed']}, {result['epochs']} epochs; anomalous test steps "
             f"{result['anomalous_share']:.1%}; always_alarm F1 {floor:.3f}, acceptance F1 >= {floor + 0.1:.3f} at "
             f"alarm rate <= {budget:g})", "", "| threshold rule | beta | w | F1 | fault-free alarm rate |", "|---|---|---|---|---|"]
    picks = [rows[0]] + [r for r in rows if r["kind"] == "rule-budget"]
    for kind in ("adaptive-all", "adaptive-normal"):
        picks.append(best(rows, kind, budget) or {"rule": f"adaptive, history {kind.split('-')[1]}", "kind": kind})
    picks += [r for r in rows if r["kind"] == "fixed-quantile"] + [best(rows, "fixed-any", budget)]
    for r in picks:
        if r is None:
            continue
        if "f1" not in r:
            lines.append(f"| {r['rule']}: no pair within the budget | | | | |")
            continue
        label = r["rule"] + (" best within budget (labels)" if r["kind"].startswith("adaptive") else "")
        lines.append(f"| {label} | {r.get('beta', '')} | {r.get('window', '')} | {r['f1']:.3f} | {r['alarm_rate']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="bench-mixed,ladder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=0.1, help="largest fault-free alarm rate a rule may have")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=JSON", help="an attae parameter")
    parser.add_argument("--json", type=Path, help="also write every rule's figures here")
    args = parser.parse_args(argv)
    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in args.param)}
    results = [sweep(resolve_dataset(name), args.seed, params) for name in args.datasets.split(",")]
    for result in results:
        print(table(result, args.budget), end="\n\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
