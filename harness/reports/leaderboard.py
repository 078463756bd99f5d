"""Leaderboards (Markdown, CSV, one self-contained HTML page) as views of the tidy table.

Every number on the page comes from :func:`faultlab.harness.evaluation.run_evaluation`'s table through
:func:`headline`, :func:`per_group` or :func:`confusion`; the score timelines are the only
per-step data and come with the evaluation. Each number carries its protocol: ``[own]`` (the
detector's own threshold), ``[oracle]`` (best-F1 threshold chosen on the test labels: an upper
bound), ``[optimistic]`` (point-adjusted), ``[from alarm]`` (root cause localized from the first alarm
inside each fault, beside the labelled-window figures); the rest are threshold-free or per-fault.

Each dataset gets its own table: the reference floors in marked rows under the ranked detectors,
the better floor's value in each column's header, ``≈`` / ``↓`` on a detector within noise of /
below that floor (:mod:`faultlab.harness.evaluation.reference`), ``n/a`` with a numbered reason,
and a line stating the VUS buffer, the root-cause candidates and how recovering steps count.

Deep methods also show how they trained (info rows, protocol ``training``): epochs run, best
epoch and fit time as headline columns, a ``still improving at the cap`` flag where training hit
its epoch cap with its best epoch last, a training table with what a method chose at fit (e.g.
attae's beta and window), and loss curves (``loss-<model>-<dataset>.png``). A detector that reads
one score per metric group (``lstm_ae``) gets a per-group table and a per-group detection figure.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.harness.evaluation import (
    ADJUSTED,
    ALL,
    EVENT_SPLIT,
    FREE,
    ORACLE,
    OWN,
    SEGMENTS,
    SEGMENTS_METRIC,
    TRAIN_ALARM_RATE,
    Evaluation,
    ScoreTimeline,
    higher_is_better,
)
from faultlab.harness.evaluation.protocol_rows import split_table
from faultlab.harness.evaluation.reference import BELOW, NOISE_EPS, WITHIN, floor_reference, is_floor, verdict
from faultlab.harness.evaluation.table import FROM_ALARM, TRAINING
from faultlab.harness.reports.scores_file import summarize, write_scores

SHORT = {OWN: "own", ORACLE: "oracle", ADJUSTED: "optimistic", FREE: "", SEGMENTS: "", SEGMENTS_METRIC: "metric",
         EVENT_SPLIT: "", FROM_ALARM: "from alarm"}
DETECTOR_HEADLINE = [
    ("f1", OWN), ("range_f1", OWN), ("vus_pr", FREE), ("pr_auc", FREE), ("roc_auc", FREE),
    ("alarm_rate", OWN), (TRAIN_ALARM_RATE, OWN), ("best_f1", ORACLE), ("pa_f1", ADJUSTED),
    ("mean_delay_s", OWN), ("false_alarms_per_h", OWN),
    ("ac@1", SEGMENTS), ("ac@3", SEGMENTS), ("avg@5", SEGMENTS),
    ("ac@1", FROM_ALARM), ("ac@3", FROM_ALARM), ("avg@5", FROM_ALARM),  # the same faults, localized from the detector's alarm
    ("ac@1", SEGMENTS_METRIC), ("ac@3", SEGMENTS_METRIC),
]
CLASSIFIER_HEADLINE = [("accuracy", EVENT_SPLIT), ("macro_f1", EVENT_SPLIT)] + [
    (metric, protocol) for protocol in ("telesto-protocol", "telesto-protocol+cmsf_gan") for metric in ("accuracy", "macro_f1")
]  # TELESTO's 3/1/1 splits (harness/evaluation/protocol.py): the mean over splits, shown as [telesto-protocol]
#: root-cause localizers (harness/evaluation/localizer_rows.py): AC@k on the labelled segments (the oracle question),
#: next to it from the trigger's first alarm (the pipeline's answer), with the faults missed and the median delay
LOCALIZER_HEADLINE = [("ac@1", SEGMENTS), ("ac@1", FROM_ALARM), ("ac@3", SEGMENTS), ("ac@3", FROM_ALARM),
                      ("ac@5", SEGMENTS), ("avg@5", SEGMENTS), ("avg@5", FROM_ALARM), ("rca_missed", FROM_ALARM),
                      ("rca_delay_s", FROM_ALARM), ("ac@1", SEGMENTS_METRIC), ("ac@3", SEGMENTS_METRIC),
                      ("localize_s_per_segment", TRAINING)]
#: The one ranking key per kind, on every page and the index (the first headline column present when absent).
RANKING = {"detector": ("vus_pr", FREE), "classifier": ("macro_f1", EVENT_SPLIT), "localizer": ("ac@1", SEGMENTS)}
HEADLINES = {"detector": DETECTOR_HEADLINE, "classifier": CLASSIFIER_HEADLINE, "localizer": LOCALIZER_HEADLINE}
KIND_TITLES = (("detector", "Detectors"), ("classifier", "Classifiers"), ("localizer", "Root-cause localizers"))
# How a deep method trained (info rows, protocol ``training``; never ranked or gated): the last
# columns of the detectors' and classifiers' headline tables.
SHORT[TRAINING] = "training"
TRAINING_HEADLINE = [("epochs_run", TRAINING), ("best_epoch", TRAINING), ("fit_time_s", TRAINING)]
DETECTOR_HEADLINE += TRAINING_HEADLINE
CLASSIFIER_HEADLINE += TRAINING_HEADLINE
#: Shown in the epochs_run cell where training stopped at its cap with its best epoch last.
STILL_IMPROVING = "still improving at the cap"
#: A per-group detector's groups on their own (detector_rows.group_rows): what each column shows.
GROUP_COLUMNS = [("f1", OWN), ("precision", OWN), ("recall", OWN), ("alarm_rate", OWN), ("vus_pr", FREE)]
HEATMAPS = {"detector": ("f1", OWN), "classifier": ("class_recall", EVENT_SPLIT), "localizer": ("ac@1", SEGMENTS)}
LEGEND = (
    "Protocols: **[own]** the detector's own threshold; **[oracle]** the best-F1 threshold chosen "
    "on the test labels (an upper bound no deployed detector reaches); **[optimistic]** point-"
    "adjusted (one alarm credits a whole event: overstates detectors); unmarked detection metrics "
    "are threshold-free; ac@k/avg@5 rank root-cause services on the labelled fault windows, **[metric]** "
    "ranks service:metric columns against the metrics each fault type declares (injectors' dataset_metrics); classifiers "
    "are scored with whole fault events held out (leave-events-out folds). Values: mean ± std over seeds. "
    "**alarm_rate [own]**: share of the fault-free test steps (label 0, not recovering) above the detector's "
    "own threshold; **train_alarm_rate [own]**: the same on its own fault-free training part. "
    "Floors: **always_alarm** alarms on every step, **random** scores uniformly at random (its ac@k is the "
    "expected value of a random ranking of the candidates); each column's header gives the better floor. "
    f"**{WITHIN}**: within noise of that floor (|difference| <= max(seed std, {NOISE_EPS})); **{BELOW}**: below it."
    " Root-cause localizers rank the candidates on each labelled fault segment against the fault-free steps before it"
    " (detectors that localize are fitted on the train part first); their **random** is the mean of 20 seeded random rankings."
    " **[from alarm]**: the same faults localized from the first alarm inside each (a detector's own alarm; for a"
    " localizer, its trigger detector's, zscore unless set), over the alarm step and the next 9 (data after them is cut"
    " off), normal period = the fault-free steps before the alarm; a fault without an alarm counts with AC@k 0 and in"
    " **rca_missed**; **rca_delay_s**: median delay from the fault's start to that alarm. **n** in a per-fault-type"
    " header: the number of faults of that type."
)
LEGEND += (
    " **[training]** (info, not a score): how a deep method trained, mean over its networks and folds: **epochs_run**,"
    " **best_epoch** (the epoch whose weights were kept: early stopping on a held-out validation tail restores the best),"
    f" **fit_time_s** (every fold); **{STILL_IMPROVING}**: training hit its epoch cap with its best epoch the last one,"
    " so more epochs would probably help."
)


def column_label(metric: str, protocol: str) -> str:
    short = SHORT.get(protocol, protocol)
    return f"{metric} [{short}]" if short else metric


def headline_summary(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The seed summary (mean, std, reason) of every ``all`` row of ``kind``: what the headline
    table and its n/a notes are both read from."""
    return summarize(table[(table["kind"] == kind) & (table["breakdown"] == ALL)])


def headline(table: pd.DataFrame, kind: str, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (dataset, model) of ``kind``: ``<label> mean`` / ``<label> std`` columns.

    Rows are ranked per dataset by the kind's :data:`RANKING` key (else the first headline metric present).
    ``summary``: :func:`headline_summary` of the same rows, when the caller has it.
    """
    wanted = HEADLINES.get(kind, CLASSIFIER_HEADLINE)
    summary = headline_summary(table, kind) if summary is None else summary
    present = set(zip(summary["metric"], summary["protocol"]))
    keys = [k for k in wanted if k in present]
    out = summary[["dataset", "model"]].drop_duplicates().sort_values(["dataset", "model"]).reset_index(drop=True)
    for metric, protocol in keys:
        part = summary[(summary["metric"] == metric) & (summary["protocol"] == protocol)]
        part = part[["dataset", "model", "mean", "std"]].rename(
            columns={"mean": f"{column_label(metric, protocol)} mean", "std": f"{column_label(metric, protocol)} std"}
        )
        out = out.merge(part, on=["dataset", "model"], how="left")
    if keys:
        key = RANKING[kind] if RANKING.get(kind) in keys else keys[0]
        first = f"{column_label(*key)} mean"
        ascending = not higher_is_better(key[0])
        out["_floor"] = out["model"].map(is_floor)
        out = out.sort_values(["dataset", "_floor", first], ascending=[True, True, ascending], na_position="last",
                              kind="stable").drop(columns="_floor")
    return out.reset_index(drop=True)


def na_reasons(table: pd.DataFrame, kind: str, summary: pd.DataFrame | None = None) -> dict[tuple[str, str, str], str]:
    """``{(dataset, model, column label): reason}`` for the headline values that are n/a."""
    wanted = set(HEADLINES.get(kind, CLASSIFIER_HEADLINE))
    summary = headline_summary(table, kind) if summary is None else summary
    out = {}
    for row in summary.itertuples(index=False):
        if (row.metric, row.protocol) in wanted and not np.isfinite(row.mean) and getattr(row, "reason", ""):
            out[(str(row.dataset), str(row.model), column_label(row.metric, row.protocol))] = str(row.reason)
    return out


def per_group(table: pd.DataFrame, kind: str, metric: str, protocol: str, prefix: str = "fault_type=") -> dict[str, pd.DataFrame]:
    """``{dataset: models x groups}`` of the seed mean of one metric, for breakdowns ``prefix...``."""
    part = table[(table["kind"] == kind) & (table["metric"] == metric) & (table["protocol"] == protocol)
                 & table["breakdown"].str.startswith(prefix)]
    out: dict[str, pd.DataFrame] = {}
    for dataset, rows in part.groupby("dataset", sort=True):
        means = rows.groupby(["model", "breakdown"])["value"].mean().unstack("breakdown")
        means.columns = [c[len(prefix):] for c in means.columns]
        out[str(dataset)] = means.sort_index()
    return out


def fault_counts(table: pd.DataFrame, dataset: str, protocol: str) -> dict[str, int]:
    """``{fault type: n}``: how many faults of each type a root-cause protocol scored on ``dataset``
    (its ``n_faults`` rows; the same for every method)."""
    part = table[(table["dataset"] == dataset) & (table["metric"] == "n_faults") & (table["protocol"] == protocol)
                 & table["breakdown"].str.startswith("fault_type=")]
    counts = part.groupby("breakdown")["value"].max()
    return {str(k)[len("fault_type="):]: int(v) for k, v in counts.items() if np.isfinite(v)}


def with_counts(frame: pd.DataFrame, table: pd.DataFrame, dataset: str, protocol: str) -> pd.DataFrame:
    """``frame`` (models x fault types) with ``(n=k)`` after each fault type that has a count."""
    counts = fault_counts(table, dataset, protocol)
    return frame.rename(columns={c: f"{c} (n={counts[c]})" for c in frame.columns if c in counts})


def rca_groups(kind: str) -> list[tuple[str, str]]:
    """The per-fault-type root-cause tables of ``kind``: AC@1 on the labelled segments and from the alarm,
    then (localizers) the faults missed and the median delay from the alarm."""
    extra = [("rca_missed", FROM_ALARM), ("rca_delay_s", FROM_ALARM)] if kind == "localizer" else []
    return [("ac@1", SEGMENTS), ("ac@1", FROM_ALARM), *extra]


def confusion(table: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """``{(dataset, model): true x predicted}`` confusion counts, mean over seeds."""
    part = table[(table["kind"] == "classifier") & (table["metric"] == "confusion")]
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for (dataset, model), rows in part.groupby(["dataset", "model"], sort=True):
        cells = rows["breakdown"].str.extract(r"^true=(?P<true>.*),pred=(?P<pred>.*)$")
        frame = pd.concat([cells, rows["value"]], axis=1).groupby(["true", "pred"])["value"].mean().unstack("pred")
        labels = sorted(set(frame.index) | set(frame.columns))
        out[(str(dataset), str(model))] = frame.reindex(index=labels, columns=labels).fillna(0.0)
    return out


# ---- text ----------------------------------------------------------------------------------
def _fmt(mean: float, std: float) -> str:
    """``mean ± std`` over seeds; ``± —`` when every seed gave the same value (a deterministic method)."""
    if not np.isfinite(mean):
        return "n/a"
    digits = 1 if abs(mean) >= 10 else 3
    text = f"{mean:.{digits}f}"
    if not np.isfinite(std):
        return text
    return f"{text} ± —" if std == 0 else f"{text} ± {std:.{digits}f}"


def fmt_seed_stats(values: np.ndarray) -> str:
    """Per-seed values as the board prints them: ``mean ± std``, ``± —`` when all equal, ``n/a`` when none."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if not len(finite):
        return "n/a"
    return _fmt(float(finite.mean()), float(finite.std(ddof=1)) if len(finite) > 1 else float("nan"))


def _metric_of(label: str) -> str:
    return label.split(" [", 1)[0]


def display_frame(head: pd.DataFrame, reasons: Mapping[tuple[str, str, str], str] | None = None,
                  notes: list[str] | None = None) -> pd.DataFrame:
    """``headline`` with ``mean ± std`` strings, one column per metric, a rank per dataset.

    Floors are marked ``(floor)`` and not ranked; a detector's cell gets ``≈`` / ``↓`` when it is
    within noise of / below the better floor (see :mod:`faultlab.harness.evaluation.reference`).
    An n/a with a reason in ``reasons`` gets a footnote number; the texts are appended to ``notes``.
    """
    labels = [c[: -len(" mean")] for c in head.columns if c.endswith(" mean")]
    info = f" [{SHORT[TRAINING]}]"  # how a method trained or what it cost: no floor to beat
    refs = {(dataset, label): None if label.endswith(info) else floor_reference(part, label, higher_is_better(_metric_of(label)))
            for dataset, part in head.groupby("dataset") for label in labels}
    notes = notes if notes is not None else []
    rows = []
    for _, row in head.iterrows():
        floor = is_floor(str(row["model"]))
        cells = {}
        for label in labels:
            mean, std = row[f"{label} mean"], row[f"{label} std"]
            text = _fmt(mean, std)
            why = (reasons or {}).get((str(row["dataset"]), str(row["model"]), label))
            if why:
                if why not in notes:
                    notes.append(why)
                text += f" [{notes.index(why) + 1}]"
            elif not floor:
                mark = verdict(float(mean), float(std), refs[(row["dataset"], label)], higher_is_better(_metric_of(label)))
                text += f" {mark}" if mark else ""
            cells[label] = text
        rows.append({"dataset": row["dataset"], "model": f"{row['model']} (floor)" if floor else row["model"], **cells})
    frame = pd.DataFrame(rows, columns=["dataset", "model", *labels])
    if len(frame):
        ranked = ~head["model"].map(is_floor).to_numpy()
        rank = pd.Series(ranked.astype(int), index=frame.index).groupby(frame["dataset"]).cumsum()
        frame.insert(0, "rank", [str(r) if k else "floor" for r, k in zip(rank, ranked)])
    else:
        frame.insert(0, "rank", [])
    headers = {}
    for label in labels:
        values = {refs[(d, label)].mean for d in frame["dataset"].unique() if refs.get((d, label)) is not None}
        if len(values) == 1:  # one dataset (or one shared value): the floor goes in the header
            value = values.pop()
            headers[label] = f"{label} (floor {_fmt(value, float('nan'))})"
    return frame.rename(columns=headers)


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(none)_\n"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(str(v) for v in row.tolist()) + " |")
    return "\n".join(lines) + "\n"


def _group_display(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.map(lambda v: "n/a" if not np.isfinite(v) else f"{v:.3f}")
    shown.columns = [str(c) for c in shown.columns]
    return shown.reset_index().rename(columns={"index": "model"})


def _seeds(table: pd.DataFrame) -> str:
    return ", ".join(str(s) for s in sorted(table["seed"].unique().tolist()))


def settings_line(dataset: str, settings: Mapping[str, Any] | None) -> str:
    """One paragraph on how ``dataset`` was scored: steps, VUS buffer, candidates, recovering steps."""
    if not settings:
        return ""
    parts = []
    if "test_steps" in settings:
        share = settings.get("anomalous_share")
        share_text = f", {100 * share:.0f} % anomalous" if isinstance(share, (int, float)) and np.isfinite(share) else ""
        parts.append(f"{settings['test_steps']} test steps every {settings.get('interval_s', '?')} s{share_text}.")
    vus = settings.get("vus") or {}
    if vus:
        gap = vus.get("shortest_gap_steps")
        parts.append(f"VUS buffer: {vus.get('window_steps')} steps ({vus.get('window_s', 0):g} s); shortest gap "
                     f"between labelled events: {gap if gap is not None else 'none (one event)'} steps. {vus.get('rule', '')}.")
    if settings.get("candidates") is not None:
        context = settings.get("context") or []
        parts.append(f"Root-cause candidates ({len(settings['candidates'])}): {', '.join(settings['candidates'])}"
                     + (f"; context (evidence only): {', '.join(context)}." if context else "."))
    if settings.get("recovering"):
        parts.append(f"Recovering steps ({settings.get('recovering_steps', 0)}): {settings['recovering']}.")
    for model, counts in sorted((settings.get("alignment") or {}).items()):
        parts.append(f"Series policy of {model} ({counts.get('policy')}): {counts.get('missing', 0)} series missing at "
                     f"scoring time filled from training, {counts.get('new', 0)} new series ignored.")
    if "floors" in settings and not settings["floors"]:
        parts.append("Floors turned off.")
    return " ".join(parts)


def shown_headline(table: pd.DataFrame, dataset: str, kind: str, notes: list[str]) -> pd.DataFrame | None:
    """The headline table of ``kind`` on ``dataset`` as both pages print it (floors marked, n/a
    reasons numbered into ``notes``); None when the dataset has no row of that kind."""
    part = table[table["dataset"] == dataset]
    summary = headline_summary(part, kind)
    head = headline(part, kind, summary)
    if head.empty:
        return None
    return flag_still_improving(display_frame(head.reset_index(drop=True), na_reasons(part, kind, summary), notes), summary)


def flag_still_improving(shown: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``shown`` with :data:`STILL_IMPROVING` in the epochs cell of every model whose training hit
    its cap with its best epoch last (``still_improving`` > 0 on any network, seed or fold)."""
    label = column_label("epochs_run", TRAINING)
    flagged = summary[(summary["metric"] == "still_improving") & (summary["protocol"] == TRAINING) & (summary["mean"] > 0)]
    if flagged.empty or label not in shown.columns:
        return shown
    hit = set(zip(flagged["dataset"].astype(str), flagged["model"].astype(str)))
    shown = shown.copy()
    for i, row in shown.iterrows():
        if (str(row["dataset"]), str(row["model"])) in hit:
            shown.loc[i, label] = f"{row[label]} ({STILL_IMPROVING})"
    return shown


def training_frame(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """How every method that trained by epochs (or chose settings at fit) trained on ``dataset``:
    one row per (kind, model), a column per info metric of breakdown ``all`` (``mean ± std`` over
    seeds): epochs_run, best_epoch, epoch_cap, still_improving, fit_time_s, and e.g. attae's beta."""
    part = table[(table["dataset"] == dataset) & (table["protocol"] == TRAINING) & (table["breakdown"] == ALL)]
    if part.empty:
        return pd.DataFrame()
    order = list(dict.fromkeys(["epochs_run", "best_epoch", "epoch_cap", "still_improving", "fit_time_s",
                                *part["metric"].astype(str)]))
    rows = []
    for (kind, model), group in part.groupby(["kind", "model"], sort=True):
        cells: dict[str, Any] = {"kind": kind, "model": model}
        for metric in order:
            values = group.loc[group["metric"] == metric, "value"].to_numpy(dtype=float)
            if len(values):
                cells[metric] = fmt_seed_stats(values)
        rows.append(cells)
    frame = pd.DataFrame(rows)
    return frame[["kind", "model", *[m for m in order if m in frame.columns]]].fillna("")


def group_frame(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """A per-group detector's metric groups on their own on ``dataset`` (breakdown ``group=<g>``):
    one row per (model, group), :data:`GROUP_COLUMNS` as ``mean ± std`` over seeds."""
    part = table[(table["dataset"] == dataset) & (table["kind"] == "detector") & (table["protocol"] != TRAINING)
                 & table["breakdown"].astype(str).str.startswith("group=")]
    if part.empty:
        return pd.DataFrame()
    rows = []
    for (model, where), group in part.groupby(["model", "breakdown"], sort=True):
        cells: dict[str, Any] = {"model": model, "group": str(where)[len("group="):]}
        for metric, protocol in GROUP_COLUMNS:
            values = group.loc[(group["metric"] == metric) & (group["protocol"] == protocol), "value"].to_numpy(dtype=float)
            if len(values):
                cells[column_label(metric, protocol)] = fmt_seed_stats(values)
        rows.append(cells)
    return pd.DataFrame(rows).fillna("n/a")


def loss_curves(table: pd.DataFrame) -> dict[tuple[str, str], dict[str, tuple[list[float], list[float]]]]:
    """``{(dataset, model): {network: (train_loss, val_loss)}}`` from the training rows (first seed
    of each model, breakdown ``epoch=<k>`` or ``group=<g>,epoch=<k>``)."""
    part = table[(table["protocol"] == TRAINING) & table["metric"].isin(["train_loss", "val_loss"])]
    out: dict[tuple[str, str], dict[str, tuple[list[float], list[float]]]] = {}
    if part.empty:
        return out
    cells = part["breakdown"].astype(str).str.extract(r"^(?:group=(?P<net>[^,]+),)?epoch=(?P<epoch>\d+)$")
    part = part.assign(net=cells["net"].fillna(ALL), epoch=pd.to_numeric(cells["epoch"], errors="coerce")).dropna(subset=["epoch"])
    for (dataset, model), rows in part.groupby(["dataset", "model"], sort=True):
        rows = rows[rows["seed"] == rows["seed"].min()]
        nets: dict[str, tuple[list[float], list[float]]] = {}
        for net, by_net in rows.groupby("net", sort=True):
            train = by_net[by_net["metric"] == "train_loss"].sort_values("epoch")["value"].tolist()
            val = by_net[by_net["metric"] == "val_loss"].sort_values("epoch")["value"].tolist()
            nets[str(net)] = (train, val)
        out[(str(dataset), str(model))] = nets
    return out


def _plot_link(name: str) -> str:
    from urllib.parse import quote

    return f"![{name}](plots/{quote(name)})"


def training_markdown(table: pd.DataFrame, dataset: str) -> str:
    """The training section of a page: the training table and links to the loss curves."""
    frame = training_frame(table, dataset)
    if frame.empty:
        return ""
    text = ("\n### Training\n\nInfo, not scores: how each deep method trained (mean over its networks and folds; "
            f"\"{STILL_IMPROVING}\": its best epoch was its last, at the cap) and what it chose at fit.\n\n"
            + markdown_table(frame))
    curves = [model for (d, model) in loss_curves(table) if d == dataset]
    if curves:
        text += "\nLoss curves (first seed, first fold; solid: training, dashed: validation):\n\n" + "\n".join(
            _plot_link(f"loss-{model}-{dataset}.png") for model in curves) + "\n"
    return text


def groups_markdown(table: pd.DataFrame, dataset: str) -> str:
    """The per-group section of a page (a per-group detector such as lstm_ae; empty otherwise)."""
    frame = group_frame(table, dataset)
    if frame.empty:
        return ""
    models = sorted(set(frame["model"]))
    links = [_plot_link(f"detection-groups-{m}-{dataset}.png") for m in models]
    return ("\n#### Per metric group, each at its own threshold\n\nSeed 003 reads one radiography per metric group "
            "(inputs: counters as increments, gauges as values): each group's reconstruction error against its own "
            "threshold T^g, scored against every labelled fault (the headline row is the system rule: any group over "
            "its threshold). Below: each group's detection timeline (the radiographies are on the HTML page and in "
            "plots/).\n\n" + markdown_table(frame) + "\n" + "\n".join(links) + "\n")


def footnote_lines(notes: Sequence[str]) -> list[str]:
    """``[i] n/a: reason.``: the numbered notes under a table."""
    return [f"[{i}] n/a: {text}." for i, text in enumerate(notes, 1)]


def limits_markdown(table: pd.DataFrame, dataset: str) -> str:
    """The detection-limits section of a page (empty for a dataset without an intensity ladder)."""
    from faultlab.harness.reports.limits import DETECTED, lowest_detected, recall_table

    lowest = lowest_detected(table, dataset)
    if lowest.empty:
        return ""
    recall = recall_table(table, dataset).reset_index().rename(columns={"index": "model"})
    return ("\n#### Detection limits\n\nThe weakest intensity each detector still detects (event recall at its own "
            f"threshold >= {DETECTED:g}), next to its alarm rate on fault-free test steps (a detector that alarms "
            "everywhere detects everything):\n\n" + markdown_table(lowest)
            + "\nEvent recall at the own threshold per fault type and intensity:\n\n" + markdown_table(recall.fillna("n/a")))


def ranking_line() -> str:
    """The sentence that states the board's ranking keys (the same on every page)."""
    named = {"detector": "detectors by VUS-PR (threshold-free)", "classifier": "classifiers by macro-F1",
             "localizer": "localizers by AC@1"}
    return "Ranked per dataset: " + ", ".join(named[k] for k in RANKING) + "; floors last."


def markdown(table: pd.DataFrame, settings: Mapping[str, Mapping[str, Any]] | None = None, preamble: str = "") -> str:
    """The leaderboard as Markdown: per dataset, how it was scored and the headline tables (floors
    marked), then per-fault-type tables, then the legend."""
    settings = settings or {}
    datasets = sorted(table["dataset"].unique())
    parts = [f"# Leaderboard\n\n{preamble + chr(10) if preamble else ''}Datasets: {', '.join(datasets)}. "
             f"Seeds: {_seeds(table)}. {ranking_line()}\n"]
    for dataset in datasets:
        part = table[table["dataset"] == dataset]
        parts.append(f"\n## {dataset}\n")
        line = settings_line(dataset, settings.get(dataset))
        if line:
            parts.append(f"\n{line}\n")
        for kind, title in KIND_TITLES:
            notes: list[str] = []
            shown = shown_headline(table, dataset, kind, notes)
            if shown is None:
                continue
            footnotes = "".join(f"\n{line}" for line in footnote_lines(notes)) + ("\n" if notes else "")
            parts.append(f"\n### {title}\n\n" + markdown_table(shown.drop(columns="dataset")) + footnotes)
            heat = HEATMAPS.get(kind, ("ac@1", SEGMENTS))
            groups = [heat] if kind == "classifier" else [*([heat] if kind == "detector" else []), *rca_groups(kind)]
            for metric, protocol in groups:
                for frame in per_group(part, kind, metric, protocol).values():
                    if protocol in (SEGMENTS, FROM_ALARM):
                        frame = with_counts(frame, part, dataset, protocol)
                    parts.append(f"\n#### {column_label(metric, protocol)} per fault type\n\n"
                                 + markdown_table(_group_display(frame)))
            if kind == "detector":
                parts.append(groups_markdown(table, dataset))
                parts.append(limits_markdown(table, dataset))
        parts.append(training_markdown(table, dataset))
    splits = split_table(table)
    if not splits.empty:
        parts.append("\n## TELESTO protocol per split (Table 3 layout; the paper's cassandra rows last)\n\n"
                     + markdown_table(splits.round(3).fillna("")))
    parts.append("\n" + LEGEND + "\n")
    return "".join(parts)


def csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The headline tables of both kinds stacked, numeric (mean and std columns)."""
    frames = [headline(table, kind).assign(kind=kind) for kind, _ in KIND_TITLES]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["kind", "dataset", "model"])
    out = pd.concat(frames, ignore_index=True)
    return out[["kind", *[c for c in out.columns if c != "kind"]]]


# ---- HTML ----------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1400px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.8em;margin:.6em 0}\
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f3f5f8}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}tr:nth-child(even) td{background:#fafafa}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}.legend{font-size:.85em;color:#444;background:#f8f8f0;padding:.6em 1em}
"""


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False)
    )
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def figures(table: pd.DataFrame, timelines: Sequence[ScoreTimeline] = ()) -> dict[str, bytes]:
    """``{file name: PNG bytes}`` for every plot of the page (also written to ``plots/``)."""
    from faultlab.harness.reports import plots

    out: dict[str, bytes] = {}
    by_dataset: dict[str, list[ScoreTimeline]] = {}
    for tl in timelines:
        by_dataset.setdefault(tl.dataset, []).append(tl)
    for dataset, tls in sorted(by_dataset.items()):
        out[f"timelines-{dataset}.png"] = plots.timelines_png(tls, f"Anomaly scores on the test part of {dataset}")
    for kind, (metric, protocol) in HEATMAPS.items():
        for dataset, frame in per_group(table, kind, metric, protocol).items():
            if protocol == SEGMENTS:
                frame = with_counts(frame, table, dataset, protocol)
            out[f"heatmap-{kind}-{dataset}.png"] = plots.heatmap_png(
                frame, f"{column_label(metric, protocol)} per fault type ({kind}s, {dataset})")
        if kind != "classifier":  # root cause from the alarm, next to the labelled segments
            for dataset, frame in per_group(table, kind, "ac@1", FROM_ALARM).items():
                out[f"heatmap-{kind}-from-alarm-{dataset}.png"] = plots.heatmap_png(
                    with_counts(frame, table, dataset, FROM_ALARM),
                    f"{column_label('ac@1', FROM_ALARM)} per fault type ({kind}s, {dataset})")
    from faultlab.harness.reports.limits import limits_png

    for dataset in sorted(table["dataset"].unique()):
        png = limits_png(table, dataset)
        if png is not None:
            out[f"limits-{dataset}.png"] = png
    for (dataset, model), matrix in confusion(table).items():
        out[f"confusion-{model}-{dataset}.png"] = plots.confusion_png(matrix, f"{model} on {dataset} (windows, mean over seeds)")
    for tl in timelines:  # a method's own plots, e.g. lstm_ae's radiographies (harness/reports/radiography.py)
        out.update({f"{name}-{tl.model}-{tl.dataset}.png": png for name, png in tl.figures.items()})
    for (dataset, model), curves in loss_curves(table).items():
        out[f"loss-{model}-{dataset}.png"] = plots.loss_png(curves, f"{model} on {dataset}: loss per epoch (first seed, first fold)")
    return out


def html_page(table: pd.DataFrame, pngs: Mapping[str, bytes], title: str = "Faultlab leaderboard",
              settings: Mapping[str, Mapping[str, Any]] | None = None, preamble: str = "", back: str = "") -> str:
    """One self-contained page (CSS inline, plots as data URIs); ``back``: the board's index it links to."""
    datasets = sorted(table["dataset"].unique())
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body>",
             *([f"<p><a href='{html.escape(back)}'>All datasets</a></p>"] if back else []),
             f"<h1>{html.escape(title)}</h1>",
             *([f"<pre>{html.escape(preamble)}</pre>"] if preamble else []),
             f"<p>Datasets: {html.escape(', '.join(datasets))}. Seeds: {_seeds(table)}. {html.escape(ranking_line())}</p>"]
    for dataset in sorted((settings or {}).keys()):
        line = settings_line(dataset, (settings or {}).get(dataset))
        if line:
            parts.append(f"<p><strong>{html.escape(dataset)}</strong>: {html.escape(line)}</p>")
    for kind, name in KIND_TITLES:
        notes: list[str] = []
        shown = [frame for dataset in datasets if (frame := shown_headline(table, dataset, kind, notes)) is not None]
        if not shown:
            continue
        parts.append(f"<h2>{name}</h2>")
        parts += [_html_table(frame) for frame in shown]
        if notes:
            parts.append("<p class='legend'>" + "<br>".join(html.escape(line) for line in footnote_lines(notes)) + "</p>")
        for file, png in pngs.items():
            if file.startswith(f"heatmap-{kind}-"):
                parts.append(f"<h3>Per fault type</h3>{_img(png, file)}")
        if kind == "detector":
            for dataset in datasets:
                section = limits_markdown(table, dataset)
                if section:
                    parts.append(f"<h3>Detection limits ({html.escape(dataset)})</h3>"
                                 + "".join(_html_table(frame) for frame in _limit_frames(table, dataset)))
            for file, png in pngs.items():
                if file.startswith("limits-"):
                    parts.append(f"<h3>Event recall against intensity</h3>{_img(png, file)}")
            for file, png in pngs.items():
                if file.startswith("timelines-"):
                    parts.append("<h3>Score timelines</h3><p>Fault windows shaded by type; dashed: the detector's own threshold.</p>"
                                 f"{_img(png, file)}")
            for dataset in datasets:
                frame = group_frame(table, dataset)
                if not frame.empty:
                    parts.append(f"<h3>Per metric group, each at its own threshold ({html.escape(dataset)})</h3>"
                                 "<p>Seed 003 reads one radiography per metric group (counters as increments, gauges as "
                                 "values): each group's error against its own threshold, against every labelled fault; the "
                                 "headline row is the system rule (any group over its threshold).</p>" + _html_table(frame))
            groups = [(f, p) for f, p in pngs.items() if f.startswith("detection-groups-")]
            if groups:
                parts.append("<h3>Per-group detection</h3><p>Each metric group's reconstruction error (MSE^g) on the test "
                             "part, its own threshold T^g dashed, fault windows shaded by type.</p>"
                             + "".join(_img(p, f) for f, p in groups))
            radiographies = [(f, p) for f, p in pngs.items() if f.startswith("radiography-")]
            if radiographies:
                parts.append("<h3>Radiographies</h3><p>KDE of a metric group's reconstruction error against failed requests "
                             "(seed 003, sec. III-C): dark at many errors = that group's deviation hurts the service.</p>"
                             + "".join(_img(p, f) for f, p in radiographies))
        elif kind == "classifier":
            confusions = [(f, p) for f, p in pngs.items() if f.startswith("confusion-")]
            if confusions:
                parts.append("<h3>Confusion matrices</h3>" + "".join(_img(p, f) for f, p in confusions))
    trained = [(dataset, frame) for dataset in datasets if not (frame := training_frame(table, dataset)).empty]
    if trained:
        parts.append("<h2>Training</h2><p>Info, not scores: how each deep method trained (mean over its networks and "
                     f"folds; \"{STILL_IMPROVING}\": its best epoch was its last, at the cap) and what it chose at fit.</p>")
        parts += [f"<h3>{html.escape(dataset)}</h3>" + _html_table(frame) for dataset, frame in trained]
        losses = [(f, p) for f, p in pngs.items() if f.startswith("loss-")]
        if losses:
            parts.append("<h3>Loss curves</h3><p>First seed, first fold; solid: training, dashed: validation.</p>"
                         + "".join(_img(p, f) for f, p in losses))
    parts.append(f"<p class='legend'>{html.escape(LEGEND).replace('**', '')}</p></body></html>")
    return "\n".join(parts)


def _limit_frames(table: pd.DataFrame, dataset: str) -> list[pd.DataFrame]:
    from faultlab.harness.reports.limits import lowest_detected, recall_table

    recall = recall_table(table, dataset).reset_index().rename(columns={"index": "model"}).fillna("n/a")
    return [lowest_detected(table, dataset), recall]


def write_reports(
    results: Evaluation | pd.DataFrame,
    out_dir: str | Path,
    timelines: Sequence[ScoreTimeline] | None = None,
    extra: Mapping[str, Any] | None = None,
    preamble: str = "",
    back: str = "",
) -> dict[str, Path]:
    """Write scores.json, leaderboard.md/.csv/.html and plots/*.png into ``out_dir``.

    Used by ``faultlab run`` (into the run folder) and ``faultlab bench``. ``extra`` goes into
    scores.json as provenance; ``preamble`` (Markdown) goes under the page's title; ``back``: the
    board's index page (relative, without extension) both pages link to. Returns ``{"scores": path, "markdown": ..., "csv": ...,
    "html": ..., "plots": folder}``, plus ``"splits"`` (``telesto_splits.csv``) when classifiers
    ran under TELESTO's protocol.
    """
    if isinstance(results, Evaluation):
        table, timelines = results.table, results.timelines if timelines is None else timelines
    else:
        table = results
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_dir = out / "plots"
    plot_dir.mkdir(exist_ok=True)
    settings = results.settings if isinstance(results, Evaluation) else {}
    pngs = figures(table, timelines or ())
    for name, png in pngs.items():
        (plot_dir / name).write_bytes(png)
    paths = {
        "scores": write_scores(table, out / "scores.json", {**({"settings": settings} if settings else {}), **dict(extra or {})}),
        "markdown": out / "leaderboard.md",
        "csv": out / "leaderboard.csv",
        "html": out / "leaderboard.html",
        "plots": plot_dir,
    }
    live_md, live_html = live_section(out)  # a run folder with live detectors: their section, at the end
    up = f"[All datasets]({back}.md)\n\n" if back else ""
    paths["markdown"].write_text(markdown(table, settings, up + preamble) + live_md)
    splits = split_table(table)
    if not splits.empty:  # classifiers under TELESTO's protocol: every split next to the paper's Table 3
        paths["splits"] = out / "telesto_splits.csv"
        splits.to_csv(paths["splits"], index=False)
    csv_frame(table).to_csv(paths["csv"], index=False, float_format="%.6g")
    paths["html"].write_text(html_page(table, pngs, settings=settings, preamble=preamble, back=f"{back}.html" if back else "").replace(
        "</body></html>", live_html + "</body></html>"))
    return paths


def live_section(out_dir: Path) -> tuple[str, str]:
    """``(markdown, html)`` of the live-detection section (time to detect, false alarms, cost) when
    ``out_dir`` is a run folder whose live detectors left ``live/report.json``; empty otherwise."""
    from faultlab.harness.live.report import board_section

    return board_section(out_dir)
