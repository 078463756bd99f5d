"""TSB-AD's models (``tsbad:*``) on a recording: what runs here, what each model is fitted on, its fit
and score time, and its VUS-PR and F1 [own] next to the floors (``always_alarm``, ``random``) and
``zscore``.

Run alone: ``python benchmarks/tsbad.py [--dataset bench-mixed] [--models PCA,CNN,...] [--seed 0]
[--timeout-s 1800] [--param tsbad:NORMA.max_series=40 ...] [--json FILE]``. Each model runs in its own
process, so a model that hangs or dies costs only its row (``--timeout-s`` bounds it), and is scored
by the harness's own code (:func:`faultlab.harness.evaluation.detector_rows.score_detector`), so the
numbers are the board's: VUS-PR threshold-free, F1 at the detector's own threshold, recovering steps
left out. A model that cannot answer on the data (BadInput) gets its reason instead of numbers. The
models TSB-AD has but that cannot run here (:data:`faultlab.detectors.tsbad_adapter.UNAVAILABLE_DETECTORS`)
are listed with the reason. Times are wall seconds on this machine (the published ones: 2 cores, quiet).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REFERENCES = ["always_alarm", "random", "zscore"]


def measure_one(name: str, dataset: str, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """Fit and score one detector on ``dataset`` in this process, through the harness's scoring."""
    from faultlab.detectors import DETECTORS
    from faultlab.detectors.base import Detector
    from faultlab.errors import BadInput
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation.detector_rows import score_detector, scored_steps
    from faultlab.harness.evaluation.table import ALL, OWN, MethodSpec
    from faultlab.harness.scoring import select_metrics

    spent = {"fit": 0.0, "score": 0.0}

    def timed(method: Any, key: str) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            tick = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - tick
        return wrapper

    Detector.fit = timed(Detector.fit, "fit")  # this process only: one measurement
    Detector.score = timed(Detector.score, "score")
    data = resolve_dataset(dataset)
    cls = DETECTORS.get(name)
    out: dict[str, Any] = {"model": name, "status": "runs", "fitted_on": getattr(cls, "fitted_on", "train"),
                           "input": "matrix" if getattr(cls, "multivariate", True) else "per series", "params": params}
    try:
        rows, _ = score_detector(data, MethodSpec(name, params, (seed,)), seed, select_metrics(["vus_pr", "f1"]),
                                 steps=scored_steps(data))
    except BadInput as exc:
        return {**out, "status": "n/a", "reason": str(exc), "fit_s": spent["fit"], "score_s": spent["score"]}
    value = {(r["metric"], r["protocol"]): r["value"] for r in rows if r["breakdown"] == ALL}
    return {**out, "fit_s": spent["fit"], "score_s": spent["score"], "vus_pr": value.get(("vus_pr", "threshold-free")),
            "f1_own": value.get(("f1", OWN))}


def run_child(name: str, args: argparse.Namespace, params: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", name, "--dataset", args.dataset, "--seed", str(args.seed),
           "--params-json", json.dumps(params)]
    tick = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"model": name, "status": "timeout", "reason": f"over {args.timeout_s:g} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"model": name, "status": "failed", "reason": tail[0][:200], "wall_s": time.perf_counter() - tick}
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_params(items: list[str]) -> dict[str, dict[str, Any]]:
    """``tsbad:NORMA.max_series=40`` -> ``{"tsbad:NORMA": {"max_series": 40}}`` (values as JSON when they parse)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, _, raw = item.partition("=")
        method, _, field = key.rpartition(".")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(method, {})[field] = value
    return out


def table(results: list[dict[str, Any]]) -> str:
    def num(x: Any, digits: int = 3) -> str:
        return "" if x is None else f"{x:.{digits}f}"

    head = "| model | status | fitted on | input | fit s | score s | VUS-PR | F1 [own] | note |"
    lines = [head, "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['model']} | {r['status']} | {r.get('fitted_on', '')} | {r.get('input', '')} | "
                     f"{num(r.get('fit_s'), 1)} | {num(r.get('score_s'), 1)} | {num(r.get('vus_pr'))} | "
                     f"{num(r.get('f1_own'))} | {r.get('reason', '')} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="bench-mixed")
    parser.add_argument("--models", default="", help="TSB-AD names or tsbad:<Model>, comma-separated (default: all that run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    parser.add_argument("--param", action="append", default=[], help="METHOD.KEY=VALUE, repeatable")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--no-references", action="store_true", help="leave out the floors and zscore")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--params-json", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.dataset, args.seed, json.loads(args.params_json))))
        return 0

    from faultlab.detectors import DETECTORS
    from faultlab.detectors.tsbad_adapter import UNAVAILABLE_DETECTORS

    chosen = [m if m.startswith("tsbad:") else f"tsbad:{m}" for m in args.models.split(",") if m]
    models = chosen or [n for n in DETECTORS.names() if n.startswith("tsbad:")]
    params = parse_params(args.param)
    results = []
    for name in ([] if args.no_references else REFERENCES) + models:
        if name not in DETECTORS:
            results.append({"model": name, "status": "unavailable", "reason": UNAVAILABLE_DETECTORS.get(name, "not registered")})
            continue
        result = run_child(name, args, params.get(name, {}))
        results.append(result)
        print(f"{name}: {result['status']} {result.get('fit_s', 0):.1f}+{result.get('score_s', 0):.1f} s "
              f"vus_pr={result.get('vus_pr')} f1={result.get('f1_own')} {result.get('reason', '')[:120]}",
              file=sys.stderr, flush=True)
    if not chosen:
        results += [{"model": n, "status": "unavailable", "reason": why} for n, why in sorted(UNAVAILABLE_DETECTORS.items())]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
