"""The live figures of a run folder: how soon, how often wrongly, at what cost live detectors alarmed.

All from files the run leaves (no Docker): the ground-truth journal, ``alerts.jsonl``, the score
log, the live process's status and usage; the dataset, where there is one, for the comparison
with offline scores. Per live detector and per fault type:

* **time to detect**: from a fault's measured ``effect_onset`` (the journal; ``applied_at`` when
  it has none) to the wall-clock ``raised_at`` of its first alarm, i.e. when the alarm was on
  disk; median and p95 over the type's faults, in seconds and in scrapes. A fault's alarms are
  those of steps from its ``applied_at`` to its return to baseline (the labels' recovering tail);
  an alarm raised before the measured onset (the effect check crosses half-way a little after
  the fault began, or the detector was alarming already) counts as 0 s and is flagged
  (``before_onset``): the false-alarm rate is where a detector that always alarms pays;
* **missed**: faults scored live with no alarm in that span (faults that began before the live
  detectors were fitted are listed apart, not counted);
* **false alarms per hour**: alarm events (runs of alarmed steps) that start on a fault-free live
  step, per hour of fault-free live time (``faultlab.harness.scoring.events``, recovering steps left out);
* **AC@1 at the first alarm**: the first alarm's top suspect is one of the fault's targets
  (end-to-end root cause: detection, then localisation, live);
* **cost**: scoring milliseconds per step (median, p95: the detector's own work, suspects
  included), its CPU share (CPU time over live wall time), the fit's wall and CPU seconds, the
  live process's CPU bound and cores per phase;
* **live = offline**: the saved live model re-scores the recorded dataset at once (the offline
  score, which the replay tests prove equal to the streamed one); the share of live steps with
  the same score (float tolerance) and the same alarm decision show what late or missing scrapes changed.

:func:`build_report` computes it, :func:`write_report` keeps ``live/report.json`` and ``.md``,
and :func:`board_section` renders the stored report into the run's leaderboard pages.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.datasets.labels import TAIL_STEPS, fault_spans, labels_from_ground_truth, read_ground_truth
from faultlab.harness.live.files import LiveFiles
from faultlab.harness.live.journal import read_alerts, read_scores
from faultlab.harness.scoring.events import false_alarms_per_hour
from faultlab.injectors.ground_truth import fold, iso_ms

REPORT_VERSION = 1
#: Live and offline scores of a step are "equal" within this relative tolerance.
SCORE_RTOL = 1e-5


@dataclass
class LiveReport:
    """The live figures (plain rows, so the stored JSON renders the same pages)."""

    run: str
    step_s: float
    meta: dict[str, Any] = field(default_factory=dict)  # live span, CPU bound, process usage, notes
    detectors: list[dict[str, Any]] = field(default_factory=list)  # one row per live detector
    per_type: list[dict[str, Any]] = field(default_factory=list)  # one row per detector x fault type
    faults: list[dict[str, Any]] = field(default_factory=list)  # one row per detector x fault

    def to_json(self) -> dict[str, Any]:
        return {"report_version": REPORT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LiveReport:
        return cls(**{k: v for k, v in doc.items() if k != "report_version"})

    def summary_line(self) -> str:
        if not self.detectors:
            return f"no live scores ({self.meta.get('reason') or 'the live detectors never started scoring'})"
        parts = []
        for row in self.detectors:
            ttd = row.get("ttd_median_s")
            parts.append(f"{row['detector']}: {row['detected']}/{row['faults']} faults detected"
                         + (f", median time to detect {ttd:.1f} s" if ttd is not None else "")
                         + f", {_fmt(row.get('false_alarms_per_h'))} false alarms/h, {_fmt(row.get('scoring_ms_median'))} ms/step")
        return "; ".join(parts)


# ---- building ----------------------------------------------------------------------------------
def build_report(run: str | Path, dataset: Dataset | None = None) -> LiveReport:
    """The live figures of run folder ``run`` (``dataset``: the run's, for the offline comparison)."""
    files = LiveFiles(Path(run))
    config = _read_json(files.config)
    status = _read_json(files.status)
    usage = _read_json(files.usage)
    step_s = float(config.get("step_s") or (dataset.scrape_interval_s if dataset is not None else 5.0))
    scores = read_scores(files.scores)
    alerts = read_alerts(files.alerts) if files.alerts.exists() else []
    records = read_ground_truth(files.run / "ground_truth.jsonl") if (files.run / "ground_truth.jsonl").exists() else []
    report = LiveReport(run=files.run.name, step_s=step_s)
    report.meta = {
        "live_from": iso_ms(scores["time"].min()) if len(scores) else None,
        "live_to": iso_ms(scores["time"].max()) if len(scores) else None,
        "state": status.get("state"), "reason": status.get("reason"), "train_steps": status.get("train_steps"),
        "series": status.get("series"), "skipped_steps": status.get("skipped"),
        "cpu_bound": (usage.get("cpu_bound") or {}).get("detail"), "cpu_mode": (usage.get("cpu_bound") or {}).get("mode"),
        "process_cpu_s": usage.get("cpu_s"), "process_cores": usage.get("cores") or {},
    }
    faults = _faults(records)
    labels = None
    if len(scores):
        grid = pd.DatetimeIndex(sorted(scores["time"].unique()), name="timestamp")
        labels = labels_from_ground_truth(records, grid, tail_s=TAIL_STEPS * step_s)
    fits = status.get("fits") or {}
    offline = _offline_scores(files, dataset, fits) if dataset is not None else {}
    labels_order = [label for label in dict.fromkeys([*fits, *scores["detector"].astype(str).unique().tolist()])
                    if not fits.get(label, {}).get("error")]
    for label in labels_order:
        mine = scores[scores["detector"] == label].sort_values("time").reset_index(drop=True)
        my_alerts = [a for a in alerts if a.get("detector") == label]
        rows = _fault_rows(label, faults, my_alerts, mine, step_s)
        report.faults += rows
        report.detectors.append(_detector_row(label, mine, rows, labels, fits.get(label, {}), offline.get(label), step_s))
        report.per_type += _type_rows(label, rows, step_s)
    report.meta["not_live"] = sorted({r["fault_id"] for r in report.faults if not r["live"]})
    report.meta["fit_errors"] = {label: fit["error"] for label, fit in fits.items() if fit.get("error")}
    return report


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


@dataclass(frozen=True)
class _Fault:
    fault_id: str
    type: str
    targets: tuple[str, ...]
    applied_at: pd.Timestamp
    onset: pd.Timestamp  # effect_onset, else applied_at
    until: pd.Timestamp | None  # end of the span its alarms count in (recovered + tail); None: to the end


def _faults(records: list[dict[str, Any]]) -> list[_Fault]:
    """The faults that took effect (labelled ones), with their measured onset, in time order."""
    folded = fold(records) if records else {}
    out = []
    for span in fault_spans(records):
        if not span.labelled or span.applied_at is None:
            continue
        onset = folded.get(span.fault_id, {}).get("effect_onset")
        onset_ts = pd.Timestamp(onset).tz_convert("UTC") if onset else span.applied_at
        back = span.recovered_by()
        out.append(_Fault(span.fault_id, span.type, span.targets, span.applied_at, onset_ts, back))
    return sorted(out, key=lambda f: f.applied_at)


def _fault_rows(label: str, faults: list[_Fault], alerts: list[dict[str, Any]], scores: pd.DataFrame,
                step_s: float) -> list[dict[str, Any]]:
    """One row per fault: scored live or not, its first alarm, time to detect, top suspect."""
    live_from = scores["time"].min() if len(scores) else None
    live_to = scores["time"].max() if len(scores) else None
    tail = pd.Timedelta(seconds=TAIL_STEPS * step_s)
    times = [(pd.Timestamp(a["time"]), a) for a in alerts if a.get("time")]
    rows = []
    for f in faults:
        live = live_from is not None and live_from <= f.applied_at <= live_to
        until = (f.until + tail) if f.until is not None else None
        first = next((a for t, a in sorted(times, key=lambda ta: ta[0])
                      if t >= f.applied_at and (until is None or t <= until)), None)
        raw = None if first is None else (pd.Timestamp(first["raised_at"]) - f.onset).total_seconds()
        ttd = None if raw is None else max(raw, 0.0)
        suspects = [s.get("service") for s in (first or {}).get("suspects", [])]
        rows.append({
            "detector": label, "fault_id": f.fault_id, "fault_type": f.type, "targets": list(f.targets),
            "applied_at": iso_ms(f.applied_at), "effect_onset": iso_ms(f.onset), "live": bool(live),
            "detected": first is not None, "first_alarm": first.get("time") if first else None,
            "raised_at": first.get("raised_at") if first else None,
            "ttd_s": None if ttd is None else round(ttd, 3), "ttd_scrapes": None if ttd is None else round(ttd / step_s, 2),
            "before_onset": raw is not None and raw < 0,
            "from_start_s": None if first is None else round((pd.Timestamp(first["raised_at"]) - f.applied_at).total_seconds(), 3),
            "top_suspect": suspects[0] if suspects else None,
            "ac1": (suspects[0] in f.targets) if suspects else None,
        })
    return rows


def _p(values: Sequence[float], q: float) -> float | None:
    return None if not len(values) else round(float(np.quantile(np.asarray(values, dtype=float), q)), 3)


def _detector_row(label: str, scores: pd.DataFrame, faults: list[dict[str, Any]], labels: pd.DataFrame | None,
                  fit: dict[str, Any], offline: dict[str, Any] | None, step_s: float) -> dict[str, Any]:
    live = [r for r in faults if r["live"]]
    ttd = [r["ttd_s"] for r in live if r["ttd_s"] is not None]
    ranked = [r["ac1"] for r in live if r["ac1"] is not None]
    row: dict[str, Any] = {
        "detector": label, "steps": int(len(scores)), "faults": len(live), "detected": sum(r["detected"] for r in live),
        "missed": sum(not r["detected"] for r in live), "ttd_median_s": _p(ttd, 0.5), "ttd_p95_s": _p(ttd, 0.95),
        "ac1_first_alarm": None if not ranked else round(float(np.mean(ranked)), 3),
        "fit_s": fit.get("fit_s"), "fit_cpu_s": fit.get("fit_cpu_s"), "threshold": fit.get("threshold"),
        "history_steps": fit.get("history_steps"),
    }
    row.update(_false_alarms(scores, labels, step_s))
    row.update(_cost(scores, step_s))
    if offline is not None:
        row.update(_agreement(scores, offline))
    return row


def _false_alarms(scores: pd.DataFrame, labels: pd.DataFrame | None, step_s: float) -> dict[str, Any]:
    """False alarm events per hour over the fault-free live steps (recovering steps left out)."""
    if labels is None or not len(scores):
        return {"false_alarms_per_h": None, "fault_free_h": 0.0, "false_alarm_events": 0}
    lab = labels.reindex(pd.DatetimeIndex(scores["time"]))
    keep = lab["recovering"].to_numpy() == 0
    truth = lab["anomaly"].to_numpy()[keep] > 0
    alarm = scores["alarm"].to_numpy(dtype=bool)[keep]
    stamps = scores["time"].to_numpy()[keep]
    if not len(truth) or truth.all():
        return {"false_alarms_per_h": None, "fault_free_h": 0.0, "false_alarm_events": 0}
    rate = false_alarms_per_hour(truth, alarm, timestamps_s=stamps, step_s=step_s)
    events = int(np.sum(alarm & ~truth & ~np.concatenate([[False], alarm[:-1]])))
    normal_h = float((~truth).sum()) * step_s / 3600.0
    return {"false_alarms_per_h": None if math.isnan(rate) else round(rate, 3), "fault_free_h": round(normal_h, 3),
            "false_alarm_events": events}


def _cost(scores: pd.DataFrame, step_s: float) -> dict[str, Any]:
    if not len(scores):
        return {"scoring_ms_median": None, "scoring_ms_p95": None, "cpu_share": None, "fetch_ms_median": None}
    span_s = (scores["time"].max() - scores["time"].min()).total_seconds() + step_s
    return {
        "scoring_ms_median": _p(scores["scoring_ms"].dropna(), 0.5), "scoring_ms_p95": _p(scores["scoring_ms"].dropna(), 0.95),
        "cpu_share": round(float(scores["cpu_ms"].sum()) / 1000.0 / span_s, 4) if span_s > 0 else None,
        "fetch_ms_median": _p(scores["fetch_ms"].dropna(), 0.5),
    }


def _offline_scores(files: LiveFiles, dataset: Dataset, fits: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each saved live model's offline scores of the whole recorded dataset: ``{label: {times, scores, threshold}}``."""
    from faultlab.harness.live.models import load_model

    out = {}
    for label, fit in fits.items():
        folder = fit.get("model")
        if not folder or not Path(folder).is_dir():
            continue
        try:
            detector, _ = load_model(folder)
            scores = detector.score(dataset)
        except BadInput:  # a dataset the model cannot score (series policy "strict"): no comparison, not no report
            continue
        out[label] = {"times": dataset.timestamps, "scores": scores, "threshold": detector.threshold_}
    return out


def _agreement(scores: pd.DataFrame, offline: dict[str, Any]) -> dict[str, Any]:
    """How the live scores compare with the offline scores of the same model on the recorded data."""
    ref = pd.Series(offline["scores"], index=offline["times"])
    both = scores.set_index("time")["score"].dropna()
    both = both[both.index.isin(ref.index)]
    if not len(both):
        return {"offline_steps": 0, "offline_equal_scores": None, "offline_same_alarm": None}
    other = ref.reindex(both.index).to_numpy()
    live = both.to_numpy()
    same = (live > offline["threshold"]) == (other > offline["threshold"])
    # equal up to float rounding (float32 networks, batch composition), relative to the score's size
    equal = np.abs(live - other) <= SCORE_RTOL * np.maximum(1.0, np.abs(other))
    return {"offline_steps": int(len(both)), "offline_equal_scores": round(float(equal.mean()), 4),
            "offline_same_alarm": round(float(same.mean()), 4)}


def _type_rows(label: str, faults: list[dict[str, Any]], step_s: float) -> list[dict[str, Any]]:
    rows = []
    for fault_type in sorted({r["fault_type"] for r in faults if r["live"]}):
        mine = [r for r in faults if r["live"] and r["fault_type"] == fault_type]
        ttd = [r["ttd_s"] for r in mine if r["ttd_s"] is not None]
        ranked = [r["ac1"] for r in mine if r["ac1"] is not None]
        median = _p(ttd, 0.5)
        rows.append({
            "detector": label, "fault_type": fault_type, "faults": len(mine), "detected": sum(r["detected"] for r in mine),
            "missed": sum(not r["detected"] for r in mine), "ttd_median_s": median, "ttd_p95_s": _p(ttd, 0.95),
            "ttd_median_scrapes": None if median is None else round(median / step_s, 2),
            "ac1_first_alarm": None if not ranked else round(float(np.mean(ranked)), 3),
        })
    return rows


# ---- rendering ---------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


DETECTOR_COLUMNS = (
    ("detector", "detector"), ("faults", "faults (live)"), ("detected", "detected"), ("missed", "missed"),
    ("ttd_median_s", "time to detect, median [s]"), ("ttd_p95_s", "p95 [s]"),
    ("false_alarms_per_h", "false alarms / h"), ("fault_free_h", "fault-free live [h]"),
    ("ac1_first_alarm", "AC@1 at first alarm"), ("scoring_ms_median", "ms / step (median)"),
    ("scoring_ms_p95", "ms / step (p95)"), ("cpu_share", "CPU share"), ("fit_s", "fit [s]"),
    ("fit_cpu_s", "fit CPU [s]"), ("offline_equal_scores", "score = offline"),
    ("offline_same_alarm", "alarm = offline"),
)
TYPE_COLUMNS = (
    ("detector", "detector"), ("fault_type", "fault type"), ("faults", "faults"), ("detected", "detected"),
    ("missed", "missed"), ("ttd_median_s", "time to detect, median [s]"), ("ttd_median_scrapes", "median [scrapes]"),
    ("ttd_p95_s", "p95 [s]"), ("ac1_first_alarm", "AC@1 at first alarm"),
)
FAULT_COLUMNS = (
    ("detector", "detector"), ("fault_id", "fault"), ("fault_type", "type"), ("targets", "target"),
    ("effect_onset", "effect onset"), ("first_alarm", "first alarm (step)"), ("ttd_s", "time to detect [s]"),
    ("before_onset", "alarm before onset"), ("from_start_s", "from the fault's start [s]"), ("top_suspect", "top suspect"),
)


def _cells(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    head = [title for _, title in columns]
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            if key == "targets":
                value = ",".join(value or [])
            elif key in ("effect_onset", "first_alarm") and value:
                value = str(value)[11:23]
            digits = 4 if key in ("cpu_share", "offline_same_alarm", "offline_equal_scores") else 2
            cells.append(_fmt(value, digits))
        body.append(cells)
    return head, body


def _md_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return "_(none)_\n"
    head, body = _cells(rows, columns)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


def _html_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return "<p><em>(none)</em></p>"
    head, body = _cells(rows, columns)
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" for cells in body)
    return f"<div class='scroll'><table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div>"


def intro(report: LiveReport) -> str:
    """The paragraph that says what was run live and how the figures are read."""
    m = report.meta
    span = (f"live from {str(m['live_from'])[11:19]} to {str(m['live_to'])[11:19]} UTC"
            if m.get("live_from") else f"never scored live ({m.get('reason') or m.get('state') or 'no score log'})")
    fit = f", fitted on {m['train_steps']} fault-free steps x {m['series']} series" if m.get("train_steps") else ""
    cores = ", ".join(f"{v:.2f} cores during {k}" for k, v in (m.get("process_cores") or {}).items())
    not_live = m.get("not_live") or []
    parts = [
        f"Detectors scored every {report.step_s:g} s while the run went ({span}{fit}), in a separate process with a "
        f"bounded CPU share: {m.get('cpu_bound') or 'unknown'}" + (f"; it used {cores}" if cores else "") + ".",
        "Time to detect: from a fault's measured effect onset (ground truth) to the wall-clock time its first alarm was "
        "written to alerts.jsonl (scrapes: divided by the scrape interval; an alarm raised between the fault's start and "
        "its measured onset counts as 0 s). False alarms: alarm events starting on "
        "fault-free live steps per hour of them (recovering steps left out). AC@1 at first alarm: the first alarm's top "
        "suspect is the fault's target. ms / step: the detector's own scoring (suspects included); CPU share: its CPU "
        "time over the live time. score / alarm = offline: share of live steps whose score (within 1e-5, relative) and "
        "alarm equal those of the saved live model re-scoring the recorded dataset (what late or missing scrapes changed).",
    ]
    if not_live:
        parts.append(f"Not scored live (began before the detectors were fitted): {', '.join(not_live)}.")
    for label, error in (m.get("fit_errors") or {}).items():
        parts.append(f"{label} could not be fitted, so it did not run live: {error}.")
    if m.get("skipped_steps"):
        parts.append(f"Steps skipped because scoring fell behind or Prometheus failed: {m['skipped_steps']}.")
    return " ".join(parts)


def markdown(report: LiveReport, level: int = 2, title: str = "Live detection") -> str:
    """The live section in Markdown (``level``: the heading level of its ``title``)."""
    h = "#" * level
    live_faults = [r for r in report.faults if r["live"]]
    return (f"\n{h} {title}\n\n{intro(report)}\n\n{h}# Per detector\n\n" + _md_table(report.detectors, DETECTOR_COLUMNS)
            + f"\n{h}# Per fault type\n\n" + _md_table(report.per_type, TYPE_COLUMNS)
            + f"\n{h}# Per fault\n\n" + _md_table(live_faults, FAULT_COLUMNS))


def html_section(report: LiveReport) -> str:
    live_faults = [r for r in report.faults if r["live"]]
    return ("<h2>Live detection</h2>" + f"<p>{html.escape(intro(report))}</p>"
            + "<h3>Per detector</h3>" + _html_table(report.detectors, DETECTOR_COLUMNS)
            + "<h3>Per fault type</h3>" + _html_table(report.per_type, TYPE_COLUMNS)
            + "<h3>Per fault</h3>" + _html_table(live_faults, FAULT_COLUMNS))


# ---- files ----------------------------------------------------------------------------------------
def write_report(report: LiveReport, run: str | Path) -> Path:
    """``live/report.json`` (read by the leaderboard's live section) and ``live/report.md``."""
    files = LiveFiles(Path(run))
    files.dir.mkdir(parents=True, exist_ok=True)
    files.report.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    (files.dir / "report.md").write_text(markdown(report, level=1, title=f"Live detection: {report.run}").lstrip())
    return files.report


def read_report(run: str | Path) -> LiveReport | None:
    doc = _read_json(LiveFiles(Path(run)).report)
    return LiveReport.from_json(doc) if doc else None


def board_section(out_dir: str | Path) -> tuple[str, str]:
    """``(markdown, html)`` of the live section for the pages written into ``out_dir``; empty
    strings unless ``out_dir`` is a run folder whose live detectors left a report."""
    report = read_report(out_dir)
    if report is None:
        return "", ""
    return markdown(report), html_section(report)


def write_live_board(report: LiveReport, run: str | Path) -> dict[str, Path]:
    """``leaderboard.md`` and ``.html`` holding only the live section (a run with live detectors and no offline ones)."""
    run = Path(run)
    md = run / "leaderboard.md"
    md.write_text(f"# Leaderboard: {report.run}\n" + markdown(report))
    page = run / "leaderboard.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'><title>Live detection</title></head><body>"
                    f"<h1>Leaderboard: {html.escape(report.run)}</h1>{html_section(report)}</body></html>\n")
    return {"markdown": md, "html": page}
