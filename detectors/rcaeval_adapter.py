"""RCAEval's metric-based root-cause methods as Faultlab localizers (``rcaeval:<method>``).

RCAEval (Pham et al., "RCAEval: A Benchmark for Root Cause Analysis of Microservice
Systems", WWW 2025 companion; ``pip install --no-deps rcaeval`` plus ``causal-learn``, the
``rcaeval`` extra) calls each method as ``method(frame, inject_time, dataset=...)``: ``frame``
has one column per metric and a ``time`` column; rows before ``inject_time`` are the normal
period, the rest the anomalous one; the result's ``ranks`` lists metric columns, most
suspicious first. Here each labelled fault segment is fed with the fault-free steps before it
(:func:`faultlab.detectors.localizers.normal_steps`), so every method sees exactly what the
reference rankers see.

How the frame is built, and why:

- columns get neutral names ``c<j>_v`` (CIRCA splits names at ``_`` into entity and metric;
  neutral names keep any of our names from meaning something to a method) and ranked names
  are mapped back to ``service:metric`` columns, then to services through the column table;
- ``time`` is seconds since the dataset's first step (CIRCA looks 300 s past ``inject_time``);
- ``dataset="faultlab"`` selects RCAEval's generic preprocessing (drop ``time`` and constant
  columns), none of its dataset-specific paths;
- NumPy's global random state (CIRCA's and the random walk's only seed) is seeded from the
  localizer's seed for the call and restored afterwards.

Methods (``METHODS``): ``baro`` (BARO, robust z-score of the anomalous period against the
normal one), ``nsigma`` (N-Sigma, its standard-score twin), ``circa`` (CIRCA: PC graph +
regression-based hypothesis testing), ``pc_randomwalk`` (PC graph + random walk; it ignores the
split). The methods run as published: BARO's RobustScaler falls back to a scale of 1 where a
series' interquartile range is 0 in the normal period, so a flat byte counter that moves a
little outranks everything (seen on quickstart-recorded). The two PC-based ones need more
steps than series and no exactly collinear series (else "Data correlation matrix is
singular", as on quickstart-recorded: 289 series), and are slow: CIRCA took 880 s for one
segment of ``synthetic`` (116 series, 150 steps) on this 2-core machine. Services a method
leaves unranked follow in a seeded random order.

Not available here (tried with RCAEval 1.8.1 and causal-learn 0.1.4.8): RCD (``rcd``: causal-learn
has no ``SkeletonDiscovery.local_skeleton_discovery``, which RCD's patched causal-learn adds),
ε-Diagnosis (``e_diagnosis``: ``No module named 'pyrca'``), ``causalrca`` and the
``*_pagerank`` family (``No module named 'sknetwork'``), ``microcause``, ``easyrca`` and
``cloudranger`` (``No module named 'pingouin'``).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from io import StringIO
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.detectors.localizers import Ranked, SegmentLocalizer, frame_of, services_from_metrics
from faultlab.detectors.registry import LOCALIZERS
from faultlab.errors import BadInput, RunFailed

#: our method name -> (RCAEval module, function); each has one registered class below. The module
#: is named because on Python 3.11 ``RCAEval.e2e`` exports only some functions itself (``from
#: RCAEval.e2e import baro`` gives the *module* ``RCAEval.e2e.baro`` there, not the function).
METHODS: dict[str, tuple[str, str]] = {
    "baro": ("RCAEval.e2e.baro", "baro"),
    "nsigma": ("RCAEval.e2e", "nsigma"),
    "circa": ("RCAEval.e2e.circa", "circa"),
    "pc_randomwalk": ("RCAEval.e2e.pc_randomwalk", "pc_randomwalk"),
}
PREFIX = "rcaeval:"
INSTALL_HINT = "pip install --no-deps rcaeval && pip install causal-learn (the 'rcaeval' extra of faultlab)"
DATASET_HINT = "faultlab"


def rcaeval_function(method: str) -> Callable[..., dict[str, Any]]:
    """The RCAEval function behind ``rcaeval:<method>``; BadInput with the install line when absent."""
    if method not in METHODS:
        raise BadInput(f"unknown RCAEval method {method!r}; valid: {', '.join(sorted(METHODS))}")
    module, attribute = METHODS[method]
    try:
        function = getattr(importlib.import_module(module), attribute, None)
    except ImportError as exc:
        raise BadInput(f"localizer 'rcaeval:{method}' needs the optional package rcaeval and its dependencies "
                       f"(importing {module} failed: {exc}); install them with: {INSTALL_HINT}") from None
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


def rcaeval_frame(data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """RCAEval's input: neutral-named columns + ``time`` (s), the inject time, neutral -> our name."""
    rows = np.concatenate([np.asarray(normal, dtype=np.int64), np.arange(start, end)])
    values = frame_of(data, rows)
    names = {f"c{j}_v": str(col) for j, col in enumerate(values.columns)}
    frame = pd.DataFrame(values.to_numpy(), columns=list(names))
    seconds = (data.timestamps[rows] - data.timestamps[0]).total_seconds()
    frame["time"] = np.round(np.asarray(seconds, dtype=np.float64)).astype(np.int64)
    inject_time = float(frame["time"].iloc[len(normal)])
    return frame, inject_time, names


class RcaEvalLocalizer(SegmentLocalizer):
    """One RCAEval method, the one its registered name ``rcaeval:<method>`` names (see ``METHODS``)."""

    @property
    def method(self) -> str:
        return self.name.removeprefix(PREFIX)

    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        function = rcaeval_function(self.method)
        frame, inject_time, names = rcaeval_frame(data, normal, start, end)
        noise = StringIO()
        try:
            with _numpy_seed(self.seed), redirect_stderr(noise), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = function(frame, inject_time=inject_time, dataset=DATASET_HINT)
        except Exception as exc:  # a third-party method: name it and the segment
            raise RunFailed(f"localizer {self.name!r} failed on segment ({start}, {end}) of {data.name!r}: "
                            f"{type(exc).__name__}: {exc}") from exc
        said = noise.getvalue()
        if " failed (" in said:  # RCAEval's @rca wrapper swallowed an error and returned the column order
            raise RunFailed(f"localizer {self.name!r} failed on segment ({start}, {end}) of {data.name!r}: {said.strip()}")
        ranked = [names[n] for n in dict.fromkeys(str(x) for x in result.get("ranks", [])) if n in names]
        metrics = [(column, float(len(ranked) - i)) for i, column in enumerate(ranked)]
        rng = np.random.default_rng([self.seed, start, end])
        return services_from_metrics(data, metrics, rng), metrics


@LOCALIZERS.register(PREFIX + "baro")
class Baro(RcaEvalLocalizer):
    """RCAEval BARO (Pham et al., FSE 2024): max robust z-score of each metric in the segment vs the normal period."""


@LOCALIZERS.register(PREFIX + "nsigma")
class NSigma(RcaEvalLocalizer):
    """RCAEval N-Sigma: max standard score of each metric in the segment vs the normal period."""


@LOCALIZERS.register(PREFIX + "circa")
class Circa(RcaEvalLocalizer):
    """RCAEval CIRCA (Li et al., KDD 2022): PC causal graph + regression-based hypothesis testing."""


@LOCALIZERS.register(PREFIX + "pc_randomwalk")
class PcRandomWalk(RcaEvalLocalizer):
    """RCAEval PC causal graph + random walk over it (ignores the normal/anomalous split)."""
