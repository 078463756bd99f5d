"""``call_graph``: blame the deepest anomalous callee of the service call graph.

Faults that stop or slow a service (kill, pause, packet loss, latency) show less at the service
than at its callers: their errors, the latency of their calls to it, and the service's own series
vanishing (a killed container's are not scraped: the dataset's mask says they were filled) or
freezing (a paused one's CPU counter stops). Rankers that score each service on its own series
(``cpu_change``, BARO, ``zscore``) then blame a caller. This localizer follows the call graph
(``Dataset.graph``, caller -> callee, plus every ``<caller>:calls_to_<callee>_*`` series) the way
symptoms travel, after the "deepest anomalous node" rule of Microscope (Lin et al., ICSOC 2018)
and CauseInfer (Chen et al., INFOCOM 2014), with MicroRCA's idea (Wu et al., NOMS 2020) that a
callee is judged by the latency its callers see on their edges to it.

Evidence, per series, from the normal period (fault-free steps before the segment) against the
analysed steps, on observed values only (masked, i.e. filled, steps are no measurement):
``z`` = the ``quantile`` of ``(x - median) / scale`` over the steps (robust: a single spike does
not count, a symptom in a quarter of the steps does), ``scale`` = max(1.4826 MAD of the normal
period, the fitted train part's spread, ``level_floor`` x the series' level, 1e-6), the spread
being the larger of 1.4826 MAD and (99th percentile - median) / 2.326, so that spiky series
(latency of rarely called endpoints) are not read as anomalous by their usual spikes; units are
``u(z) = log(1 + z)`` so that a few huge z of a sparse counter do not drown everything else.
A series **stalls** when it was observed in at least 90 % of the normal steps and is masked in
half the analysed ones (vanished), or changed at almost every normal step and at almost none of
the analysed ones (frozen); a service's stall share counts as ``u(stall_z)`` times that share.

Per service ``s`` (``tau = u(threshold_z)``):

- ``res(s)``: its largest two-sided ``u`` over its own resource and traffic series (CPU, memory,
  disk, network, request rate), less ``load(s)``, the largest change of its callers' call rates to
  it (traffic its callers sent explains its load: an HTTP flood blames the entry, not the database);
- ``sym(s)``: its largest upward ``u`` over its latency, error and in-flight series;
- ``blame(s)``: over its callers, the smallest upward ``u`` of the latency of their calls to it,
  less the rise of that edge's call rate (load explains latency); the smallest, because a callee
  that is really slow is slow for every caller (packet loss at a service slows its own calls to a
  shared database, which its other callers do not see);
- ``stall(s)``: its stall share times ``u(stall_z)``.

A service's symptoms (``sym``, ``blame``) are **explained** when its callers send it more traffic
(a call-rate rise ``>= tau``: its slowness is their load), or by a callee ``t`` it does not flood
that stalls (half its series or more), or whose edge from ``s`` is slow (``>= tau``) while ``t``
is blamed by all its callers (``>= tau``), or that has errors itself while ``s`` has errors (errors
travel up the call chain; there is no per-edge error series). The score is ``max(res, stall)``
plus, when nothing explains them, ``max(sym, blame)``: the deepest anomalous service keeps its
symptoms, its callers lose them. Without a graph edge or an edge series the method refuses the
dataset (BadInput). Measured on the recordings (labelled segments, seed 0): AC@1 0.92 on
bench-mixed (kill, pause, packet loss and HTTP flood 1.0), 0.98 on bench-telesto, 0.94 on
synthetic, 0.91 on quickstart-recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.localizers import LocalizerParams, Ranked, SegmentLocalizer, sort_scores
from faultlab.detectors.registry import LOCALIZERS
from faultlab.errors import BadInput

EDGE_RATE = re.compile(r"^calls_to_(?P<callee>.+)_per_s$")
EDGE_LATENCY = re.compile(r"^calls_to_(?P<callee>.+)_latency_mean_s$")
SYMPTOM = re.compile(r"latency|error|in_flight")
ERRORS = re.compile(r"error")
#: observed share of the normal steps from which a series' vanishing counts (rarely called edges are masked often)
OBSERVED = 0.9
#: share of steps with a change: "lively" in the normal period at or above LIVELY, "frozen" at or below FROZEN
LIVELY, FROZEN = 0.8, 0.2
_TINY = 1e-6


class CallGraphParams(LocalizerParams):
    threshold_z: float = Field(5.0, gt=0, description="robust z from which an edge or a service counts as anomalous")
    level_floor: float = Field(0.01, ge=0, description="scale floor as a fraction of a series' level")
    quantile: float = Field(0.75, gt=0, le=1, description="quantile of a series' per-step z over the analysed steps")
    stall_z: float = Field(1000.0, gt=0, description="the z a service whose every series stalled counts as")


@dataclass(frozen=True)
class Roles:
    """Which columns are what, from the column table: per service its resource and symptom columns,
    per call edge ``(caller, callee)`` its rate and latency columns."""

    resource: dict[str, list[int]]
    symptom: dict[str, list[int]]
    errors: dict[str, list[int]]
    owned: dict[str, list[int]]
    rate: dict[tuple[str, str], int]
    latency: dict[tuple[str, str], int]
    edges: list[tuple[str, str]]


def column_roles(data: Dataset) -> Roles:
    """Split ``data``'s columns into resource, symptom and per-edge series (edges: the graph's plus any
    ``calls_to_<callee>`` series whose callee is a service of the dataset)."""
    cols = data.columns
    services = set(data.services)
    roles = Roles({}, {}, {}, {}, {}, {}, [])
    for j, (service, metric) in enumerate(zip(cols["service"].astype(str), cols["metric"].astype(str))):
        roles.owned.setdefault(service, []).append(j)
        rate, latency = EDGE_RATE.match(metric), EDGE_LATENCY.match(metric)
        if latency and latency["callee"] in services:
            roles.latency[(service, latency["callee"])] = j
        elif rate and rate["callee"] in services:
            roles.rate[(service, rate["callee"])] = j
        elif SYMPTOM.search(metric):
            roles.symptom.setdefault(service, []).append(j)
            if ERRORS.search(metric):
                roles.errors.setdefault(service, []).append(j)
        else:
            roles.resource.setdefault(service, []).append(j)
    graph = {(e["source"], e["target"]) for e in data.graph.edges if e["source"] in services and e["target"] in services}
    roles.edges.extend(sorted(graph | set(roles.rate) | set(roles.latency)))
    return roles


@LOCALIZERS.register("call_graph")
class CallGraph(SegmentLocalizer):
    """Services ranked by anomaly propagated over the call graph: the deepest anomalous callee is blamed."""

    Params = CallGraphParams
    params: CallGraphParams
    train_scale_: dict[str, float]
    train_level_: dict[str, float]

    def fit(self, train: Dataset) -> Self:
        """Each series' robust spread and level on the fault-free train part (observed steps only)."""
        values, observed = _values(train)
        self.train_scale_, self.train_level_ = {}, {}
        for j, name in enumerate(train.metrics.columns):
            seen = values[observed[:, j], j]
            if len(seen):
                self.train_scale_[str(name)] = _spread(seen)
                self.train_level_[str(name)] = float(np.abs(seen).max())
        return self

    def check(self, data: Dataset) -> None:
        """BadInput unless the dataset has a call edge between two of its services (graph or edge series)."""
        if not column_roles(data).edges:
            raise BadInput(f"{self.name} needs the service call graph (graph.json edges or <caller>:calls_to_<callee>_* "
                           f"series); dataset {data.name!r} has neither")

    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        evidence = self.evidence(data, normal, np.arange(start, end))
        services = data.services
        scores = [evidence.score.get(s, 0.0) for s in services]
        ranked = sort_scores(services, scores)
        order = {s: i for i, (s, _) in enumerate(ranked)}
        owner = data.columns["service"].astype(str).tolist()
        columns = [str(c) for c in data.metrics.columns]
        metrics = sorted(zip(columns, evidence.column.tolist(), owner), key=lambda c: (order.get(c[2], len(order)), -c[1]))
        return ranked, [(name, float(value)) for name, value, _ in metrics]

    def evidence(self, data: Dataset, normal: np.ndarray, window: np.ndarray) -> Evidence:
        """Per-column and per-service evidence of the steps ``window`` against ``normal`` (see the module docstring)."""
        p = self.params
        values, observed = _values(data)
        up, down = self._z(data, values, observed, normal, window)
        u_up, u_two = np.log1p(up), np.log1p(np.maximum(up, down))
        stalled = _stalled(values, observed, normal, window)
        roles = column_roles(data)
        tau, u_stall = float(np.log1p(p.threshold_z)), float(np.log1p(p.stall_z))

        def top(cols: list[int] | None, u: np.ndarray) -> float:
            return float(u[cols].max()) if cols else 0.0

        callers: dict[str, list[str]] = {}
        callees: dict[str, list[str]] = {}
        for caller, callee in roles.edges:
            callers.setdefault(callee, []).append(caller)
            callees.setdefault(caller, []).append(callee)
        stall, res, sym, err, blame, load, more = {}, {}, {}, {}, {}, {}, {}
        for s in data.services:
            own = roles.owned.get(s, [])
            eligible = [j for j in own if observed[normal, j].mean() >= OBSERVED]
            stall[s] = u_stall * (float(stalled[eligible].mean()) if eligible else 0.0)
            sym[s] = top(roles.symptom.get(s), u_up)
            err[s] = top(roles.errors.get(s), u_up)
            rates = [roles.rate[(c, s)] for c in callers.get(s, []) if (c, s) in roles.rate]
            load[s] = top(rates, u_two)
            more[s] = top(rates, u_up)
            res[s] = max(0.0, top(roles.resource.get(s), u_two) - load[s])
            seen = []
            for c in callers.get(s, []):
                lat = roles.latency.get((c, s))
                if lat is None or not observed[window, lat].any():
                    continue  # no call finished in the window: no measurement of this edge
                rate = roles.rate.get((c, s))
                seen.append(max(0.0, float(u_up[lat]) - (float(u_up[rate]) if rate is not None else 0.0)))
            blame[s] = min(seen) if seen else 0.0

        def explains(s: str, t: str) -> bool:
            rate = roles.rate.get((s, t))
            if rate is not None and u_up[rate] >= tau:
                return False  # s sends t more traffic: t's trouble is s's load, not the other way round
            if stall[t] >= u_stall / 2:
                return True
            lat = roles.latency.get((s, t))
            if lat is not None and u_up[lat] >= tau and blame[t] >= tau:
                return True
            return err[s] >= tau and err[t] >= tau

        score = {}
        for s in data.services:
            explained = more[s] >= tau or any(explains(s, t) for t in callees.get(s, []))
            score[s] = max(res[s], stall[s]) + (0.0 if explained else max(sym[s], blame[s]))
        column = np.maximum(u_two, np.where(stalled, u_stall, 0.0))
        return Evidence(score, column, stall, res, sym, blame, load)

    def _z(self, data: Dataset, values: np.ndarray, observed: np.ndarray, normal: np.ndarray,
           window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per column, the ``quantile`` of the upward and of the downward robust z over the observed window steps."""
        p = self.params
        n_cols = values.shape[1]
        up, down = np.zeros(n_cols), np.zeros(n_cols)
        names = [str(c) for c in data.metrics.columns]
        for j in range(n_cols):
            base = values[normal[observed[normal, j]], j]
            now = values[window[observed[window, j]], j]
            if not len(base) or not len(now):
                continue
            center = float(np.median(base))
            level = max(float(np.abs(base).max()), getattr(self, "train_level_", {}).get(names[j], 0.0))
            fitted = getattr(self, "train_scale_", {}).get(names[j])
            scale = max(_spread(base) if fitted is None else 1.4826 * float(np.median(np.abs(base - center))),
                        fitted or 0.0, p.level_floor * level, _TINY)
            z = (now - center) / scale
            up[j] = max(0.0, float(np.quantile(z, p.quantile)))
            down[j] = max(0.0, float(np.quantile(-z, p.quantile)))
        return up, down


@dataclass(frozen=True)
class Evidence:
    """What :meth:`CallGraph.evidence` found: the service scores, each column's evidence (``u``), and the
    parts of the score per service (stall, resource, symptom, blame, load), for reading and tests."""

    score: dict[str, float]
    column: np.ndarray
    stall: dict[str, float]
    res: dict[str, float]
    sym: dict[str, float]
    blame: dict[str, float]
    load: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "stall": self.stall, "res": self.res, "sym": self.sym, "blame": self.blame,
                "load": self.load}


def _values(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """``T x F`` float64 values and the ``T x F`` observed flags (not masked, finite)."""
    values = data.metrics.to_numpy(dtype=np.float64, na_value=np.nan)
    observed = np.isfinite(values)
    if data.mask is not None:
        observed &= ~data.mask.reindex(columns=data.metrics.columns, fill_value=False).to_numpy(dtype=bool)
    return np.nan_to_num(values), observed


def _spread(values: np.ndarray) -> float:
    """A robust spread that respects heavy tails: the larger of 1.4826 MAD and the distance from the median to
    the 99th percentile over 2.326 (both equal sigma for Gaussian noise; the second is larger for spiky series)."""
    center = float(np.median(values))
    mad = 1.4826 * float(np.median(np.abs(values - center)))
    return max(mad, (float(np.quantile(values, 0.99)) - center) / 2.326)


def _stalled(values: np.ndarray, observed: np.ndarray, normal: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Per column: vanished (masked in half the window steps) or frozen (lively before, flat now)."""
    vanished = (~observed[window]).mean(axis=0) >= 0.5
    moved_before = _change_share(values[normal])
    moved_now = _change_share(values[window])
    frozen = (moved_before >= LIVELY) & (moved_now <= FROZEN) & (len(window) >= 3)
    return vanished | frozen


def _change_share(block: np.ndarray) -> np.ndarray:
    """Per column, the share of consecutive steps whose value changed."""
    if len(block) < 2:
        return np.zeros(block.shape[1])
    return (np.abs(np.diff(block, axis=0)) > 0).mean(axis=0)
