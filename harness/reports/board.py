"""A bench's reports: one full page per dataset and, for several datasets, an index page.

``faultlab bench`` writes the reports of :func:`~faultlab.harness.reports.leaderboard.write_reports`
into its output folder for one dataset, and into ``<out>/<dataset>/`` for each of several, with
``index.md`` / ``index.html`` above them: per dataset its detectors ranked by the board's one
ranking key (VUS-PR, threshold-free), with F1 at their own threshold and their alarm rate on
fault-free test steps, next to the floors, and, from three datasets on, a critical-difference
diagram over them (:mod:`.critical_difference`). Every page is also static HTML that fetches
nothing (CSS inline, plots as data URIs), the dataset pages linking back to the index. The
published board (``docs/leaderboard/``) is such a bench folder.
"""

from __future__ import annotations

import html
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from faultlab.harness.evaluation import ALL, Evaluation
from faultlab.harness.reports import critical_difference as cd
from faultlab.harness.reports.leaderboard import CSS, RANKING, fmt_seed_stats, markdown_table, write_reports
from faultlab.harness.reports.scores_file import write_scores

SUMMARY = {("vus_pr", "threshold-free"): "VUS-PR", ("f1", "own-threshold"): "F1 [own]",
           ("roc_auc", "threshold-free"): "ROC-AUC", ("alarm_rate", "own-threshold"): "fault-free alarm rate"}


def split_by_dataset(evaluation: Evaluation) -> dict[str, Evaluation]:
    """One evaluation per dataset (its rows, timelines and settings), in the table's order."""
    table = evaluation.table
    out = {}
    for name in pd.unique(table["dataset"]):
        out[str(name)] = Evaluation(
            table=table[table["dataset"] == name].reset_index(drop=True),
            timelines=[t for t in evaluation.timelines if t.dataset == name],
            settings={k: v for k, v in evaluation.settings.items() if k == name},
        )
    return out


def write_board(evaluation: Evaluation, out: str | Path, header: Mapping[str, Any]) -> dict[str, Path]:
    """The bench's reports into ``out``; with several datasets one folder each plus the index.

    ``header`` (command, commit, date, notes) goes on top of every page and into scores.json.
    """
    out = Path(out)
    parts = split_by_dataset(evaluation)
    if len(parts) <= 1:
        return write_reports(evaluation, out, extra=dict(header), preamble=preamble(header))
    for name, part in parts.items():
        write_reports(part, out / name, extra=dict(header), preamble=preamble(header), back="../index")
    paths = {"scores": write_scores(evaluation.table, out / "scores.json", {"settings": evaluation.settings, **dict(header)})}
    comparison = cd.compare(evaluation.table)
    png = None if comparison.reason else cd.diagram_png(comparison)
    if png is not None:
        paths["diagram"] = out / cd.IMAGE
        paths["diagram"].parent.mkdir(parents=True, exist_ok=True)
        paths["diagram"].write_bytes(png)
    paths["markdown"] = out / "index.md"
    paths["markdown"].write_text(index_markdown(evaluation.table, list(parts), header, cd.section_markdown(comparison)))
    paths["html"] = out / "index.html"
    paths["html"].write_text(index_html(evaluation.table, list(parts), header, cd.section_html(comparison, png)))
    return paths


def provenance(command: str, notes: str = "") -> dict[str, Any]:
    """What made a board: the command, the commit, the date (UTC)."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent, check=False).stdout.strip()
    return {"command": command, "commit": commit or "?", "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "notes": notes}


def preamble(header: Mapping[str, Any]) -> str:
    """The Markdown lines above a page: how to regenerate it and where it comes from."""
    if not header.get("command"):
        return ""
    text = f"Regenerate with:\n\n```bash\n{header['command']}\n```\n\nGenerated {header.get('generated', '?')} " \
           f"from commit `{header.get('commit', '?')}`."
    return text + (f" {header['notes']}" if header.get("notes") else "") + "\n"


def summary_frame(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Detectors on ``dataset`` by the ranking key, floors last: the index's table."""
    det = table[(table["kind"] == "detector") & (table["breakdown"] == ALL) & (table["dataset"] == dataset)]
    rows = []
    for model, group in det.groupby("model", sort=True):
        row: dict[str, Any] = {"model": model}
        for (metric, protocol), label in SUMMARY.items():
            values = group[(group["metric"] == metric) & (group["protocol"] == protocol)]["value"].to_numpy(dtype=float)
            row[label] = fmt_seed_stats(values)
            if (metric, protocol) == RANKING["detector"]:
                row["_key"] = float(np.nanmean(values)) if np.isfinite(values).any() else -np.inf
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    from faultlab.harness.evaluation.reference import is_floor

    frame["_floor"] = frame["model"].map(is_floor)
    frame = frame.sort_values(["_floor", "_key"], ascending=[True, False], kind="stable")
    frame["model"] = [f"{m} (floor)" if f else m for m, f in zip(frame["model"], frame["_floor"])]
    return frame.drop(columns=["_key", "_floor"]).reset_index(drop=True)


def index_markdown(table: pd.DataFrame, datasets: Sequence[str], header: Mapping[str, Any], across: str = "") -> str:
    """The index in Markdown; ``across``: the section over all datasets (the critical-difference diagram)."""
    parts = ["# Leaderboard\n\n", preamble(header),
             "\nOne page per dataset (every method, the floors, per fault type, plots). Below, each dataset's "
             "detectors ranked by VUS-PR (threshold-free; the board's one ranking key, on every page), with F1 at "
             "their own threshold and their alarm rate on fault-free test steps, next to the floors. "
             "`± —`: the method gave the same value with every seed.\n", across]
    for name in datasets:
        parts.append(f"\n## {name}\n\n[Full page]({quote(name)}/leaderboard.md) · [HTML]({quote(name)}/leaderboard.html)\n\n")
        frame = summary_frame(table, name)
        parts.append(markdown_table(frame) if not frame.empty else "No detector rows.\n")
    return "".join(parts)


def index_html(table: pd.DataFrame, datasets: Sequence[str], header: Mapping[str, Any], across: str = "") -> str:
    """The index as one static page linking each dataset's self-contained page; ``across`` as in
    :func:`index_markdown`, in HTML."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Faultlab leaderboard</title><style>{CSS}</style>"
             "</head><body><h1>Faultlab leaderboard</h1>",
             f"<p>Generated {esc(str(header.get('generated', '?')))} from commit <code>{esc(str(header.get('commit', '?')))}</code>."
             f" {esc(str(header.get('notes', '')))}</p>"]
    if header.get("command"):
        parts.append(f"<p>Regenerate with:</p><pre>{esc(str(header['command']))}</pre>")
    parts.append("<p>Detectors ranked by VUS-PR (threshold-free), with F1 at their own threshold and their alarm rate on "
                 "fault-free test steps, next to the floors. <code>± —</code>: the same value with every seed.</p>")
    if across:
        parts.append(across)
    for name in datasets:
        parts.append(f"<h2>{esc(name)}</h2><p><a href='{quote(name)}/leaderboard.html'>Full page</a></p>")
        frame = summary_frame(table, name)
        if frame.empty:
            parts.append("<p>No detector rows.</p>")
            continue
        head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
