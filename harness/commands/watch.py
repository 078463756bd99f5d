"""``faultlab watch --prometheus URL --model DIR [--queries FILE] [--alerts FILE]``: a saved detector, live.

Scores a fitted detector (saved by ``faultlab run``'s live detectors under ``live/models/``, by
``faultlab bench --save-models``, or by ``Detector.save``) against your own Prometheus, one step
per scrape interval: the series are the testbed's catalogue or your PromQL list (``--queries``,
the format of ``faultlab collect --queries``), computed as ``faultlab collect`` computes them, and
each step's score is the detector's offline score of that step (:mod:`faultlab.harness.live`).
Alarms are printed as they happen and appended to ``--alerts`` (``alerts.jsonl``: time, detector,
score, threshold, top suspects; flushed and fsynced). It runs until SIGTERM or Ctrl-C, which stop
it cleanly between two steps (files closed, one line on stderr, exit 0: stopping is how a watch
ends), or for ``--max-steps``. Exit 1 when Prometheus cannot be read at the start, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

#: Exit status when a signal ends the watch: its normal end, not a failure.
STOPPED_BY_SIGNAL = 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("watch", help="score a saved detector live against any Prometheus; alarms to alerts.jsonl")
    parser.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--model", required=True, type=Path, metavar="DIR", help="a saved detector folder (model.json, arrays.npz)")
    parser.add_argument("--queries", type=Path, metavar="FILE",
                        help="YAML list of {metric, query, kind, group, unit[, service]} as for faultlab collect "
                             "(default: the testbed catalogue)")
    parser.add_argument("--alerts", type=Path, default=Path("alerts.jsonl"), metavar="FILE",
                        help="alarm journal to append to (default: alerts.jsonl)")
    parser.add_argument("--scores", type=Path, metavar="FILE", help="also log every step's score to this JSON Lines file")
    parser.add_argument("--step-s", type=float, metavar="SECONDS",
                        help="seconds between steps (default: the interval the model was fitted at, from its stream.json, else 5)")
    parser.add_argument("--lag-s", type=float, metavar="SECONDS",
                        help="wait this long after a step before fetching it (default 1, at most half a step)")
    parser.add_argument("--top-k", type=int, default=3, metavar="K", help="suspects named per alarm (default 3)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N steps (default: run until stopped)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.errors import BadInput, Interrupted
    from faultlab.harness.collect import CATALOG, MONITORING_SERVICES
    from faultlab.harness.io.prometheus import read_queries
    from faultlab.harness.live.journal import AlertJournal, ScoreLog, Verdict
    from faultlab.harness.live.models import load_model
    from faultlab.harness.live.poller import PrometheusSource
    from faultlab.harness.live.replay import fitted_table
    from faultlab.harness.live.scorer import LiveDetector, LiveScorer, buffer_capacity, run_stream
    from faultlab.harness.live.stream import StreamBuffer

    detector, info = load_model(args.model)
    if "torch" in sys.modules:  # one step's inference gains nothing from more threads; on a busy host they spin
        sys.modules["torch"].set_num_threads(1)
    step_s = args.step_s or info.get("scrape_interval_s") or 5.0
    if not step_s > 0:
        raise BadInput(f"--step-s must be > 0, got {step_s}")
    if args.top_k < 1 or (args.max_steps is not None and args.max_steps < 1):
        raise BadInput("--top-k and --max-steps must be at least 1")
    catalog = read_queries(args.queries) if args.queries else list(CATALOG)
    groups = {row.get("group", "application") for row in fitted_table(detector)}
    catalog = [spec for spec in catalog if spec.group in groups] or catalog  # only what the model reads
    label = str(info.get("label") or detector.name)
    capacity = buffer_capacity([detector])
    source = PrometheusSource(  # the grid reaches back far enough to prime the buffer from Prometheus' history
        args.prometheus, step_s, origin_s=time.time() - (capacity + 1) * step_s, catalog=catalog, lag_s=args.lag_s,
        monitoring=bool(set(detector.column_services_) & set(MONITORING_SERVICES)),
    )
    buffer = StreamBuffer(detector.columns_, fitted_table(detector), capacity=capacity, step_s=step_s,
                          fill=detector.fill_values_, name="watch")
    shown = {"alarming": False}

    def show(verdict: Verdict) -> None:
        when = verdict.time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if verdict.alarm:
            suspects = ", ".join(f"{s} ({v:.3g})" for s, v in verdict.suspects) or "-"
            print(f"{when} ALARM {verdict.detector} score {verdict.score:.4g} > {verdict.threshold:.4g}; suspects: {suspects}",
                  flush=True)
        elif shown["alarming"]:
            print(f"{when} cleared {verdict.detector} (score {verdict.score:.4g})", flush=True)
        shown["alarming"] = verdict.alarm

    alerts = AlertJournal(args.alerts)
    scorer = LiveScorer([LiveDetector(label, detector, detector.seed)], buffer, alerts=alerts,
                        scores=ScoreLog(args.scores) if args.scores else None, top_k=args.top_k, on_verdict=show)
    print(f"faultlab watch: {label} on {args.prometheus} every {step_s:g} s ({len(detector.columns_)} series, "
          f"{detector.history_steps} step(s) of history); alarms to {args.alerts}; SIGTERM or Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        run_stream(source, scorer, max_steps=args.max_steps, log=lambda line: print(line, file=sys.stderr, flush=True))
    except (Interrupted, KeyboardInterrupt) as exc:
        reason = exc.reason if isinstance(exc, Interrupted) else "SIGINT (Ctrl-C)"
        _close(scorer, source)
        print(f"faultlab watch: stopped by {reason} after {scorer.steps} steps; {scorer.alarms} alarm(s) in {args.alerts}",
              file=sys.stderr, flush=True)
        return STOPPED_BY_SIGNAL
    _close(scorer, source)
    print(f"faultlab watch: {scorer.steps} steps; {scorer.alarms} alarm(s) in {args.alerts}", file=sys.stderr, flush=True)
    return 0


def _close(scorer, source) -> None:
    scorer.close()
    source.close()
