"""The leaderboard's figures as PNG bytes (matplotlib, Agg backend: no display needed).

Each function takes plain data (a timeline, a small matrix) and returns PNG bytes, so the HTML
page can embed them and ``plots/`` can hold the same files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from faultlab.flags import runs_of  # noqa: E402
from faultlab.harness.evaluation import ScoreTimeline  # noqa: E402

DPI = 110


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _fault_colors(types: Sequence[str]) -> dict[str, tuple[float, ...]]:
    cmap = plt.get_cmap("tab10")
    return {t: cmap(i % 10) for i, t in enumerate(sorted(set(types)))}


def timelines_png(timelines: Sequence[ScoreTimeline], title: str = "") -> bytes:
    """Stacked anomaly-score timelines, fault windows shaded by type, the threshold dashed.

    Scores spanning orders of magnitude (a z-score of 400 in a fault, 1 at rest) get a
    symmetric-log axis, so the quiet part and the threshold stay readable.
    """
    n = max(len(timelines), 1)
    fig, axes = plt.subplots(n, 1, figsize=(11, 1.9 * n + 0.6), sharex=True, squeeze=False)
    types = sorted({t for tl in timelines for t in tl.fault_type.tolist() if t})
    colors = _fault_colors(types)
    for ax, tl in zip(axes[:, 0], timelines):
        x = tl.timestamps.tz_convert(None) if tl.timestamps.tz is not None else tl.timestamps
        ax.plot(x, tl.scores, lw=0.7, color="#1f3b73")
        ax.axhline(tl.threshold, color="#c0392b", ls="--", lw=1.0)
        for fault_type in types:
            for start, end in runs_of((tl.fault_type == fault_type) & (tl.anomaly > 0)):
                ax.axvspan(x[start], x[min(end, len(x) - 1)], color=colors[fault_type], alpha=0.25, lw=0)
        low, mid, high = np.quantile(tl.scores, [0.25, 0.5, 0.75])
        typical = abs(tl.threshold - mid) + (high - low)  # how far "normal" reaches
        if np.max(tl.scores) - mid > 100 * max(typical, 1e-9):
            ax.set_yscale("symlog", linthresh=max(abs(tl.threshold), high - low, 1e-6))
        ax.set_ylabel("score", fontsize=8)
        ax.set_title(f"{tl.model}  (seed {tl.seed}, threshold {tl.threshold:.3g})", fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    handles = [Patch(color=colors[t], alpha=0.35, label=t) for t in types]
    handles.append(plt.Line2D([], [], color="#c0392b", ls="--", label="own threshold"))
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 7), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    if title:
        fig.suptitle(title, y=1.04, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _png(fig)


def heatmap_png(frame: pd.DataFrame, title: str, vmin: float = 0.0, vmax: float = 1.0) -> bytes:
    """Models (rows) x groups (columns) coloured by value, each cell printed; NaN cells grey."""
    values = frame.to_numpy(dtype=np.float64)
    fig, ax = plt.subplots(figsize=(1.1 * frame.shape[1] + 2.8, 0.45 * frame.shape[0] + 1.4))
    cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(frame.shape[0]), [str(i) for i in frame.index], fontsize=8)
    for (i, j), v in np.ndenumerate(values):
        text = "n/a" if not np.isfinite(v) else f"{v:.2f}"
        shade = "black" if np.isfinite(v) and v > vmin + 0.6 * (vmax - vmin) else "white"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=shade)
    fig.colorbar(image, ax=ax, fraction=0.04)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def confusion_png(matrix: pd.DataFrame, title: str) -> bytes:
    """True class (rows) x predicted class (columns); cells show the (mean) window count."""
    values = matrix.to_numpy(dtype=np.float64)
    fig, ax = plt.subplots(figsize=(0.7 * matrix.shape[1] + 2.6, 0.6 * matrix.shape[0] + 1.6))
    ax.imshow(values, cmap="Blues", vmin=0)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index], fontsize=8)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    top = values.max() if values.size else 0
    for (i, j), v in np.ndenumerate(values):
        text = f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if v > 0.6 * top else "black")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)
