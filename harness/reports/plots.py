"""The leaderboard's figures as PNG bytes (matplotlib, Agg backend: no display needed).

Each function takes plain data (a timeline, a small matrix) and returns PNG bytes, so the HTML
page can embed them and ``plots/`` can hold the same files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.scale import SymmetricalLogTransform  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator  # noqa: E402

from faultlab.flags import runs_of  # noqa: E402
from faultlab.harness.evaluation.table import ScoreTimeline  # noqa: E402  # the module: the package would close a circle

DPI = 110


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _fault_colors(types: Sequence[str]) -> dict[str, tuple[float, ...]]:
    cmap = plt.get_cmap("tab10")
    return {t: cmap(i % 10) for i, t in enumerate(sorted(set(types)))}


#: A spike this many interquartile ranges away from the median squeezes the quiet part of a linear panel.
SKEW = 30.0
#: Positive scores get a log axis only when they span at least this factor (two decades).
LOG_SPAN = 100.0
#: At most this many labelled ticks per panel: a 2-inch panel at 7 pt has room for them without overlap.
MAX_TICKS = 6
#: Headroom above and below the data, as a share of the panel (on the axis' own scale).
PAD = 0.05
#: A threshold this close to the data (a share of its span, on the axis' scale) widens the axis;
#: one further away is marked at the edge instead, so a threshold of 1e36 does not flatten the scores.
REACH = 0.5
THRESHOLD_COLOR = "#c0392b"


@dataclass(frozen=True)
class ScoreAxis:
    """One timeline panel's y axis: its scale, limits and ticks, and where the threshold lies."""

    scale: str  # "linear", "log" or "symlog"
    low: float
    high: float
    ticks: tuple[float, ...]
    linthresh: float | None = None  # symlog: the linear band around zero
    threshold_side: str = ""  # "above" / "below" when the threshold lies outside [low, high]

    def position(self, value: float) -> float:
        """Where ``value`` sits on the panel, 0 at the bottom and 1 at the top (on the axis' own scale)."""
        forward, _ = _transforms(self.scale, self.linthresh)
        return (forward(value) - forward(self.low)) / (forward(self.high) - forward(self.low))


AXIS_LIMIT = 1e150  # the largest score magnitude an axis is fitted to


def score_axis(scores: Sequence[float] | np.ndarray, threshold: float) -> ScoreAxis:
    """The y axis that fits the scores actually present (pure: what the panel is drawn with).

    Linear unless a spike would squeeze the quiet part into a sliver; then log when the scores are
    positive and span orders of magnitude, symlog when zero or negative scores (or a tail near zero)
    occur, its lower limit at the data's minimum: no half-panel of negatives that never happen.
    The threshold widens the limits when it is near the data, else ``threshold_side`` says which
    edge to mark.
    """
    values = np.asarray(scores, dtype=np.float64)
    # finite, and within +-AXIS_LIMIT: a model that scores 1e308 (seen from a TSB-AD model) would
    # overflow the axis arithmetic; beyond the limit the line simply leaves the panel
    values = np.clip(values[np.isfinite(values)], -AXIS_LIMIT, AXIS_LIMIT)
    if math.isfinite(threshold):
        threshold = float(np.clip(threshold, -AXIS_LIMIT, AXIS_LIMIT))
    if not len(values):
        values = np.array([0.0, 1.0]) if not math.isfinite(threshold) else np.array([threshold])
    scale, linthresh = _scale(values)
    forward, inverse = _transforms(scale, linthresh)
    lo, hi = float(values.min()), float(values.max())
    a, b = float(forward(lo)), float(forward(hi))
    span = b - a if b > a else max(abs(a), 1.0)
    side = ""
    if math.isnan(threshold):
        pass
    elif math.isinf(threshold) or (scale == "log" and threshold <= 0):
        side = "above" if threshold > hi else "below"
    else:
        at = float(forward(threshold))
        if a - REACH * span <= at <= b + REACH * span:
            a, b = min(a, at), max(b, at)
        else:
            side = "above" if at > b else "below"
    span = b - a if b > a else max(abs(a), 1.0)
    low = a if scale == "symlog" else a - PAD * span  # symlog starts at the data's minimum
    high = b + PAD * span
    low, high = float(inverse(low)), float(inverse(high))
    return ScoreAxis(scale, low, high, _ticks(scale, low, high, linthresh, forward), linthresh, side)


def _scale(values: np.ndarray) -> tuple[str, float | None]:
    """``(scale, linthresh)`` for these finite scores (see :func:`score_axis`)."""
    q05, q25, q50, q75, q95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    lo, hi = float(values.min()), float(values.max())
    spread = next((s for s in (q75 - q25, q95 - q05) if s > 0), 1e-12 * max(abs(lo), abs(hi), 1.0))
    if max(hi - q50, q50 - lo) <= SKEW * spread:
        return "linear", None
    if lo > 0 and lo >= q25 / 10:  # a log axis, unless a tail near zero would take most of it (|z| scores)
        return ("log", None) if hi >= LOG_SPAN * lo else ("linear", None)
    nonzero = np.abs(values[values != 0])
    bulk = next((float(v) for v in (max(abs(q25), abs(q75)), max(abs(q05), abs(q95)),
                                    nonzero.min() if len(nonzero) else 0.0) if v > 0), 1.0)
    return "symlog", _round_up(bulk)  # the quiet bulk stays in the linear band


def _round_up(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten (a linear band of 0..2 rather than 0..1.15)."""
    decade = 10.0 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 2, 5, 10) if m * decade >= value * (1 - 1e-12))


def _transforms(scale: str, linthresh: float | None) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """``(forward, inverse)``: data value <-> position on the axis' own scale (decades for log)."""
    if scale == "log":
        return math.log10, lambda v: 10.0 ** v
    if scale == "symlog":
        transform = SymmetricalLogTransform(10, linthresh, 1.0)
        inverted = transform.inverted()
        return (lambda v: float(transform.transform(np.array([v]))[0]),
                lambda v: float(inverted.transform(np.array([v]))[0]))
    return float, float


def _ticks(scale: str, low: float, high: float, linthresh: float | None, forward: Callable[[float], float]) -> tuple[float, ...]:
    """Round values inside ``[low, high]``, spaced so that labels never touch: 1-2-5 steps on a linear
    axis; zero and decades first on log and symlog axes, then their 2 and 5 multiples where room is left."""
    if scale == "linear":
        primary = [float(v) for v in MaxNLocator(nbins=MAX_TICKS - 1, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)]
        secondary: list[float] = []
    else:
        first = math.floor(math.log10(linthresh if scale == "symlog" else low))
        decades = [10.0 ** k for k in range(first, math.ceil(math.log10(max(abs(low), abs(high)))) + 1)]
        primary = sorted({0.0, *decades, *(-d for d in decades)}) if scale == "symlog" else decades
        secondary = [m * v for v in primary for m in (2, 5) if v]
    gap = (forward(high) - forward(low)) / (MAX_TICKS - 1) * (1 - 1e-9)
    kept: list[float] = []
    for group in (primary, secondary):
        inside = [v for v in group if low - 1e-12 * abs(low) <= v <= high + 1e-12 * abs(high)]
        anchor = forward(0.0) if 0.0 in inside else forward(inside[0]) if inside else 0.0
        for value in sorted(inside, key=lambda v: abs(forward(v) - anchor)):  # outward from zero (or the bottom)
            if len(kept) < MAX_TICKS and all(abs(forward(value) - forward(k)) >= gap for k in kept):
                kept.append(value)
    return tuple(sorted(kept))


def short_number(value: float) -> str:
    """``2.6e36``, ``0.001``, ``400``: three significant digits, no exponent padding."""
    text = f"{value:.3g}"
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


def _draw_axis(ax: plt.Axes, axis: ScoreAxis, threshold: float) -> None:
    """Apply :func:`score_axis`'s choice to a panel; a threshold off the panel is named at its edge."""
    if axis.scale == "symlog":
        ax.set_yscale("symlog", linthresh=axis.linthresh)
    elif axis.scale == "log":
        ax.set_yscale("log")
    ax.set_ylim(axis.low, axis.high)
    ax.yaxis.set_major_locator(FixedLocator(list(axis.ticks)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: short_number(v)))
    if axis.threshold_side:
        above = axis.threshold_side == "above"
        ax.annotate(f"{'▲' if above else '▼'} threshold {short_number(threshold)} {axis.threshold_side}",
                    xy=(0.995, 0.96 if above else 0.04), xycoords="axes fraction", ha="right",
                    va="top" if above else "bottom", fontsize=7, color=THRESHOLD_COLOR,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    elif math.isfinite(threshold):
        ax.axhline(threshold, color=THRESHOLD_COLOR, ls="--", lw=1.0)


def timelines_png(timelines: Sequence[ScoreTimeline], title: str = "") -> bytes:
    """Stacked anomaly-score timelines, fault windows shaded by type, the threshold dashed.

    Each panel's axis fits its own scores (:func:`score_axis`), so a spike of 400 next to a quiet
    1, or a threshold far off the scores, keeps the rest readable.
    """
    n = max(len(timelines), 1)
    fig, axes = plt.subplots(n, 1, figsize=(11, 1.9 * n + 0.6), sharex=True, squeeze=False)
    types = sorted({t for tl in timelines for t in tl.fault_type.tolist() if t})
    colors = _fault_colors(types)
    for ax, tl in zip(axes[:, 0], timelines):
        x = tl.timestamps.tz_convert(None) if tl.timestamps.tz is not None else tl.timestamps
        ax.plot(x, tl.scores, lw=0.7, color="#1f3b73")
        for fault_type in types:
            for start, end in runs_of((tl.fault_type == fault_type) & (tl.anomaly > 0)):
                ax.axvspan(x[start], x[min(end, len(x) - 1)], color=colors[fault_type], alpha=0.25, lw=0)
        _draw_axis(ax, score_axis(tl.scores, float(tl.threshold)), float(tl.threshold))
        ax.set_ylabel("score", fontsize=8)
        ax.set_title(f"{tl.model}  (seed {tl.seed}, threshold {short_number(float(tl.threshold))})", fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    handles = [Patch(color=colors[t], alpha=0.35, label=t) for t in types]
    handles.append(plt.Line2D([], [], color=THRESHOLD_COLOR, ls="--", label="own threshold"))
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


def loss_png(curves: dict[str, tuple[Sequence[float], Sequence[float]]], title: str) -> bytes:
    """Training (solid) and validation (dashed) loss per epoch, one colour per network.

    ``curves`` maps a network name (``all``, or ``lstm_ae``'s metric groups) to its per-epoch
    ``(train_loss, val_loss)``; a log axis when the losses span more than two orders of magnitude.
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    cmap = plt.get_cmap("tab10")
    spread: list[float] = []
    for i, (name, (train, val)) in enumerate(sorted(curves.items())):
        color = cmap(i % 10)
        label = "" if name == "all" else f"{name}: "
        if len(train):
            ax.plot(np.arange(1, len(train) + 1), train, color=color, lw=1.2, label=f"{label}training")
            spread += [float(v) for v in train]
        if len(val):
            ax.plot(np.arange(1, len(val) + 1), val, color=color, lw=1.2, ls="--", label=f"{label}validation")
            spread += [float(v) for v in val]
    positive = [v for v in spread if np.isfinite(v) and v > 0]
    if positive and max(positive) > 100 * min(positive):
        ax.set_yscale("log")
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_ylabel("loss", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def critical_difference_png(ranks: pd.Series, p_values: pd.DataFrame, title: str, alpha: float = 0.05) -> bytes:
    """Mean ranks on one axis, methods whose pairwise p-value is >= ``alpha`` joined by a bar
    (scikit-posthocs' critical-difference drawing, Demšar 2006)."""
    import scikit_posthocs as sp

    fig, ax = plt.subplots(figsize=(8.5, 0.28 * math.ceil(len(ranks) / 2) + 1.4))
    sp.critical_difference_diagram(ranks, p_values, ax=ax, alpha=alpha, label_props={"fontsize": 8},
                                   label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}")
    ax.tick_params(labelsize=8)
    ax.set_title(title, fontsize=9, pad=20)
    return _png(fig)
