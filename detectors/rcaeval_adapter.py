"""RCAEval's metric-based root-cause methods as Faultlab localizers (``rcaeval:<method>``).

RCAEval (Pham et al., "RCAEval: A Benchmark for Root Cause Analysis of Microservice
Systems", WWW 2025 companion; the ``rcaeval`` extra: ``pip install --no-deps rcaeval`` plus
causal-learn, pingouin, scikit-network, tigramite and gcastle) calls each method as
``method(frame, inject_time, dataset=...)``: ``frame`` has one column per metric and a ``time``
column; rows before ``inject_time`` are the normal period, the rest the anomalous one; the
result's ``ranks`` lists metric columns, most suspicious first. Here each fault segment is fed
with the fault-free steps before it (:func:`faultlab.detectors.localizers.normal_steps`), so
every method sees exactly what the reference rankers see.

How the frame is built, and why:

- columns get neutral names ``c<j>_v`` (CIRCA splits names at ``_`` into entity and metric;
  neutral names keep any of our names from meaning something to a method) and ranked names
  are mapped back to ``service:metric`` columns, then to services through the column table;
- ``time`` is seconds since the dataset's first step (CIRCA looks 300 s past ``inject_time``);
- ``dataset="faultlab"`` selects RCAEval's generic preprocessing (drop ``time`` and constant
  columns), none of its dataset-specific paths;
- NumPy's global random state (CIRCA's and the random walks' only seed) is seeded from the
  localizer's seed for the call and restored afterwards;
- MicroCause, EasyRCA and CloudRanger start their walk at a service-level indicator (``sli``):
  the front end's latency, i.e. a latency series of the call graph's entry service (a service
  nobody calls; RCAEval's own ``main.py`` passes the *true* root cause's latency where it has
  one, which we do not); RUN reads its input from a CSV file, written to a temporary folder.

**Bounded input** (parameter ``max_series``). The methods that learn a causal graph or a
network (PC, FCI, GES, LiNGAM, Granger, NOTEARS, cMLP, CIRCA, RCD, MicroCause, EasyRCA,
CloudRanger, CausalRCA, RUN, MSCRED) grow at least quadratically with the number of series and
need more steps than series: CIRCA took 880 s for one segment of ``synthetic`` (116 series, 150
steps) on a 2-core machine and failed on quickstart-recorded ("correlation matrix is singular",
289 series). They get the ``max_series`` (default :data:`MAX_SERIES` = 30; GES 15, the methods that
train a network or a continuous DAG 10) series that changed most between the normal and the
anomalous period (|median shift| over a robust spread), skipping
constant series and near-copies (|correlation| >= 0.999 with one already kept: exact copies are
what made PC's correlation matrix singular), the SLI always kept. The ranking's ``metrics`` are
then exactly the kept series in the method's order, and ``kept_[(start, end)]`` lists them per
segment. BARO, N-Sigma and ε-Diagnosis score each series alone and get every series. The methods
run as published: BARO's RobustScaler falls back to a scale of 1 where a series' interquartile
range is 0 in the normal period, so a flat byte counter that moves a little outranks everything
(seen on quickstart-recorded).

Measured on the bench-mixed recorded on 2026-12-06 (275 series, 46 labelled faults, each
localized from its labelled window and from zscore's alarm; seconds per localized segment, seed 0,
one of 2 Dask workers on 2 cores): nsigma 0.09, baro 0.13, lingam_pagerank 0.15, lingam_randomwalk
0.16, ges_pagerank 0.41, pc_pagerank 0.52, pc_randomwalk 0.53, circa 0.68, cloudranger 0.81,
micro_diag 1.74; ntlr_pagerank, ntlr_randomwalk and causalrca did not finish their 92 segments in
7 minutes; fci_pagerank and cmlp_pagerank failed on one segment each (KNOWN_FAILURES), the others
as below. AC@1 on the labelled windows (random: 0.111): nsigma 0.35, circa 0.33, cloudranger 0.26.

Measured earlier on bench-mixed's 23-minute predecessor (243 series, 12 faults; each segment with its 120 normal steps, from the
labelled windows and from zscore's alarms; seconds per localized segment, seed 0, 2 cores shared
with other work): baro 0.4, nsigma 0.3, lingam_randomwalk 0.4, lingam_pagerank 0.5, fci_pagerank
1.3, pc_pagerank 1.5, pc_randomwalk 1.1, circa 1.8, ges_pagerank 1.8 (15 series; over 15 minutes
for 12 segments at 30), cloudranger 1.9, micro_diag 4.0; ntlr_pagerank 197 and ntlr_randomwalk 239
(10 series; ntlr_pagerank over 400 at 30), cmlp_pagerank and causalrca over 300 (10 series, cut
off). The rest fail on their first segment, for the reasons in NOT_INSTALLABLE and KNOWN_FAILURES.

Methods (``METHODS``; RCAEval 1.8.1's ``e2e`` module, metric-based and single-source; the
multi-source ``mm*``, TORAI and PDiagnose, the trace-based TraceRCA and MicroRank, EventADL and
the ``dummy`` random ranking are not metric-based localizers): each runs, or its rows are n/a
with the exact reason: an import error names the missing module (plus, in :data:`NOT_INSTALLABLE`,
why its package is not in the extra), a failure inside the method names the exception (RCAEval's
``@rca`` wrapper would otherwise return the column order as if it were a ranking).
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.localizers import LocalizerParams, Ranked, SegmentLocalizer, frame_of, services_from_metrics
from faultlab.detectors.registry import LOCALIZERS
from faultlab.errors import BadInput, RunFailed

#: our method name -> (RCAEval module, function); each has one registered class below. The module
#: is named because on Python 3.11 ``RCAEval.e2e`` exports only some functions itself (``from
#: RCAEval.e2e import baro`` gives the *module* ``RCAEval.e2e.baro`` there, not the function).
METHODS: dict[str, tuple[str, str]] = {
    "baro": ("RCAEval.e2e.baro", "baro"),
    "nsigma": ("RCAEval.e2e", "nsigma"),
    "e_diagnosis": ("RCAEval.e2e", "e_diagnosis"),
    "ht": ("RCAEval.e2e", "ht"),
    "circa": ("RCAEval.e2e.circa", "circa"),
    "rcd": ("RCAEval.e2e.rcd", "rcd"),
    "microcause": ("RCAEval.e2e.microcause", "microcause"),
    "easyrca": ("RCAEval.e2e.easyrca", "easyrca"),
    "cloudranger": ("RCAEval.e2e.cloudranger", "cloudranger"),
    "causalrca": ("RCAEval.e2e.causalrca", "causalrca"),
    "causalai": ("RCAEval.e2e.causalai", "causalai"),
    "run": ("RCAEval.e2e.run", "run"),
    "mscred": ("RCAEval.e2e.mscred", "mscred"),
    "pc_pagerank": ("RCAEval.e2e.pc_pagerank", "pc_pagerank"),
    "fci_pagerank": ("RCAEval.e2e.fci_pagerank", "fci_pagerank"),
    "ges_pagerank": ("RCAEval.e2e.ges_pagerank", "ges_pagerank"),
    "granger_pagerank": ("RCAEval.e2e.granger_pagerank", "granger_pagerank"),
    "lingam_pagerank": ("RCAEval.e2e.lingam_pagerank", "lingam_pagerank"),
    "ntlr_pagerank": ("RCAEval.e2e.pc_pagerank", "ntlr_pagerank"),
    "cmlp_pagerank": ("RCAEval.e2e.pc_pagerank", "cmlp_pagerank"),
    "micro_diag": ("RCAEval.e2e.lingam_pagerank", "micro_diag"),
    "pc_randomwalk": ("RCAEval.e2e.pc_randomwalk", "pc_randomwalk"),
    "fci_randomwalk": ("RCAEval.e2e.pc_randomwalk", "fci_randomwalk"),
    "granger_randomwalk": ("RCAEval.e2e.pc_randomwalk", "granger_randomwalk"),
    "lingam_randomwalk": ("RCAEval.e2e.pc_randomwalk", "lingam_randomwalk"),
    "ntlr_randomwalk": ("RCAEval.e2e.pc_randomwalk", "ntlr_randomwalk"),
}
#: Why a method's missing package is not part of the ``rcaeval`` extra (appended to its n/a reason).
NOT_INSTALLABLE: dict[str, str] = {
    "e_diagnosis": "its package sfr-pyrca (module pyrca) is left out of the extra: it pins scikit-learn<1.2, needs "
                   "javabridge (a Java build) and imports pkg_resources, which setuptools >= 81 no longer ships",
    "causalai": "Salesforce CausalAI (module causalai) is not on PyPI",
    "rcd": "RCD needs its authors' patched causal-learn (SkeletonDiscovery.local_skeleton_discovery), which causal-learn "
           "on PyPI does not have",
}
NOT_INSTALLABLE["ht"] = NOT_INSTALLABLE["e_diagnosis"]
#: Why a method fails inside RCAEval 1.8.1 with the packages on PyPI today (appended to its n/a reason; measured).
KNOWN_FAILURES: dict[str, str] = {
    "microcause": "it reads PCMCI.return_significant_links()['link_dict'], which tigramite >= 5 no longer returns; "
                  "RCAEval pins tigramite 4.2.2.1, which does not build here",
    "easyrca": "RCAEval 1.8.1's easyrca.py calls EasyRCA, which it never imports",
    "granger_pagerank": "statsmodels >= 0.15 removed the 'verbose' argument RCAEval passes to grangercausalitytests",
    "fci_randomwalk": "RCAEval's random walk accepts only PC's edge marks, not FCI's circle mark (2)",
    "fci_pagerank": "RCAEval's PageRank head converts FCI's o->, <-> and o-o edges but raises on a tail with a circle "
                    "(marks -1 and 2), which FCI returns on some segments",
    "cmlp_pagerank": "a TypeError here: cMLP's loss was NaN at its first check (its ISTA steps at lr 0.05 diverged on "
                     "this segment) and RCAEval's early stopping then subtracts from best_it = None",
    "run": "RUN trains on batches of 128 windows of 32 steps and drops a partial batch: with a normal period and a "
           "segment this short no batch is trained and its loss is never set",
    "mscred": "RCAEval's MSCRED takes one signature matrix every 10 steps and indexes 30 of the normal period and 10 "
              "of the anomalous one: it needs at least 300 normal and 100 anomalous steps",
}
KNOWN_FAILURES["granger_randomwalk"] = KNOWN_FAILURES["granger_pagerank"]
#: Methods that score each series alone: every series goes in (no ``max_series`` cut).
PER_SERIES = ("baro", "nsigma", "e_diagnosis")
#: Methods that start at a service-level indicator (``sli=``): the entry service's latency.
NEEDS_SLI = ("microcause", "easyrca", "cloudranger")
#: The default ``max_series`` of the graph-learning methods (see the module docstring).
MAX_SERIES = 30
#: ... of GES, whose greedy search took over 20 minutes on one bench-mixed segment of 30 series (seconds at 15)
MAX_SERIES_GES = 15
#: ... and of the ones that train a network or optimise a continuous DAG per segment (NOTEARS, cMLP, DAG-GNN, RUN),
#: minutes per segment even then (measured on bench-mixed, module docstring)
MAX_SERIES_NEURAL = 10
PREFIX = "rcaeval:"
INSTALL_HINT = ("pip install --no-deps rcaeval && pip install causal-learn pingouin scikit-network tigramite gcastle "
                "(the 'rcaeval' extra of faultlab)")
DATASET_HINT = "faultlab"
#: |correlation| from which a series counts as a copy of one already kept
NEAR_COPY = 0.999


def rcaeval_function(method: str) -> Callable[..., dict[str, Any]]:
    """The RCAEval function behind ``rcaeval:<method>``; BadInput with the install line when absent."""
    if method not in METHODS:
        raise BadInput(f"unknown RCAEval method {method!r}; valid: {', '.join(sorted(METHODS))}")
    module, attribute = METHODS[method]
    try:
        with redirect_stderr(StringIO()), redirect_stdout(StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function = getattr(importlib.import_module(module), attribute, None)
    except ImportError as exc:
        why = f"; {NOT_INSTALLABLE[method]}" if method in NOT_INSTALLABLE else ""
        raise BadInput(f"localizer 'rcaeval:{method}' needs the optional package rcaeval and its dependencies "
                       f"(importing {module} failed: {exc}{why}); install them with: {INSTALL_HINT}") from None
    if not callable(function) or isinstance(function, ModuleType):
        raise BadInput(f"localizer 'rcaeval:{method}': {module} has no function {attribute!r} (RCAEval version?)")
    return function


@contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def rcaeval_frame(data: Dataset, normal: np.ndarray, start: int, end: int,
                  columns: list[str] | None = None) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """RCAEval's input: neutral-named columns + ``time`` (s), the inject time, neutral -> our name.

    ``columns``: only these of the dataset's columns (default: all), in the dataset's order.
    """
    rows = np.concatenate([np.asarray(normal, dtype=np.int64), np.arange(start, end)])
    values = frame_of(data, rows)
    if columns is not None:
        chosen = set(columns)
        values = values[[c for c in values.columns if str(c) in chosen]]
    names = {f"c{j}_v": str(col) for j, col in enumerate(values.columns)}
    frame = pd.DataFrame(values.to_numpy(), columns=list(names))
    seconds = (data.timestamps[rows] - data.timestamps[0]).total_seconds()
    frame["time"] = np.round(np.asarray(seconds, dtype=np.float64)).astype(np.int64)
    inject_time = float(frame["time"].iloc[len(normal)])
    return frame, inject_time, names


def most_changed(data: Dataset, normal: np.ndarray, start: int, end: int, k: int, keep: tuple[str, ...] = ()) -> list[str]:
    """The ``k`` columns that changed most from the normal period to ``start..end`` (|median shift| over
    max(1.4826 MAD, 1 % of the level)), without constant series and near-copies; ``keep`` first."""
    normal_values = frame_of(data, np.asarray(normal))
    during = frame_of(data, slice(start, end))
    both = pd.concat([normal_values, during])
    center = normal_values.median()
    spread = np.maximum(1.4826 * (normal_values - center).abs().median(), 0.01 * normal_values.abs().max())
    change = ((during.median() - center).abs() / spread.where(spread > 0, 1e-12)).fillna(0.0)
    moving = both.columns[(both.max() - both.min()) > 0]
    order = [str(c) for c in keep if c in both.columns] + [str(c) for c in change[moving].sort_values(
        ascending=False, kind="stable").index if str(c) not in keep]
    standard = (both - both.mean()) / both.std(ddof=0).replace(0.0, np.nan)
    kept: list[str] = []
    for column in order:
        if len(kept) >= k:
            break
        x = standard[column].to_numpy()
        if kept and np.isfinite(x).all():
            corr = np.abs(standard[kept].to_numpy().T @ x) / len(x)
            if np.nanmax(corr) >= NEAR_COPY:
                continue
        kept.append(column)
    return kept


def entry_latency(data: Dataset) -> str | None:
    """The front end's latency column (the SLI): of the call graph's entry services (called by nobody),
    the first latency series, preferring the mean, then the median; None when there is none."""
    edges = data.graph.edges
    called = {e["target"] for e in edges}
    entries = [s for s in data.candidates if s not in called and any(e["source"] == s for e in edges)]
    cols = data.columns
    for service in entries:
        mine = cols[(cols["service"] == service) & cols["metric"].astype(str).str.contains("latency")]
        for preferred in ("latency_mean_s", "latency_p50_s"):
            hit = mine[mine["metric"] == preferred]
            if not hit.empty:
                return str(hit["name"].iloc[0])
        if not mine.empty:
            return str(mine["name"].iloc[0])
    return None


class RcaEvalParams(LocalizerParams):
    max_series: int | None = Field(None, ge=2, description="feed the method at most this many series, the most changed")


class GraphMethodParams(RcaEvalParams):
    max_series: int | None = Field(MAX_SERIES, ge=2, description="feed the method at most this many series, the most changed")


class GesParams(RcaEvalParams):
    max_series: int | None = Field(MAX_SERIES_GES, ge=2, description="feed the method at most this many series")


class NeuralMethodParams(RcaEvalParams):
    max_series: int | None = Field(MAX_SERIES_NEURAL, ge=2, description="feed the method at most this many series")


class RcaEvalLocalizer(SegmentLocalizer):
    """One RCAEval method, the one its registered name ``rcaeval:<method>`` names (see ``METHODS``)."""

    Params: ClassVar[type[LocalizerParams]] = GraphMethodParams
    params: RcaEvalParams

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        super().__init__(seed=seed, **params)
        self.kept_: dict[tuple[int, int], list[str]] = {}

    @property
    def method(self) -> str:
        return self.name.removeprefix(PREFIX)

    def check(self, data: Dataset) -> None:
        """BadInput when the method needs an SLI (the front end's latency) and the dataset has none."""
        if self.method in NEEDS_SLI and entry_latency(data) is None:
            raise BadInput(f"{self.name} needs a front-end latency series (a latency column of a service that no other "
                           f"service calls, its SLI); dataset {data.name!r} has none")

    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        function = rcaeval_function(self.method)
        sli = entry_latency(data) if self.method in NEEDS_SLI else None
        columns = None
        if self.params.max_series is not None:
            columns = most_changed(data, normal, start, end, self.params.max_series, (sli,) if sli else ())
            self.kept_[(start, end)] = columns
        frame, inject_time, names = rcaeval_frame(data, normal, start, end, columns)
        noise = StringIO()
        try:
            with (_numpy_seed(self.seed), redirect_stderr(noise), redirect_stdout(StringIO()), warnings.catch_warnings(),
                  tempfile.TemporaryDirectory(prefix="faultlab-rcaeval-") as folder):
                warnings.simplefilter("ignore")
                extra = self._extra(frame, names, sli, Path(folder))
                result = function(frame, inject_time=inject_time, dataset=DATASET_HINT, **extra)
        except Exception as exc:  # a third-party method: name it and the segment
            raise RunFailed(f"localizer {self.name!r} failed on segment ({start}, {end}) of {data.name!r}: "
                            f"{type(exc).__name__}: {exc}{self._why()}") from exc
        said = noise.getvalue()
        if " failed (" in said:  # RCAEval's @rca wrapper swallowed an error and returned the column order
            line = next(x for x in said.splitlines() if " failed (" in x)
            raise RunFailed(f"localizer {self.name!r} failed on segment ({start}, {end}) of {data.name!r}: "
                            f"{line.strip()}{self._why()}")
        ranked = [names[n] for n in dict.fromkeys(_node(x) for x in result.get("ranks", [])) if n in names]
        metrics = [(column, float(len(ranked) - i)) for i, column in enumerate(ranked)]
        rng = np.random.default_rng([self.seed, start, end])
        return services_from_metrics(data, metrics, rng), metrics

    def _why(self) -> str:
        known = NOT_INSTALLABLE.get(self.method) or KNOWN_FAILURES.get(self.method)
        return f" ({known})" if known else ""

    def _extra(self, frame: pd.DataFrame, names: dict[str, str], sli: str | None, folder: Path) -> dict[str, Any]:
        """Keyword arguments some methods need besides the frame: the SLI's neutral name, RUN's CSV file."""
        if sli is not None:
            return {"sli": next(n for n, ours in names.items() if ours == sli)}
        if self.method == "run":
            frame.to_csv(folder / "data.csv", index=False)
            return {"args": argparse.Namespace(root_path=str(folder), data_path="data.csv")}
        return {}


def _node(item: Any) -> str:
    """A ranked node's name: GES-PageRank ranks ``(name, score)`` pairs, the others names."""
    return str(item[0] if isinstance(item, (tuple, list)) else item)


class PerSeriesMethod(RcaEvalLocalizer):
    """An RCAEval method that scores each series alone (every series goes in)."""

    Params = RcaEvalParams


class NeuralMethod(RcaEvalLocalizer):
    """An RCAEval method that trains a network or optimises a continuous DAG per segment (fewer series go in)."""

    Params = NeuralMethodParams


@LOCALIZERS.register(PREFIX + "baro")
class Baro(PerSeriesMethod):
    """RCAEval BARO (Pham et al., FSE 2024): max robust z-score of each metric in the segment vs the normal period."""


@LOCALIZERS.register(PREFIX + "nsigma")
class NSigma(PerSeriesMethod):
    """RCAEval N-Sigma: max standard score of each metric in the segment vs the normal period."""


@LOCALIZERS.register(PREFIX + "e_diagnosis")
class EDiagnosis(PerSeriesMethod):
    """RCAEval ε-Diagnosis (Shan et al., WWW 2019): two-sample test of each metric, normal vs anomalous (needs pyrca)."""


@LOCALIZERS.register(PREFIX + "ht")
class HypothesisTesting(RcaEvalLocalizer):
    """RCAEval HT (PyRCA): PC graph + regression-based hypothesis testing (needs pyrca)."""


@LOCALIZERS.register(PREFIX + "circa")
class Circa(RcaEvalLocalizer):
    """RCAEval CIRCA (Li et al., KDD 2022): PC causal graph + regression-based hypothesis testing."""


@LOCALIZERS.register(PREFIX + "rcd")
class Rcd(RcaEvalLocalizer):
    """RCAEval RCD (Ikram et al., NeurIPS 2022): PC localized to the failure node, hierarchical chunks."""


@LOCALIZERS.register(PREFIX + "microcause")
class MicroCause(RcaEvalLocalizer):
    """RCAEval MicroCause (Meng et al., IWQoS 2020): PCMCI causal graph + random walk from the SLI."""


@LOCALIZERS.register(PREFIX + "easyrca")
class EasyRca(RcaEvalLocalizer):
    """RCAEval EasyRCA (Assaad et al., 2023): summary causal graph + random walk from the SLI."""


@LOCALIZERS.register(PREFIX + "cloudranger")
class CloudRanger(RcaEvalLocalizer):
    """RCAEval CloudRanger (Wang et al., CCGRID 2018): PC graph + second-order random walk from the SLI."""


@LOCALIZERS.register(PREFIX + "causalrca")
class CausalRca(NeuralMethod):
    """RCAEval CausalRCA (Xin et al., JSS 2023): DAG-GNN causal graph + PageRank."""


@LOCALIZERS.register(PREFIX + "causalai")
class CausalAi(RcaEvalLocalizer):
    """RCAEval CausalAI (Salesforce CausalAI's RootCauseDetector; needs causalai)."""


@LOCALIZERS.register(PREFIX + "run")
class Run(NeuralMethod):
    """RCAEval RUN (Lin et al., AAAI 2024): neural Granger graph with contrastive pretraining + PageRank."""


@LOCALIZERS.register(PREFIX + "mscred")
class Mscred(RcaEvalLocalizer):
    """RCAEval MSCRED (Zhang et al., AAAI 2019): signature-matrix ConvLSTM autoencoder's residuals per series."""


@LOCALIZERS.register(PREFIX + "pc_pagerank")
class PcPageRank(RcaEvalLocalizer):
    """RCAEval PC causal graph + PageRank."""


@LOCALIZERS.register(PREFIX + "fci_pagerank")
class FciPageRank(RcaEvalLocalizer):
    """RCAEval FCI causal graph + PageRank."""


@LOCALIZERS.register(PREFIX + "ges_pagerank")
class GesPageRank(RcaEvalLocalizer):
    """RCAEval GES causal graph + PageRank."""

    Params = GesParams


@LOCALIZERS.register(PREFIX + "granger_pagerank")
class GrangerPageRank(RcaEvalLocalizer):
    """RCAEval Granger-causality graph + PageRank."""


@LOCALIZERS.register(PREFIX + "lingam_pagerank")
class LingamPageRank(RcaEvalLocalizer):
    """RCAEval LiNGAM causal graph + PageRank."""


@LOCALIZERS.register(PREFIX + "ntlr_pagerank")
class NtlrPageRank(NeuralMethod):
    """RCAEval NOTEARS low-rank causal graph (gcastle) + PageRank."""


@LOCALIZERS.register(PREFIX + "cmlp_pagerank")
class CmlpPageRank(NeuralMethod):
    """RCAEval cMLP neural Granger graph + PageRank."""


@LOCALIZERS.register(PREFIX + "micro_diag")
class MicroDiag(RcaEvalLocalizer):
    """RCAEval MicroDiag (Wu et al., 2021): LiNGAM graph + PageRank over metric nodes."""


@LOCALIZERS.register(PREFIX + "pc_randomwalk")
class PcRandomWalk(RcaEvalLocalizer):
    """RCAEval PC causal graph + random walk over it (ignores the normal/anomalous split)."""


@LOCALIZERS.register(PREFIX + "fci_randomwalk")
class FciRandomWalk(RcaEvalLocalizer):
    """RCAEval FCI causal graph + random walk over it (ignores the normal/anomalous split)."""


@LOCALIZERS.register(PREFIX + "granger_randomwalk")
class GrangerRandomWalk(RcaEvalLocalizer):
    """RCAEval Granger-causality graph + random walk over it (ignores the normal/anomalous split)."""


@LOCALIZERS.register(PREFIX + "lingam_randomwalk")
class LingamRandomWalk(RcaEvalLocalizer):
    """RCAEval LiNGAM causal graph + random walk over it (ignores the normal/anomalous split)."""


@LOCALIZERS.register(PREFIX + "ntlr_randomwalk")
class NtlrRandomWalk(NeuralMethod):
    """RCAEval NOTEARS low-rank causal graph (gcastle) + random walk over it (ignores the normal/anomalous split)."""
