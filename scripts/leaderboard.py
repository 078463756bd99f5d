"""Regenerate docs/leaderboard.md: every registered detector, classifier and localizer on every
shipped dataset, with the reference floors, several seeds and the plots.

    .venv/bin/python scripts/leaderboard.py                 # the published page (all seeds, full training)
    .venv/bin/python scripts/leaderboard.py --fast          # one seed, a few epochs / trees: minutes
    .venv/bin/python scripts/leaderboard.py --datasets synthetic --out /tmp/lb --fast

Each method is evaluated on its own (one failing method is listed on the page, not fatal); the
floors are evaluated once per dataset. The page starts with the command that made it. Fast mode
shrinks the methods through their own parameters (``max_epochs``, ``n_estimators``, ...) where a
method declares them, and says so on the page.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from faultlab.harness.reports.scores_file import write_scores

ROOT = Path(__file__).resolve().parents[1]
#: Parameters shrunk in --fast mode, where a method has them.
FAST_PARAMS: dict[str, Any] = {"max_epochs": 3, "epochs": 3, "n_epochs": 3, "n_estimators": 30, "patience": 2}
FULL_SEEDS = (0, 1, 2)
#: RCAEval methods left out of the page: PC-based, hours per dataset on 2 cores (and singular on
#: short segments); run them with `faultlab bench --localizers rcaeval:circa` when wanted.
SLOW_LOCALIZERS = ("rcaeval:circa", "rcaeval:pc_randomwalk")
FAST_SEEDS = (0,)


def fast_params(params_model: Any) -> dict[str, Any]:
    """The FAST_PARAMS that a method's parameter model declares (pydantic ``model_fields``)."""
    fields = getattr(params_model, "model_fields", {})
    return {k: v for k, v in FAST_PARAMS.items() if k in fields}


def method_specs(registry: Any, fast: bool, skip: Sequence[str] = (),
                 overrides: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """``{name, params}`` for every registered method (floors excluded: the evaluation adds them).

    ``overrides`` gives named methods their own params (e.g. ``{"telesto": {...}}`` for a model
    whose paper size cannot train here); they win over fast mode's shrinking.
    """
    from faultlab.detectors.floors import is_floor

    specs = []
    for name in registry.names():
        if is_floor(name) or name in skip:
            continue
        params = fast_params(getattr(registry.get(name), "Params", None)) if fast else {}
        specs.append({"name": name, "params": {**params, **(overrides or {}).get(name, {})}})
    return specs


def localizer_specs(fast: bool, skip: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Registered root-cause localizers (fast mode: shrunk like the detectors), where this checkout has them."""
    from faultlab.detectors.localizers import LOCALIZER_INDEX

    specs = []
    for name in LOCALIZER_INDEX.names():
        if name in SLOW_LOCALIZERS or name in skip:
            continue
        params = fast_params(getattr(LOCALIZER_INDEX.get(name), "Params", None)) if fast else {}
        specs.append({"name": name, "params": params})
    return specs


def evaluate_one(dataset: Any, kind: str, spec: dict[str, Any], seeds: Sequence[int], **options: Any) -> tuple[Any, str]:
    """One method on one dataset; ``(evaluation, "")`` or ``(None, why it failed)``."""
    from faultlab.harness.evaluation import run_evaluation

    args: dict[str, Any] = {"detectors": [], "classifiers": []}
    if kind == "localizer":
        args["localizers"] = [spec]
    else:
        args[kind + "s"] = [spec]
    try:
        return run_evaluation(dataset, seeds=seeds, floors=False, **args, **options), ""
    except Exception as exc:  # noqa: BLE001 - one method's failure goes on the page, the rest still run
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return None, f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"


def build(datasets: Sequence[str], seeds: Sequence[int], fast: bool, skip: Sequence[str] = (),
          log: Any = sys.stderr, overrides: dict[str, dict[str, Any]] | None = None,
          **options: Any) -> tuple[Any, list[tuple[str, str, str]]]:
    """The merged evaluation of every method on every dataset, and the failures."""
    from faultlab.detectors import CLASSIFIERS, DETECTORS
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation import Evaluation, run_evaluation

    tables, timelines, settings, failures = [], [], {}, []
    supports_localizers = "localizers" in inspect.signature(run_evaluation).parameters
    jobs = [("detector", s) for s in method_specs(DETECTORS, fast, skip, overrides)]
    jobs += [("classifier", s) for s in method_specs(CLASSIFIERS, fast, skip, overrides)]
    if supports_localizers:
        jobs += [("localizer", s) for s in localizer_specs(fast, skip)]
    for name in datasets:
        data = resolve_dataset(name)
        floors = run_evaluation(data, ["always_alarm", "random"], [], seeds, **options)
        tables.append(floors.table)
        timelines += floors.timelines
        settings.update(floors.settings)
        for kind, spec in jobs:
            label = spec["name"]
            started = time.monotonic()
            ev, error = evaluate_one(data, kind, spec, seeds, **options)
            print(f"{data.name}: {kind} {label} {'failed' if error else 'done'} in {time.monotonic() - started:.1f} s",
                  file=log, flush=True)
            if error:
                failures.append((data.name, label, error))
                continue
            tables.append(ev.table)
            timelines += ev.timelines
    table = pd.concat([t for t in tables if not t.empty], ignore_index=True)
    return Evaluation(table=table, timelines=timelines, settings=settings), failures


def page(evaluation: Any, failures: Sequence[tuple[str, str, str]], command: str, fast: bool,
         plots: dict[str, Path], out: Path) -> str:
    """docs/leaderboard.md: the regenerate command, provenance, the leaderboard, plots, failures."""
    from faultlab.harness.reports.leaderboard import markdown

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    body = markdown(evaluation.table, evaluation.settings).split("\n", 1)[1]  # drop its own title
    mode = ("**fast mode**: one seed, methods shrunk through their parameters "
            f"({', '.join(f'{k}={v}' for k, v in FAST_PARAMS.items())} where declared)") if fast else "full training"
    parts = [
        "# Leaderboard\n\n",
        f"Regenerate with:\n\n```bash\n{command}\n```\n\n",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from commit `{commit or '?'}`, {mode}.\n",
        body,
    ]
    if plots:
        parts.append("\n## Plots\n")
        for name, path in sorted(plots.items()):
            parts.append(f"\n![{name}]({quote(path.relative_to(out).as_posix())})\n")
    if failures:
        parts.append("\n## Methods that could not run\n\n| dataset | method | error |\n|---|---|---|\n")
        parts += [f"| {d} | {m} | {e.replace('|', '/')} |\n" for d, m, e in failures]
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--datasets", help="comma-separated dataset names (default: every registered dataset)")
    parser.add_argument("--seeds", help=f"comma-separated seeds (default: {FULL_SEEDS}, --fast: {FAST_SEEDS})")
    parser.add_argument("--fast", action="store_true", help="one seed and small epochs/trees (minutes, not hours)")
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out")
    parser.add_argument("--count-recovering", action="store_true", help="count recovering steps as normal")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for leaderboard.md and leaderboard/ (plots)")
    parser.add_argument("--method-params", default="{}", metavar="JSON",
                        help='params per method, e.g. \'{"telesto": {"max_epochs": 6}}\'')
    parser.add_argument("--jobs", type=int, default=1,
                        help="with several datasets: one process per dataset, N at a time, each page under "
                             "leaderboard/<dataset>/, and leaderboard.md as their index")
    args = parser.parse_args(argv)
    overrides = json.loads(args.method_params)

    from faultlab.harness.datasets.index import DATASETS
    from faultlab.harness.reports.leaderboard import figures

    datasets = args.datasets.split(",") if args.datasets else DATASETS.names()
    if args.jobs > 1 and len(datasets) > 1:
        return run_parallel(datasets, args, argv if argv is not None else sys.argv[1:])
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(FAST_SEEDS if args.fast else FULL_SEEDS)
    evaluation, failures = build(datasets, seeds, args.fast, [s for s in args.skip.split(",") if s],
                                 overrides=overrides, count_recovering=args.count_recovering)
    out = args.out
    plot_dir = out / "leaderboard"
    plot_dir.mkdir(parents=True, exist_ok=True)
    plots = {}
    for name, png in figures(evaluation.table, evaluation.timelines).items():
        (plot_dir / name).write_bytes(png)
        plots[name] = plot_dir / name
    command = regenerate_command(argv if argv is not None else sys.argv[1:])
    (out / "leaderboard.md").write_text(page(evaluation, failures, command, args.fast, plots, out))
    write_scores(evaluation.table, out / "scores.json", extra={"command": command, "settings": evaluation.settings})
    print(out / "leaderboard.md")
    return 0


def run_parallel(datasets: Sequence[str], args: argparse.Namespace, argv: Sequence[str]) -> int:
    """One process per dataset (``--jobs`` at a time), then ``leaderboard.md`` as their index."""
    from concurrent.futures import ThreadPoolExecutor

    rest = [a for a in _strip(argv, ("--datasets", "--out", "--jobs"))]
    out = args.out

    def one(name: str) -> tuple[str, int]:
        sub = out / "leaderboard" / name
        cmd = [sys.executable, __file__, "--datasets", name, "--out", str(sub), *rest]
        with open(out / "leaderboard" / f"{name}.log", "w") as log:
            return name, subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False).returncode

    (out / "leaderboard").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        codes = dict(pool.map(one, datasets))
    command = regenerate_command(argv)
    (out / "leaderboard.md").write_text(index_page(datasets, codes, command, out))
    print(out / "leaderboard.md")
    return 0 if not any(codes.values()) else 1


def regenerate_command(argv: Sequence[str]) -> str:
    """The command that made a page, shell-quoted (JSON survives a paste), paths in the repository relative."""

    def shown(arg: str) -> str:
        path = Path(arg)
        return str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else arg

    return shlex.join([".venv/bin/python", "scripts/leaderboard.py", *(shown(a) for a in argv)])


def _strip(argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """``argv`` without ``options`` and their values (``--x v`` and ``--x=v``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in options:
            skip = True
            continue
        if any(arg.startswith(o + "=") for o in options):
            continue
        out.append(arg)
    return out


def index_page(datasets: Sequence[str], codes: dict[str, int], command: str, out: Path) -> str:
    """The index: the command, then per dataset its best detector next to the floors, and a link."""
    from faultlab.harness.reports.scores_file import read_scores

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    parts = ["# Leaderboard\n\n", f"Regenerate with:\n\n```bash\n{command}\n```\n\n",
             f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from commit `{commit or '?'}`. "
             "One page per dataset (every method, the floors, per fault type, plots); below, each dataset's "
             "detectors by VUS-PR, with F1 at their own threshold and their alarm rate on fault-free test "
             "steps, next to the floors.\n"]
    for name in datasets:
        page_file = out / "leaderboard" / name / "leaderboard.md"
        parts.append(f"\n## {name}\n\n")
        if codes.get(name) or not page_file.exists():
            parts.append(f"Could not be generated (exit {codes.get(name)}); see leaderboard/{name}.log.\n")
            continue
        parts.append(f"[Full page](leaderboard/{quote(name)}/leaderboard.md)\n\n")
        table = read_scores(out / "leaderboard" / name / "scores.json")
        if not _has_fault_free_test_steps(table):
            parts.append("**This dataset cannot rank detectors**: none of its test steps is fault-free outside "
                         "a fault's recovery, so threshold-free scores are n/a and `always_alarm` reaches F1 1.0. "
                         "Only its root-cause (AC@k) figures on the full page carry information.\n\n")
        parts.append(summary_table(table))
    return "".join(parts)


def _has_fault_free_test_steps(table: pd.DataFrame) -> bool:
    """Whether the floors' fault-free alarm rate could be measured (it is n/a without such steps)."""
    rows = table[(table["model"] == "always_alarm") & (table["metric"] == "alarm_rate") & (table["breakdown"] == "all")]
    return bool(rows["value"].notna().any())


def summary_table(table: pd.DataFrame) -> str:
    """Detectors by VUS-PR: own-threshold F1, VUS-PR, ROC-AUC, fault-free alarm rate (mean ± std)."""
    det = table[(table["kind"] == "detector") & (table["breakdown"] == "all")]
    wanted = {("vus_pr", "threshold-free"): "VUS-PR", ("f1", "own-threshold"): "F1 [own]",
              ("roc_auc", "threshold-free"): "ROC-AUC", ("alarm_rate", "own-threshold"): "fault-free alarm rate"}
    rows = []
    for model, group in det.groupby("model"):
        row = {"model": model}
        for (metric, protocol), label in wanted.items():
            values = group[(group["metric"] == metric) & (group["protocol"] == protocol)]["value"].dropna()
            row[label] = (f"{values.mean():.3f}" + (f" ± {values.std():.3f}" if len(values) > 1 else "")) if len(values) else "n/a"
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return "No detector rows.\n"
    frame["_key"] = pd.to_numeric(frame["VUS-PR"].str.split(" ").str[0], errors="coerce")
    frame = frame.sort_values("_key", ascending=False).drop(columns="_key")
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
