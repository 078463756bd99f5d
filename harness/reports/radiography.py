"""SYRROCA's radiography (seed 003, sec. III-C/IV-D): a KDE of a metric group's MSE against a service metric.

Each dataset's page shows, for a per-group detector (``lstm_ae``), one radiography per metric
group and one detection figure with every group's ``MSE^g(t)`` against its own threshold
``T^g`` over the test part (:func:`detector_group_figures`): the paper reads the groups one by
one (inputs as sec. III-A prepares them: counters as increments, gauges as values).

For the test part of a dataset, each step gives a pair ``(MSE^g(t), service_metric(t))``;
the radiography is the 2-D kernel density estimate of those pairs at the steps the group's
autoencoder flags (``MSE^g > T^g``), dark where dense. A dark zone at many failed requests
says the group's deviation hurts the service; a dark zone at none says it does not.

Where the paper is silent, chosen here: ``scipy.stats.gaussian_kde`` with Scott's bandwidth;
when fewer than ``min_points`` steps cross the threshold (the paper notes it then cannot
draw one) all test steps are used and the title says so; MSE is drawn on a log10 axis when it
spans more than two orders of magnitude (else the KDE is one dark corner); the service metric is a column
(``"gateway:error_rate"``) or a metric name summed over every service that has it
(``"error_rate"``: all failed requests per second).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.errors import BadInput


@dataclass(frozen=True)
class Radiography:
    """The points and what they mean; :func:`radiography_png` draws it."""

    group: str
    service_metric: str
    mse: np.ndarray
    service_values: np.ndarray
    threshold: float
    only_anomalous: bool
    dataset: str


def service_series(data: Dataset, service_metric: str) -> np.ndarray:
    """A column by name, or a metric name summed over the services that have it."""
    if service_metric in data.metrics.columns:
        return data.metrics[service_metric].to_numpy(dtype=np.float64)
    cols = [c for c in data.metrics.columns if c.split(":", 1)[-1] == service_metric]
    if not cols:
        metrics = sorted({c.split(":", 1)[-1] for c in data.metrics.columns})
        raise BadInput(
            f"service metric {service_metric!r} is neither a column nor a metric of dataset {data.name!r}; "
            f"metrics: {', '.join(metrics[:20])}{' ...' if len(metrics) > 20 else ''}"
        )
    return data.metrics[cols].to_numpy(dtype=np.float64).sum(axis=1)


def radiography(detector: Any, test: Dataset, group: str, service_metric: str, min_points: int = 5) -> Radiography:
    """The radiography of ``group`` from a fitted ``lstm_ae`` on ``test``."""
    if group not in detector.groups_:
        raise BadInput(f"group {group!r} has no autoencoder in this model; groups: {', '.join(detector.groups_)}")
    g = detector.groups_.index(group)
    return _points(group, detector.group_mse(test)[:, g], service_series(test, service_metric),
                   float(detector.group_threshold_[g]), service_metric, test.name, min_points)


def _points(group: str, mse: np.ndarray, values: np.ndarray, threshold: float, service_metric: str, dataset: str,
            min_points: int = 5) -> Radiography:
    """One group's radiography: the steps above its threshold, or every step when fewer than
    ``min_points`` are (a KDE of a handful of points says nothing)."""
    flagged = mse > threshold
    only = int(flagged.sum()) >= min_points
    keep = flagged if only else np.ones_like(flagged)
    return Radiography(group, service_metric, mse[keep], values[keep], threshold, only, dataset)


def radiography_png(r: Radiography) -> bytes:
    """The KDE as a PNG (dark = dense), with the points on top."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import gaussian_kde

    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=100)
    x, y = r.mse, r.service_values
    log_x = len(x) > 0 and x.max() > 100 * max(x.min(), 1e-12)
    if log_x:  # errors spanning orders of magnitude: a linear KDE would be one dark corner
        x = np.log10(np.maximum(x, 1e-12))
    try:
        if len(x) < 3 or np.ptp(x) <= 0:
            raise np.linalg.LinAlgError("too few distinct points")
        jitter = 1e-9 * (1 + np.abs(y).max())
        yy_src = y if np.ptp(y) > 0 else y + jitter * np.linspace(-1, 1, len(y))
        kde = gaussian_kde(np.vstack([x, yy_src]))
        xs = np.linspace(x.min(), x.max(), 120)
        ys = np.linspace(yy_src.min(), yy_src.max(), 120)
        gx, gy = np.meshgrid(xs, ys)
        density = kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        mesh = ax.pcolormesh(gx, gy, density, cmap="magma_r", shading="auto")
        fig.colorbar(mesh, ax=ax, label="density (KDE, relative)")
    except (np.linalg.LinAlgError, ValueError):
        ax.text(0.5, 0.5, "too few distinct points for a KDE", transform=ax.transAxes, ha="center")
    ax.scatter(x, y, s=4, c="tab:cyan", alpha=0.6, linewidths=0)
    ax.set_xlabel(f"{'log10 ' if log_x else ''}MSE of the {r.group} group (threshold {r.threshold:.3g})")
    ax.set_ylabel(r.service_metric)
    which = "steps above the group threshold" if r.only_anomalous else "all test steps (few above threshold)"
    ax.set_title(f"Radiography: {r.group} vs {r.service_metric}\n{r.dataset}, {len(x)} {which}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_radiography(
    dataset: Dataset,
    group: str,
    service_metric: str,
    out: str | Path,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> Path:
    """Fit ``lstm_ae`` on the dataset's fault-free part, draw ``group``'s radiography on its test part."""
    from faultlab.detectors import make_detector
    from faultlab.detectors.lstm_ae import column_groups

    service_series(dataset, service_metric)  # fail before training on a wrong name
    groups = sorted(set(column_groups(dataset)))
    if group not in groups:
        raise BadInput(f"group {group!r} is not a metric group of dataset {dataset.name!r}; groups: {', '.join(groups)}")
    detector = make_detector("lstm_ae", params or {}, seed).fit(dataset.train())
    test = dataset.test()
    png = radiography_png(radiography(detector, test, group, service_metric))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    return out


def detector_radiographies(detector: Any, test: Dataset, service_metric: str = "error_rate") -> dict[str, bytes]:
    """``{"radiography-<group>": PNG}`` for every group of a fitted per-group detector (``lstm_ae``).

    Any detector with ``groups_``, ``group_threshold_`` and ``group_mse`` qualifies; others,
    and datasets without ``service_metric``, give ``{}``. The leaderboard embeds these.
    """
    if not all(hasattr(detector, a) for a in ("groups_", "group_threshold_", "group_mse")):
        return {}
    try:
        values = service_series(test, service_metric)
    except BadInput:
        return {}
    per_group = _group_scores(detector, test)
    out = {}
    for g, group in enumerate(detector.groups_):
        r = _points(group, per_group[group], values, float(detector.group_threshold_[g]), service_metric, test.name)
        out[f"radiography-{group}"] = radiography_png(r)
    return out


def _group_scores(detector: Any, test: Dataset) -> dict[str, np.ndarray]:
    if hasattr(detector, "group_scores"):
        return detector.group_scores(test)
    mse = detector.group_mse(test)
    return {group: mse[:, g] for g, group in enumerate(detector.groups_)}


def detector_group_figures(detector: Any, test: Dataset) -> dict[str, bytes]:
    """``{"detection-groups": PNG}``: each metric group's score over ``test`` against its own
    threshold, fault windows shaded by type (one panel per group), for a detector with
    ``group_scores`` and ``group_thresholds_`` (``lstm_ae``); ``{}`` for any other."""
    if not (hasattr(detector, "group_scores") and hasattr(detector, "group_thresholds_")):
        return {}
    from faultlab.harness.evaluation.table import ScoreTimeline
    from faultlab.harness.reports.plots import timelines_png

    thresholds = detector.group_thresholds_
    fault_type = test.labels["fault_type"].to_numpy(dtype=str)
    panels = [ScoreTimeline(test.name, f"{group} group: MSE", detector.seed, test.timestamps, np.asarray(scores, dtype=np.float64),
                            float(thresholds[group]), test.y.copy(), fault_type)
              for group, scores in _group_scores(detector, test).items()]
    if not panels:
        return {}
    title = f"{detector.name}: each metric group against its own threshold (seed 003, sec. III-C), {test.name}"
    return {"detection-groups": timelines_png(panels, title)}
