"""Detection limits: on a dataset with an intensity ladder, how weak a fault each method still sees.

Read from the tidy table's ``intensity=<type>@<value> <unit>`` breakdowns (harness/evaluation/
detector_rows.py): the event recall at the method's own threshold (``detected_events [own]``: the
share of that intensity's faults with at least one alarm inside) per fault type and intensity,
and the lowest intensity a method detects (event recall >= :data:`DETECTED`) with its alarm rate
on fault-free test steps beside it, since a method that alarms everywhere "detects" everything.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from faultlab.harness.evaluation.table import ALL, OWN

DETECTED = 0.5
_LEVEL = re.compile(r"^intensity=(?P<type>[^@]+)@(?P<value>[0-9.eE+-]+)\s*(?P<unit>.*)$")


def recall_by_intensity(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """``model, fault_type, value, unit, recall`` (mean over seeds) of the detectors on ``dataset``."""
    part = table[(table["kind"] == "detector") & (table["dataset"] == dataset) & (table["metric"] == "detected_events")
                 & (table["protocol"] == OWN) & table["breakdown"].str.startswith("intensity=")]
    rows = []
    for (model, breakdown), group in part.groupby(["model", "breakdown"], sort=False):
        found = _LEVEL.match(str(breakdown))
        if found:
            values = group["value"].to_numpy(dtype=float)
            recall = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            rows.append({"model": model, "fault_type": found["type"], "value": float(found["value"]),
                         "unit": found["unit"], "recall": recall})
    return pd.DataFrame(rows, columns=["model", "fault_type", "value", "unit", "recall"])


def recall_table(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per model, one column per ``type@intensity`` (weakest first): the event recall."""
    levels = recall_by_intensity(table, dataset)
    if levels.empty:
        return pd.DataFrame()
    levels = levels.sort_values(["fault_type", "value"])
    levels["column"] = [f"{t} {v:g} {u}".strip() for t, v, u in zip(levels["fault_type"], levels["value"], levels["unit"])]
    wide = levels.pivot_table(index="model", columns="column", values="recall", sort=False)
    return wide[list(dict.fromkeys(levels["column"]))].round(3)


def lowest_detected(table: pd.DataFrame, dataset: str, threshold: float = DETECTED) -> pd.DataFrame:
    """Per model and fault type the weakest intensity with event recall >= ``threshold`` ("none"
    when no level is), and the model's fault-free alarm rate at its own threshold."""
    levels = recall_by_intensity(table, dataset)
    if levels.empty:
        return pd.DataFrame()
    alarm = table[(table["kind"] == "detector") & (table["dataset"] == dataset) & (table["metric"] == "alarm_rate")
                  & (table["protocol"] == OWN) & (table["breakdown"] == ALL)].groupby("model")["value"].mean()
    rows = []
    for model, part in levels.groupby("model", sort=False):
        row = {"model": model}
        for fault_type, cells in part.sort_values("value").groupby("fault_type", sort=True):
            hit = cells[cells["recall"] >= threshold]
            row[fault_type] = f"{hit['value'].iloc[0]:g} {hit['unit'].iloc[0]}".strip() if len(hit) else "none"
        rate = alarm.get(model, float("nan"))
        row["fault-free alarm rate"] = "n/a" if not np.isfinite(rate) else f"{rate:.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def limits_png(table: pd.DataFrame, dataset: str, top: int = 8) -> bytes | None:
    """Event recall against intensity, one panel per fault type, the ``top`` methods by mean recall
    plus the floors; None when the dataset has no ladder."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from faultlab.harness.evaluation.reference import is_floor

    levels = recall_by_intensity(table, dataset)
    if levels.empty:
        return None
    ranked = levels[~levels["model"].map(is_floor)].groupby("model")["recall"].mean().sort_values(ascending=False)
    shown = list(ranked.index[:top]) + sorted({m for m in levels["model"] if is_floor(m)})
    types = sorted(levels["fault_type"].unique())
    cols = min(3, len(types))
    rows = int(np.ceil(len(types) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, fault_type in zip(axes.ravel(), types):
        part = levels[levels["fault_type"] == fault_type]
        for model in shown:
            line = part[part["model"] == model].sort_values("value")
            if line.empty:
                continue
            style = {"ls": ":", "color": "grey"} if is_floor(model) else {}
            ax.plot(line["value"], line["recall"], marker="o", ms=3, lw=1, label=model, **style)
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(fault_type, fontsize=9)
        ax.set_xlabel(part["unit"].iloc[0] if len(part) else "", fontsize=8)
        ax.set_ylabel("event recall [own]", fontsize=8)
        ax.axhline(DETECTED, color="#c0392b", lw=0.6, ls="--")
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(types):]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=7, frameon=False)
    fig.suptitle(f"Detection limits on {dataset}: event recall at each method's own threshold", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
